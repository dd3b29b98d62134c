"""Before any test, the preflight proves what a live run needs without changing anything, and a wrong credential or
URL stops the run with one line naming the fix: that line is all the run prints beyond pytest's own frame, and the
deployment (which logs every request) received no write but the one the API must refuse."""

from __future__ import annotations

from pathlib import Path

from vsee_contract import READ_METHODS

from helpers.recording import RECORDING_FILE, clinic_state, received
from helpers.suite_runner import ACCOUNT, ACCOUNT_ARGS, run_suite, served_app

PYTEST_FRAME = ("no tests ran in ", "=", "platform ", "rootdir:", "configfile:", "plugins:", "collected ", "cachedir:")


CASES = {  # what is wrong -> (the arguments, the one line the run prints)
    "wrong-token": (
        ["--contract-api-token", "0" * 32],
        "the deployment refused the token (DELETE {v3}/users/-/rooms/zz-no-such-room-6b86b2 answered 403 "
        "(\"Invalid X-ApiToken: not an admin token of account 'vclinic'.\")): pass the clinic admin token with "
        "--contract-api-token (or set VSEE_API_TOKEN)",
    ),
    "unknown-account-code": (
        ["--contract-api-token", ACCOUNT[1], "--contract-account-code", "vclinic-typo"],
        "GET {v3}/rooms with account code 'vclinic-typo' answered 403 (\"Unknown account code 'vclinic-typo'.\"): "
        "pass the clinic's account code with --contract-account-code (or set VSEE_ACCOUNT_CODE)",
    ),
    "no-scheme": (
        ["--contract-api-token", ACCOUNT[1], "--base-url", "{bare}"],
        "--base-url '{bare}' has no http:// or https:// in front: pass e.g. https://{bare}",
    ),
}


def test_a_wrong_credential_or_url_stops_the_run_with_its_one_line_before_any_test(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    with served_app("helpers.recording.recording()", env={RECORDING_FILE: str(log)}) as base:
        bare, before = base.split("://", 1)[1], clinic_state(base)
        for name, (args, says) in CASES.items():
            sent = len(received(log))
            given = [a.format(bare=bare) for a in args]
            result = run_suite("--base-url", base, "--contract-account-code", ACCOUNT[0], "--allow-writes", *given)
            assert result.returncode == 4, (name, result.stdout[-3000:])
            said = [line for line in result.stdout.splitlines() if line.strip() and not line.startswith(PYTEST_FRAME)]
            expected = f"! _pytest.outcomes.Exit: vsee-contract: {says.format(v3=base, bare=bare)} !"
            assert said == [expected], (name, result.stdout)
            assert not result.stderr.strip(), (name, result.stderr[-2000:])
            writes = [(r["method"], r["path"]) for r in received(log)[sent:] if r["method"] not in READ_METHODS]
            assert writes in ([], [("DELETE", "/api_v3/users/-/rooms/zz-no-such-room-6b86b2")]), (name, writes)
        assert clinic_state(base) == before


def test_a_room_list_that_demands_a_token_is_the_deployments_violation_not_a_wrong_account_code() -> None:
    with served_app("helpers.outages.list_needs_token()") as base:
        result = run_suite("--base-url", base, *ACCOUNT_ARGS, "--allow-writes", "-k", "model_based")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "[public-reads-need-no-token]" in result.stdout and "vsee-contract:" not in result.stdout
