"""`--state-file`: every acknowledged write survives a kill -9 in the middle of a stream of writes."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mock_server import create_app

from helpers.mock_api import AUTH, DOMAIN, ROOT, VCLINIC
from helpers.servers import child_env, mock_process

HEADERS = {"X-AccountCode": VCLINIC}
WRITES = 200  # the stream: one room per request, one request after another
KILL_AFTER = 40  # acknowledged writes before the kill -9; the rest of the stream is still to come
SAFETY_SECONDS = 120  # never the bound: only how long a stuck server may take before the test fails


@dataclass
class _Stream:
    """What the writer thread shares with the test."""

    acknowledged: list[str] = field(default_factory=list)  # codes of the rooms the server answered 200 for
    failure: str | None = None  # a request that failed before the kill
    enough: threading.Event = field(default_factory=threading.Event)  # KILL_AFTER acknowledged, or a failure
    killed: threading.Event = field(default_factory=threading.Event)


def _writer(base: str, stream: _Stream) -> None:
    """Create WRITES rooms one after another, noting each code the server acknowledged; stop at the first request
    the killed server does not answer."""
    for n in range(WRITES):
        try:
            reply = requests.post(
                f"{base}/api_v3/rooms",
                headers={**AUTH, **HEADERS},
                timeout=5,
                data={"domain": DOMAIN, "slug": f"durable-{n}", "name": f"Durable {n}"},
            )
        except requests.RequestException as exc:
            if not stream.killed.is_set():
                stream.failure = f"write {n} failed before the kill: {exc!r}"
                stream.enough.set()
            return  # killed before or during this request: it was never acknowledged
        if reply.status_code == 200:
            stream.acknowledged.append(reply.json()["data"]["code"])
            if len(stream.acknowledged) == KILL_AFTER:
                stream.enough.set()
    stream.enough.set()  # the whole stream went through: the kill will come too late, and the test says so


def test_acknowledged_writes_survive_kill_9_mid_write(tmp_path: Path) -> None:
    state, stream = tmp_path / "state.json", _Stream()
    with mock_process("--quiet", "--state-file", str(state)) as server:
        associated = requests.post(
            f"{server.url}/api_v3/users/401/rooms",
            headers={**AUTH, **HEADERS},
            timeout=5,
            json={"code": "b4vjj", "default": True},
        )
        assert associated.status_code == 200
        writer = threading.Thread(target=_writer, args=(server.url, stream), daemon=True)
        writer.start()
        assert stream.enough.wait(SAFETY_SECONDS), f"{len(stream.acknowledged)} writes in {SAFETY_SECONDS} s"
        assert stream.failure is None, stream.failure
        stream.killed.set()
        server.kill()  # in the middle of the stream of writes
        writer.join(SAFETY_SECONDS)
        assert not writer.is_alive(), "the writer did not notice the kill"
    acknowledged = stream.acknowledged
    assert KILL_AFTER <= len(acknowledged) < WRITES, f"{len(acknowledged)} writes acknowledged: not killed mid-stream"
    with mock_process("--state-file", str(state), "--quiet") as restarted:
        rooms = {r["code"] for r in requests.get(f"{restarted.url}/api_v3/rooms", timeout=10).json()["data"]}
        providers = requests.get(f"{restarted.url}/api_v3/rooms/b4vjj/providers", timeout=10).json()["data"]
    lost = [code for code in acknowledged if code not in rooms]
    assert lost == [], f"{len(lost)} acknowledged rooms lost, e.g. {lost[:3]}"
    assert "401" in {p["id"] for p in providers}, "the association was lost"


def test_a_corrupt_state_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--port", "0", "--state-file", str(state)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "state.json" in result.stderr


# ------------------------------------------------------------------ a write that answers an error changed nothing


def _create(client: FlaskClient, slug: str) -> TestResponse:
    return client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": slug, "name": slug}, headers=AUTH)


def test_a_write_that_cannot_be_saved_answers_503_and_changes_nothing(tmp_path: Path) -> None:
    """The state file becomes unwritable mid-run: the write is refused in the error shape, memory and file keep the
    state before it, and once the file can be written again the next write is saved."""
    state_file = tmp_path / "state.json"
    client = create_app({"state_file": state_file, "seed": 1}).test_client()
    assert _create(client, "kept").status_code == 200
    before_memory, before_file = client.get("/__mock__/state").get_json(), state_file.read_bytes()
    blocker = (
        tmp_path / "state.json.partial"
    )  # where the save writes first: a folder there makes it fail (even as root)
    blocker.mkdir()
    refused = _create(client, "lost")
    assert refused.status_code == 503, refused.get_json()
    assert set(refused.get_json()) == {"code", "message"} and "nothing was changed" in refused.get_json()["message"]
    association = client.post("/api_v3/users/1002/rooms", json={"code": "ceproom1"}, headers=AUTH)
    assert association.status_code == 503
    assert client.get("/__mock__/state").get_json() == before_memory
    assert state_file.read_bytes() == before_file
    assert client.get("/api_v3/rooms", query_string={"slug": "lost"}).get_json()["total_count"] == 0
    blocker.rmdir()
    assert _create(client, "saved").status_code == 200
    assert "saved" in state_file.read_text() and "lost" not in state_file.read_text()
