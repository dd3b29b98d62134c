"""GET /rooms: the clinic's rooms, filtered, searched, sorted and paged."""

from __future__ import annotations

import json
from typing import Any

from .. import rules
from ._descriptor import Call, Descriptor, ExchangeRule, Reply, View, when

ID = "listRooms"
SUMMARY_FIELDS = ("slug", "name", "domain", "code", "created", "modified")


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


OPERATION = Descriptor(
    ID,
    handler=list_rooms,
    rules=(
        ExchangeRule(
            rules.PAGE_WITHIN_LIMIT,
            when(list, lambda d, p, q, s: rules.page_within_limit(d, q["limit"])),
            applies=lambda query, sent: isinstance(query.get("limit"), int),
        ),
    ),
    shows=View.ROOMS,
)
