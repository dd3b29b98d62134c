"""Two apps over one state database behave as one mock: what `--workers N` relies on, checked without a server.

Each app has its own connection and its own dicts, exactly like a worker process; every request must see what the
other committed, uniqueness must hold between them, and a failed write must leave both views as they were.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server import create_app
from mock_server.database import StateFileError, check_state_database
from mock_server.handlers import Call, Reply

from helpers.mock_api import AUTH, DOMAIN, VCLINIC

HEADERS = {**AUTH, "X-AccountCode": VCLINIC}


@pytest.fixture
def workers(tmp_path: Path) -> tuple[FlaskClient, FlaskClient]:
    database = tmp_path / "state.sqlite3"
    return (
        create_app({"state_file": database, "seed": 3}).test_client(),
        create_app({"state_file": database, "seed": 3}).test_client(),
    )


def _create(client: FlaskClient, slug: str, **extra: object) -> tuple[int, dict[str, Any]]:
    reply = client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": slug, "name": slug, **extra}, headers=HEADERS)
    return reply.status_code, reply.get_json()


def test_a_room_created_by_one_worker_is_read_by_the_other_at_once(workers: tuple[FlaskClient, FlaskClient]) -> None:
    first, second = workers
    assert second.get("/api_v3/rooms?slug=made-by-first", headers=HEADERS).get_json()["total_count"] == 0  # cached
    status, created = _create(first, "made-by-first")
    assert status == 200
    code = created["data"]["code"]
    assert second.get(f"/api_v3/rooms/{code}", headers=HEADERS).status_code == 200
    assert second.get(f"/api_v4/rooms/{code}", headers=HEADERS).get_json()["data"]["slug"] == "made-by-first"
    listed = second.get("/api_v3/rooms?slug=made-by-first", headers=HEADERS).get_json()
    assert listed["total_count"] == 1, "the second worker replayed a list cached before the first one's write"


def test_associations_defaults_and_removals_cross_workers(workers: tuple[FlaskClient, FlaskClient]) -> None:
    first, second = workers
    code = _create(first, "shared-room")[1]["data"]["code"]
    added = second.post("/api_v3/users/1002/rooms", json={"code": code, "default": True}, headers=HEADERS)
    assert added.status_code == 200
    providers = {p["id"] for p in first.get(f"/api_v3/rooms/{code}/providers", headers=HEADERS).get_json()["data"]}
    assert "1002" in providers
    rooms = first.get("/api_v3/users/1002/rooms", headers=HEADERS)
    if rooms.status_code == 200:  # the user's rooms, when the contract has a read of them
        assert any(r["code"] == code and r["default"] for r in rooms.get_json()["data"])
    assert first.delete(f"/api_v3/users/1002/rooms/{code}", headers=HEADERS).status_code == 200
    providers = {p["id"] for p in second.get(f"/api_v3/rooms/{code}/providers", headers=HEADERS).get_json()["data"]}
    assert "1002" not in providers
    state = second.get("/__mock__/state").get_json()["data"]["accounts"][0]
    assert state["defaults"].get("1002") != code, "the removed default came back in the other worker"


def test_one_slug_created_concurrently_in_both_workers_succeeds_once(workers: tuple[FlaskClient, FlaskClient]) -> None:
    """40 creates of one slug, half through each worker at once: exactly one room, 39 documented refusals."""
    outcomes: list[int] = []
    start = threading.Barrier(40)

    def create(client: FlaskClient) -> None:
        start.wait()
        outcomes.append(_create(client, "contested")[0])

    threads = [threading.Thread(target=create, args=(workers[n % 2],)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [200] + [400] * 39
    for client in workers:
        assert client.get("/api_v3/rooms?slug=contested", headers=HEADERS).get_json()["total_count"] == 1


def test_codes_generated_by_both_workers_never_collide(workers: tuple[FlaskClient, FlaskClient]) -> None:
    """Same seed in both workers: codes derive from the shared next id, so the workers do not repeat each other."""
    codes = [_create(workers[n % 2], f"seeded-{n}")[1]["data"]["code"] for n in range(20)]
    assert len(set(codes)) == 20
    listed = workers[0].get("/api_v3/rooms", headers=HEADERS).get_json()["data"]
    assert {r["code"] for r in listed} >= set(codes)


def test_namespaces_reset_and_drop_are_seen_by_every_worker(workers: tuple[FlaskClient, FlaskClient]) -> None:
    first, second = workers
    team = {"X-Mock-Namespace": "team-a"}
    code = first.post(
        "/api_v3/rooms", json={"domain": DOMAIN, "slug": "team-room", "name": "t"}, headers={**HEADERS, **team}
    ).get_json()["data"]["code"]
    assert second.get(f"/api_v3/rooms/{code}", headers={**HEADERS, **team}).status_code == 200
    assert second.get(f"/api_v3/rooms/{code}", headers=HEADERS).status_code == 404, "leaked out of its namespace"
    assert "team-a" in second.get("/__mock__/namespaces").get_json()["data"]
    assert second.post("/__mock__/reset", headers=team).status_code == 200
    assert first.get(f"/api_v3/rooms/{code}", headers={**HEADERS, **team}).status_code == 404
    code = _create(first, "again")[1]["data"]["code"]  # the default namespace is untouched by team-a's reset
    assert second.delete("/__mock__/namespace", headers=team).get_json()["data"]["dropped"] is True
    assert "team-a" not in first.get("/__mock__/namespaces").get_json()["data"]
    assert second.get(f"/api_v3/rooms/{code}", headers=HEADERS).status_code == 200


def test_a_refused_write_changes_nothing_in_either_worker(workers: tuple[FlaskClient, FlaskClient]) -> None:
    first, second = workers
    before = second.get("/__mock__/state").get_json()
    assert _create(first, "ceproom1")[0] == 400  # a seeded slug
    assert first.post("/api_v3/users/999999/rooms", json={"code": "ceproom1"}, headers=HEADERS).status_code == 404
    assert second.get("/__mock__/state").get_json() == before
    assert first.get("/__mock__/state").get_json() == before


def test_a_state_file_keeps_every_namespace_across_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite3"
    client = create_app({"state_file": database}).test_client()
    team = {**HEADERS, "X-Mock-Namespace": "kept"}
    code = client.post(
        "/api_v3/rooms", json={"domain": DOMAIN, "slug": "kept-room", "name": "k"}, headers=team
    ).get_json()["data"]["code"]
    restarted = create_app({"state_file": database}).test_client()
    assert restarted.get(f"/api_v3/rooms/{code}", headers=team).status_code == 200


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"accounts": {}}', "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "not a usable database"),
    ],
)
def test_a_file_that_is_not_a_state_database_is_named(tmp_path: Path, content: bytes, problem: str) -> None:
    state = tmp_path / "state.sqlite3"
    state.write_bytes(content)
    with pytest.raises(StateFileError, match=problem):
        check_state_database(state)


def test_the_journal_lists_the_calls_of_every_worker(workers: tuple[FlaskClient, FlaskClient]) -> None:
    """Each worker's journal is the whole mock's: the console shows every call whichever worker answered it."""
    first, second = workers
    first.delete("/__mock__/requests")
    first.get("/api_v3/rooms/ceproom1", headers=HEADERS)
    second.get("/api_v3/rooms/nosuchroom", headers={**HEADERS, "X-Mock-Namespace": "journal-ns"})
    for client in workers:
        deadline = time.monotonic() + 5  # another worker's calls arrive within its flush interval (0.1 s)
        while len(listed := client.get("/__mock__/requests").get_json()["data"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(e["path"], e["status"]) for e in listed[:2]] == [
            ("/api_v3/rooms/nosuchroom", 404),
            ("/api_v3/rooms/ceproom1", 200),
        ]
        only = client.get("/__mock__/requests?namespace=journal-ns").get_json()["data"]
        assert [e["path"] for e in only] == ["/api_v3/rooms/nosuchroom"]
        opened = client.get(f"/__mock__/requests/{only[0]['id']}").get_json()["data"]
        assert opened["detail"]["response"]["status"] == 404
        assert opened["detail"]["request"]["headers"]["X-Apitoken"] == "[redacted]"


def test_the_database_refuses_a_duplicate_the_handler_let_through() -> None:
    """The uniqueness constraints are the last word: a handler that skips its own check (a bug, or a variant) gets
    the documented 400, and the refused write changed nothing."""

    def careless(call: Call) -> Reply:
        twin = {**copy.deepcopy(next(iter(call.account.rooms.values()))), "code": "twin1"}
        call.account.rooms["twin1"] = twin  # the seeded room's domain and slug again
        return 200, {"data": twin}

    client = create_app({"strict": False}, handlers={"createRoom": careless}).test_client()
    before = client.get("/__mock__/state").get_json()
    refused = client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": "x", "name": "x"}, headers=HEADERS)
    assert refused.status_code == 400 and "slug already exists" in refused.get_json()["message"]
    assert client.get("/__mock__/state").get_json() == before
    assert client.get("/api_v3/rooms/twin1", headers=HEADERS).status_code == 404
