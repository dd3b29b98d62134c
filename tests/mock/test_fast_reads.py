"""`mock_server.fast_reads`: a read replayed from the cache is always the answer the state would give now. A read
of one room stays a replay while that room is unchanged, whatever else a write changed; any change to the room
(here, or through another instance on PostgreSQL) ends it."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server import create_app, runtime

from helpers.mock_api import AUTH, DOMAIN, VCLINIC, until_leased
from helpers.postgres import Cluster

HEADERS = {**AUTH, "X-AccountCode": VCLINIC}
ROOM = "/api_v3/rooms/ceproom1"


def _read(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> tuple[dict[str, Any], bool]:
    """The room as read now, and whether the answer was a replay (the request log says so)."""
    caplog.clear()
    answer = client.get(ROOM, headers=HEADERS)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"], any("(replayed)" in r.getMessage() for r in caplog.records)


def _created(client: FlaskClient, slug: str) -> None:
    made = client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": slug, "name": slug}, headers=HEADERS)
    assert made.status_code == 200, made.get_json()


@pytest.mark.parametrize("database", ["memory", "postgresql"])
def test_a_room_read_stays_a_replay_until_that_room_changes(
    database: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="vsee_mock")
    state = {"state_url": request.getfixturevalue("postgres").new_database()} if database == "postgresql" else {}
    app = create_app(state)
    client = app.test_client()
    first, replayed = _read(client, caplog)  # the namespace made, then the answer kept
    assert not replayed and _read(client, caplog) == (first, False)
    assert _read(client, caplog) == (first, True)
    _created(client, "another-room")
    assert _read(client, caplog) == (first, True), "another room's create ended the replay of this one"
    assert client.get("/api_v3/rooms?limit=100", headers=HEADERS).get_json()["total_count"] > 0
    joined = client.post("/api_v3/users/1002/rooms", json={"code": "ceproom1"}, headers=HEADERS)
    assert joined.status_code == 200, joined.get_json()
    changed, replayed = _read(client, caplog)
    assert not replayed and "1002" in changed["provider_ids"] and "1002" not in first["provider_ids"]
    assert _read(client, caplog) == (changed, True)
    runtime(app).close()


def test_a_change_to_a_replayed_room_through_another_instance_is_read_at_once(
    postgres: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """Read-your-writes across instances: the room replayed by one instance changes through the other; the first
    one's next read (after the other's answer) shows the change."""
    caplog.set_level("INFO", logger="vsee_mock")
    url = postgres.new_database()
    apps = [create_app({"state_url": url}) for _ in range(2)]
    reader, writer = (app.test_client() for app in apps)
    first, _ = _read(reader, caplog)
    assert _read(reader, caplog) == (first, False) and _read(reader, caplog) == (first, True)
    until_leased(reader)  # its listener connected: no news, the replay holds
    assert _read(reader, caplog) == (first, True)
    _created(writer, "elsewhere")
    assert _read(reader, caplog) == (first, True)
    for _ in range(2):  # each change seen at once, each time
        joined = writer.post("/api_v3/users/1002/rooms", json={"code": "ceproom1"}, headers=HEADERS)
        assert joined.status_code == 200, joined.get_json()
        seen, replayed = _read(reader, caplog)
        assert not replayed and "1002" in seen["provider_ids"]
        left = writer.delete("/api_v3/users/1002/rooms/ceproom1", headers=HEADERS)
        assert left.status_code in (200, 204), left.get_json()
        seen, replayed = _read(reader, caplog)
        assert not replayed and seen["provider_ids"] == first["provider_ids"]
    for app in apps:
        runtime(app).close()
