"""Namespaces: `X-Mock-Namespace` (or `?__namespace=`) selects an isolated copy of the seeded state, created on first
use; reset, state, scenario and the journal act per namespace; without it, the default namespace."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from helpers.mock_api import AUTH, DOMAIN, assert_error
from helpers.servers import mock_process


def _ns(name: str) -> dict[str, str]:
    return {"X-Mock-Namespace": name}


def _create(client: FlaskClient, slug: str, namespace: str | None = None) -> Any:
    headers = {**AUTH, **(_ns(namespace) if namespace else {})}
    resp = client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": slug, "name": slug}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["data"]


def _slugs(client: FlaskClient, namespace: str | None = None, query: str = "") -> set[str]:
    resp = client.get(f"/api_v3/rooms{query}", headers=_ns(namespace) if namespace else {})
    return {room["slug"] for room in resp.get_json()["data"]}


def test_a_namespace_sees_only_its_own_writes(client: FlaskClient) -> None:
    seeded = _slugs(client)  # the default namespace, cached by the read cache from here on
    room = _create(client, "only-in-a", "team-a")
    assert _slugs(client, "team-a") == seeded | {"only-in-a"}
    assert _slugs(client, "team-b") == seeded
    assert _slugs(client) == seeded
    assert client.get(f"/api_v3/rooms/{room['code']}", headers=_ns("team-a")).status_code == 200
    assert_error(client.get(f"/api_v3/rooms/{room['code']}", headers=_ns("team-b")), 404)
    assert _slugs(client, query="?__namespace=team-a") == seeded | {"only-in-a"}, "the query form for browsers"


def test_the_same_slug_may_exist_once_in_every_namespace(client: FlaskClient) -> None:
    for namespace in ("one", "two"):
        _create(client, "shared-slug", namespace)
    headers = {**AUTH, **_ns("one")}
    again = client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": "shared-slug", "name": "x"}, headers=headers)
    assert_error(again, 400)


def test_reset_state_and_scenario_act_on_the_named_namespace_only(client: FlaskClient) -> None:
    _create(client, "kept-in-default")
    _create(client, "reset-away", "scratch")
    assert client.post("/__mock__/reset", headers=_ns("scratch")).status_code == 200
    assert "reset-away" not in _slugs(client, "scratch")
    assert "kept-in-default" in _slugs(client)
    switched = client.post("/__mock__/scenario", json={"name": "empty"}, headers=_ns("scratch"))
    assert switched.get_json()["data"]["current"] == "empty"
    assert _slugs(client, "scratch") == set() and "kept-in-default" in _slugs(client)
    assert client.get("/__mock__/scenario").get_json()["data"]["current"] == "default"
    state = client.get("/__mock__/state", headers=_ns("scratch")).get_json()["data"]
    assert all(account["rooms"] == [] for account in state["accounts"])
    assert "scratch" in client.get("/__mock__/namespaces").get_json()["data"]


def test_a_dropped_namespace_comes_back_fresh_and_never_from_the_read_cache(client: FlaskClient) -> None:
    _create(client, "gone-soon", "temporary")
    assert "gone-soon" in _slugs(client, "temporary")  # cached now
    dropped = client.delete("/__mock__/namespace", headers=_ns("temporary")).get_json()["data"]
    assert dropped == {"namespace": "temporary", "dropped": True}
    assert "temporary" not in client.get("/__mock__/namespaces").get_json()["data"]
    assert "gone-soon" not in _slugs(client, "temporary")


def test_the_journal_shows_and_filters_by_namespace(client: FlaskClient) -> None:
    client.get("/api_v3/rooms", headers=_ns("journal-a"))
    client.get("/api_v3/rooms?limit=1", headers=_ns("journal-b"))
    entries = client.get("/__mock__/requests?namespace=journal-b").get_json()["data"]
    assert [(e["namespace"], e["query"]) for e in entries] == [("journal-b", "limit=1")]


@pytest.mark.parametrize("name", ["has space", "x" * 129, "ünïcode", "semi;colon"])
def test_a_bad_namespace_name_is_a_400_in_the_error_shape(client: FlaskClient, name: str) -> None:
    encoded = name.encode().decode("latin-1")  # how WSGI hands a header over
    assert_error(client.get("/api_v3/rooms", headers={"X-Mock-Namespace": encoded}), 400)
    assert_error(client.post("/__mock__/reset", headers={"X-Mock-Namespace": encoded}), 400)


def test_parallel_clients_in_their_own_namespaces_over_http_do_not_see_each_other() -> None:
    """Eight clients at once against one served mock, each creating the same slug in its own namespace."""
    with mock_process("--quiet", "--no-watch") as mock:
        results: dict[int, tuple[int, set[str]]] = {}

        def client(n: int) -> None:
            headers = {**AUTH, "X-Mock-Namespace": f"worker-{n}"}
            body = {"domain": DOMAIN, "slug": "race", "name": f"worker {n}"}
            created = requests.post(f"{mock.api_v3}/rooms", json=body, headers=headers, timeout=10)
            listed = requests.get(f"{mock.api_v3}/rooms", headers=headers, timeout=10).json()["data"]
            results[n] = (created.status_code, {room["name"] for room in listed if room["slug"] == "race"})

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        default = requests.get(f"{mock.api_v3}/rooms", timeout=10).json()["data"]
    assert results == {n: (200, {f"worker {n}"}) for n in range(8)}
    assert "race" not in {room["slug"] for room in default}
