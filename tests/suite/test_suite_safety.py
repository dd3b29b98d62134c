"""The suite on live systems: read-only means read-only, --max-writes is a hard budget, and a seed reproduces a run,
as witnessed by a deployment that logs every request it receives (every layer of the suite, schemathesis' probes
too)."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import requests

from contract_tests.settings import ROOM_PREFIX
from vsee_contract import READ_METHODS

from helpers.recording import RECORDING_FILE, clinic_state, received
from helpers.suite_runner import ACCOUNT_ARGS, http_args, run_suite, served, served_app

# the random multipart boundaries of urllib3 and werkzeug: an encoding detail, not the request
BOUNDARY = re.compile(r"[0-9a-f]{32}|WerkzeugFormPart_[0-9.]+")
ROOM_CODE = re.compile(r"(?<![0-9a-z])[0-9a-z]{5}(?![0-9a-z])")  # what the mock chooses: `b4vjj`


def _recorded_run(log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The suite, with the account and its token (and `args`), against a fresh deployment that logs to `log`."""
    return _recorded_run_and_rooms(log, *args)[0]


def _recorded_run_and_rooms(log: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """`_recorded_run`, and the deployment's rooms afterwards: code -> slug."""
    with served_app("helpers.recording.recording()", env={RECORDING_FILE: str(log)}) as base:
        result = run_suite("--base-url", base, *ACCOUNT_ARGS, *args)
        return result, {str(r["code"]): str(r["slug"]) for r in clinic_state(base)["rooms"]}


def _codes_as_slugs(text: str, rooms: dict[str, str]) -> str:
    """A request with each room code the deployment chose for the suite's rooms (in the order the creates arrived,
    which side by side is not the seed's to fix) written as the room's slug, which the seed does fix."""
    return ROOM_CODE.sub(lambda found: f"<{rooms[found[0]]}>" if found[0] in rooms else found[0], text)


def _requests_of_a_run(tmp_path: Path, name: str, seed: int, over_http: bool, *args: str) -> list[str]:
    """What a fresh deployment received from one quick run with `seed` (and `args`), one request a line. The race
    (`test_concurrency.py`) is left out: its parallel requests arrive in an order no seed can fix."""
    log = tmp_path / f"{name}.jsonl"
    sequential = ("-k", "not concurrency")
    rooms: dict[str, str] = {}
    if over_http:
        result, every_room = _recorded_run_and_rooms(
            log, "--allow-writes", "--contract-seed", str(seed), *sequential, *args
        )
        rooms = {code: slug for code, slug in every_room.items() if slug.startswith(ROOM_PREFIX)}
    else:
        result = run_suite(
            "--contract-app",
            "helpers.recording:recording",
            "--contract-seed",
            str(seed),
            *sequential,
            env={RECORDING_FILE: str(log)},
        )
    assert result.returncode == 0, result.stdout[-3000:]
    return [
        BOUNDARY.sub(
            "BOUNDARY", json.dumps({k: _codes_as_slugs(v, rooms) if isinstance(v, str) else v for k, v in r.items()})
        )
        for r in received(log)
    ]


def _writes_sent(stdout: str) -> int:
    found = re.search(r"writes sent: ([0-9]+)", stdout)
    assert found, stdout[-3000:]
    return int(found.group(1))


def test_a_read_only_run_delivers_no_write_and_never_the_admin_token(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    result = _recorded_run(log, "--contract-profile", "ci")
    requests = received(log)
    assert result.returncode == 0, result.stdout[-3000:]
    assert len(requests) > 100, "the run sent too little to prove anything"
    assert {r["method"] for r in requests} <= READ_METHODS, sorted({r["method"] for r in requests} - READ_METHODS)
    assert not [r for r in requests if r["token"]], "a read-only run sent the admin token"
    assert _writes_sent(result.stdout) == 0


def test_max_writes_is_a_hard_budget_and_the_summary_counts_what_arrived(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    result = _recorded_run(log, "--allow-writes", "--max-writes", "5", "-rs")
    writes = [r for r in received(log) if r["method"] not in READ_METHODS]
    assert result.returncode == 0, result.stdout[-3000:]
    assert 0 < len(writes) <= 5, writes
    assert _writes_sent(result.stdout) == len(writes)
    assert "write budget exhausted (--contract-max-writes 5)" in result.stdout


def test_the_same_seed_against_a_fresh_deployment_sends_the_same_requests_in_process(tmp_path: Path) -> None:
    first, again = (_requests_of_a_run(tmp_path, name, 5, False) for name in ("first", "again"))
    assert len(first) > 100
    differ = [f"request {i}: {a} != {b}" for i, (a, b) in enumerate(zip(first, again, strict=False)) if a != b]
    assert first == again, differ[:1]
    other = _requests_of_a_run(tmp_path, "other", 6, False)
    assert other != first, "another seed sent exactly the same requests: the seed does not reach the generators"


def test_the_same_seed_over_http_sends_the_same_requests_but_what_the_layers_side_by_side_change(
    tmp_path: Path,
) -> None:
    """Over HTTP independent reads, operations and layers go concurrently (--contract-concurrency 8). Each layer's
    requests come from the seed and each has its own share of the room allowance, but the layers share the
    deployment: the codes it gives the rooms follow the order the creates arrive in (compared as the rooms' slugs;
    the model picks among its rooms in the order it made them, never by code), and how many pages a walk takes
    depends on what the others made meanwhile. Nearly all requests are the same (in six pairs of quick runs beside
    two busy processes, all but at most one GET /rooms of ~529), in an order of their own; another seed sends others
    (`--contract-concurrency 1` repeats every one, in order: below)."""
    first, again = (Counter(_requests_of_a_run(tmp_path, name, 5, True)) for name in ("first", "again"))
    total = sum(first.values())
    assert total > 100
    moved = sum((first - again).values()) + sum((again - first).values())
    assert moved <= total // 50, f"{moved} of {total} requests differ: {list((first - again).elements())[:2]}"
    other = Counter(_requests_of_a_run(tmp_path, "other", 6, True))
    assert sum((first - other).values()) > moved, "another seed sent nearly the same requests"


def test_at_concurrency_1_the_same_seed_sends_the_same_requests_in_the_same_order(tmp_path: Path) -> None:
    first, again = (_requests_of_a_run(tmp_path, name, 5, True, "--contract-concurrency", "1") for name in "ab")
    assert len(first) > 100
    differ = [f"request {i}: {a} != {b}" for i, (a, b) in enumerate(zip(first, again, strict=False)) if a != b]
    assert first == again, differ[:1]


def test_every_room_a_live_run_leaves_behind_is_in_the_clinics_domain_prefixed_and_printable() -> None:
    with served(None) as base:
        before = {r["code"] for r in requests.get(f"{base}/rooms", timeout=10).json()["data"]}
        result = run_suite(*http_args(base), "--contract-profile", "ci")
        after = requests.get(f"{base}/rooms", timeout=10).json()["data"]
    assert result.returncode == 0, result.stdout[-3000:]
    made = [r for r in after if r["code"] not in before]
    assert 3 <= len(made) <= 10, f"{len(made)} rooms: too few to prove anything, or more than --contract-max-rooms"
    junk = [
        r
        for r in made
        if r["domain"] != "vclinic.vsee.me"
        or not r["slug"].startswith("ct-")
        or not (r["slug"] + r["name"]).isprintable()
    ]
    assert not junk, junk[:5]
