"""CORS as a browser app on another origin needs it, on the mock and on the validation proxy (`vsee_http.cors`):
credentialed calls get their origin echoed (never `*`) with `Allow-Credentials`, a preflight is an empty 204 that
allows the contract's headers and whatever the browser asks for, advertises the methods routed at its path, and is
refused (no `Access-Control-*` header, the reason in the error shape) when the call would fail.

The browser's side of it is in test_console_browser.py (a real chromium doing credentialed `fetch`es)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mock_server import MockConfig, create_app
from vsee_http import flask_rule
from vsee_proxy import ProxyConfig, create_proxy_app

from helpers.mock_api import AUTH, CONTRACT, DOMAIN, VCLINIC, assert_error

ORIGIN = "http://localhost:5173"
ALLOWED, OTHER = "https://app.example", "https://evil.example"
CONTRACT_HEADERS = {"x-accountcode", "x-apitoken", "prefer", "content-type"}


def _set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def _cors_headers(resp: TestResponse) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


def preflight(client: FlaskClient, path: str, method: str, origin: str = ORIGIN, headers: str = "") -> TestResponse:
    asked = {"Access-Control-Request-Headers": headers} if headers else {}
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method, **asked})


def _assert_accepted(resp: TestResponse, origin: str = ORIGIN) -> None:
    assert resp.status_code == 204, (resp.status_code, resp.data[:200])
    assert resp.headers.get("Access-Control-Allow-Origin") == origin
    assert resp.headers.get("Access-Control-Allow-Credentials") == "true"
    assert resp.headers.get("Access-Control-Max-Age") == "600"
    assert "origin" in _set(resp.headers.get("Vary"))


def _assert_refused(resp: TestResponse, status: int) -> str:
    """The refusal's message."""
    message = str(assert_error(resp, status)["message"])
    assert _cors_headers(resp) == {}, "a refused preflight must not allow anything"
    assert "origin" in _set(resp.headers.get("Vary"))
    return message


@pytest.fixture(scope="module")
def restricted() -> FlaskClient:
    return create_app(MockConfig(cors_origins=(ALLOWED,))).test_client()


@pytest.fixture(scope="module")
def proxy() -> FlaskClient:
    """The proxy in front of a closed port: preflights and CORS headers need no upstream."""
    return create_proxy_app(ProxyConfig("http://127.0.0.1:9/api_v3")).test_client()


# ------------------------------------------------------------------ credentials and the echoed origin


def test_a_credentialed_call_gets_its_origin_echoed_with_credentials_allowed(client: FlaskClient) -> None:
    """Any origin is allowed by default, echoed rather than `*` (which credentialed fetches refuse)."""
    for resp in (
        client.get("/api_v3/rooms", headers={"Origin": ORIGIN, "X-AccountCode": VCLINIC}),
        client.post(
            "/api_v3/rooms",
            headers={"Origin": ORIGIN, **AUTH},
            json={"domain": DOMAIN, "slug": "cors-room", "name": "CORS room"},
        ),
        client.get("/api_v3/rooms/no-such-room", headers={"Origin": ORIGIN}),  # errors are readable by the page too
        client.get("/api_v3/no-such-path", headers={"Origin": ORIGIN}),
        client.get("/__mock__/state", headers={"Origin": ORIGIN}),
    ):
        assert resp.headers.get("Access-Control-Allow-Origin") == ORIGIN, (resp.request.path, resp.headers)
        assert resp.headers.get("Access-Control-Allow-Credentials") == "true"
        assert "origin" in _set(resp.headers.get("Vary"))


def test_a_call_without_origin_gets_no_cors_header_but_varies_on_origin(client: FlaskClient) -> None:
    """curl and test clients are not browsers; a cache still must not serve this answer to a browser."""
    resp = client.get("/api_v3/rooms")
    assert resp.status_code == 200 and _cors_headers(resp) == {}
    assert "origin" in _set(resp.headers.get("Vary"))
    assert len(resp.headers.getlist("Vary")) == 1


def test_restricted_origins_allow_only_those(restricted: FlaskClient) -> None:
    """With `--cors-origin`, a listed origin is echoed with credentials; another gets nothing it could use."""
    ok = restricted.get("/api_v3/rooms", headers={"Origin": ALLOWED})
    assert ok.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert ok.headers.get("Access-Control-Allow-Credentials") == "true"
    _assert_accepted(preflight(restricted, "/api_v3/rooms", "POST", ALLOWED), ALLOWED)

    other = restricted.get("/api_v3/rooms", headers={"Origin": OTHER})
    assert other.status_code == 200 and _cors_headers(other) == {}
    assert "origin" in _set(other.headers.get("Vary"))
    message = _assert_refused(preflight(restricted, "/api_v3/rooms", "POST", OTHER, "X-ApiToken"), 403)
    assert OTHER in message and ALLOWED in message


def test_origin_matching_ignores_case_of_the_host(restricted: FlaskClient) -> None:
    """Scheme and host are case-insensitive; the caller's spelling is what comes back."""
    resp = restricted.get("/api_v3/rooms", headers={"Origin": ALLOWED.upper()})
    assert resp.headers.get("Access-Control-Allow-Origin") == ALLOWED.upper()


# ------------------------------------------------------------------ the preflight


def test_preflight_is_an_empty_204_without_content_type(client: FlaskClient) -> None:
    resp = preflight(client, "/api_v3/rooms", "POST", headers="Content-Type, X-ApiToken")
    _assert_accepted(resp)
    assert resp.data == b""
    assert "Content-Type" not in resp.headers
    assert resp.headers.get("Content-Length") in (None, "0")
    assert "Access-Control-Expose-Headers" not in resp.headers  # meaningless on a preflight


def test_preflight_echoes_the_requested_headers_besides_the_contracts(client: FlaskClient) -> None:
    """As Prism does: whatever the app sends (an Authorization, a tracing id) is allowed, once each."""
    asked = "authorization, x-request-id, X-AccountCode, traceparent"
    resp = preflight(client, "/api_v3/rooms/ceproom1", "GET", headers=asked)
    _assert_accepted(resp)
    allowed = resp.headers["Access-Control-Allow-Headers"]
    assert {"authorization", "x-request-id", "traceparent"} | CONTRACT_HEADERS <= _set(allowed)
    names = [h.strip().lower() for h in allowed.split(",")]
    assert len(names) == len(set(names)), allowed
    vary = _set(resp.headers.get("Vary"))
    assert {"origin", "access-control-request-method", "access-control-request-headers"} <= vary


def test_preflight_without_requested_headers_still_allows_the_contracts(client: FlaskClient) -> None:
    resp = preflight(client, "/api_v3/rooms", "GET")
    _assert_accepted(resp)
    assert _set(resp.headers.get("Access-Control-Allow-Headers")) >= CONTRACT_HEADERS


def test_preflight_ignores_requested_names_that_are_not_header_names(client: FlaskClient) -> None:
    resp = preflight(client, "/api_v3/rooms", "GET", headers="x-fine, not a header, x-also:bad")
    _assert_accepted(resp)
    allowed = _set(resp.headers.get("Access-Control-Allow-Headers"))
    assert "x-fine" in allowed and not any(" " in h or ":" in h for h in allowed), allowed


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api_v3/rooms", {"GET", "POST"}),
        ("/api_v3/rooms/ceproom1", {"GET"}),
        ("/api_v4/rooms/ceproom1", {"GET"}),
        ("/api_v3/rooms/ceproom1/queue", {"GET"}),
        ("/api_v3/users/85741/rooms", {"POST"}),
        ("/api_v3/users/85741/rooms/b4vjj", {"DELETE"}),
        ("/__mock__/reset", {"POST"}),
        ("/__mock__/requests", {"GET", "DELETE"}),
    ],
)
def test_preflight_advertises_the_methods_of_its_path(client: FlaskClient, path: str, methods: set[str]) -> None:
    for method in methods:
        resp = preflight(client, path, method)
        _assert_accepted(resp)
        assert _set(resp.headers["Access-Control-Allow-Methods"]) == {m.lower() for m in methods | {"OPTIONS"}}


def test_every_contract_path_advertises_exactly_its_declared_methods(client: FlaskClient) -> None:
    declared: dict[str, set[str]] = defaultdict(set)
    for op in CONTRACT.spec.operations.values():
        for base in op.local_base_paths():
            declared[flask_rule(base, op.path).replace("<", "").replace(">", "")].add(op.method)
    assert len(declared) >= 8
    for path, methods in declared.items():
        resp = preflight(client, path, sorted(methods)[0])
        _assert_accepted(resp)
        assert _set(resp.headers["Access-Control-Allow-Methods"]) == {m.lower() for m in methods | {"OPTIONS"}}, path


@pytest.mark.parametrize(("path", "method"), [("/api_v3/rooms", "PUT"), ("/api_v3/rooms/ceproom1", "DELETE")])
def test_preflight_for_a_method_not_routed_there_is_refused(client: FlaskClient, path: str, method: str) -> None:
    """The browser blocks the call; the network tab shows a 405 naming the methods there are."""
    resp = preflight(client, path, method, headers="X-ApiToken")
    assert method in _assert_refused(resp, 405)
    assert "get" in _set(resp.headers.get("Allow"))


def test_preflight_for_an_unknown_path_is_refused(client: FlaskClient) -> None:
    _assert_refused(preflight(client, "/api_v3/no-such-thing", "GET", headers="X-ApiToken"), 404)
    _assert_refused(preflight(client, "/nowhere", "POST"), 404)


def test_head_needs_no_advertising_but_is_accepted_where_get_is(client: FlaskClient) -> None:
    """HEAD is a CORS-safelisted method: allowed wherever GET is, without being listed."""
    resp = preflight(client, "/api_v3/rooms/ceproom1", "HEAD", headers="X-Request-Id")
    _assert_accepted(resp)
    assert "head" not in _set(resp.headers["Access-Control-Allow-Methods"])


def test_a_refusal_quotes_the_callers_values_cut_and_escaped(client: FlaskClient) -> None:
    message = _assert_refused(preflight(client, "/api_v3/rooms", "X" * 500), 405)
    assert len(message) < 300, message
    message = _assert_refused(preflight(client, "/api_v3/%01" + "y" * 500, "GET"), 404)
    assert "\x01" not in message and r"/api_v3/\x01yyy" in message and len(message) < 300, message


def test_preflights_are_not_journaled(client: FlaskClient) -> None:
    client.delete("/__mock__/requests")
    preflight(client, "/api_v3/rooms", "POST")
    preflight(client, "/api_v3/rooms", "PUT")
    assert client.get("/__mock__/requests").get_json()["data"] == []


def test_a_plain_options_request_is_not_a_preflight(client: FlaskClient) -> None:
    """Without Access-Control-Request-Method it is an ordinary OPTIONS: the Allow list, no allow-methods."""
    resp = client.options("/api_v3/rooms", headers={"Origin": ORIGIN})
    assert resp.status_code == 200
    assert {"GET", "POST"} <= {m.strip() for m in resp.headers["Allow"].split(",")}
    assert "Access-Control-Allow-Methods" not in resp.headers


# ------------------------------------------------------------------ exposed headers


def test_the_mock_exposes_preference_applied(client: FlaskClient) -> None:
    resp = client.get("/api_v3/rooms/ceproom1", headers={"Origin": ORIGIN, "Prefer": "code=404"})
    assert resp.headers.get("Preference-Applied")
    assert "preference-applied" in _set(resp.headers.get("Access-Control-Expose-Headers"))


# ------------------------------------------------------------------ the proxy


def test_the_proxy_echoes_the_origin_and_exposes_its_violations_header(proxy: FlaskClient) -> None:
    """Even its own 502 (the upstream is down) is readable by the page."""
    resp = proxy.get("/api_v3/rooms", headers={"Origin": ORIGIN})
    assert resp.status_code == 502
    assert resp.headers.get("Access-Control-Allow-Origin") == ORIGIN
    assert resp.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "x-contract-violations" in _set(resp.headers.get("Access-Control-Expose-Headers"))
    assert "origin" in _set(resp.headers.get("Vary"))


def test_the_proxy_answers_preflights_itself(proxy: FlaskClient) -> None:
    resp = preflight(proxy, "/api_v3/users/85741/rooms/b4vjj", "DELETE", headers="Authorization, X-Request-Id")
    _assert_accepted(resp)
    assert resp.data == b"" and "Content-Type" not in resp.headers
    assert {"authorization", "x-request-id"} | CONTRACT_HEADERS <= _set(resp.headers["Access-Control-Allow-Headers"])


def test_the_proxy_advertises_what_it_forwards(proxy: FlaskClient) -> None:
    """The proxy forwards (and counts) what the contract does not describe, so its preflights allow it: a browser
    app's undocumented call reaches the upstream and shows up as undocumented, instead of dying in the browser."""
    declared = preflight(proxy, "/api_v3/rooms", "POST")
    _assert_accepted(declared)
    forwarded = {"get", "post", "put", "patch", "delete", "options"}
    assert _set(declared.headers["Access-Control-Allow-Methods"]) == forwarded
    _assert_accepted(preflight(proxy, "/api_v3/undocumented/thing", "PUT"))
    _assert_refused(preflight(proxy, "/elsewhere", "GET"), 404)  # outside the API: nothing is forwarded


def test_the_proxy_honours_restricted_origins() -> None:
    proxy = create_proxy_app(ProxyConfig("http://127.0.0.1:9/api_v3", cors_origins=(ALLOWED,))).test_client()
    _assert_accepted(preflight(proxy, "/api_v3/rooms", "POST", ALLOWED), ALLOWED)
    _assert_refused(preflight(proxy, "/api_v3/rooms", "POST", OTHER), 403)
    assert _cors_headers(proxy.get("/__mock__/violations", headers={"Origin": OTHER})) == {}
