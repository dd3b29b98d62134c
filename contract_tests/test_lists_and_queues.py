"""Pagination laws of GET /rooms and the queue arithmetic of GET /rooms/{code}/queue."""

from __future__ import annotations

import math

from hypothesis import given, strategies as st

from vsee_contract import rules

from .discovery import list_all_rooms, room_codes, rule_examples
from .target import Target

MAX_PAGES = 20


@rule_examples
@given(limit=st.integers(min_value=1, max_value=10))
def test_pages_stay_within_limit_partition_the_list_and_end_empty(target: Target, limit: int) -> None:
    whole = [r["code"] for r in list_all_rooms(target)]
    limit = min(100, max(limit, math.ceil(len(whole) / MAX_PAGES)))  # bound the walk on big deployments
    full_pages = math.ceil(len(whole) / limit)
    exchanges = [target.call("listRooms", query={"limit": limit, "page": n}) for n in range(1, full_pages + 2)]
    pages = [[r["code"] for r in page.data] for page in exchanges]
    for page, items in zip(exchanges, pages, strict=True):
        target.expect(rules.PAGE_WITHIN_LIMIT, rules.page_within_limit(items, limit), page)
    target.expect(rules.PAGES_PARTITION_LIST, rules.pages_partition_list(pages[:-1], whole), *exchanges[:3])
    target.expect(rules.PAGE_PAST_END_EMPTY, rules.page_past_end_empty(pages[-1]), exchanges[-1])


def test_queue_is_four_non_negative_integers_with_before_me_within_length_within_capacity(target: Target) -> None:
    for code in room_codes(target):
        queue = target.call("getRoomQueue", path={"code": code})
        assert queue.status == 200, queue.describe()
        target.expect(rules.QUEUE_ARITHMETIC, rules.queue_arithmetic(queue.data), queue)
