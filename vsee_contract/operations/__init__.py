"""The operation registry: each operation of openapi.yaml declared once, in a module of its own (its `OPERATION`,
a `Descriptor`), and read by every ending: the mock's handlers, the contract's single-exchange rules, the proxy's
session rules and recorder, the suite's ledger, footprint, summary and schemathesis tuning.

Adding an operation: its module here, and its name in `MODULES`. `tests/contract/test_operation_registry.py` fails
while an operationId of the spec has no descriptor, or a descriptor names no operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import (
    add_user_room,
    create_room,
    get_room,
    get_room_provider,
    get_room_queue,
    list_room_providers,
    list_rooms,
    remove_user_room,
)
from ._descriptor import (
    Account,
    Call,
    Descriptor,
    Effect,
    ExchangeRule,
    Handler,
    Recording,
    Reply,
    RoomDefaults,
    SessionMemory,
    SessionRule,
    View,
)
from ._shared import provider_detail, provider_list_item

MODULES = (
    list_rooms,
    create_room,
    get_room,
    list_room_providers,
    get_room_provider,
    get_room_queue,
    add_user_room,
    remove_user_room,
)
# the operationIds, for the code that names a specific operation
LIST_ROOMS = list_rooms.ID
CREATE_ROOM = create_room.ID
GET_ROOM = get_room.ID
LIST_ROOM_PROVIDERS = list_room_providers.ID
GET_ROOM_PROVIDER = get_room_provider.ID
GET_ROOM_QUEUE = get_room_queue.ID
ADD_USER_ROOM = add_user_room.ID
REMOVE_USER_ROOM = remove_user_room.ID

REGISTRY: Mapping[str, Descriptor] = MappingProxyType({m.OPERATION.operation_id: m.OPERATION for m in MODULES})


def showing(view: View) -> tuple[str, ...]:
    """The operations whose answers show `view` of the clinic, in the registry's order."""
    return tuple(operation_id for operation_id, operation in REGISTRY.items() if operation.shows is view)


def descriptor(operation_id: str | None) -> Descriptor:
    """The operation's descriptor; an id the registry does not know (an operation added to a user's spec) gets an
    empty one: judged by its schema only, served from its examples."""
    return REGISTRY.get(operation_id or "") or Descriptor(operation_id or "")


__all__ = [
    "ADD_USER_ROOM",
    "CREATE_ROOM",
    "GET_ROOM",
    "GET_ROOM_PROVIDER",
    "GET_ROOM_QUEUE",
    "LIST_ROOMS",
    "LIST_ROOM_PROVIDERS",
    "MODULES",
    "REGISTRY",
    "REMOVE_USER_ROOM",
    "Account",
    "Call",
    "Descriptor",
    "Effect",
    "ExchangeRule",
    "Handler",
    "Recording",
    "Reply",
    "RoomDefaults",
    "SessionMemory",
    "SessionRule",
    "View",
    "add_user_room",
    "create_room",
    "descriptor",
    "get_room",
    "get_room_provider",
    "get_room_queue",
    "list_room_providers",
    "list_rooms",
    "provider_detail",
    "provider_list_item",
    "remove_user_room",
    "showing",
]
