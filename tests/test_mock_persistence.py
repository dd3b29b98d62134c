"""`--state-file`: every acknowledged write survives a kill -9 in the middle of a stream of writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from mock_helpers import AUTH, DOMAIN, ROOT, VCLINIC, vsee_mock
from suite_runner import free_port, wait_until_serving

HEADERS = {"X-AccountCode": VCLINIC}


def _writer(base: str, acknowledged: list[str], stop: threading.Event) -> None:
    """Create rooms one after another, noting each code the server acknowledged with a 200."""
    for n in range(100_000):
        if stop.is_set():
            return
        try:
            reply = requests.post(f"{base}/api_v3/rooms", headers={**AUTH, **HEADERS}, timeout=5,
                                  data={"domain": DOMAIN, "slug": f"durable-{n}", "name": f"Durable {n}"})  # fmt: skip
        except requests.ConnectionError:
            return  # the server was killed mid-request: that write was never acknowledged
        if reply.status_code == 200:
            acknowledged.append(reply.json()["data"]["code"])


def test_acknowledged_writes_survive_kill_9_mid_write(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    port = free_port()
    command = [sys.executable, "-m", "mock_server", "--port", str(port), "--quiet", "--state-file", str(state)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        wait_until_serving(f"{base}/api_v3/rooms", process)
        associated = requests.post(f"{base}/api_v3/users/401/rooms", headers={**AUTH, **HEADERS}, timeout=5,
                                   json={"code": "b4vjj", "default": True})  # fmt: skip
        assert associated.status_code == 200
        writer = threading.Thread(target=_writer, args=(base, acknowledged, stop))
        writer.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # in the middle of the stream of writes
        process.wait(timeout=10)
        stop.set()
        writer.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert len(acknowledged) >= 40
    with vsee_mock(tmp_path / "restarted.log", "--state-file", str(state), "--quiet") as restarted:
        rooms = {r["code"] for r in requests.get(f"{restarted}/api_v3/rooms", timeout=10).json()["data"]}
        providers = requests.get(f"{restarted}/api_v3/rooms/b4vjj/providers", timeout=10).json()["data"]
    lost = [code for code in acknowledged if code not in rooms]
    assert lost == [], f"{len(lost)} acknowledged rooms lost, e.g. {lost[:3]}"
    assert "401" in {p["id"] for p in providers}, "the association was lost"


def test_a_corrupt_state_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "mock_server", "--port", str(free_port()), "--state-file",
                             str(state)], cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "state.json" in result.stderr
