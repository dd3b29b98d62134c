"""Scenarios: named fixture variations, each valid against the contract, chosen at start or switched live."""

from __future__ import annotations

import pytest
import requests
from flask.testing import FlaskClient

from mock_server import FixtureError, create_app
from mock_server.fixtures import load_fixtures
from mock_server.pytest_plugin import LiveMock
from mock_server.scenarios import SCENARIOS

from helpers.mock_api import AUTH, CONTRACT

REQUIRED = {"default", "empty", "closed", "busy", "legacy"}


def test_the_required_scenarios_exist_and_each_validates_against_the_spec() -> None:
    assert set(SCENARIOS) >= REQUIRED
    for scenario in SCENARIOS.values():
        accounts = load_fixtures(None, CONTRACT.spec, scenario)  # raises FixtureError naming file and field
        assert len(accounts) >= 2


def _rooms(client: FlaskClient) -> list[dict]:  # type: ignore[type-arg]
    return [
        client.get(f"/api_v3/rooms/{r['code']}").get_json()["data"]
        for r in client.get("/api_v3/rooms").get_json()["data"]
    ]


def _switch(client: FlaskClient, name: str) -> None:
    reply = client.post("/__mock__/scenario", json={"name": name})
    assert reply.status_code == 200 and reply.get_json()["data"]["current"] == name


def test_empty_has_no_rooms(client: FlaskClient) -> None:
    _switch(client, "empty")
    assert client.get("/api_v3/rooms").get_json()["data"] == []
    assert client.get("/api_v3/rooms/b4vjj").status_code == 404


def test_closed_closes_every_room_with_its_message(client: FlaskClient) -> None:
    _switch(client, "closed")
    rooms = _rooms(client)
    assert rooms and all(r["operation_settings"]["is_closed"] and r["operation_settings"]["close_msg"] for r in rooms)


def test_busy_fills_every_queue_to_one_short_of_capacity(client: FlaskClient) -> None:
    _switch(client, "busy")
    for room in client.get("/api_v3/rooms").get_json()["data"]:
        queue = client.get(f"/api_v3/rooms/{room['code']}/queue").get_json()["data"]
        assert queue["length"] == max(queue["capacity"] - 1, 0) and queue["before_me"] <= queue["length"]


def test_legacy_rooms_have_the_old_shape_and_still_serve_every_operation(client: FlaskClient) -> None:
    _switch(client, "legacy")
    rooms = _rooms(client)
    assert rooms and all("specialties" in r and "paymentCurrency" in r["payment"] and "visits" not in r for r in rooms)
    assert all("id" not in c for r in rooms for c in r["payment"]["consultations"])
    code = rooms[0]["code"]
    # strict mode is on: these answers were judged against the contract before being sent
    assert client.post("/api_v3/users/401/rooms", headers=AUTH, json={"code": code}).status_code == 200
    assert client.get(f"/api_v3/rooms/{code}/providers").status_code == 200


def test_switching_resets_state_and_unknown_names_are_refused(client: FlaskClient) -> None:
    assert client.get("/__mock__/scenario").get_json()["data"]["current"] == "default"
    client.post("/api_v3/rooms", headers=AUTH, json={"domain": "vclinic.vsee.me", "slug": "gone", "name": "x"})
    _switch(client, "closed")
    assert "gone" not in {r["slug"] for r in client.get("/api_v3/rooms").get_json()["data"]}
    refused = client.post("/__mock__/scenario?name=nope")
    assert refused.status_code == 404 and refused.get_json()["code"] == 404
    _switch(client, "default")


def test_a_scenario_can_be_chosen_at_start_and_an_unknown_one_is_refused() -> None:
    assert create_app({"scenario": "empty"}).test_client().get("/api_v3/rooms").get_json()["data"] == []
    with pytest.raises(FixtureError, match="unknown scenario"):
        create_app({"scenario": "nope"})


def test_the_pytest_fixture_can_switch_scenarios_and_resets_to_default(vsee_mock: LiveMock) -> None:
    vsee_mock.use_scenario("empty")
    mine = vsee_mock.namespace_headers
    assert requests.get(f"{vsee_mock.base_url}/rooms", headers=mine, timeout=10).json()["data"] == []
    assert requests.get(f"{vsee_mock.base_url}/rooms", timeout=10).json()["data"] != [], "other namespaces unchanged"
    vsee_mock.reset()
    assert requests.get(f"{vsee_mock.base_url}/rooms", headers=mine, timeout=10).json()["data"] != []
