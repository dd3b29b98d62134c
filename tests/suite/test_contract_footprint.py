"""What a live run may change (contract_tests.footprint): the last word on every write, the room allowance, and how
generated writes are shaped to fit — checked directly against a clinic described in memory (nothing is sent)."""

from __future__ import annotations

import contextvars
import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import schemathesis

from contract_tests.footprint import TOUR_ROOMS, UNKNOWN_USER, RoomAllowance, shares
from contract_tests.generated import prepare
from contract_tests.side_by_side import LAYER, Layer, Need
from contract_tests.target import Target
from vsee_contract import DEFAULT_SPEC_PATH, Contract

from helpers.suite_runner import LIVE, json_object

JSON = "application/json"
DOMAIN = "vclinic.vsee.me"
# someone's room, and one the suite left in an earlier run, with user 85741 as its provider
CLINIC: dict[str, Any] = {
    "/rooms": {
        "data": [
            {"code": "b4vjj", "slug": "room1", "domain": DOMAIN},
            {"code": "old01", "slug": "ct-abcdef-1", "domain": DOMAIN},
        ]
    },
    "/rooms/old01/providers": {"data": [{"id": "85741"}]},
}
SCHEMA = schemathesis.openapi.from_path(str(DEFAULT_SPEC_PATH))
NEEDS = [
    Need("model", TOUR_ROOMS, more=True),
    Need("schema", 1, more=True),
    Need("links", 1, more=True),
    Need("tokens", 2),
]
T = TypeVar("T")


def _target(**changes: Any) -> Target:
    target = Target(dataclasses.replace(LIVE, **{"max_writes": 1000, **changes}), Contract.load())
    assert target.footprint is not None
    target.footprint.read = CLINIC.get
    target.domain = DOMAIN
    target.ledger.created_rooms.append("new01")
    return target


def _refusal(target: Target, operation_id: str, path: dict[str, str], body: Any, method: str = "") -> str | None:
    assert target.footprint is not None
    declared = target.contract.spec.operations[operation_id].method
    return target.footprint.refusal(operation_id, method or declared, not method, path, body)


def test_a_create_needs_a_room_of_the_allowance_and_never_moves_its_creators_default() -> None:
    target = _target()
    assert target.rooms.take("ct-fresh-1")
    assert _refusal(target, "createRoom", {}, {"slug": "ct-fresh-1", "domain": DOMAIN, "name": "n"}) is None
    assert "was not given a room of --contract-max-rooms 10" in str(_refusal(target, "createRoom", {}, {"slug": "x"}))
    assert "someone else made" in str(_refusal(target, "createRoom", {}, {"slug": "room1"}))
    assert _refusal(target, "createRoom", {}, {"slug": "ct-abcdef-1"}) is None  # a suite room's twin: refused
    assert "someone else made" in str(_refusal(target, "createRoom", {}, {"slug": "ct-fresh-1", "code": "b4vjj"}))
    moved = _refusal(target, "createRoom", {}, {"slug": "ct-fresh-1", "default": False})
    assert "token's own user: pass --contract-user-id -" in str(moved)
    assert _refusal(_target(user_id="-"), "createRoom", {}, {"slug": "ct-abcdef-1", "default": True}) is None


def test_associations_only_on_the_runs_rooms_and_defaults_only_of_the_named_user() -> None:
    target = _target(user_id="826")
    for room in ("new01", "old01", "zz-no-such-room"):  # its own, the suite's from before, one that does not exist
        assert _refusal(target, "addUserRoom", {"id": "85741"}, {"code": room}) is None
    assert "someone else made" in str(_refusal(target, "addUserRoom", {"id": "85741"}, {"code": "b4vjj"}))
    for user in ("85741", "-"):  # `-`, the token's own user, is a user like any other
        refused = _refusal(target, "addUserRoom", {"id": user}, {"code": "new01", "default": True})
        assert f"change user {user}'s default room" in str(refused)
    assert _refusal(target, "addUserRoom", {"id": "826"}, {"code": "new01", "default": True}) is None
    assert "someone else made" in str(_refusal(target, "removeUserRoom", {"id": "826", "room_code": "b4vjj"}, None))
    found = _refusal(target, "removeUserRoom", {"id": "85741", "room_code": "old01"}, None)
    assert "an association this run did not make" in str(found)
    assert _refusal(target, "removeUserRoom", {"id": "826", "room_code": "old01"}, None) is None
    # `-`, whose id the suite does not know, may be the earlier room's creator: never taken off it
    mine = _refusal(target, "removeUserRoom", {"id": "-", "room_code": "old01"}, None)
    assert "an association this run did not make" in str(mine)
    assert _refusal(target, "removeUserRoom", {"id": "-", "room_code": "new01"}, None) is None
    assert target.footprint is not None
    made = [("85741", "old01"), ("826", "old01"), ("85741", "new01"), ("-", "old01"), ("-", "new01")]
    assert target.footprint.to_undo(made) == [("826", "old01"), ("85741", "new01"), ("-", "new01")]


def test_the_clean_up_takes_the_tokens_own_user_off_an_earlier_room_only_when_the_run_put_it_there() -> None:
    target = _target()
    assert target.footprint is not None
    providers: dict[str, Any] = {"data": [{"id": "85741"}]}
    target.footprint.read = {**CLINIC, "/rooms/old01/providers": providers}.get
    assert _refusal(target, "addUserRoom", {"id": "-"}, {"code": "old01"}) is None  # what was there is read first
    made = [("826", "old01"), ("-", "old01")]
    providers["data"] = [{"id": "85741"}, {"id": "826"}]  # 826 is taken off: `-` was there before, it stays
    assert target.footprint.to_undo(made) == [("826", "old01")]
    providers["data"] = [{"id": "85741"}, {"id": "826"}, {"id": "77"}]  # a provider the run made: `-`, whoever it is
    assert target.footprint.to_undo(made) == [("826", "old01"), ("-", "old01")]
    assert _refusal(target, "removeUserRoom", {"id": "-", "room_code": "old01"}, None) is None  # the clean-up's own
    unreadable = _target()
    assert unreadable.footprint is not None
    providers["data"] = [{"id": "85741"}]
    unreadable.footprint.read = {**CLINIC, "/rooms/old01/providers": providers}.get
    assert _refusal(unreadable, "addUserRoom", {"id": "-"}, {"code": "old01"}) is None
    providers["data"] = None  # the providers cannot be read now: `-` stays, never taken off without knowing
    assert unreadable.footprint.to_undo(made) == [("826", "old01")]


def test_a_probe_of_an_undeclared_method_may_name_no_real_user_or_room() -> None:
    target = _target()
    assert "someone else made" in str(_refusal(target, "getRoom", {"code": "b4vjj"}, None, method="DELETE"))
    assert "for user -" in str(_refusal(target, "addUserRoom", {"id": "-"}, None, method="PUT"))
    assert _refusal(target, "addUserRoom", {"id": UNKNOWN_USER}, None, method="PUT") is None
    assert _refusal(target, "getRoom", {"code": "b4vjj"}, None) is None  # reads are free


def _as(layer: str, call: Callable[[], T]) -> T:
    """`call()` inside `layer` (contract_tests.side_by_side), as the layer's own code runs."""
    context = contextvars.copy_context()
    context.run(LAYER.set, Layer(layer))
    return context.run(call)


def test_the_allowance_gives_each_layer_its_own_share_once_for_all_workers_and_counts_each_slug_once(
    tmp_path: Path,
) -> None:
    rooms = RoomAllowance(10, tmp_path)
    other = RoomAllowance(10, tmp_path)  # another xdist worker's view of the same allowance
    assert rooms.take("race") and other.has("race")  # before the division: from what is no layer's
    assert rooms.divide(NEEDS) == {"model": TOUR_ROOMS, "schema": 1, "links": 1, "tokens": 2}
    assert other.divide(NEEDS[:1]) == rooms.divide([]), "a second division changed the first"
    assert _as("tokens", lambda: rooms.take("t-1") and other.take("t-2") and rooms.take("t-1"))
    assert not _as("tokens", lambda: other.take("t-3")) and _as("tokens", other.left) == 0
    assert _as("model", other.left) == TOUR_ROOMS, "one layer's creates came out of another's share"
    assert all(_as("model", functools.partial(rooms.take, f"m-{n}")) for n in range(TOUR_ROOMS))
    assert not _as("model", lambda: rooms.take("m-more")) and _as("schema", rooms.left) == 1
    assert rooms.left() == 0 and not rooms.take("another race"), "a test that is no layer drew on a layer's share"
    # the twin a layer's refused create is given: its own first slug, else the race's, never another layer's
    assert (_as("model", rooms.any_slug), _as("links", other.any_slug), rooms.any_slug()) == ("m-0", "race", "race")
    assert RoomAllowance(None).take("anything") and RoomAllowance(None).left() is None


def test_the_allowance_is_divided_by_the_selection_alone_least_first_then_the_spare_in_turn() -> None:
    assert shares(10, NEEDS) == {"model": 5, "schema": 1, "links": 1, "tokens": 2}  # the 10th for the race
    assert shares(20, NEEDS) == {"model": 9, "schema": 4, "links": 4, "tokens": 2}
    assert shares(6, NEEDS) == {"model": 5, "schema": 1, "links": 0, "tokens": 0}
    assert shares(3, NEEDS[1:]) == {"schema": 1, "links": 1, "tokens": 1}
    assert shares(4, [Need("tokens", 2)]) == {"tokens": 2}, "rooms went to a layer that uses no more"


def test_generated_writes_are_shaped_to_fit_the_footprint() -> None:
    target = _target(max_rooms=1)
    create = SCHEMA["/rooms"]["POST"].Case(
        body={"domain": "d", "slug": "s", "name": "n", "default": True}, media_type=JSON
    )
    prepare(target, create)
    first = json_object(create)["slug"]
    assert "default" not in json_object(create) and target.rooms.has(first)
    again = SCHEMA["/rooms"]["POST"].Case(body={"domain": "d", "slug": "s", "name": "n"}, media_type=JSON)
    prepare(target, again)  # the allowance is spent: a twin, which must be refused
    assert json_object(again)["slug"] == first
    link = SCHEMA["/users/{id}/rooms"]["POST"].Case(
        path_parameters={"id": "-"}, body={"code": "b4vjj", "default": "1"}, media_type=JSON
    )
    prepare(target, link)
    assert link.body == {"code": "new01"}
    unlink = SCHEMA["/users/{id}/rooms/{room_code}"]["DELETE"].Case(
        path_parameters={"id": "85741", "room_code": "b4vjj"}
    )
    prepare(target, unlink)
    assert unlink.path_parameters == {"id": "85741", "room_code": "new01"}
    target.ledger.created_rooms.clear()  # with no room of its own, the run uses the suite's: not its associations
    unlink.path_parameters["room_code"] = "b4vjj"
    prepare(target, unlink)
    assert unlink.path_parameters == {"id": UNKNOWN_USER, "room_code": "old01"}
    probe = SCHEMA["/users/{id}/rooms"]["POST"].Case(method="DELETE", path_parameters={"id": "-"})
    prepare(target, probe)
    assert probe.path_parameters == {"id": UNKNOWN_USER}
