"""Routing (`vsee_http`, through the mock): every route comes from the spec, and whatever a client sends, errors keep
the VSee shape.

Malformed input must be a 4xx in the `{"code", "message"}` shape, never a 5xx and never an HTML page, because
frontends and the contract suite both read error bodies as JSON.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from vsee_contract import load_spec

from helpers.mock_api import AUTH, ROOT, assert_error, room_slugs

SPEC = load_spec(ROOT / "openapi.yaml")
ONE_MB = 1024 * 1024

# A concrete URL (under the base) for every operation of the contract; the test below insists it covers them all.
SAMPLE_VALUES = {"code": "ceproom1", "id": "826", "room_code": "b4vjj"}  # a room, one of its providers, a room
SAMPLE_PATHS = {
    op.operation_id: re.sub(r"\{(\w+)\}", lambda m: SAMPLE_VALUES.get(m[1], m[0]), op.path)
    for op in SPEC.operations.values()
}


def flask_style(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", r"<\1>", template)


# ------------------------------------------------------------------ routes come from the spec


def test_every_operation_has_a_sample_path() -> None:
    """Guards the tests below: a new operation's path parameters need sample values too."""
    assert [path for path in SAMPLE_PATHS.values() if "{" in path] == [], "add them to SAMPLE_VALUES"


def test_url_map_holds_every_operation_on_api_v3_and_only_get_room_on_api_v4(app: Flask) -> None:
    """The routes are the spec's paths under the 127.0.0.1 servers' bases; v4 exists for GET /rooms/{code} only."""
    rules: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.rule, set()).update(rule.methods or ())
    for operation in SPEC.operations.values():
        v3 = "/api_v3" + flask_style(operation.path)
        assert operation.method in rules.get(v3, set()), f"{operation.operation_id} not on {v3}"
    v4 = {path: methods - {"HEAD", "OPTIONS"} for path, methods in rules.items() if path.startswith("/api_v4")}
    assert v4 == {"/api_v4/rooms/<code>": {"GET"}}


@pytest.mark.parametrize("operation_id", sorted(SAMPLE_PATHS))
def test_every_operation_answers_on_its_api_v3_path(client: FlaskClient, operation_id: str) -> None:
    """Routed means the pipeline runs: public reads answer 200, writes without a token answer 401 (not 404/405)."""
    operation = SPEC.operations[operation_id]
    resp = client.open("/api_v3" + SAMPLE_PATHS[operation_id], method=operation.method)
    if operation.needs_token:
        assert_error(resp, 401)
    else:
        assert resp.status_code == 200, resp.get_json()
        assert "data" in resp.get_json()


def test_get_room_answers_on_api_v4_with_the_v3_body(client: FlaskClient) -> None:
    """ "This API is available in both api v3 and v4": the same room on both bases."""
    v3 = client.get("/api_v3/rooms/ceproom1")
    v4 = client.get("/api_v4/rooms/ceproom1")
    assert v3.status_code == v4.status_code == 200
    assert v4.get_json() == v3.get_json()
    assert v4.get_json()["data"]["code"] == "ceproom1"


@pytest.mark.parametrize("operation_id", sorted(set(SAMPLE_PATHS) - {"getRoom"}))
def test_other_operations_are_not_on_api_v4(client: FlaskClient, operation_id: str) -> None:
    """Only getRoom is documented for v4; the rest must be a JSON 404 there."""
    operation = SPEC.operations[operation_id]
    resp = client.open("/api_v4" + SAMPLE_PATHS[operation_id], method=operation.method, headers=AUTH)
    assert_error(resp, 404)


# ------------------------------------------------------------------ unknown paths and methods


@pytest.mark.parametrize(
    "path",
    ["/nope", "/console", "/api_v3", "/api_v3/nope", "/api_v2/rooms", "/api_v4/rooms", "/api_v3/rooms/ceproom1/nope"],
)
def test_unknown_path_is_a_json_404(client: FlaskClient, path: str) -> None:
    """Flask's default HTML 404 page would break clients that parse every error body."""
    body = assert_error(client.get(path), 404)
    assert path.rstrip("/") in body["message"] or path == "/"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api_v3/rooms", {"GET", "POST"}),
        ("PATCH", "/api_v3/rooms", {"GET", "POST"}),
        ("DELETE", "/api_v3/rooms/ceproom1", {"GET"}),
        ("POST", "/api_v4/rooms/ceproom1", {"GET"}),
        ("PUT", "/api_v3/users/85741/rooms", {"POST"}),
        ("GET", "/api_v3/users/85741/rooms/b4vjj", {"DELETE"}),
        ("POST", "/api_v3/rooms/ceproom1/queue", {"GET"}),
    ],
)
def test_wrong_method_is_a_json_405_keeping_allow(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    """The error body is JSON, and the Allow header still tells the client what would work."""
    resp = client.open(path, method=method, headers=AUTH)
    assert_error(resp, 405)
    allow = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= allow, allow
    assert method not in allow


# ------------------------------------------------------------------ oversized and malformed bodies


def _too_big_fields() -> dict[str, str]:
    return {"domain": "vclinic.vsee.me", "slug": "too-big", "name": "x" * (ONE_MB + 10)}


@pytest.mark.parametrize("encoding", ["json", "form", "multipart"])
def test_body_over_one_megabyte_is_413(client: FlaskClient, encoding: str) -> None:
    """Bodies are capped at 1 MB; the refusal is the error shape and nothing is created."""
    fields = _too_big_fields()
    if encoding == "json":
        resp = client.post("/api_v3/rooms", data=json.dumps(fields), content_type="application/json", headers=AUTH)
    elif encoding == "form":
        resp = client.post("/api_v3/rooms", data=fields, content_type="application/x-www-form-urlencoded", headers=AUTH)
    else:
        resp = client.post("/api_v3/rooms", data=fields, content_type="multipart/form-data", headers=AUTH)
    assert_error(resp, 413)
    assert "too-big" not in room_slugs(client)


def test_body_over_one_megabyte_on_add_user_room_is_413(client: FlaskClient) -> None:
    """The cap is app-wide, not only on POST /rooms."""
    body = json.dumps({"code": "c" * (ONE_MB + 10)})
    resp = client.post("/api_v3/users/85741/rooms", data=body, content_type="application/json", headers=AUTH)
    assert_error(resp, 413)


MALFORMED: list[tuple[str, str, bytes]] = [
    ("multipart without boundary", "multipart/form-data", b"domain=vclinic.vsee.me&slug=bad-1&name=n"),
    (
        "multipart truncated",
        "multipart/form-data; boundary=XyZ",
        b'--XyZ\r\nContent-Disposition: form-data; name="domain"\r\n\r\nvclinic.vsee.me\r\n--XyZ\r\nContent-Disp',
    ),
    (
        "multipart part without name",
        "multipart/form-data; boundary=XyZ",
        b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nbad-2\r\n--XyZ--\r\n",
    ),
    (
        "multipart file part without name",
        "multipart/form-data; boundary=XyZ",
        b'--XyZ\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nbad-2b\r\n--XyZ--\r\n',
    ),
    ("multipart garbage", "multipart/form-data; boundary=XyZ", b"\x00\xff\xfe not multipart at all"),
    ("json invalid utf-8", "application/json", b'{"domain": "\xff\xfe", "slug": "bad-3", "name": "n"}'),
    ("json latin-1 encoded", "application/json", b'{"domain": "v", "slug": "bad-4", "name": "caf\xe9"}'),
    ("json invalid", "application/json", b'{"domain": "vclinic.vsee.me", "slug": '),
    ("json trailing garbage", "application/json", b'{"domain": "v", "slug": "bad-5", "name": "n"} x'),
    ("json array", "application/json", b'[{"domain": "v", "slug": "bad-6", "name": "n"}]'),
    ("json string", "application/json", b'"domain=v&slug=bad-7&name=n"'),
    ("json number", "application/json", b"42"),
    ("json null", "application/json", b"null"),
    ("json NaN", "application/json", b"NaN"),
    ("json deeply nested", "application/json", b"[" * 100_000),
    ("json deeply nested object", "application/json", b'{"a":' * 50_000),
]
# Well-encoded bodies whose fields break CreateRoomRequest.
BAD_CREATE_FIELDS: list[tuple[str, str, bytes]] = [
    ("json unknown field", "application/json", b'{"domain": "v", "slug": "bad-8", "name": "n", "colour": "red"}'),
    ("json default not boolean", "application/json", b'{"domain": "v", "slug": "bad-9", "name": "n", "default": 1}'),
    ("json empty strings", "application/json", b'{"domain": "", "slug": "", "name": ""}'),
    ("form default not boolean", "application/x-www-form-urlencoded", b"domain=v&slug=bad-10&name=n&default=maybe"),
    ("form missing name", "application/x-www-form-urlencoded", b"domain=v&slug=bad-11"),
]


@pytest.mark.parametrize(
    ("label", "content_type", "body"), MALFORMED + BAD_CREATE_FIELDS, ids=[m[0] for m in MALFORMED + BAD_CREATE_FIELDS]
)
def test_malformed_create_room_body_is_4xx_error_shape(
    client: FlaskClient, label: str, content_type: str, body: bytes
) -> None:
    """Whatever the bytes, a bad body is the caller's fault: 4xx in the error shape, never 5xx, nothing created."""
    before = room_slugs(client)
    resp = client.post("/api_v3/rooms", data=body, content_type=content_type, headers=AUTH)
    assert resp.status_code < 500, (label, resp.status_code, resp.data[:200])
    assert_error(resp)
    assert room_slugs(client) == before


@pytest.mark.parametrize(("label", "content_type", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_add_user_room_body_is_4xx_error_shape(
    client: FlaskClient, label: str, content_type: str, body: bytes
) -> None:
    """The same holds for the other write with a body."""
    resp = client.post("/api_v3/users/85741/rooms", data=body, content_type=content_type, headers=AUTH)
    assert resp.status_code < 500, (label, resp.status_code, resp.data[:200])
    assert_error(resp)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/octet-stream", "image/png", None]
)
@pytest.mark.parametrize("path", ["/api_v3/rooms", "/api_v3/users/85741/rooms"])
def test_unknown_content_type_is_415(client: FlaskClient, path: str, content_type: str | None) -> None:
    """Only the three documented encodings are accepted; anything else is 415 in the error shape."""
    headers = dict(AUTH)
    if content_type is None:
        resp = client.post(path, data=b"domain=v&slug=s&name=n", headers=headers)  # no Content-Type at all
    else:
        resp = client.post(path, data=b"domain=v&slug=s&name=n", content_type=content_type, headers=headers)
    assert_error(resp, 415)


def test_empty_body_on_a_write_is_400(client: FlaskClient) -> None:
    """The request body of POST /rooms is required."""
    assert_error(client.post("/api_v3/rooms", content_type="application/json", headers=AUTH), 400)
    assert_error(client.post("/api_v3/rooms", headers=AUTH), 400)


# ------------------------------------------------------------------ huge query strings

HUGE = 100_000
HUGE_QUERIES: list[tuple[str, str]] = [
    ("huge integer limit", "limit=" + "9" * HUGE),
    ("huge non-integer page", "page=" + "x" * HUGE),
    ("huge negative start", "start=-" + "1" * HUGE),
    ("huge sort without direction", "sort=" + "a" * HUGE),
    ("huge fields list with trailing comma", "fields=" + "id," * (HUGE // 3)),
    ("huge __code", "__code=" + "4" * HUGE),
    ("huge Prefer example name", "__example=" + "e" * HUGE),
    ("twenty thousand params then a bad limit", "&".join(f"p{i}=v" for i in range(20_000)) + "&limit=101"),
]


@pytest.mark.parametrize(("label", "query"), HUGE_QUERIES, ids=[q[0] for q in HUGE_QUERIES])
def test_huge_invalid_query_string_is_4xx_error_shape(client: FlaskClient, label: str, query: str) -> None:
    """A huge, invalid query is refused as the caller's fault, not echoed into a crash."""
    resp = client.get("/api_v3/rooms?" + query)
    assert resp.status_code < 500, (label, resp.status_code)
    assert_error(resp)


@pytest.mark.parametrize("path", ["/api_v3/rooms", "/api_v3/rooms/ceproom1", "/api_v3/rooms/ceproom1/queue"])
def test_huge_valid_query_string_never_5xx(client: FlaskClient, path: str) -> None:
    """A long but well-formed query (a 100 KB `q`, many unknown params) must never crash the mock."""
    query = "q=" + "a" * HUGE + "&" + "&".join(f"extra{i}=1" for i in range(5_000))
    resp = client.get(f"{path}?{query}")
    assert resp.status_code < 500, resp.status_code
    if resp.status_code >= 400:
        assert_error(resp)
    else:
        assert "data" in resp.get_json()


# ------------------------------------------------------------------ one rule for repeated query and form fields


@pytest.mark.parametrize(
    ("query", "name"),
    [("limit=2&limit=500", "limit"), ("slug=a&q=x&slug=b", "slug"), ("fields=name&fields=slug", "fields")],
)
def test_a_repeated_declared_query_parameter_is_refused_like_a_repeated_form_field(
    client: FlaskClient, query: str, name: str
) -> None:
    body = assert_error(client.get(f"/api_v3/rooms?{query}"), 400)
    assert body["message"] == f"query parameter '{name}': given 2 times, expected once"
    entry = client.get("/__mock__/requests").get_json()["data"][0]
    assert entry["valid"] is False and entry["problem"] == body["message"]


def test_an_undeclared_query_parameter_may_repeat_and_is_ignored(client: FlaskClient) -> None:
    resp = client.get("/api_v3/rooms?limit=2&utm=a&utm=b")
    assert resp.status_code == 200 and len(resp.get_json()["data"]) == 2


# ------------------------------------------------------------------ every answer in the error shape, echoes bounded


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"name": ["closed"]}}, 400),
        ({"json": ["closed"]}, 400),
        ({"data": "name=closed", "content_type": "text/plain"}, 400),
        ({"json": {"name": "nope"}}, 404),
        ({"query_string": {"name": "x" * 10_000}}, 404),
    ],
)
def test_the_admin_api_answers_bad_scenario_requests_in_the_error_shape(
    client: FlaskClient, kwargs: dict[str, object], status: int
) -> None:
    body = assert_error(client.post("/__mock__/scenario", **kwargs), status)
    assert len(body["message"]) < 200, "an echoed value is cut short"
    assert client.get("/__mock__/scenario").get_json()["data"]["current"] == "default"


def test_a_utf8_account_code_is_echoed_as_sent_and_a_long_one_cut_short(client: FlaskClient) -> None:
    utf8 = "klinik-müller".encode().decode("latin-1")  # how WSGI hands over a UTF-8 header
    message = assert_error(client.get("/api_v3/rooms", headers={"X-AccountCode": utf8}), 403)["message"]
    assert message == "Unknown account code 'klinik-müller'."
    long_message = assert_error(client.get("/api_v3/rooms", headers={"X-AccountCode": "a" * 100_000}), 403)["message"]
    assert len(long_message) < 120 and long_message.endswith("…'.")


def test_a_body_without_a_content_type_is_named_as_such(client: FlaskClient) -> None:
    resp = client.post("/api_v3/rooms", data=b"slug=x", headers={**AUTH, "Content-Type": ""})
    message = assert_error(resp, 415)["message"]
    assert message.startswith("the body has no Content-Type; use ") and "None" not in message
