"""`vsee_contract.rules` on its own: every rule with an input it holds on and one it breaks on, and the exact
problems it reports. The mock, the suite and the proxy all judge by these functions, so their words are pinned."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from vsee_contract import rules

ERROR = {"code": 400, "message": "In domain 'd.vsee.me' slug 'room-a' already exists."}
QUEUE = {"length": 10, "capacity": 100, "average_visit_time": 3600, "before_me": 3}  # the docs' ceproom1 queue
ROOM = {"code": "b4vjj", "slug": "room-a", "name": "Room A", "domain": "d.vsee.me"}
SENT = {"domain": "d.vsee.me", "slug": "room-a", "name": "Room A"}


def case(rule: Callable[..., list[str]], args: tuple[Any, ...], problems: list[str], name: str) -> Any:
    return pytest.param(rule, args, problems, id=f"{rule.__name__}-{name}")


CASES = [
    # error_shape: every 4xx/5xx body is {"code": int, "message": str}; below 400 it judges nothing
    case(rules.error_shape, (404, {"code": 404, "message": "Sorry, this page is not available."}), [], "holds"),
    case(rules.error_shape, (200, "not even an object"), [], "success-not-judged"),
    case(rules.error_shape, (503, {"code": 503, "message": "", "extra": 1}), [], "empty-message-and-extra-field"),
    case(rules.error_shape, (500, "oops"), ["500 body is not a JSON object: 'oops'"], "not-an-object"),
    case(rules.error_shape, (500, None), ["500 body is not a JSON object: None"], "no-body"),
    case(
        rules.error_shape,
        (500, "x" * 200),
        ["500 body is not a JSON object: '" + "x" * 79],  # the repr, cut at 80 characters
        "long-body-cut",
    ),
    case(
        rules.error_shape,
        (400, {}),
        ["400 body has no integer 'code'", "400 body has no string 'message'"],
        "empty-object",
    ),
    case(
        rules.error_shape,
        (403, {"code": "403", "message": 403}),
        ["403 body has no integer 'code'", "403 body has no string 'message'"],
        "swapped-types",
    ),
    case(rules.error_shape, (401, {"code": True, "message": "m"}), ["401 body has no integer 'code'"], "bool-code"),
    # queue_arithmetic: before_me <= length <= capacity; types and minimums are the Queue schema's to judge
    case(rules.queue_arithmetic, (QUEUE,), [], "docs-example"),
    case(rules.queue_arithmetic, ({"before_me": 7, "length": 7, "capacity": 7},), [], "all-equal"),
    case(rules.queue_arithmetic, ({**QUEUE, "before_me": -1},), [], "minimum-is-the-schemas"),
    case(rules.queue_arithmetic, ({**QUEUE, "before_me": "30"},), [], "types-are-the-schemas"),
    case(rules.queue_arithmetic, ({**QUEUE, "capacity": True},), [], "bool-is-no-integer"),
    case(rules.queue_arithmetic, ({"length": 1},), [], "missing-fields-are-the-schemas"),
    case(
        rules.queue_arithmetic,
        ({**QUEUE, "before_me": 9, "length": 2},),
        ["queue breaks before_me <= length <= capacity: 9 <= 2 <= 100"],
        "before-me-past-length",
    ),
    case(
        rules.queue_arithmetic,
        ({**QUEUE, "length": 101},),
        ["queue breaks before_me <= length <= capacity: 3 <= 101 <= 100"],
        "length-past-capacity",
    ),
    # room_is_requested
    case(rules.room_is_requested, (ROOM, "b4vjj"), [], "same-code"),
    case(rules.room_is_requested, ({"name": "Room A"}, "b4vjj"), [], "no-code-in-body"),
    case(rules.room_is_requested, (ROOM, "ceproom1"), ["asked for room 'ceproom1', got room 'b4vjj'"], "other-room"),
    # provider_is_requested: ids compare as text
    case(rules.provider_is_requested, ({"id": "826"}, "826"), [], "same-id"),
    case(rules.provider_is_requested, ({"id": 826}, "826"), [], "number-id-same-text"),
    case(rules.provider_is_requested, ({"id": "401"}, "826"), ["asked for provider '826', got '401'"], "other-one"),
    case(rules.provider_is_requested, ({}, "826"), ["asked for provider '826', got None"], "no-id"),
    # created_room_echoes_input: name, slug, domain, and code when one was sent (non-empty text only)
    case(rules.created_room_echoes_input, (ROOM, SENT), [], "echoes"),
    case(rules.created_room_echoes_input, (ROOM, {**SENT, "code": "b4vjj", "default": True}), [], "sent-code"),
    case(rules.created_room_echoes_input, (ROOM, {"name": "", "slug": 5, "domain": None}), [], "nothing-to-echo"),
    case(
        rules.created_room_echoes_input,
        (ROOM, {**SENT, "code": "mine"}),
        ["created room has code='b4vjj', sent 'mine'"],
        "generated-over-sent-code",
    ),
    case(
        rules.created_room_echoes_input,
        ({**ROOM, "name": "room-a", "slug": None}, SENT),
        ["created room has name='room-a', sent 'Room A'", "created room has slug=None, sent 'room-a'"],
        "name-and-slug-lost",
    ),
    # created_room_readable(detail_status, code, times_listed=None)
    case(rules.created_room_readable, (200, "b4vjj"), [], "read-back-list-not-read"),
    case(rules.created_room_readable, (200, "b4vjj", 1), [], "read-back-listed-once"),
    case(rules.created_room_readable, (404, "b4vjj"), ["GET /rooms/b4vjj answered 404 after creation"], "unreadable"),
    case(rules.created_room_readable, (200, "b4vjj", 0), ["room 'b4vjj' appears 0 times in GET /rooms"], "unlisted"),
    case(
        rules.created_room_readable,
        (500, "b4vjj", 2),
        ["GET /rooms/b4vjj answered 500 after creation", "room 'b4vjj' appears 2 times in GET /rooms"],
        "both",
    ),
    # client_error: some 4xx with the error body
    case(rules.client_error, (404, {"code": 404, "message": "no"}, "unknown room"), [], "404"),
    case(rules.client_error, (422, {"code": 1, "message": "bad"}, "unknown room"), [], "any-4xx"),
    case(rules.client_error, (200, ERROR, "unknown room"), ["unknown room: answered 200, expected a 4xx"], "200"),
    case(rules.client_error, (500, ERROR, "unknown room"), ["unknown room: answered 500, expected a 4xx"], "500"),
    case(rules.client_error, (404, "gone", "unknown room"), ["404 body is not a JSON object: 'gone'"], "bad-body"),
    # slug_unique_per_domain
    case(
        rules.slug_unique_per_domain,
        ([ROOM, {**ROOM, "domain": "e.vsee.me"}, {**ROOM, "slug": "room-b"}],),
        [],
        "same-slug-other-domain",
    ),
    case(
        rules.slug_unique_per_domain,
        ((ROOM, {**ROOM, "code": "x"}, {**ROOM, "code": "y"}, {**ROOM, "slug": "b"}, {**ROOM, "slug": "b"}),),
        ["slug 'room-a' appears 3 times in domain 'd.vsee.me'", "slug 'b' appears 2 times in domain 'd.vsee.me'"],
        "twice-in-one-domain",
    ),
    # duplicate_slug_refused: 400 with the error body naming the slug
    case(rules.duplicate_slug_refused, (400, ERROR, "room-a"), [], "documented-refusal"),
    case(
        rules.duplicate_slug_refused,
        (200, {"data": ROOM}, "room-a"),
        ["duplicate slug 'room-a' answered 200, expected 400"],
        "accepted",
    ),
    case(
        rules.duplicate_slug_refused,
        (409, ERROR, "room-a"),
        ["duplicate slug 'room-a' answered 409, expected 400"],
        "other-4xx",
    ),
    case(
        rules.duplicate_slug_refused,
        (400, {"code": 400, "message": "already exists"}, "room-a"),
        ["duplicate-slug message does not name the slug: 'already exists'"],
        "slug-not-named",
    ),
    case(
        rules.duplicate_slug_refused,
        (400, {"message": "room-a"}, "room-a"),
        ["400 body has no integer 'code'"],
        "not-error-shaped",
    ),
    # association_listed
    case(rules.association_listed, ([{"code": "a"}, {"code": "b4vjj"}], "b4vjj"), [], "listed"),
    case(
        rules.association_listed,
        ([{"code": "a"}, {"name": "no code"}], "b4vjj"),
        ["room 'b4vjj' missing from the user's rooms ['a', None]"],
        "missing",
    ),
    # provider_follows_association(providers, user_id, associated)
    case(rules.provider_follows_association, ([{"id": "1"}, {"id": 401}], "401", True), [], "associated-listed"),
    case(rules.provider_follows_association, ([{"id": "1"}], "401", False), [], "removed-absent"),
    case(
        rules.provider_follows_association,
        ([{"id": "1"}], "401", True),
        ["user '401' is associated but absent from the providers list"],
        "associated-absent",
    ),
    case(
        rules.provider_follows_association,
        ([{"id": "401"}], "401", False),
        ["user '401' is removed but still in the providers list"],
        "removed-still-listed",
    ),
    # default_exclusive: exactly the room just set is default, when the rooms carry the flag
    case(rules.default_exclusive, ([{"code": "a", "default": True}, {"code": "b", "default": False}], "a"), [], "one"),
    case(rules.default_exclusive, ([{"code": "a"}, {"code": "b"}], "a"), [], "flag-beside-data"),
    case(
        rules.default_exclusive,
        ([{"code": "a", "default": True}, {"code": "b", "default": True}], "a"),
        ["default rooms are ['a', 'b'], expected exactly ['a']"],
        "two-defaults",
    ),
    case(
        rules.default_exclusive,
        ([{"code": "a", "default": False}, {"code": "b", "default": True}], "a"),
        ["default rooms are ['b'], expected exactly ['a']"],
        "the-other-one",
    ),
    case(
        rules.default_exclusive,
        ([{"code": "a", "default": "true"}], "a"),
        ["default rooms are [], expected exactly ['a']"],
        "text-is-no-boolean",
    ),
    # user_room_identified: `_id` (current docs) or `id` (older revision), or both; other items are the schema's
    case(rules.user_room_identified, ([{"code": "a", "_id": "1"}, {"code": "b", "id": "2"}],), [], "either-key"),
    case(rules.user_room_identified, ([{"code": "a", "_id": "1", "id": "1"}, "not-a-room"],), [], "both-keys"),
    case(
        rules.user_room_identified,
        ([{"code": "a", "id": "1"}, {"code": "b", "room_id": "2"}],),
        ["user room 1 ('b') has neither '_id' nor 'id'"],
        "neither",
    ),
    # default_flag_given: a `default` flag on every room, or one beside `data`
    case(rules.default_flag_given, ({"data": [{"code": "a", "default": False}]},), [], "on-each-room"),
    case(rules.default_flag_given, ({"data": [{"code": "a"}], "default": False},), [], "beside-data"),
    case(rules.default_flag_given, ({"data": []},), [], "no-rooms"),
    case(rules.default_flag_given, ({"data": {"code": "a"}},), [], "data-not-a-list-is-the-schemas"),
    case(
        rules.default_flag_given,
        ({"data": [{"code": "a", "default": True}, {"code": "b"}, {"code": "c"}]},),
        ["user rooms [1, 2] have no 'default' flag, and none is beside 'data'"],
        "missing-on-some",
    ),
    # page_within_limit
    case(rules.page_within_limit, (["a", "b"], 2), [], "full-page"),
    case(rules.page_within_limit, ([], 1), [], "empty-page"),
    case(rules.page_within_limit, (["a", "b", "c"], 2), ["page has 3 items, limit was 2"], "over"),
    # pages_partition_list(pages, whole): disjoint, and together the whole list (in any order)
    case(rules.pages_partition_list, ([["a", "b"], ["c"], []], ["a", "b", "c"]), [], "partition"),
    case(rules.pages_partition_list, ([["c"], ["b", "a"]], ["a", "b", "c"]), [], "other-order"),
    case(
        rules.pages_partition_list,
        ([["a", "b"], ["b", "c"]], ["a", "b", "c"]),
        ["items on more than one page: ['b']"],
        "overlap",
    ),
    case(
        rules.pages_partition_list,
        ([["a"], ["c", "x"]], ["a", "b", "c"]),
        ["pages differ from the whole list (missing ['b'], extra ['x'])"],
        "missing-and-extra",
    ),
    case(
        rules.pages_partition_list,
        ([["a", "b"], ["a"]], ["a", "b", "c"]),
        ["items on more than one page: ['a']", "pages differ from the whole list (missing ['c'], extra [])"],
        "repeated-and-missing",
    ),
    # page_past_end_empty
    case(rules.page_past_end_empty, ([],), [], "empty"),
    case(rules.page_past_end_empty, ([{"code": "a"}],), ["page past the end has 1 items"], "not-empty"),
    # token_never_in_answers: nowhere in a header or the body; says where, never the token itself
    case(
        rules.token_never_in_answers,
        ("t0k3n", [("Via", "x")], b'{"data": []}', {"data": []}, "GET /rooms"),
        [],
        "holds",
    ),
    case(rules.token_never_in_answers, (None, [], b"t0k3n", None, "GET /rooms"), [], "no-token"),
    case(
        rules.token_never_in_answers,
        ("t0k3n", [("X-Debug", "t0k3n")], b'{"data": {"a": ["t0k3n!"]}}', {"data": {"a": ["t0k3n!"]}}, "POST /rooms"),
        [
            "POST /rooms: the admin token is in the answer's X-Debug header",
            "POST /rooms: the admin token is in the answer at body.data.a[0]",
        ],
        "header-and-body",
    ),
    case(
        rules.token_never_in_answers,
        ("t0k3n", [], b"oops t0k3n", "oops t0k3n", "GET /rooms"),
        ["GET /rooms: the admin token is in the answer at body"],
        "text-body",
    ),
    # default_moves_only_when_asked: the default room stays the default until another is made default
    case(
        rules.default_moves_only_when_asked,
        ([{"code": "a", "default": True}, {"code": "b", "default": False}], "a", "adding b"),
        [],
        "kept",
    ),
    case(rules.default_moves_only_when_asked, ([{"code": "a"}, {"code": "b"}], "a", "adding b"), [], "no-flags"),
    case(rules.default_moves_only_when_asked, ([{"code": "b", "default": True}], "a", "x"), [], "default-not-listed"),
    case(
        rules.default_moves_only_when_asked,
        ([{"code": "a", "default": False}, {"code": "b", "default": True}], "a", "adding b"),
        ["default rooms are ['b'] after adding b; room 'a' was the default and nobody moved it"],
        "moved",
    ),
]


@pytest.mark.parametrize(("rule", "args", "problems"), CASES)
def test_rule_reports_exactly_these_problems(
    rule: Callable[..., list[str]], args: tuple[Any, ...], problems: list[str]
) -> None:
    assert rule(*args) == problems


def _public_functions() -> set[str]:
    return {
        name
        for name, value in vars(rules).items()
        if inspect.isfunction(value) and value.__module__ == rules.__name__ and not name.startswith("_")
    }


def test_every_rule_function_has_a_holding_and_a_breaking_case() -> None:
    holds = {p.values[0].__name__ for p in CASES if p.values[2] == []}
    breaks = {p.values[0].__name__ for p in CASES if p.values[2] != []}
    assert _public_functions() - holds == set(), "no input it holds on"
    assert _public_functions() - breaks == set(), "no input it breaks on"


def test_the_catalogue_names_every_rule_constant_once_in_kebab_case() -> None:
    constants = {value for name, value in vars(rules).items() if name.isupper() and isinstance(value, str)}
    assert len(rules.CATALOGUE) == len(set(rules.CATALOGUE)), rules.CATALOGUE
    assert set(rules.CATALOGUE) == constants
    assert [name for name in rules.CATALOGUE if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)] == []


def test_behavioural_rules_judge_only_requests_the_contract_calls_valid() -> None:
    """`limit=0&start=-1` is outside the contract: a lenient whole list is no page-within-limit violation."""
    from vsee_contract import Contract

    contract = Contract.load()
    rooms = [{**ROOM, "code": f"r{n}", "created": 1, "modified": 1} for n in range(8)]
    judged = [v.rule for v in contract.judge("listRooms", 200, "application/json", {"data": rooms}, {}, {"limit": 2})]
    assert judged == [rules.PAGE_WITHIN_LIMIT]
    assert contract.judge("listRooms", 200, "application/json", {"data": rooms}, {}, {"limit": "2"}) != []
    for query in ({"limit": 0, "start": -1}, {"limit": "0"}, {"limit": 2, "page": 0}, {"limit": 2, "q": "a"}):
        assert contract.judge("listRooms", 200, "application/json", {"data": rooms}, {}, query) == [], query
    assert contract.typed_query("createRoom", {}, {}, SENT) == {}
    assert contract.typed_query("createRoom", {}, {}, {**SENT, "default": "true"}) == {}  # form text, coerced
    assert contract.typed_query("createRoom", {}, {}, {**SENT, "extra": 1}) is None
    assert contract.typed_query("createRoom", {}, {}, {**SENT, "name": ""}) is None


def test_a_rule_counts_as_checked_only_by_an_exchange_that_could_break_it() -> None:
    """`page-within-limit` needs a `limit`, `association-listed-for-user` a room code sent; a request outside the
    contract is judged by the stated rules (`x-contract-rules`) alone."""
    from vsee_contract import Contract

    contract = Contract.load()
    assert rules.PAGE_WITHIN_LIMIT not in contract.rules_judging("listRooms", {}, {})
    assert rules.PAGE_WITHIN_LIMIT not in contract.rules_judging("listRooms", {}, {"page": "2"})
    assert rules.PAGE_WITHIN_LIMIT in contract.rules_judging("listRooms", {}, {"limit": "5"})
    assert contract.rules_judging("listRooms", {}, {"limit": "0"}) == ()
    association = contract.rules_judging("addUserRoom", {"id": "826"}, {}, {"code": "b4vjj"})
    assert {rules.ASSOCIATION_LISTED, rules.USER_ROOM_IDENTIFIED, rules.DEFAULT_FLAG_GIVEN} <= set(association)
    outside = contract.rules_judging("addUserRoom", {"id": "826"}, {}, {"code": "b4vjj", "extra": 1})
    assert set(outside) == {rules.USER_ROOM_IDENTIFIED, rules.DEFAULT_FLAG_GIVEN} == contract.stated
