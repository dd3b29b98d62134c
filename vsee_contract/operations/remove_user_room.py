"""DELETE /users/{id}/rooms/{room_code}: the user is no longer a provider of the room (nor has it as default)."""

from __future__ import annotations

from typing import Any

from .. import rules
from ..errors import Refusal
from ._descriptor import Call, Descriptor, Effect, Path, Reply, Sent
from ._shared import room, user_id

ID = "removeUserRoom"


def remove_user_room(call: Call) -> Reply:
    user = user_id(call)
    code = call.request.path["room_code"]
    sent = (call.request.body or {}).get("code")
    if sent is not None and sent != code:
        raise Refusal(400, f"Body code '{sent}' does not match the path's room code '{code}'.")
    found = room(call, code)
    if user not in found["provider_ids"]:
        raise Refusal(404, f"User '{user}' is not associated with room '{code}'.")
    call.account.set_providers(found, [p for p in found["provider_ids"] if p != user])
    if call.account.defaults.get(user) == code:
        del call.account.defaults[user]
    return 200, {}


def _association(path: Path, sent: Sent) -> tuple[str, Any]:
    return str(path.get("id")), path.get("room_code")


OPERATION = Descriptor(
    ID,
    handler=remove_user_room,
    effect=Effect.REMOVES_PROVIDER,
    association=_association,
    shown_by={"200": rules.PROVIDER_FOLLOWS_ASSOCIATION, "204": rules.PROVIDER_FOLLOWS_ASSOCIATION},
    valid_refusals=("2xx", "400", "401", "403", "404", "409", "429"),  # the body's `code` must equal `room_code`
)
