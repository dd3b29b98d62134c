"""The suite under pytest-xdist is one run: one seed for every worker, one summary and one report of what all the
workers saw, printed by the controller, and --contract-require-all judged over every worker's checks (a worker sees
only the tests it ran)."""

from __future__ import annotations

import re
from pathlib import Path

from contract_tests.summary import Observations

from helpers.suite_runner import run_suite

SECTION = re.compile(r"^=+ VSee Rooms API contract =+$", re.MULTILINE)


def test_a_run_under_xdist_has_one_seed_one_summary_and_one_report(tmp_path: Path) -> None:
    """No --contract-seed: the controller picks it and every worker uses it, so the seed a failure names is the
    run's, and a rerun with it replays every worker; the summary and the report are the whole run's."""
    report = tmp_path / "report.md"
    result = run_suite(
        "-n", "2", "--contract-app", "helpers.broken_mocks:wrong_room", "--contract-report", str(report), seed=None
    )
    out = result.stdout
    assert result.returncode == 1, out[-3000:]
    assert len(SECTION.findall(out)) == 1, out[-3000:]
    seed = re.search(r"; seed: ([0-9]+)$", out, re.MULTILINE)
    assert seed, out[-3000:]
    named = set(re.findall(r"rerun with --contract-seed ([0-9]+)", out))
    assert named == {seed[1]}, f"failures name seeds {named}, the summary {seed[1]}"
    assert "verdict: FAILED" in out and "room-is-the-requested-one" in out.split("VSee Rooms API contract")[-1]
    text = report.read_text()
    sent = re.search(r"requests sent: ([0-9]+); writes sent: ([0-9]+)", out)
    assert sent and f"{sent[0]};" in text, text[:1500]
    assert f"seed `{seed[1]}`" in text and text.count("## VSee Rooms API contract") == 1


def test_require_all_under_xdist_is_judged_over_every_workers_checks() -> None:
    """Each worker alone leaves rules unchecked; together they check every one. A gate must not go green when the
    workers together left rules unchecked (here: the model-based layer deselected)."""
    whole = run_suite("-n", "2", "--contract-require-all")
    assert whole.returncode == 0, whole.stdout[-3000:]
    assert "every rule was checked" in whole.stdout and "verdict: PASSED" in whole.stdout
    part = run_suite("-n", "2", "--contract-require-all", "-k", "not model_based")
    assert part.returncode == 1, part.stdout[-3000:]
    assert re.search(r"verdict: FAILED — [0-9]+ rule\(s\) could not be checked", part.stdout), part.stdout[-3000:]


def test_what_workers_saw_adds_up_on_the_controller() -> None:
    """Counts add, rules and rooms join, the first reason a rule went unchecked and an advisory's first example stay."""
    first, second = Observations(), Observations()
    first.ledger.saw("getRoom", 200, ["response-schema"])
    first.ledger.created_rooms.append("one")
    first.ledger.cannot_check(["queue-arithmetic"], "no room with a queue")
    first.advisories.add("json-bodies-refused", "first example", "curl one")
    first.traffic.sent, first.failed = 5, {"test_a": ["room-is-the-requested-one"]}
    second.ledger.saw("getRoom", 200, ["error-shape"])
    second.ledger.saw("getRoom", 404, [])
    second.ledger.created_rooms.append("two")
    second.ledger.cannot_check(["queue-arithmetic"], "another reason")
    second.ledger.failures["no-5xx"] += 1
    second.advisories.add("json-bodies-refused", "second example", "curl two")
    second.traffic.sent, second.traffic.writes = 7, 2
    merged = Observations()
    merged.absorb(first.wire())
    merged.absorb(second.wire())
    assert merged.ledger.statuses["getRoom"] == {200: 2, 404: 1}
    assert merged.ledger.rules["getRoom"] == {"response-schema", "error-shape"}
    assert merged.ledger.created_rooms == ["one", "two"] and merged.ledger.failures == {"no-5xx": 1}
    assert merged.ledger.unchecked == {"queue-arithmetic": "no room with a queue"}
    advisory = merged.advisories.by_rule["json-bodies-refused"]
    assert (advisory.count, advisory.message) == (2, "first example")
    assert (merged.traffic.sent, merged.traffic.writes) == (12, 2)
    assert merged.failed == {"test_a": ["room-is-the-requested-one"]}
