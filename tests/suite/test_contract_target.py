"""The suite's target (contract_tests.target, generated): the write gate and budget, and what generated writes may
carry or change on a live deployment — checked directly, without a deployment (nothing here is sent)."""

from __future__ import annotations

import dataclasses
import threading

import pytest
import schemathesis

from contract_tests.findings import ContractViolation
from contract_tests.generated import prepare, token_headers
from contract_tests.target import Target
from contract_tests.transport import Baton
from vsee_contract import DEFAULT_SPEC_PATH, Contract

from helpers.suite_runner import LIVE, json_object

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
    body = json_object(room)
    assert body["domain"] == "vclinic.vsee.me" and body["name"] == "Contract test room bell"
    assert body["slug"].startswith("ct-") and body["code"].startswith("ct-") and body["code"] != "b4vjj"
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


def test_the_budget_keeps_back_a_write_for_each_write_still_in_flight() -> None:
    """Concurrent writes whose answers are not back may each make an association to undo."""
    target = _target()
    target.traffic.writes = 3
    target.gate("POST")  # 3 sent + this one + one kept back for it <= 5
    target.traffic.writes_in_flight = 1
    with pytest.raises(pytest.skip.Exception, match="write budget exhausted"):
        target.gate("POST")  # and one kept back for the write in flight: 6 > 5


def test_call_all_judges_in_the_order_asked_whatever_answers_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second call fails at once and the first only later: taken in order, the first one's outcome comes
    first, and every call is back before any is judged."""
    target = _target(concurrency=4)
    finished: list[str] = []

    def call(operation_id: str, **kwargs: object) -> str:
        if operation_id == "second":
            finished.append(operation_id)
            raise ContractViolation("[second-rule] broken")
        threading.Event().wait(0.2)
        finished.append(operation_id)
        return operation_id

    monkeypatch.setattr(target, "call", call)
    answers = target.call_all([("first", {}), ("second", {}), ("third", {})])
    assert sorted(finished) == ["first", "second", "third"]
    first: object = answers[0]()  # what the fake `call` answered
    assert first == "first"
    with pytest.raises(ContractViolation, match="second-rule"):
        answers[1]()


def test_at_concurrency_1_call_all_sends_each_call_only_when_it_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    target, sent = _target(concurrency=1), list[str]()

    def call(operation_id: str, **kwargs: object) -> str:
        sent.append(operation_id)
        return operation_id

    monkeypatch.setattr(target, "call", call)
    answers = target.call_all([("first", {}), ("second", {})])
    assert sent == []
    first: object = answers[0]()  # what the fake `call` answered
    assert first == "first" and sent == ["first"]


def test_the_baton_lets_one_thread_run_and_others_in_while_it_waits() -> None:
    baton, order, lock = Baton(), [], threading.Lock()

    def worker(name: str) -> None:
        with baton.held():
            with lock:
                order.append(f"{name} runs")
            with baton.released():  # waiting for an answer: another thread may run
                threading.Event().wait(0.05)
            with lock:
                order.append(f"{name} back")

    threads = [threading.Thread(target=worker, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(order) == ["a back", "a runs", "b back", "b runs"]
    assert order[:2] in (["a runs", "b runs"], ["b runs", "a runs"]), "the second ran while the first waited"
    with baton.released():  # a thread that does not hold it gives up nothing
        pass


def test_the_transport_gives_up_the_targets_own_baton_while_a_request_is_out() -> None:
    target = _target()
    assert target.session is not None
    assert target.session.get_adapter("http://127.0.0.1/").baton is target.baton  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "here"),
    [
        ("http://127.0.0.1:4010/api_v3", True),
        ("http://127.8.0.2/api_v3", True),
        ("http://[::1]:4010/api_v3", True),
        ("http://localhost:4010/api_v3", True),
        ("https://staging.example.com/api_v3", False),
        ("http://10.0.0.5/api_v3", False),
        ("http://127.0.0.1.example.com/api_v3", False),
    ],
)
def test_the_token_goes_in_a_url_only_to_a_deployment_on_this_machine(url: str, here: bool) -> None:
    """A URL is kept in access logs and by every proxy on the way: the exact-token check's query-string probe goes
    only where nothing keeps it."""
    from contract_tests.test_exact_token import near_misses

    assert _target(base_url=url).on_this_machine is here
    in_urls = [what for what, _, query in near_misses("a" * 32, "X-ApiToken", in_urls=here) if query]
    assert in_urls == (["the token in the query string"] if here else [])
