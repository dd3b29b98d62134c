"""User ↔ room associations: they make the user a provider, list the room for the user, and keep one default."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from vsee_contract import rules

from .discovery import MEDIA_TYPES, create_room, other_user, rule_examples
from .target import Target

pytestmark = pytest.mark.contract_writes


def _provider_ids(target: Target, code: str) -> list[str]:
    return [str(p["id"]) for p in target.call("listRoomProviders", path={"code": code}).data]


@rule_examples
@given(media_type=MEDIA_TYPES)
def test_association_makes_the_user_a_provider_until_it_is_removed(target: Target, media_type: str) -> None:
    code = create_room(target).data["code"]
    before = _provider_ids(target, code)
    user = other_user(target, exclude=set(before))
    added = target.call("addUserRoom", path={"id": user}, body={"code": code}, media_type=media_type)
    target.expect(rules.ASSOCIATION_LISTED, rules.association_listed(added.data, code), added)
    listing = target.call("listRoomProviders", path={"code": code})
    now = [str(p["id"]) for p in listing.data]
    dropped = [f"provider {p!r} dropped from the list by the association" for p in before if p not in now]
    target.expect(
        rules.PROVIDER_FOLLOWS_ASSOCIATION,
        rules.provider_follows_association(listing.data, user, True) + dropped,
        added,
        listing,
    )
    detail = target.call("getRoomProvider", path={"code": code, "id": user})
    target.expect(rules.PROVIDER_FOLLOWS_ASSOCIATION,
                  [] if detail.status == 200 else [f"provider detail answered {detail.status}"], detail)  # fmt: skip
    removed = target.call("removeUserRoom", path={"id": user, "room_code": code}, body={"code": code},
                          media_type=media_type)  # fmt: skip
    assert removed.status in (200, 204), f"removing the association failed\n  {removed.describe()}"
    after = target.call("listRoomProviders", path={"code": code})
    target.expect(
        rules.PROVIDER_FOLLOWS_ASSOCIATION, rules.provider_follows_association(after.data, user, False), removed, after
    )


@rule_examples
@given(media_type=MEDIA_TYPES, first_is_default=st.booleans())
def test_default_true_leaves_exactly_one_default_room_the_one_just_set(
    target: Target, media_type: str, first_is_default: bool
) -> None:
    if not target.settings.in_process and not target.settings.user_id:
        pytest.skip("this rule changes a user's default room: pass --user-id with a test user to check it live")
    first = create_room(target).data["code"]
    second = create_room(target).data["code"]
    user = other_user(target, exclude=set())
    target.call("addUserRoom", path={"id": user}, body={"code": first, "default": first_is_default},
                media_type=media_type)  # fmt: skip
    for code in (second, first):
        made = target.call("addUserRoom", path={"id": user}, body={"code": code, "default": True},
                           media_type=media_type)  # fmt: skip
        target.expect(rules.DEFAULT_EXCLUSIVE, rules.default_exclusive(made.data, code), made)
    for code in (first, second):
        target.call("removeUserRoom", path={"id": user, "room_code": code})
