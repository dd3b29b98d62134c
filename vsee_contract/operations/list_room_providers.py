"""GET /rooms/{code}/providers: the room's providers, in the list view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._descriptor import Call, Descriptor, Recording, Reply, View
from ._shared import provider_list_item, room

ID = "listRoomProviders"


def list_room_providers(call: Call) -> Reply:
    found = room(call, call.request.path["code"])
    users = call.account.users
    return 200, {"data": [provider_list_item(users[p]) for p in found["provider_ids"] if p in users]}


def _record(recording: Recording, path: Mapping[str, str], data: Any) -> None:
    if isinstance(data, list):
        for provider in data:
            recording.users.setdefault(str(provider.get("id")), {}).update(provider)


OPERATION = Descriptor(ID, handler=list_room_providers, record=_record, shows=View.PROVIDERS)
