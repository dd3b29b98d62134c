"""POST /users/{id}/rooms: make the user a provider of a room (and maybe their default); the answer lists the
user's rooms."""

from __future__ import annotations

from typing import Any

from .. import rules
from ._descriptor import Call, Descriptor, Effect, ExchangeRule, Path, Reply, Sent, when
from ._shared import room, user_id, user_rooms

ID = "addUserRoom"


def add_user_room(call: Call) -> Reply:
    user = user_id(call)
    body = call.request.body or {}
    found = room(call, body["code"])
    if user not in found["provider_ids"]:
        call.account.set_providers(found, [*found["provider_ids"], user])
    if body.get("default"):
        call.account.defaults[user] = found["code"]
    return 200, {"data": user_rooms(call.account, user)}


def _association(path: Path, sent: Sent) -> tuple[str, Any]:
    return str(path.get("id")), sent.get("code")


OPERATION = Descriptor(
    ID,
    handler=add_user_room,
    rules=(
        ExchangeRule(
            rules.ASSOCIATION_LISTED,
            when(list, lambda d, p, q, sent: rules.association_listed(d, sent["code"])),
            applies=lambda query, sent: "code" in sent,
        ),
        ExchangeRule(rules.USER_ROOM_IDENTIFIED, when(list, lambda d, p, q, s: rules.user_room_identified(d))),
        ExchangeRule(rules.DEFAULT_FLAG_GIVEN, lambda body, p, q, s: rules.default_flag_given(body), of_body=True),
    ),
    effect=Effect.ADDS_PROVIDER,
    association=_association,
    shown_by={"200": rules.ASSOCIATION_LISTED, "201": rules.ASSOCIATION_LISTED},
)
