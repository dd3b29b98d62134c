"""GET /rooms/{code}/queue: the room's waiting queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import rules
from ._descriptor import Call, Descriptor, ExchangeRule, Recording, Reply, View, when
from ._shared import room

ID = "getRoomQueue"


def get_room_queue(call: Call) -> Reply:
    found = room(call, call.request.path["code"])
    queue = call.account.queues.get(found["code"])  # a seeded room may have none: empty (a read stores nothing)
    return 200, {"data": queue if queue is not None else call.room_defaults().fresh_queue()}


def _record(recording: Recording, path: Mapping[str, str], data: Any) -> None:
    if isinstance(data, dict):
        recording.queues[path["code"]] = dict(data)


OPERATION = Descriptor(
    ID,
    handler=get_room_queue,
    rules=(ExchangeRule(rules.QUEUE_ARITHMETIC, when(Mapping, lambda d, p, q, s: rules.queue_arithmetic(d))),),
    record=_record,
    shows=View.QUEUE,
)
