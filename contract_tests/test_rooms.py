"""Rooms: the detail returns the room asked for, creation is read back at once, slugs and codes are unique."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from vsee_contract import rules

from .discovery import MEDIA_TYPES, NAMES, create_room, list_all_rooms, room_codes, rule_examples, unique_slug
from .target import Target

writes = pytest.mark.contract_writes


def test_get_room_returns_that_room_on_v3_and_v4(target: Target) -> None:
    for code in room_codes(target):
        v3 = target.call("getRoom", path={"code": code})
        v4 = target.call("getRoom", path={"code": code}, api="v4")
        target.expect(rules.ROOM_IS_REQUESTED, rules.room_is_requested(v3.data, code), v3)
        target.expect(rules.ROOM_IS_REQUESTED, rules.room_is_requested(v4.data, code), v4)
        assert v3.status == v4.status == 200, f"{v3.describe()}\n{v4.describe()}"


@writes
@rule_examples
@given(name=NAMES, media_type=MEDIA_TYPES, with_code=st.booleans())
def test_created_room_is_readable_at_once_listed_and_echoes_input(
    target: Target, name: str, media_type: str, with_code: bool
) -> None:
    slug = unique_slug()
    sent = {"name": name, "slug": slug} | ({"code": slug.replace("-", "")} if with_code else {})
    created = create_room(target, media_type, **sent)
    room = created.data
    target.expect(rules.CREATED_ROOM_ECHOES_INPUT, rules.created_room_echoes_input(room, created.sent or {}), created)
    detail = target.call("getRoom", path={"code": room["code"]})
    listed = [r for r in list_all_rooms(target) if r.get("code") == room["code"]]
    target.expect(rules.CREATED_ROOM_READABLE, rules.created_room_readable(detail.status, len(listed), room["code"]),
                  created, detail)  # fmt: skip
    target.expect(rules.CREATED_ROOM_ECHOES_INPUT, rules.created_room_echoes_input(detail.data, created.sent or {}),
                  detail)  # fmt: skip


@writes
@rule_examples
@given(media_type=MEDIA_TYPES, other_name=NAMES)
def test_same_slug_in_same_domain_is_refused_and_no_second_room_appears(
    target: Target, media_type: str, other_name: str
) -> None:
    first = create_room(target).data
    again = {"domain": first["domain"], "slug": first["slug"], "name": other_name}
    refused = target.call("createRoom", body=again, media_type=media_type)
    target.expect(rules.DUPLICATE_SLUG_REFUSED, rules.duplicate_slug_refused(refused.status, refused.body,
                                                                             first["slug"]), refused)  # fmt: skip
    rooms = list_all_rooms(target)
    same = [r for r in rooms if r["slug"] == first["slug"] and r["domain"] == first["domain"]]
    target.expect(rules.SLUG_UNIQUE_PER_DOMAIN, rules.slug_unique_per_domain(same), refused)


@writes
def test_existing_code_is_refused(target: Target) -> None:
    first = create_room(target).data
    clash = {"domain": first["domain"], "slug": unique_slug(), "name": "Code clash", "code": first["code"]}
    refused = target.call("createRoom", body=clash)
    target.expect(rules.EXISTING_CODE_REFUSED, rules.client_error(refused.status, refused.body, "existing code"),
                  refused)  # fmt: skip
    still = target.call("getRoom", path={"code": first["code"]})
    changed = still.data.get("slug", first["slug"]) != first["slug"]
    target.expect(rules.REFUSED_WRITE_CHANGES_NOTHING, ["the refused request changed the room"] if changed else [],
                  refused, still)  # fmt: skip
