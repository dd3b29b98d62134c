"""The suite's target (contract_tests.target, generated): the write gate and budget, and what generated writes may
carry or change on a live deployment — checked directly, without a deployment (nothing here is sent)."""

from __future__ import annotations

import dataclasses

import pytest
import schemathesis

from contract_tests.findings import ContractViolation
from contract_tests.generated import prepare, token_headers
from contract_tests.target import Target
from vsee_contract import DEFAULT_SPEC_PATH, Contract

from helpers.suite_runner import LIVE

TOKEN = "83ec6843c3af534c551ab609d869dd82"
JSON = "application/json"
SCHEMA = schemathesis.openapi.from_path(str(DEFAULT_SPEC_PATH))


def _target(**changes: object) -> Target:
    return Target(dataclasses.replace(LIVE, **changes), Contract.load())  # type: ignore[arg-type]


def test_a_read_only_target_refuses_every_write_method_and_lets_reads_through() -> None:
    target = _target(allow_writes=False)
    for method in ("GET", "HEAD", "OPTIONS", "get"):
        target.gate(method)
    for method in ("POST", "PUT", "PATCH", "DELETE", "TRACE", "QUERY"):
        with pytest.raises(ContractViolation, match="read-only run: the suite refused"):
            target.gate(method)


def test_the_budget_keeps_back_a_write_for_each_association_to_undo() -> None:
    target = _target()
    target.traffic.writes = 3  # the 4th write would leave none for undoing an association it may make
    target.gate("POST")
    target.traffic.writes = 4
    with pytest.raises(pytest.skip.Exception, match=r"write budget exhausted \(--contract-max-writes 5\)"):
        target.gate("POST")
    target.ledger.associations.append(("826", "ct-room"))
    target.traffic.writes = 3
    with pytest.raises(pytest.skip.Exception):
        target.gate("DELETE")
    target.cleaning = True  # the clean-up uses what was kept back, up to the budget and no further
    target.traffic.writes = 4
    target.gate("DELETE")
    target.traffic.writes = 5
    with pytest.raises(pytest.skip.Exception):
        target.gate("DELETE")


def test_once_a_violation_was_seen_a_spent_budget_fails_instead_of_skipping() -> None:
    target = _target()
    target.traffic.writes = 5
    target.ledger.failures["queue-arithmetic"] += 1
    with pytest.raises(ContractViolation, match=r"after violations: \[queue-arithmetic\]×1"):
        target.gate("POST")


def test_only_the_writes_own_method_carries_the_admin_token() -> None:
    target = _target()
    create = SCHEMA["/rooms"]["POST"]
    assert token_headers(target, create.Case(body={"domain": "d", "slug": "s", "name": "n"}, media_type=JSON)) == {
        "X-ApiToken": TOKEN
    }
    assert token_headers(target, create.Case(method="DELETE")) == {}, "a method probe must not carry the token"
    assert token_headers(target, SCHEMA["/rooms"]["GET"].Case()) == {}


def test_on_a_live_target_generated_writes_touch_only_the_suites_own_rooms_in_the_clinics_domain() -> None:
    target = _target()
    assert target.footprint is not None
    target.footprint.read = lambda route: {"data": [{"code": "b4vjj", "slug": "room1", "domain": "vclinic.vsee.me"}]}
    target.ledger.created_rooms.append("ct-own-room")
    room = SCHEMA["/rooms"]["POST"].Case(
        body={"domain": "0", "slug": "\x00x", "name": "\x07bell", "code": "b4vjj"}, media_type=JSON
    )
    prepare(target, room)
    assert room.body["domain"] == "vclinic.vsee.me" and room.body["name"] == "Contract test room bell"
    assert room.body["slug"].startswith("ct-") and room.body["code"].startswith("ct-") and room.body["code"] != "b4vjj"
    link = SCHEMA["/users/{id}/rooms"]["POST"].Case(
        path_parameters={"id": "85741"}, body={"code": "b4vjj"}, media_type=JSON
    )
    prepare(target, link)
    assert link.body == {"code": "ct-own-room"}
    unlink = SCHEMA["/users/{id}/rooms/{room_code}"]["DELETE"].Case(
        path_parameters={"id": "85741", "room_code": "b4vjj"}, body={"code": "b4vjj"}, media_type=JSON
    )
    prepare(target, unlink)
    assert unlink.path_parameters["room_code"] == "ct-own-room" and unlink.body == {"code": "ct-own-room"}


def test_one_ledger_keeps_the_rooms_created_and_the_associations_left_to_undo() -> None:
    """The suite's own calls and the generated ones record through `Ledger.wrote`: a refused write records nothing,
    a removal takes its association off the list the clean-up works through."""
    ledger = _target().ledger
    ledger.wrote("createRoom", 200, {"data": {"code": "ct-room"}}, {}, {"slug": "ct-1"})
    ledger.wrote("createRoom", 400, {"code": 400, "message": "slug exists"}, {}, {"slug": "ct-1"})
    ledger.wrote("addUserRoom", 200, {"data": []}, {"id": "826"}, {"code": "ct-room"})
    ledger.wrote("addUserRoom", 200, {"data": []}, {"id": "827"}, {"code": "ct-room"})
    ledger.wrote("addUserRoom", 403, None, {"id": "828"}, {"code": "ct-room"})
    ledger.wrote("removeUserRoom", 204, None, {"id": "826", "room_code": "ct-room"}, None)
    assert ledger.created_rooms == ["ct-room"]
    assert ledger.associations == [("827", "ct-room")]
