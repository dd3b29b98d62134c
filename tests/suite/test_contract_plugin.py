"""The suite's own machinery, through its command line: write safety, environment fallbacks, skip reasons,
reports, and the token never reaching any output."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from contract_tests.settings import namespace_for
from mock_server import NAMESPACE_HEADER

from helpers.suite_runner import ACCOUNT, http_args, run_suite, served, served_app


def test_without_allow_writes_writes_are_skipped_and_said_so() -> None:
    with served(None) as base:
        result = run_suite("--base-url", base, "--account-code", ACCOUNT[0])
    assert result.returncode == 0, result.stdout[-3000:]
    # five write tests skipped (the links-driven workflow, no-5xx writes, exact token, two races), and the three
    # write operations left out of the generated tests
    assert "8 write tests not run (skipped, or left out of the generated tests): pass --contract-allow-writes" in (
        result.stdout
    )
    assert "5 skipped" in result.stdout
    # a rule only a write test checks says so
    assert "  only-the-exact-token-writes: writes are not allowed: pass --contract-allow-writes" in result.stdout
    assert "writes sent: 0" in result.stdout


def test_environment_variables_stand_in_for_the_options() -> None:
    with served(None) as base:
        env = {"VSEE_BASE_URL": base, "VSEE_ACCOUNT_CODE": ACCOUNT[0], "VSEE_API_TOKEN": ACCOUNT[1]}
        result = run_suite("--allow-writes", "-k", "model_based", env=env)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"target: {base}" in result.stdout
    assert "1 passed" in result.stdout and "writes sent: 0" not in result.stdout


def test_the_token_reaches_no_output_report_or_junit_even_when_the_server_echoes_it(tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    with served("leaky_errors") as base:
        result = run_suite(
            *http_args(base),
            "--junitxml",
            str(junit),
            "--contract-report",
            str(report),
            "-k",
            "test_operation_conforms or model_based",
        )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "(token [redacted])" in result.stdout, "the echoed token must show up redacted"
    for text in (result.stdout, result.stderr, junit.read_text(), report.read_text()):
        assert ACCOUNT[1] not in text


def test_a_failure_names_rule_request_curl_seed_and_steps_and_the_report_lists_it(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_text("an older run's report\n")
    result = run_suite(
        "--contract-app", "helpers.broken_mocks:queue_overflow", "-k", "model_based", "--contract-report", str(report)
    )
    assert result.returncode == 1
    out = result.stdout
    assert "[queue-arithmetic]" in out and "GET http://localhost/api_v3/rooms/" in out
    assert "reproduce: curl -X GET" in out and "rerun with --contract-seed 1" in out
    assert "steps that led here" in out and "1. observe_clinic()" in out and "tour: create a room" in out
    assert "verdict: FAILED — 1 test(s) failed (queue-arithmetic×1)" in out
    markdown = report.read_text()
    assert "older run" not in markdown, "the report is overwritten, not appended to"
    assert "**verdict: FAILED — 1 test(s) failed (queue-arithmetic×1)**" in markdown
    assert (
        "| `contract_tests/test_model_based.py::test_the_deployment_behaves_as_the_model_predicts` | `queue-arithmetic` |"
        in markdown
    )
    assert "| `queue-arithmetic` |" in markdown and "| `getRoomQueue` |" in markdown


def test_transient_5xx_are_no_5xx_violations_wherever_they_come_never_a_crash_of_the_suite() -> None:
    result = run_suite("--contract-app", "helpers.broken_mocks:flaky_503")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "[no-5xx]" in result.stdout and "answered 503" in result.stdout
    assert "KeyError" not in result.stdout and "TypeError" not in result.stdout, result.stdout[-3000:]


def test_an_unwritable_report_path_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "a-file").touch()  # a folder that cannot be made (a missing one is made, as for --junitxml)
    result = run_suite("--contract-report", str(tmp_path / "a-file" / "dir" / "report.md"))
    assert result.returncode == 4
    assert (
        "--contract-report" in result.stderr
        and "cannot write there" in result.stderr
        and "pass a writable path" in result.stderr
    )
    assert "Traceback" not in result.stdout + result.stderr and " passed" not in result.stdout


def test_the_summary_says_which_documented_responses_were_observed_and_which_rules_were_not_checked() -> None:
    result = run_suite("--contract-app", "helpers.broken_mocks:empty_clinic", "-k", "model_based")
    assert result.returncode == 0, result.stdout[-3000:]
    out = result.stdout
    assert "GET /rooms 200 (The rooms, as summaries): observed ×" in out
    assert (
        "POST /rooms 400 (Documented: the slug already exists in the domain): never observed (no room to learn the "
        "clinic's domain from: pass --contract-domain)" in out
    )
    assert "duplicate-slug-refused: no room to learn the clinic's domain from: pass --contract-domain" in out
    assert "verdict: PASSED" in out


def test_with_contract_require_all_a_rule_left_unchecked_fails_the_run(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    args = ("--contract-app", "helpers.broken_mocks:empty_clinic", "-k", "model_based", "--contract-require-all")
    result = run_suite(*args, "--contract-report", str(report))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 passed" in result.stdout
    assert "rule(s) could not be checked (--contract-require-all)" in result.stdout
    markdown = report.read_text()
    assert (
        "| `association-makes-provider` | no room to learn the clinic's domain from: pass --contract-domain |"
        in markdown
    )
    assert "| POST /rooms 400 (Documented: the slug already exists in the domain) | never observed (no room" in markdown


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--base-url", "http://127.0.0.1:9/api_v3"],
            "cannot reach http://127.0.0.1:9/api_v3/rooms (ConnectionError): "
            "is the deployment up and --base-url right?",
        ),
        (["--base-url", "{root}"], "which is not the Rooms API's list: --base-url must be the API's v3 base"),
        (
            ["--base-url", "{v3}", "--allow-writes"],
            "--contract-allow-writes needs the clinic admin token: pass --contract-api-token",
        ),
        (
            ["--base-url", "{v3}", "--v4-base-url", "{root}/api_v5"],
            "for a room GET /rooms lists: pass --contract-v4-base-url",
        ),
    ],
)
def test_a_target_not_ready_stops_the_run_at_once_with_one_line_naming_the_fix(args: list[str], says: str) -> None:
    with served(None) as base:
        root = base.removesuffix("/api_v3")
        started = time.monotonic()
        result = run_suite(*[a.format(root=root, v3=base) for a in args], "--account-code", ACCOUNT[0])
    assert result.returncode == 4, result.stdout[-3000:]
    assert time.monotonic() - started < 30
    exit_lines = [line for line in result.stdout.splitlines() if "vsee-contract: " in line]
    assert len(exit_lines) == 1 and says in exit_lines[0], result.stdout[-3000:]
    assert "Traceback" not in result.stdout + result.stderr and "no tests ran" in result.stdout


def test_a_seed_whose_rooms_the_deployment_already_has_stops_the_run_with_one_line() -> None:
    """The same seed makes the same slugs: a second run would see its own rooms as duplicates, not a fault."""
    with served(None) as base:
        first = run_suite(*http_args(base), "-k", "model_based")
        again = run_suite(*http_args(base), "-k", "model_based")
        other = run_suite(*http_args(base), "-k", "model_based", "--contract-seed", "2")
    assert first.returncode == 0 and other.returncode == 0, first.stdout[-2000:] + other.stdout[-2000:]
    assert again.returncode == 4, again.stdout[-3000:]
    assert "from a run with --contract-seed 1" in again.stdout and "pass another --contract-seed" in again.stdout


def test_advisories_are_listed_in_terminal_report_and_junit_and_do_not_fail_the_run(tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    result = run_suite(
        "--contract-app",
        "helpers.benign_variants:forms_only",
        "-k",
        "model_based or test_operation_conforms",
        "--junitxml",
        str(junit),
        "--contract-report",
        str(report),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "advisory [json-bodies-refused] ×" in result.stdout
    assert "e.g. curl -X POST" in result.stdout and "Content-Type: application/json" in result.stdout
    assert '<property name="advisory" value="[json-bodies-refused] POST /rooms answered 415' in junit.read_text()
    assert "| `json-bodies-refused` |" in report.read_text()


def test_with_contract_strict_an_advisory_fails_the_test_that_saw_it() -> None:
    result = run_suite("--contract-app", "helpers.benign_variants:forms_only", "-k", "model_based", "--contract-strict")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "[json-bodies-refused]" in result.stdout and "failing because of --contract-strict" in result.stdout
    assert "1 failed" in result.stdout


def test_a_deployment_slower_than_the_timeout_stops_the_run_with_one_line_naming_it() -> None:
    with served_app("helpers.benign_variants.VARIANTS['slow']()", env={"BENIGN_SLOW_MS": "400"}) as base:
        result = run_suite(*http_args(base), "--contract-timeout", "0.1")
    assert result.returncode == 4, result.stdout[-3000:]
    assert "gave no answer within 0.1 s: raise --contract-timeout if it is this slow" in result.stdout
    assert "verdict" not in result.stdout and "Traceback" not in result.stdout


def test_a_run_against_a_shared_mock_keeps_its_rooms_in_its_own_namespace() -> None:
    """Two CI jobs (or xdist workers, each `NAME-gwN`) against one vsee-mock never see each other's rooms."""
    with served(None) as base:
        result = run_suite("-k", "model_based", *http_args(base), "--contract-namespace", "ci-job-7")
        default = requests.get(f"{base}/rooms", timeout=10).json()["data"]
        mine = requests.get(f"{base}/rooms", headers={NAMESPACE_HEADER: "ci-job-7"}, timeout=10).json()["data"]
    assert result.returncode == 0, result.stdout[-3000:]
    assert not [room["slug"] for room in default if room["slug"].startswith("ct-")]
    assert [room["slug"] for room in mine if room["slug"].startswith("ct-")]


@pytest.mark.parametrize(
    ("name", "worker", "expected"), [("ci", None, "ci"), ("ci", "gw1", "ci-gw1"), (None, "gw1", None)]
)
def test_each_xdist_worker_gets_a_namespace_of_its_own(name: str | None, worker: str | None, expected: str) -> None:
    assert namespace_for(name, worker) == expected
