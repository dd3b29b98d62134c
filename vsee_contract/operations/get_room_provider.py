"""GET /rooms/{code}/providers/{id}: one provider of the room, in the detail view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import rules
from ..errors import Refusal
from ._descriptor import Call, Descriptor, ExchangeRule, Recording, Reply, View, when
from ._shared import provider_detail, room

ID = "getRoomProvider"


def get_room_provider(call: Call) -> Reply:
    found = room(call, call.request.path["code"])
    provider_id = call.request.path["id"]
    if provider_id not in found["provider_ids"] or provider_id not in call.account.users:
        raise Refusal(404, f"Provider '{provider_id}' not found in room '{found['code']}'.")
    return 200, {"data": provider_detail(call.account.users[provider_id])}


def _record(recording: Recording, path: Mapping[str, str], data: Any) -> None:
    if isinstance(data, dict):
        recording.users.setdefault(str(data.get("id")), {}).update(data)


OPERATION = Descriptor(
    ID,
    handler=get_room_provider,
    rules=(
        ExchangeRule(
            rules.PROVIDER_IS_REQUESTED,
            when(Mapping, lambda d, path, q, s: rules.provider_is_requested(d, path["id"])),
        ),
    ),
    record=_record,
    shown_by={"200": rules.PROVIDER_IS_REQUESTED},
    shows=View.PROVIDER,
)
