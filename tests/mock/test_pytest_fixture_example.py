"""How another project's tests use the mock: ask for the `vsee_mock` fixture (installed with this package).

Each test gets the same live server in a namespace of its own (an isolated copy of the fixtures, selected by the
`X-Mock-Namespace` header in `vsee_mock.headers`), with its URL, account and token at hand, and can assert what it
sent through the request journal.
"""

from __future__ import annotations

import requests

from mock_server.pytest_plugin import LiveMock


def test_a_frontend_flow_against_the_live_mock(vsee_mock: LiveMock) -> None:
    created = requests.post(
        f"{vsee_mock.base_url}/rooms",
        headers=vsee_mock.headers,
        timeout=10,
        files={"domain": (None, "vclinic.vsee.me"), "slug": (None, "waiting-room"), "name": (None, "Waiting room")},
    )
    assert created.status_code == 200
    code = created.json()["data"]["code"]
    detail = requests.get(f"{vsee_mock.v4_base_url}/rooms/{code}", headers=vsee_mock.namespace_headers, timeout=10)
    assert detail.json()["data"]["slug"] == "waiting-room"
    sent = vsee_mock.requests(method="POST", path="/rooms")
    assert [(e["status"], e["valid"], e["token"]) for e in sent] == [(200, True, "[redacted]")]


def test_each_test_starts_from_the_fixtures(vsee_mock: LiveMock) -> None:
    rooms = requests.get(f"{vsee_mock.base_url}/rooms", headers=vsee_mock.namespace_headers, timeout=10).json()
    assert "waiting-room" not in {room["slug"] for room in rooms["data"]}
    assert vsee_mock.requests(method="POST") == []


def test_invalid_requests_are_journaled_with_the_reason(vsee_mock: LiveMock) -> None:
    reply = requests.get(
        f"{vsee_mock.base_url}/rooms", params={"limit": "lots"}, headers=vsee_mock.namespace_headers, timeout=10
    )
    assert reply.status_code == 400
    [entry] = vsee_mock.requests(status=400)
    assert entry["valid"] is False and "limit" in entry["problem"]
    assert vsee_mock.api_token not in repr(vsee_mock)
