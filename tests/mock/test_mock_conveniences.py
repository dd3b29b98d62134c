"""What frontend developers rely on besides the API itself: CORS, Prefer, fault injection and a safe request log."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server import MockConfig, create_app

from helpers.mock_api import AUTH, CONTRACT, TOKEN, WELL_TOKEN, assert_error, room_slugs

ORIGIN = "http://localhost:3000"
NEW_ROOM = {"domain": "vclinic.vsee.me", "slug": "prefer-201", "name": "Prefer 201"}


# ------------------------------------------------------------------ CORS


def _header_set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api_v3/rooms", "POST"), ("/api_v3/users/85741/rooms/b4vjj", "DELETE"), ("/api_v4/rooms/ceproom1", "GET")],
)
def test_cors_preflight_allows_the_apis_headers(client: FlaskClient, path: str, method: str) -> None:
    """A browser app on another origin must be allowed to send the account, token, Prefer and body headers."""
    resp = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "X-AccountCode, X-ApiToken, Prefer, Content-Type",
        },
    )
    assert 200 <= resp.status_code < 300
    assert resp.headers.get("Access-Control-Allow-Origin") == ORIGIN
    allowed = _header_set(resp.headers.get("Access-Control-Allow-Headers"))
    assert {"x-accountcode", "x-apitoken", "prefer", "content-type"} <= allowed, allowed
    assert method in {m.upper() for m in _header_set(resp.headers.get("Access-Control-Allow-Methods"))}


def test_cors_actual_response_exposes_preference_applied(client: FlaskClient) -> None:
    """The browser may only read Preference-Applied if it is exposed."""
    resp = client.get("/api_v3/rooms/ceproom1", headers={"Origin": ORIGIN, "Prefer": "code=404"})
    assert resp.headers.get("Access-Control-Allow-Origin") == ORIGIN
    assert "preference-applied" in _header_set(resp.headers.get("Access-Control-Expose-Headers"))


def test_cors_origins_can_be_restricted() -> None:
    """With an explicit origin list, other origins get no Allow-Origin header."""
    client = create_app(MockConfig(cors_origins=("http://allowed.example",))).test_client()
    preflight = {"Access-Control-Request-Method": "GET"}
    ok = client.options("/api_v3/rooms", headers={"Origin": "http://allowed.example", **preflight})
    assert ok.headers.get("Access-Control-Allow-Origin") == "http://allowed.example"
    other = client.options("/api_v3/rooms", headers={"Origin": "http://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers


# ------------------------------------------------------------------ Prefer


def test_prefer_code_404(client: FlaskClient) -> None:
    """`Prefer: code=404` forces the documented 404 on a room that exists."""
    resp = client.get("/api_v3/rooms/ceproom1", headers={"Prefer": "code=404"})
    assert_error(resp, 404)
    assert resp.headers.get("Preference-Applied") == "code=404"
    assert CONTRACT.judge("getRoom", 404, resp.content_type, resp.get_json(), {"code": "ceproom1"}, {}) == []


def test_prefer_example_docs_826(client: FlaskClient) -> None:
    """`Prefer: example=docs_826` answers the named documented example verbatim."""
    documented = CONTRACT.spec.examples("getRoomProvider")["docs_826"][1]
    resp = client.get("/api_v3/rooms/ceproom1/providers/826", headers={"Prefer": "example=docs_826"})
    assert resp.status_code == 200
    assert resp.get_json() == documented
    assert resp.headers.get("Preference-Applied") == "example=docs_826"


@pytest.mark.parametrize(
    ("query", "status", "applied"),
    [("__code=404", 404, "code=404"), ("__example=docs_826", 200, "example=docs_826"), ("__code=503", 503, "code=503")],
)
def test_query_fallbacks_for_prefer(client: FlaskClient, query: str, status: int, applied: str) -> None:
    """Where a header cannot be set (an <img> tag, a link), `__code` / `__example` do the same."""
    resp = client.get(f"/api_v3/rooms/ceproom1/providers/826?{query}")
    assert resp.status_code == status
    assert resp.headers.get("Preference-Applied") == applied
    if status >= 400:
        assert_error(resp, status)
    else:
        assert resp.get_json() == CONTRACT.spec.examples("getRoomProvider")["docs_826"][1]


def test_prefer_named_error_example(client: FlaskClient) -> None:
    """The documented duplicate-slug error can be asked for by name."""
    resp = client.post("/api_v3/rooms", json=NEW_ROOM, headers={**AUTH, "Prefer": "example=docs_slug_exists"})
    assert resp.status_code == 400
    assert resp.get_json() == {"code": 400, "message": "In domain 'vclinic.vsee.me' slug 'uat2' already exists."}


@pytest.mark.parametrize("prefer", ["example=no_such_example", "code=abc", "code=999", "code=201", "code=302"])
def test_bad_preference_is_an_error_in_the_shape(client: FlaskClient, prefer: str) -> None:
    """An unknown example or a status the operation does not declare is a 4xx error body, not a crash."""
    resp = client.get("/api_v3/rooms/ceproom1", headers={"Prefer": prefer})
    assert_error(resp)
    assert resp.status_code == 400 and "Preference-Applied" not in resp.headers, "a refused preference was applied"


def test_an_unknown_example_names_the_known_ones_and_changes_nothing(client: FlaskClient) -> None:
    resp = client.post("/api_v3/rooms", json=NEW_ROOM, headers={**AUTH, "Prefer": "example=nope"})
    assert resp.status_code == 400 and "Preference-Applied" not in resp.headers
    message = resp.get_json()["message"]
    assert "example='nope'" in message and "docs_slug_exists" in message, message
    assert NEW_ROOM["slug"] not in room_slugs(client)


def test_prefer_code_201_really_creates(client: FlaskClient) -> None:
    """`Prefer: code=201` on createRoom runs the real operation and labels it 201."""
    resp = client.post("/api_v3/rooms", json=NEW_ROOM, headers={**AUTH, "Prefer": "code=201"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.headers.get("Preference-Applied") == "code=201"
    room = resp.get_json()["data"]
    assert CONTRACT.judge("createRoom", 201, resp.content_type, resp.get_json(), {}, {}, NEW_ROOM) == []
    assert client.get(f"/api_v3/rooms/{room['code']}").get_json()["data"]["slug"] == "prefer-201"
    assert "prefer-201" in room_slugs(client)
    again = client.post("/api_v3/rooms", json=NEW_ROOM, headers={**AUTH, "Prefer": "code=201"})
    assert again.status_code == 400, "the real rules still apply under Prefer: code=201"


def test_no_prefer_no_preference_applied(client: FlaskClient) -> None:
    """Preference-Applied is only sent when a preference was honoured."""
    assert "Preference-Applied" not in client.get("/api_v3/rooms/ceproom1").headers


# ------------------------------------------------------------------ latency and error rate


def test_latency_delays_api_calls() -> None:
    """`latency=(0.05, 0.05)` makes each API call take at least 50 ms (only a lower bound: machines vary)."""
    client = create_app(MockConfig(latency=(0.05, 0.05))).test_client()
    for path in ("/api_v3/rooms", "/api_v3/rooms/ceproom1/queue"):
        started = time.perf_counter()
        resp = client.get(path)
        elapsed = time.perf_counter() - started
        assert resp.status_code == 200
        assert elapsed >= 0.05, f"{path} took {elapsed * 1000:.1f} ms"


def test_error_rate_one_fails_every_api_call_but_not_the_admin_routes() -> None:
    """error_rate=1.0: every API call is a 503 in the error shape; /__mock__ still works; nothing is written."""
    client = create_app({"error_rate": 1.0, "seed": 3}).test_client()
    before = client.get("/__mock__/state").get_json()
    calls = [
        ("GET", "/api_v3/rooms", None),
        ("GET", "/api_v4/rooms/ceproom1", None),
        ("GET", "/api_v3/rooms/ceproom1/queue", None),
        ("POST", "/api_v3/rooms", {"domain": "vclinic.vsee.me", "slug": "faulty", "name": "Faulty"}),
        ("POST", "/api_v3/users/1002/rooms", {"code": "ceproom1"}),
        ("DELETE", "/api_v3/users/401/rooms/ceproom1", None),
    ] * 3
    for method, path, body in calls:
        resp = client.open(path, method=method, json=body, headers=AUTH)
        assert resp.status_code == 503, (method, path, resp.status_code)
        assert resp.get_json()["code"] == 503 and isinstance(resp.get_json()["message"], str)
    assert client.get("/__mock__/state").get_json() == before
    assert client.post("/__mock__/reset").status_code == 200
    assert client.get("/__mock__/state").status_code == 200
    preflight = client.options("/api_v3/rooms", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code < 300, "CORS preflights are not API calls"


def test_error_rate_zero_never_fails(client: FlaskClient) -> None:
    """The default error_rate=0 injects nothing."""
    statuses = {client.get(path).status_code for path in ["/api_v3/rooms", "/api_v3/rooms/ceproom1"] * 25}
    assert statuses == {200}


# ------------------------------------------------------------------ request log


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "vsee_mock"]


def test_request_log_has_one_line_per_call_and_no_token(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    """Each call is one log line naming method and path; the admin token (a secret) never appears."""
    caplog.set_level(logging.INFO, logger="vsee_mock")
    caplog.clear()
    calls: list[tuple[str, str, dict[str, str], Any]] = [
        ("GET", "/api_v3/rooms?limit=2", {}, None),
        ("POST", "/api_v3/rooms", AUTH, {"domain": "vclinic.vsee.me", "slug": "logged", "name": "Logged"}),
        ("POST", "/api_v3/users/1002/rooms", AUTH, {"code": "ceproom1"}),
        ("DELETE", "/api_v3/users/1002/rooms/ceproom1", {**AUTH, "X-AccountCode": "vclinic"}, None),
        ("POST", "/api_v3/rooms", {"X-ApiToken": WELL_TOKEN}, {"domain": "d", "slug": "s", "name": "n"}),
        ("GET", "/api_v3/no-such-thing", AUTH, None),
        ("OPTIONS", "/api_v3/rooms", {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}, None),
    ]
    for method, path, headers, body in calls:
        client.open(path, method=method, headers=headers, json=body)
    lines = _log_lines(caplog)
    assert len(lines) == len(calls), lines
    for (method, path, _, _), line in zip(calls, lines, strict=True):
        assert f"{method} {path}" in line, line
        assert "\n" not in line
    assert TOKEN not in caplog.text and WELL_TOKEN not in caplog.text


def test_request_log_line_cannot_be_split_by_the_path(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    """A percent-encoded newline in the URL must not forge a second log line."""
    caplog.set_level(logging.INFO, logger="vsee_mock")
    caplog.clear()
    resp = client.get("/api_v3/rooms/abc%0D%0A127.0.0.1%20DELETE%20/api_v3/rooms%20200")
    assert_error(resp, 404)
    lines = _log_lines(caplog)
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0], repr(lines[0])


# ------------------------------------------------------------------ Prefer means the same on every write


def _rooms_with_slug(client: FlaskClient, slug: str) -> int:
    return int(client.get("/api_v3/rooms", query_string={"slug": slug}).get_json()["total_count"])


@pytest.mark.parametrize("prefer", ["code=200", "code=201", "example=docs_provider00102"])
def test_a_preferred_success_still_needs_the_token_and_a_valid_body(client: FlaskClient, prefer: str) -> None:
    """Neither a preferred success status nor a preferred example skips the checks a real call must pass."""
    room = {**NEW_ROOM, "slug": "prefer-checked"}
    assert_error(client.post("/api_v3/rooms", json=room, headers={"Prefer": prefer}), 401)
    assert_error(client.post("/api_v3/rooms", json={"slug": "x"}, headers={**AUTH, "Prefer": prefer}), 400)
    assert _rooms_with_slug(client, "prefer-checked") == 0


def test_a_preferred_success_status_really_writes(client: FlaskClient) -> None:
    room = {**NEW_ROOM, "slug": "prefer-200"}
    resp = client.post("/api_v3/rooms", json=room, headers={**AUTH, "Prefer": "code=200"})
    assert resp.status_code == 200 and resp.get_json()["data"]["slug"] == "prefer-200"
    assert _rooms_with_slug(client, "prefer-200") == 1


def test_a_preferred_example_is_served_after_the_checks_and_writes_nothing(client: FlaskClient) -> None:
    room = {**NEW_ROOM, "slug": "prefer-example"}
    resp = client.post("/api_v3/rooms", json=room, headers={**AUTH, "Prefer": "example=docs_provider00102"})
    assert resp.status_code == 200
    assert resp.get_json() == CONTRACT.spec.examples("createRoom")["docs_provider00102"][1]
    assert _rooms_with_slug(client, "prefer-example") == 0


def test_the_admin_prefix_answers_an_index_of_the_admin_api(client: FlaskClient) -> None:
    """`GET /__mock__` lists every admin route with its methods and what it does; each listed GET answers."""
    for prefix in ("/__mock__", "/__mock__/"):
        index = client.get(prefix)
        assert index.status_code == 200, index.get_json()
        routes = index.get_json()["data"]["routes"]
        listed = {(r["method"], r["path"]) for r in routes}
        expected = {("POST", "/__mock__/reset"), ("GET", "/__mock__/state"), ("GET", "/__mock__/requests")}
        assert expected | {("POST", "/__mock__/scenario"), ("DELETE", "/__mock__/namespace")} <= listed
        assert all(r["description"] for r in routes), routes
    for method, path in listed:
        if method == "GET" and "<" not in path:
            assert client.get(path).status_code == 200, path
