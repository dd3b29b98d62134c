"""`--state-file`: every acknowledged write survives a kill -9 in the middle of a stream of writes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mock_server import create_app, runtime
from mock_server.database import Database

from helpers.mock_api import AUTH, DOMAIN, ROOT, VCLINIC
from helpers.servers import child_env, mock_process

HEADERS = {"X-AccountCode": VCLINIC}
WRITES = 20_000  # the most the stream may write (one room per request): far more than fit before the kill comes
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
    """Create rooms one after another (at most WRITES), noting each code the server acknowledged; stop at the first
    request the killed server does not answer."""
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
    state, stream = tmp_path / "state.sqlite3", _Stream()
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


def _slugs_in(state_file: Path) -> set[str]:
    """What the database itself holds, read by a connection of the test's own."""
    with closing(sqlite3.connect(state_file)) as connection:
        return {row[0] for row in connection.execute("SELECT slug FROM rooms")}


def test_a_write_that_cannot_be_saved_answers_503_and_changes_nothing(tmp_path: Path) -> None:
    """The disk fills up mid-run (SQLite's page limit, as a full disk answers): the write is refused in the error
    shape, the state and the file keep what was there before it, and once there is room the next write is saved."""
    state_file = tmp_path / "state.sqlite3"
    app = create_app({"state_file": state_file, "seed": 1})
    client = app.test_client()
    assert _create(client, "kept").status_code == 200
    before_state, before_rows = client.get("/__mock__/state").get_json(), _slugs_in(state_file)
    database = runtime(app).namespaces.database
    assert isinstance(database, Database)  # the SQLite state of --state-file
    connection = database.connection
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")  # no page more: the next growth fails as SQLITE_FULL
    refused = [_create(client, f"lost-{n}") for n in range(30)]  # each a room more: the file must grow at some point
    assert any(r.status_code == 503 for r in refused), [r.status_code for r in refused]
    first = next(r for r in refused if r.status_code == 503)
    assert set(first.get_json()) == {"code", "message"} and "nothing was changed" in first.get_json()["message"]
    saved_meanwhile = {r.get_json()["data"]["slug"] for r in refused if r.status_code == 200}
    after_state = client.get("/__mock__/state").get_json()
    slugs = {r["slug"] for a in after_state["data"]["accounts"] for r in a["rooms"]}
    before_slugs = {r["slug"] for a in before_state["data"]["accounts"] for r in a["rooms"]}
    assert slugs == before_slugs | saved_meanwhile, "a refused write left a room behind"
    assert _slugs_in(state_file) == before_rows | saved_meanwhile
    connection.execute("PRAGMA max_page_count = 1073741823")
    assert _create(client, "saved").status_code == 200
    assert "saved" in _slugs_in(state_file)


def test_after_a_clean_stop_the_state_file_alone_holds_the_state(tmp_path: Path) -> None:
    """SIGTERM checkpoints the write-ahead log into the file: a copy of the file alone (a backup, a volume snapshot)
    restarts with every room, not from the fixtures. Once with one worker, once with two sharing the file."""
    for workers in ("1", "2"):
        state = tmp_path / f"state-{workers}.sqlite3"
        with mock_process("--quiet", "--no-watch", "--workers", workers, "--state-file", str(state)) as server:
            body = {"domain": DOMAIN, "slug": f"kept-{workers}", "name": "kept"}
            created = requests.post(f"{server.api_v3}/rooms", json=body, headers={**AUTH, **HEADERS}, timeout=10)
            assert created.status_code == 200, created.text
            assert server.stop() == 0
        wal = state.with_name(state.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0, f"{wal.stat().st_size} bytes left in {wal.name}"
        copy = tmp_path / f"copy-{workers}" / "state.sqlite3"
        copy.parent.mkdir()
        copy.write_bytes(state.read_bytes())
        assert f"kept-{workers}" in _slugs_in(copy)
