"""`vsee-mock --workers 2`: two processes behind one port behave as one mock, over real HTTP.

Uniqueness and read-your-writes must hold whichever worker answers; with `--state-file`, a kill -9 of every process
of the server loses no acknowledged write. Each test first checks its premise without any API change: two worker
processes under the server, and requests on fresh connections answered by both (each one's written bytes grow in
/proc/PID/io).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from helpers.mock_api import AUTH, DOMAIN, VCLINIC
from helpers.servers import ServerProcess, children, mock_process

HEADERS = {**AUTH, "X-AccountCode": VCLINIC}
CONTENDERS = 40


def _served_bytes(pid: int) -> int:
    """Bytes the process has written (its answers among them): grows only in a worker that answered."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def _fresh_connection_get(url: str) -> int:
    return requests.get(url, headers={**HEADERS, "Connection": "close"}, timeout=10).status_code


def _both_workers_answer(server: ServerProcess) -> None:
    """The premise of every test here: two worker processes, and requests on fresh connections reach both."""
    workers = children(server.process.pid, 2)
    assert len(workers) == 2, f"expected 2 worker processes under the server, found {workers}"
    before = {pid: _served_bytes(pid) for pid in workers}
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(_fresh_connection_get, [f"{server.api_v3}/rooms/ceproom1"] * 200))
    assert set(statuses) == {200}, server.output_tail()
    grew = [pid for pid in workers if _served_bytes(pid) > before[pid]]
    assert len(grew) == 2, "only one worker answered 200 requests on fresh connections"


def test_forty_concurrent_creates_of_one_slug_succeed_exactly_once() -> None:
    with mock_process("--workers", "2", "--quiet") as server:
        _both_workers_answer(server)
        start = threading.Barrier(CONTENDERS)

        def create(n: int) -> int:
            start.wait()
            body = {"domain": DOMAIN, "slug": "one-of-forty", "name": f"contender {n}"}
            headers = {**HEADERS, "Connection": "close"}  # a fresh connection each: spread over both workers
            return requests.post(f"{server.api_v3}/rooms", json=body, headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(CONTENDERS) as pool:
            statuses = sorted(pool.map(create, range(CONTENDERS)))
        assert statuses == [200] + [400] * (CONTENDERS - 1)
        listed = requests.get(f"{server.api_v3}/rooms", params={"slug": "one-of-forty"}, headers=HEADERS, timeout=10)
        assert listed.json()["total_count"] == 1


def test_a_created_room_is_readable_by_every_following_request_whichever_worker_answers() -> None:
    with mock_process("--workers", "2", "--quiet") as server:
        _both_workers_answer(server)
        for n in range(30):
            body = {"domain": DOMAIN, "slug": f"ryw-{n}", "name": f"Read your writes {n}"}
            created = requests.post(
                f"{server.api_v3}/rooms", json=body, headers={**HEADERS, "Connection": "close"}, timeout=10
            )
            assert created.status_code == 200, created.text
            code = created.json()["data"]["code"]
            for _ in range(4):  # fresh connections: some land on the worker that did not create it
                assert _fresh_connection_get(f"{server.api_v3}/rooms/{code}") == 200
            listed = requests.get(
                f"{server.api_v3}/rooms",
                params={"slug": f"ryw-{n}"},
                headers={**HEADERS, "Connection": "close"},
                timeout=10,
            )
            assert listed.json()["total_count"] == 1, "a worker replayed a list cached before the write"


def test_kill_9_of_two_workers_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """Writes through both workers; the whole process group killed at once mid-stream; a restart on the same state
    file has every room that was answered 200, and the slug rule still holds."""
    state = tmp_path / "state.sqlite3"
    acknowledged: list[str] = []
    with mock_process("--workers", "2", "--quiet", "--state-file", str(state)) as server:
        _both_workers_answer(server)
        stop = threading.Event()

        def write(lane: int) -> None:
            n = 0
            while not stop.is_set():
                body = {"domain": DOMAIN, "slug": f"kept-{lane}-{n}", "name": "kept"}
                try:
                    reply = requests.post(
                        f"{server.api_v3}/rooms", json=body, headers={**HEADERS, "Connection": "close"}, timeout=10
                    )
                except requests.RequestException:
                    return  # killed mid-request: never acknowledged
                if reply.status_code == 200:
                    acknowledged.append(reply.json()["data"]["code"])
                n += 1

        lanes = [threading.Thread(target=write, args=(lane,)) for lane in range(4)]
        for lane in lanes:
            lane.start()
        while len(acknowledged) < 60 and all(lane.is_alive() for lane in lanes):
            time.sleep(0.01)
        for pid in [*children(server.process.pid), server.process.pid]:  # kill -9, workers and supervisor
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        stop.set()
        for lane in lanes:
            lane.join(30)
    assert len(acknowledged) >= 60
    with mock_process("--quiet", "--state-file", str(state)) as restarted:
        rooms = requests.get(f"{restarted.api_v3}/rooms", headers=HEADERS, timeout=10).json()["data"]
        assert set(acknowledged) <= {r["code"] for r in rooms}, "an acknowledged write was lost"
        slugs = [r["slug"] for r in rooms]
        assert len(slugs) == len(set(slugs))
