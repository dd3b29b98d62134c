"""The mock's handlers: each operation's own, from the registry (`vsee_contract.operations`), and the `Call` the
mock's ending gives them (over already-validated input, under the store's lock).

Each handler returns (status, body) and refuses with `Refusal`, sent in the VSee error shape.
`create_app(config, handlers={...})` replaces handlers in one app only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vsee_contract import ParsedRequest
from vsee_contract.operations import REGISTRY, RoomDefaults
from vsee_contract.operations.add_user_room import add_user_room
from vsee_contract.operations.create_room import create_room
from vsee_contract.operations.get_room import get_room
from vsee_contract.operations.get_room_provider import get_room_provider
from vsee_contract.operations.get_room_queue import get_room_queue
from vsee_contract.operations.list_room_providers import list_room_providers
from vsee_contract.operations.list_rooms import list_rooms
from vsee_contract.operations.remove_user_room import remove_user_room

from .account import AccountState
from .fixtures import new_room_defaults

Reply = tuple[int, Any]
Handler = Callable[["Call"], Reply]


@dataclass(frozen=True)
class Call:
    """One validated API call: the caller's account, the parsed request, and the token's user (writes only)."""

    account: AccountState
    request: ParsedRequest
    token_user: str | None

    def room_defaults(self) -> RoomDefaults:
        """What a created room starts as (the packaged `new_room.yaml`)."""
        return new_room_defaults()


HANDLERS: dict[str, Handler] = {op: d.handler for op, d in REGISTRY.items() if d.handler is not None}

__all__ = [
    "HANDLERS",
    "Call",
    "Handler",
    "Reply",
    "add_user_room",
    "create_room",
    "get_room",
    "get_room_provider",
    "get_room_queue",
    "list_room_providers",
    "list_rooms",
    "remove_user_room",
]
