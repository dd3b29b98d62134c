"""The behaviour of each operation, one function per operationId, over already-validated input.

Each handler runs under the store's lock and returns (status, body); errors are raised as Refusal. A write changes
the account through its containers (`rooms[code] = ...`, `defaults.pop(...)`) or `set_providers`, which record what
the store has to save; a nested value changed in place is not seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vsee_contract import ParsedRequest, Refusal

from .fixtures import new_room_defaults, provider_detail, provider_list_item
from .store import AccountState

Reply = tuple[int, Any]
Handler = Callable[["Call"], Reply]
SUMMARY_FIELDS = ("slug", "name", "domain", "code", "created", "modified")


@dataclass(frozen=True)
class Call:
    """One validated API call: the caller's account, the parsed request, and the token's user (writes only)."""

    account: AccountState
    request: ParsedRequest
    token_user: str | None


def _room(call: Call, code: str) -> dict[str, Any]:
    room = call.account.rooms.get(code)
    if room is None:
        raise Refusal(404, f"Room '{code}' not found.")
    return room


def _user_id(call: Call) -> str:
    """The path's user id, with `-` meaning the token's user; unknown users are a 404."""
    user_id = str(call.request.path["id"])
    if user_id == "-":
        user_id = call.token_user or ""
    if user_id not in call.account.users:
        raise Refusal(404, f"User '{user_id}' not found.")
    return user_id


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool) or value is None:
        return (2, str(value))
    if isinstance(value, int | float):
        return (0, value)
    return (1, value) if isinstance(value, str) else (2, json.dumps(value, sort_keys=True))


def list_rooms(call: Call) -> Reply:
    query = call.request.query
    rooms = list(call.account.rooms.values())
    for key in ("domain", "slug", "code"):
        if key in query:
            rooms = [r for r in rooms if r[key] == query[key]]
    if "q" in query:
        needle = query["q"].lower()
        rooms = [r for r in rooms if needle in r["name"].lower() or needle in r["slug"].lower()]
    if "sort" in query:
        field, direction = query["sort"].rsplit(".", 1)
        rooms.sort(key=lambda r: _sort_key(r.get(field)), reverse=direction == "desc")
    limit, page_number = query.get("limit"), query.get("page", 1)
    if "start" in query:
        start = query["start"]
    elif limit:
        start = (page_number - 1) * limit
    else:
        start = 0 if page_number == 1 else len(rooms)  # without a limit the whole list is page 1
    page = rooms[start : start + limit] if limit else rooms[start:]
    extra = [f for f in query.get("fields", "").split(",") if f]
    items = [{k: r[k] for k in (*SUMMARY_FIELDS, *extra) if k in r} for r in page]
    return 200, {"data": items, "total_count": len(rooms)}


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
    defaults = new_room_defaults()
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


def get_room(call: Call) -> Reply:
    return 200, {"data": _room(call, call.request.path["code"])}


def list_room_providers(call: Call) -> Reply:
    room = _room(call, call.request.path["code"])
    users = call.account.users
    return 200, {"data": [provider_list_item(users[p]) for p in room["provider_ids"] if p in users]}


def get_room_provider(call: Call) -> Reply:
    room = _room(call, call.request.path["code"])
    provider_id = call.request.path["id"]
    if provider_id not in room["provider_ids"] or provider_id not in call.account.users:
        raise Refusal(404, f"Provider '{provider_id}' not found in room '{room['code']}'.")
    return 200, {"data": provider_detail(call.account.users[provider_id])}


def get_room_queue(call: Call) -> Reply:
    room = _room(call, call.request.path["code"])
    queue = call.account.queues.get(room["code"])  # a seeded room may have none: empty (a read stores nothing)
    return 200, {"data": queue if queue is not None else new_room_defaults().fresh_queue()}


def _user_rooms(account: AccountState, user_id: str) -> list[dict[str, Any]]:
    default = account.defaults.get(user_id)
    return [{"_id": r["id"], **r, "default": r["code"] == default} for r in account.rooms_of(user_id)]


def add_user_room(call: Call) -> Reply:
    user_id = _user_id(call)
    body = call.request.body or {}
    room = _room(call, body["code"])
    if user_id not in room["provider_ids"]:
        call.account.set_providers(room, [*room["provider_ids"], user_id])
    if body.get("default"):
        call.account.defaults[user_id] = room["code"]
    return 200, {"data": _user_rooms(call.account, user_id)}


def remove_user_room(call: Call) -> Reply:
    user_id = _user_id(call)
    code = call.request.path["room_code"]
    sent = (call.request.body or {}).get("code")
    if sent is not None and sent != code:
        raise Refusal(400, f"Body code '{sent}' does not match the path's room code '{code}'.")
    room = _room(call, code)
    if user_id not in room["provider_ids"]:
        raise Refusal(404, f"User '{user_id}' is not associated with room '{code}'.")
    call.account.set_providers(room, [p for p in room["provider_ids"] if p != user_id])
    if call.account.defaults.get(user_id) == code:
        del call.account.defaults[user_id]
    return 200, {}


HANDLERS: dict[str, Handler] = {
    "listRooms": list_rooms,
    "createRoom": create_room,
    "getRoom": get_room,
    "listRoomProviders": list_room_providers,
    "getRoomProvider": get_room_provider,
    "getRoomQueue": get_room_queue,
    "addUserRoom": add_user_room,
    "removeUserRoom": remove_user_room,
}
