"""What a run says is what happened: a rule counts as checked only when an exchange could have broken it, the JUnit
file shows what the exit code says (--contract-require-all's failure as a failed test case, write tests skipped
with their reason), report folders are made, a deployment that stops answering is said once, and a verdict names
only rules the suite knows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contract_tests.summary import rules_named

from helpers.outages import DIE_AFTER
from helpers.suite_runner import ACCOUNT_ARGS, run_suite, served, served_app


def test_a_read_only_gate_reports_unchecked_rules_truthfully_and_junit_says_what_the_exit_code_says(
    tmp_path: Path,
) -> None:
    junit, report = tmp_path / "reports" / "junit.xml", tmp_path / "reports" / "contract" / "summary.md"
    with served(None) as base:
        result = run_suite(
            "--base-url", base, *ACCOUNT_ARGS, "--contract-require-all", "--junitxml", str(junit),
            "--contract-report", str(report),
        )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    unchecked = dict(re.findall(r"^  ([a-z0-9-]+): (.+)$", result.stdout.split("rules not checked")[1], re.M))
    only_by_writes = ("created-room-readable-and-listed", "list-agrees-with-detail", "refused-write-changes-nothing")
    for rule in (*only_by_writes, "only-the-exact-token-writes", "concurrent-creates-one-wins"):
        assert unchecked.get(rule) == "writes are not allowed: pass --contract-allow-writes", (rule, unchecked)
    assert "provider-is-the-requested-one" not in unchecked, "a read-only run can read a provider it found"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "5"), suite.attrib
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["every_rule_was_checked"]
    failure = failed[0].find("failure")
    assert failure is not None and "created-room-readable-and-listed: writes are not allowed" in (failure.text or "")
    skipped = [s for case in suite.iter("testcase") if (s := case.find("skipped")) is not None]
    assert all("writes are not allowed: pass --contract-allow-writes" in str(s.get("message")) for s in skipped)
    assert "verdict: FAILED" in report.read_text()


@pytest.mark.parametrize("concurrency", ["1", "8"])
def test_a_deployment_that_stops_answering_mid_run_is_said_once(concurrency: str) -> None:
    with served_app("helpers.outages.dying()", env={DIE_AFTER: "60"}) as base:
        result = run_suite(
            "--base-url", base, *ACCOUNT_ARGS, "--contract-allow-writes", "--contract-concurrency", concurrency
        )
    out = result.stdout + result.stderr
    assert result.returncode == 2, out[-3000:]
    assert out.count("stopped answering") == 2, out[-3000:]  # the line, and the note on what could not be undone
    said = re.search(
        r"the deployment stopped answering after (\d+) requests \(ConnectionError\); the run ends here\.", out
    )
    assert said is not None, out[-3000:]
    # one after another it knows the count; side by side, answers still on their way when it stopped are not counted
    assert int(said.group(1)) == 60 if concurrency == "1" else 40 <= int(said.group(1)) <= 60, said.group(0)
    # (a multipart body spans lines)
    last = r"The last request: curl -X [A-Z]+ .*?http://127\.0\.0\.1:[0-9]+/api_v[34]/"
    assert re.search(last, out, re.DOTALL), out[-3000:]
    assert "Traceback" not in out and ACCOUNT_ARGS[3] not in out
    if concurrency == "1":  # its last request is a write, whose token is shown redacted (side by side: any request)
        assert "[redacted]" in out
    assert "verdict: NOT COMPLETED" in out


def test_a_verdict_names_only_rules_the_suite_knows() -> None:
    traceback = (
        "def send(self, request, **kwargs):  # type: ignore[override]\n  x = y  # type: ignore[attr-defined]\n"
        "[no-5xx] answered 503; [not_a_server_error] Server error; [json-bodies-refused] ...; seen ['a-b']"
    )
    assert rules_named(traceback) == ["no-5xx", "not_a_server_error", "json-bodies-refused"]


def test_progress_only_goes_forward_and_reaches_100_percent() -> None:
    # a test, then one with schemathesis' subtests, at pytest's default verbosity (`-v` undoes run_suite's `-q`)
    result = run_suite("-k", "no_read_input or operation_conforms", "-v")
    assert result.returncode == 0, result.stdout[-3000:]
    progress = [int(p) for p in re.findall(r"\[ *([0-9]+)%\]", result.stdout)]
    assert progress == sorted(progress) and progress[-1] == 100, progress
