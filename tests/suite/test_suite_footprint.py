"""A live run with writes changes only what it owns and leaves a bounded footprint (contract_tests.footprint), as
witnessed by a deployment that logs every request and shows its whole state: every room that was there before, every
association and every user's default room are as they were after the run; it created at most --contract-max-rooms
rooms, and a later run reuses the suite's rooms instead of making more."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from vsee_contract import READ_METHODS

from helpers.recording import RECORDING_FILE, changes, clinic_state, received
from helpers.suite_runner import ACCOUNT_ARGS, run_suite, served_app

SUITE_ROOMS = re.compile(
    r"rooms created by this run: ([0-9]+) \(--contract-max-rooms ([0-9]+)\); "
    r"the deployment now holds ([0-9]+) of the suite's rooms"
)


def _footprint(result: subprocess.CompletedProcess[str]) -> tuple[int, int, int]:
    found = SUITE_ROOMS.search(result.stdout)
    assert found, result.stdout[-3000:]
    created, limit, held = (int(n) for n in found.groups())
    return created, limit, held


def test_a_live_run_with_writes_changes_only_what_it_owns_and_a_later_run_reuses_its_rooms(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    with served_app("helpers.recording.recording()", env={RECORDING_FILE: str(log)}) as base:
        before = clinic_state(base)
        first = run_suite("--base-url", base, *ACCOUNT_ARGS, "--contract-allow-writes", "--contract-profile", "ci")
        after_first = clinic_state(base)
        sent_first = len(received(log))
        again = run_suite(
            "--base-url",
            base,
            *ACCOUNT_ARGS,
            "--contract-allow-writes",
            "--contract-max-rooms",
            "0",
            "--contract-seed",
            "2",
        )
        after_again = clinic_state(base)
    assert first.returncode == 0, first.stdout[-3000:]
    assert not changes(before, after_first), changes(before, after_first)
    created, limit, held = _footprint(first)
    assert (limit, held) == (10, created) and 0 < created <= 10, first.stdout[-1500:]
    writes = [r for r in received(log)[:sent_first] if r["method"] not in READ_METHODS]
    assert len(writes) > 100, "the run wrote too little to prove anything"
    # the second run, with no room to create, works on the rooms the first one left, and undoes what it did there
    assert again.returncode == 0, again.stdout[-3000:]
    assert _footprint(again) == (0, 0, created), again.stdout[-1500:]
    # (an association made and undone leaves its room's `modified` time behind, nothing else)
    assert not changes(after_first, after_again, ignored=("modified",)), changes(after_first, after_again)
    suite_rooms = {r["code"] for r in after_first["rooms"]} - {r["code"] for r in before["rooms"]}
    reused = [
        r
        for r in received(log)[sent_first:]
        if r["method"] == "POST"
        and r["path"].endswith("/rooms")
        and "/users/" in r["path"]
        and any(code in r["body"] for code in suite_rooms)
    ]
    assert reused, "the second run associated no user with a room the first one left"
    assert "fewer than the 5 new rooms the model's tour needs" in again.stdout
    assert json.dumps(before["defaults"]) == json.dumps(after_again["defaults"])
