"""GET /rooms/{code} (api_v3 and api_v4): one room in full."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .. import rules
from ._descriptor import Call, Descriptor, ExchangeRule, Recording, Reply, SessionMemory, SessionRule, View, when
from ._shared import room

ID = "getRoom"


def get_room(call: Call) -> Reply:
    return 200, {"data": room(call, call.request.path["code"])}


def _still_readable(memory: SessionMemory, account: str, status: int, data: Any, path: Mapping[str, str]) -> list[str]:
    code = str(path.get("code"))
    return rules.created_room_readable(status, code) if (account, code) in memory.created else []


def _record(recording: Recording, path: Mapping[str, str], data: Any) -> None:
    if isinstance(data, dict):
        recording.rooms[path["code"]] = copy.deepcopy(data)


OPERATION = Descriptor(
    ID,
    handler=get_room,
    rules=(
        ExchangeRule(
            rules.ROOM_IS_REQUESTED, when(Mapping, lambda d, path, q, s: rules.room_is_requested(d, path["code"]))
        ),
    ),
    session=SessionRule(rules.CREATED_ROOM_READABLE, _still_readable),
    record=_record,
    shows=View.ROOM,
)
