"""POST /rooms: a new room in a domain, its slug unique there (400), its code, if sent, unique (409)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import rules
from ..errors import Refusal
from ._descriptor import Call, Descriptor, Effect, ExchangeRule, Reply, SessionMemory, SessionRule, when

ID = "createRoom"


def create_room(call: Call) -> Reply:
    body = call.request.body or {}
    account = call.account
    domain, slug = body["domain"], body["slug"]
    if account.room_with_slug(domain, slug) is not None:
        raise Refusal(400, f"In domain '{domain}' slug '{slug}' already exists.")
    if "code" in body and body["code"] in account.rooms:
        raise Refusal(409, f"Room code '{body['code']}' already exists.")
    code = body.get("code") or account.new_code()
    now = account.now()
    admin = call.token_user or account.admin_user_id
    defaults = call.room_defaults()
    room = defaults.fresh_room()
    room["payment"]["consultations"][0]["id"] = account.new_uuid()
    room.update(
        slug=slug,
        name=body["name"],
        domain=domain,
        users=admin,
        account_code=account.code,
        provider_ids=[admin],
        modified=now,
        created=now,
        id=account.new_room_id(),
        code=code,
    )
    account.rooms[code] = room
    account.queues[code] = defaults.fresh_queue()
    if body.get("default"):
        account.defaults[admin] = code
    return 200, {"data": room}


def _remember(memory: SessionMemory, account: str, status: int, data: Any, path: Mapping[str, str]) -> list[str]:
    """A room acknowledged as created stays readable (judged at getRoom)."""
    if status < 300 and isinstance(data, Mapping) and data.get("code"):
        memory.created.add((account, str(data["code"])))
    return []


OPERATION = Descriptor(
    ID,
    handler=create_room,
    rules=(
        ExchangeRule(
            rules.CREATED_ROOM_ECHOES_INPUT,
            when(Mapping, lambda d, p, q, sent: rules.created_room_echoes_input(d, sent)),
        ),
    ),
    session=SessionRule(rules.CREATED_ROOM_READABLE, _remember),
    effect=Effect.CREATES_ROOM,
    shown_by={
        "200": rules.VALID_WRITE_ACCEPTED,
        "201": rules.VALID_WRITE_ACCEPTED,
        "400": rules.DUPLICATE_SLUG_REFUSED,
    },
    # a schema-valid body is refused with 400 when its slug already exists in the domain (documented), and a real
    # clinic may refuse a domain it does not own (422)
    valid_refusals=("2xx", "400", "401", "403", "404", "409", "422", "429"),
)
