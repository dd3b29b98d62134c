"""Errors and access: unknown things are 4xx with the error body, writes need the admin token, reads don't,
and no input makes the deployment answer 5xx. (Every exchange is also judged for JSON and the error shape.)"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, strategies as st

from vsee_contract import rules

from .discovery import create_room, other_user, room_codes, rule_examples, unique_slug
from .target import Exchange, Target

writes = pytest.mark.contract_writes
UNKNOWN_CODES = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=4, max_size=16).map(
    lambda s: f"zz-no-such-{s}"
)
UNKNOWN_IDS = st.integers(min_value=10**11, max_value=10**12).map(str)
PATH_TEXT = st.text(min_size=1, max_size=30).filter(lambda s: s.strip(". ") != "")
QUERY_KEYS = ("page", "limit", "start", "sort", "fields", "q", "domain", "slug", "code", "other")
QUERY_VALUES = st.fixed_dictionaries({key: st.text(max_size=20) for key in QUERY_KEYS})


def _refused(target: Target, exchange: Exchange, what: str) -> None:
    target.expect(rules.UNKNOWN_IS_CLIENT_ERROR, rules.client_error(exchange.status, exchange.body, what), exchange)


@rule_examples
@given(code=UNKNOWN_CODES, provider_id=UNKNOWN_IDS)
def test_unknown_room_codes_and_provider_ids_get_4xx_with_the_error_body(
    target: Target, code: str, provider_id: str
) -> None:
    for operation_id in ("getRoom", "listRoomProviders", "getRoomQueue"):
        _refused(target, target.call(operation_id, path={"code": code}), f"unknown room {code!r}")
    _refused(target, target.call("getRoom", path={"code": code}, api="v4"), f"unknown room {code!r} on v4")
    _refused(target, target.call("getRoomProvider", path={"code": code, "id": provider_id}), "unknown room")
    known = room_codes(target, limit=1)[0]
    _refused(target, target.call("getRoomProvider", path={"code": known, "id": provider_id}), "unknown provider")


@writes
@rule_examples
@given(code=UNKNOWN_CODES, user_id=UNKNOWN_IDS)
def test_associations_with_unknown_users_or_rooms_are_refused(target: Target, code: str, user_id: str) -> None:
    known = room_codes(target, limit=1)[0]
    _refused(target, target.call("addUserRoom", path={"id": user_id}, body={"code": known}), "unknown user")
    user = other_user(target, exclude=set())
    _refused(target, target.call("addUserRoom", path={"id": user}, body={"code": code}), "unknown room")
    _refused(target, target.call("removeUserRoom", path={"id": user_id, "room_code": known}), "unknown user")


def _needs_token(target: Target, exchange: Exchange) -> None:
    problems = [] if exchange.status in (401, 403) else [f"write answered {exchange.status} without a valid token"]
    target.expect(rules.WRITES_NEED_TOKEN, problems + rules.error_shape(exchange.status, exchange.body), exchange)


@writes
@rule_examples
@given(auth=st.sampled_from(["none", "wrong"]))
def test_writes_without_or_with_a_wrong_token_are_refused_and_change_nothing(target: Target, auth: str) -> None:
    room = create_room(target).data  # the suite's own room, so a broken server only harms that
    slug = unique_slug()
    body = {"domain": room["domain"], "slug": slug, "name": "Must not exist"}
    created = target.call("createRoom", body=body, auth=auth)  # type: ignore[arg-type]
    _needs_token(target, created)
    providers = [str(p["id"]) for p in target.call("listRoomProviders", path={"code": room["code"]}).data]
    user = other_user(target, exclude=set(providers))
    added = target.call("addUserRoom", path={"id": user}, body={"code": room["code"]}, auth=auth)  # type: ignore[arg-type]
    _needs_token(target, added)
    removed = target.call("removeUserRoom", path={"id": providers[0], "room_code": room["code"]}, auth=auth)  # type: ignore[arg-type]
    _needs_token(target, removed)
    listing = target.call("listRooms", query={"slug": slug})
    after = target.call("listRoomProviders", path={"code": room["code"]})
    changed = [f"room with slug {slug!r} exists" for r in listing.data if r.get("slug") == slug]
    changed += rules.provider_follows_association(after.data, user, False)
    changed += rules.provider_follows_association(after.data, providers[0], True)
    target.expect(rules.REFUSED_WRITE_CHANGES_NOTHING, changed, created, added, removed, listing, after)


def test_public_reads_need_no_token(target: Target) -> None:
    code = room_codes(target, limit=1)[0]
    calls = [("listRooms", {}), ("getRoom", {"code": code}), ("listRoomProviders", {"code": code}),
             ("getRoomQueue", {"code": code})]  # fmt: skip
    exchanges = [target.call(op, path=path, auth="none") for op, path in calls]
    providers = exchanges[2].data
    if providers:
        exchanges.append(
            target.call("getRoomProvider", path={"code": code, "id": str(providers[0]["id"])}, auth="none")
        )
    refused = [f"{e.operation_id} answered {e.status} without a token" for e in exchanges if e.status != 200]
    target.expect(rules.PUBLIC_READS_OPEN, refused, *exchanges)


def _no_5xx(target: Target, exchange: Exchange) -> None:
    target.expect(rules.NO_SERVER_ERROR, [f"answered {exchange.status}"] if exchange.status >= 500 else [], exchange)


@rule_examples
@given(code=PATH_TEXT, provider_id=PATH_TEXT, query=QUERY_VALUES)
def test_no_read_input_produces_a_5xx(target: Target, code: str, provider_id: str, query: dict[str, str]) -> None:
    """Each query parameter gets garbage on its own (so validation of another cannot hide it), then all at once."""
    for key, value in query.items():
        _no_5xx(target, target.call("listRooms", query={key: value}))
    _no_5xx(target, target.call("listRooms", query=query))
    for operation_id in ("getRoom", "listRoomProviders", "getRoomQueue"):
        _no_5xx(target, target.call(operation_id, path={"code": code}))
    _no_5xx(target, target.call("getRoomProvider", path={"code": code, "id": provider_id}))


@writes
@rule_examples
@given(
    body=st.dictionaries(st.text(max_size=12).filter(lambda k: k != "slug"), st.text(max_size=20), max_size=5),
    media_type=st.sampled_from(["multipart/form-data", "application/x-www-form-urlencoded", "application/json"]),
    user=PATH_TEXT,
)
def test_no_write_input_produces_a_5xx(target: Target, body: dict[str, str], media_type: str, user: str) -> None:
    """Bodies here never carry a slug, so nothing can be created by accident."""
    _no_5xx(target, target.call("createRoom", body=body, media_type=media_type))
    _no_5xx(target, target.call("addUserRoom", path={"id": user}, body=body, media_type=media_type))
    _no_5xx(target, target.call("removeUserRoom", path={"id": user, "room_code": "zz-no-such-room"}, body=body,
                                media_type=media_type))  # fmt: skip
