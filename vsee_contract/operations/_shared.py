"""What several operations share: finding the room or user a call names, and the documented views of a provider
and of a user's rooms."""

from __future__ import annotations

from typing import Any

from ..errors import Refusal
from ._descriptor import Account, Call

PROVIDER_LIST_FIELDS = (
    "id",
    "username",
    "code",
    "subtype",
    "first_name",
    "last_name",
    "vseeid",
    "photo",
    "title",
    "suffix",
    "status",
    "short_bio",
)


def room(call: Call, code: str) -> dict[str, Any]:
    """The account's room with this code; an unknown one is a 404."""
    found = call.account.rooms.get(code)
    if found is None:
        raise Refusal(404, f"Room '{code}' not found.")
    return found


def user_id(call: Call) -> str:
    """The path's user id, with `-` meaning the token's user; unknown users are a 404."""
    user = str(call.request.path["id"])
    if user == "-":
        user = call.token_user or ""
    if user not in call.account.users:
        raise Refusal(404, f"User '{user}' not found.")
    return user


def provider_list_item(user: dict[str, Any]) -> dict[str, Any]:
    """The list view of a provider: the fields GET /rooms/{code}/providers shows."""
    return {k: user.get(k) for k in PROVIDER_LIST_FIELDS}


def provider_detail(user: dict[str, Any]) -> dict[str, Any]:
    """The detail view of a provider (everything but the list-only photo)."""
    return {k: v for k, v in user.items() if k != "photo"}


def user_rooms(account: Account, user: str) -> list[dict[str, Any]]:
    """A user's rooms as the association answers list them: each room with `_id` and its `default` flag."""
    default = account.defaults.get(user)
    return [{"_id": r["id"], **r, "default": r["code"] == default} for r in account.rooms_of(user)]
