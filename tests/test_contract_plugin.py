"""The suite's own machinery, through its command line: write safety, environment fallbacks, skip reasons,
reports, and the token never reaching any output."""

from __future__ import annotations

from pathlib import Path

from suite_runner import ACCOUNT, http_args, run_suite, served


def test_without_allow_writes_writes_are_deselected_and_said_so() -> None:
    with served(None) as base:
        result = run_suite("--base-url", base, "--account-code", ACCOUNT[0])
    assert result.returncode == 0, result.stdout[-3000:]
    assert "deselected" in result.stdout
    assert "write tests deselected: pass --allow-writes" in result.stdout
    assert "writes sent: 0" in result.stdout


def test_environment_variables_stand_in_for_the_options() -> None:
    with served(None) as base:
        env = {"VSEE_BASE_URL": base, "VSEE_ACCOUNT_CODE": ACCOUNT[0], "VSEE_API_TOKEN": ACCOUNT[1]}
        result = run_suite("--allow-writes", "-k", "wrong_token or public_reads", env=env)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"target: {base}" in result.stdout
    assert "2 passed" in result.stdout


def test_the_token_reaches_no_output_report_or_junit_even_when_the_server_echoes_it(tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    with served("leaky_errors") as base:
        result = run_suite(*http_args(base), "--junitxml", str(junit), "--contract-report", str(report),
                           "-k", "test_operation_conforms or unknown_room_codes")  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    assert "(token [redacted])" in result.stdout, "the echoed token must show up redacted"
    for text in (result.stdout, result.stderr, junit.read_text(), report.read_text()):
        assert ACCOUNT[1] not in text


def test_a_failure_names_rule_request_curl_and_seed_and_the_report_lists_it(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    result = run_suite("--contract-app", "broken_mocks:queue_overflow", "-k", "queue_is",
                       "--contract-report", str(report))  # fmt: skip
    assert result.returncode == 1
    out = result.stdout
    assert "[queue-arithmetic]" in out and "GET http://localhost/api_v3/rooms/" in out
    assert "reproduce: curl -X GET" in out and "rerun with --contract-seed 1" in out
    markdown = report.read_text()
    assert "| `getRoomQueue` |" in markdown and "`queue-arithmetic`" in markdown


def test_missing_preconditions_are_skips_with_the_option_that_supplies_them() -> None:
    result = run_suite("--contract-app", "broken_mocks:empty_clinic", "-rs", "-k", "queue_is or get_room_returns")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 skipped" in result.stdout
    assert "pass --room-code" in result.stdout


def test_an_unreachable_deployment_fails_instead_of_passing() -> None:
    result = run_suite("--base-url", "http://127.0.0.1:9/api_v3", "-k", "public_reads")
    assert result.returncode == 1
    assert "1 failed" in result.stdout
