"""The suite is safe on live systems: read-only means read-only and --max-writes is a hard budget, as witnessed by
a deployment that logs every request it receives (every layer of the suite included, schemathesis' probes too)."""

from __future__ import annotations

import re
from pathlib import Path

from recording import RECORDING_FILE, received
from suite_runner import ACCOUNT, run_suite, served_app

READS = {"GET", "HEAD", "OPTIONS"}


def _writes_sent(stdout: str) -> int:
    found = re.search(r"writes sent: ([0-9]+)", stdout)
    assert found, stdout[-3000:]
    return int(found.group(1))


def test_a_read_only_run_delivers_no_write_and_never_the_admin_token(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    with served_app("recording.recording()", env={RECORDING_FILE: str(log)}) as base:
        result = run_suite("--base-url", base, "--account-code", ACCOUNT[0], "--api-token", ACCOUNT[1],
                           "--contract-profile", "ci")  # fmt: skip
    requests = received(log)
    assert result.returncode == 0, result.stdout[-3000:]
    assert len(requests) > 100, "the run sent too little to prove anything"
    assert {r["method"] for r in requests} <= READS, sorted({r["method"] for r in requests} - READS)
    assert not [r for r in requests if r["token"]], "a read-only run sent the admin token"
    assert _writes_sent(result.stdout) == 0


def test_max_writes_is_a_hard_budget_and_the_summary_counts_what_arrived(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    with served_app("recording.recording()", env={RECORDING_FILE: str(log)}) as base:
        result = run_suite("--base-url", base, "--account-code", ACCOUNT[0], "--api-token", ACCOUNT[1],
                           "--allow-writes", "--max-writes", "5", "-rs")  # fmt: skip
    writes = [r for r in received(log) if r["method"] not in READS]
    assert result.returncode == 0, result.stdout[-3000:]
    assert 0 < len(writes) <= 5, writes
    assert _writes_sent(result.stdout) == len(writes)
    assert "write budget exhausted (--max-writes 5)" in result.stdout
