"""An outside judge reading the same openapi.yaml agrees with the mock: openapi-core 0.23.1.

(a) Every request of a representative set (each operation, each body encoding, each boolean spelling the mock
accepts, with and without optional fields) that the mock accepts, openapi-core accepts; every one the mock
refuses for a contract reason (body or parameter schema, missing admin token), openapi-core refuses too.
(b) openapi-core accepts the mock's answer to each of them, and the mock's answers in its `legacy` scenario.

openapi-core checks the host against the spec's `servers`, so requests are built on the mock's declared server
(`http://127.0.0.1:4010` with the operation's base path), while the Flask test client sends the same bytes to
`mock_server.create_app()` in-process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder, TestResponse, encode_multipart
from werkzeug.wrappers import Request

from mock_server import create_app

from helpers.mock_api import CONTRACT, DOMAIN, TOKEN

SPEC = CONTRACT.spec
JUDGE = OpenAPI.from_dict(SPEC.document)
HEADERS = {"X-AccountCode": "vclinic", "X-ApiToken": TOKEN}
ENCODINGS = ("multipart/form-data", "application/x-www-form-urlencoded", "application/json")
FORMS = ENCODINGS[:2]
FORM_BOOLEANS = ("true", "false", "TRUE", "False", "1", "0")  # what the mock accepts in a form (FormBoolean)
NOT_FORM_BOOLEANS = ("yes", "on", "t", "", " true", "true\n", "01")
# Where the mock refuses a request for a contract reason, its error message starts with one of these.
CONTRACT_REFUSALS = ("path parameter", "query parameter", "header parameter", "body field", "body:", "Content-Type")


@dataclass(frozen=True)
class Exchange:
    """One request of the representative set and what the mock must do with it.

    `verdict`: "ok" (2xx), "rule" (a 4xx the contract's rules give to a schema-valid request, e.g. an unknown room),
    "schema" (refused for the request's shape: 400/415), "auth" (refused for the missing admin token: 401).
    """

    label: str
    operation_id: str
    method: str
    path: str  # under the base path, e.g. /rooms/ceproom1
    verdict: str
    query: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None
    body: dict[str, Any] | None = None
    base: str = "/api_v3"
    headers: dict[str, str] = field(default_factory=lambda: dict(HEADERS))
    setup: tuple[tuple[str, str, dict[str, Any]], ...] = ()  # JSON calls made first: (method, path, body)


def _local_server(operation_id: str, base: str) -> str:
    """The spec's 127.0.0.1 server of this operation with this base path: where openapi-core expects the call."""
    for url in SPEC.operations[operation_id].servers:
        if urlsplit(url).hostname == "127.0.0.1" and urlsplit(url).path.rstrip("/") == base:
            return url
    raise AssertionError(f"{operation_id} declares no 127.0.0.1 server with base {base}")


def _encode(media_type: str, body: dict[str, Any]) -> tuple[bytes, str]:
    if media_type == "application/json":
        return json.dumps(body).encode(), media_type
    if media_type == "multipart/form-data":
        boundary, data = encode_multipart(body)
        return data, f"multipart/form-data; boundary={boundary}"
    return urlencode(body).encode(), media_type  # urlencoded, or the same text under a media type not accepted


def _builder(exchange: Exchange, origin: str) -> EnvironBuilder:
    kwargs: dict[str, Any] = {}
    if exchange.body is not None and exchange.media_type is not None:
        kwargs["data"], kwargs["content_type"] = _encode(exchange.media_type, exchange.body)
    return EnvironBuilder(
        path=exchange.base + exchange.path,
        base_url=origin,
        method=exchange.method,
        query_string=urlencode(exchange.query),
        headers=list(exchange.headers.items()),
        **kwargs,
    )


def _judge_request(exchange: Exchange) -> tuple[Request, str | None]:
    """The request as openapi-core sees it, and why openapi-core refuses it (None when it accepts it)."""
    server = urlsplit(_local_server(exchange.operation_id, exchange.base))
    request = Request(_builder(exchange, f"{server.scheme}://{server.netloc}").get_environ())
    try:
        JUDGE.validate_request(WerkzeugOpenAPIRequest(request))
    except Exception as exc:  # openapi-core raises one of many error classes; the reason is what matters
        cause = exc.__cause__ or exc.__context__
        return request, f"{type(exc).__name__}: {exc}" + (f" ({cause})" if cause else "")
    return request, None


def _call_mock(app: Flask, exchange: Exchange) -> TestResponse:
    client = app.test_client()
    for method, path, body in exchange.setup:
        assert client.open(path, method=method, json=body, headers=HEADERS).status_code == 200, (method, path)
    return client.open(_builder(exchange, "http://localhost"))


def _mock_verdict(response: TestResponse) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return "ok"
    message = (response.get_json(silent=True) or {}).get("message", "")
    if status in (400, 415) and message.startswith(CONTRACT_REFUSALS):
        return "schema"
    if status == 401:
        return "auth"
    return "rule" if 400 <= status < 500 else f"status {status}"


def _short(media: str) -> str:
    return {"multipart/form-data": "multipart", "application/x-www-form-urlencoded": "urlencoded"}.get(media, "json")


def _reads() -> Iterator[Exchange]:
    yield Exchange("list", "listRooms", "GET", "/rooms", "ok", headers={"X-AccountCode": "vclinic"})
    yield Exchange("list without account", "listRooms", "GET", "/rooms", "ok", headers={})
    yield Exchange("list page", "listRooms", "GET", "/rooms", "ok", {"page": "2", "limit": "2"})
    datatable = {"start": "1", "sort": "name.desc", "fields": "id,active", "q": "room", "domain": DOMAIN}
    yield Exchange("list DataTable", "listRooms", "GET", "/rooms", "ok", datatable)
    for label, query in {
        "limit 0": {"limit": "0"},
        "limit 101": {"limit": "101"},
        "limit not a number": {"limit": "ten"},
        "page 0": {"page": "0"},
        "start negative": {"start": "-1"},
        "sort without direction": {"sort": "name"},
        "fields with a gap": {"fields": "id,,active"},
        "q too short": {"q": "ab"},
    }.items():
        yield Exchange(f"list {label}", "listRooms", "GET", "/rooms", "schema", query)
    for base in ("/api_v3", "/api_v4"):
        yield Exchange(f"room on {base}", "getRoom", "GET", "/rooms/ceproom1", "ok", base=base)
        yield Exchange(f"unknown room on {base}", "getRoom", "GET", "/rooms/no-such-room", "rule", base=base)
    yield Exchange("providers", "listRoomProviders", "GET", "/rooms/ceproom1/providers", "ok")
    yield Exchange("unknown room's providers", "listRoomProviders", "GET", "/rooms/no-such-room/providers", "rule")
    yield Exchange("provider", "getRoomProvider", "GET", "/rooms/ceproom1/providers/826", "ok")
    yield Exchange("provider not in room", "getRoomProvider", "GET", "/rooms/b4vjj/providers/826", "rule")
    yield Exchange("provider id not numeric", "getRoomProvider", "GET", "/rooms/ceproom1/providers/abc", "schema")
    yield Exchange("queue", "getRoomQueue", "GET", "/rooms/ceproom1/queue", "ok")


def _creations() -> Iterator[Exchange]:
    numbers = iter(range(1, 1000))

    def room(**extra: Any) -> dict[str, Any]:
        n = next(numbers)
        return {"domain": DOMAIN, "slug": f"judged-{n}", "name": f"Judged room {n}", **extra}

    for media in ENCODINGS:
        bodies: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
            ("", "ok", room(), HEADERS),
            ("with code", "ok", room(code=f"judged_code.{next(numbers)}"), HEADERS),
            ("without name", "schema", {"domain": DOMAIN, "slug": f"judged-{next(numbers)}"}, HEADERS),
            ("with an unknown field", "schema", room(colour="red"), HEADERS),
            ("with an empty slug", "schema", {**room(), "slug": ""}, HEADERS),
            ("with a code that is no path segment", "schema", room(code="a/b"), HEADERS),
            ("without token", "auth", room(), {"X-AccountCode": "vclinic"}),
            ("slug taken", "rule", {"domain": DOMAIN, "slug": "provider00102", "name": "again"}, HEADERS),
        ]
        accepted: tuple[Any, ...] = FORM_BOOLEANS if media in FORMS else (True, False)
        refused: tuple[Any, ...] = NOT_FORM_BOOLEANS if media in FORMS else ("true", 1, None)
        bodies += [(f"default={v!r}", "ok", room(default=v), HEADERS) for v in accepted]
        bodies += [(f"default={v!r}", "schema", room(default=v), HEADERS) for v in refused]
        for label, verdict, body, headers in bodies:
            yield Exchange(
                f"create {_short(media)} {label}".strip(),
                "createRoom",
                "POST",
                "/rooms",
                verdict,
                media_type=media,
                body=body,
                headers=dict(headers),
            )
    text = {"domain": DOMAIN, "slug": "judged-text", "name": "Text"}
    yield Exchange("create as text/plain", "createRoom", "POST", "/rooms", "schema", media_type="text/plain", body=text)


def _associations() -> Iterator[Exchange]:
    for media in ENCODINGS:
        yes = True if media not in FORMS else "true"
        bodies: list[tuple[str, str, str, dict[str, Any], dict[str, str]]] = [
            ("", "ok", "401", {"code": "b4vjj"}, HEADERS),
            ("as -", "ok", "-", {"code": "ceproom1"}, HEADERS),
            ("without code", "schema", "826", {"default": yes}, HEADERS),
            ("with an unknown field", "schema", "826", {"code": "ceproom1", "note": "x"}, HEADERS),
            ("user id not numeric", "schema", "abc", {"code": "ceproom1"}, HEADERS),
            ("unknown room", "rule", "826", {"code": "no-such-room"}, HEADERS),
            ("without token", "auth", "826", {"code": "ceproom1"}, {}),
        ]
        accepted: tuple[Any, ...] = FORM_BOOLEANS if media in FORMS else (True, False)
        refused: tuple[Any, ...] = NOT_FORM_BOOLEANS if media in FORMS else ("true", 1, None)
        bodies += [
            (f"default={v!r}", "ok", "826", {"code": "example-room-code", "default": v}, HEADERS) for v in accepted
        ]
        bodies += [(f"default={v!r}", "schema", "826", {"code": "ceproom1", "default": v}, HEADERS) for v in refused]
        for label, verdict, user, body, headers in bodies:
            yield Exchange(
                f"associate {_short(media)} {label}".strip(),
                "addUserRoom",
                "POST",
                f"/users/{user}/rooms",
                verdict,
                media_type=media,
                body=body,
                headers=dict(headers),
            )


def _removals() -> Iterator[Exchange]:
    path, first = "/users/1002/rooms/sandbox", (("POST", "/api_v3/users/1002/rooms", {"code": "sandbox"}),)
    yield Exchange("remove without body", "removeUserRoom", "DELETE", path, "ok", setup=first)
    yield Exchange("remove not associated", "removeUserRoom", "DELETE", "/users/1002/rooms/b4vjj", "rule")
    yield Exchange(
        "remove without token", "removeUserRoom", "DELETE", path, "auth", headers={"X-AccountCode": "vclinic"}
    )
    for media in ENCODINGS:
        for label, verdict, body in (
            ("with code", "ok", {"code": "sandbox"}),
            ("with an empty body", "ok", {}),
            ("with another code", "rule", {"code": "ceproom1"}),
            ("with an unknown field", "schema", {"code": "sandbox", "x": "y"}),
            ("with code not a string", "schema", {"code": 5}),
        ):
            if media in FORMS and not isinstance(body.get("code", ""), str):
                continue  # a form has only text
            yield Exchange(
                f"remove {_short(media)} {label}",
                "removeUserRoom",
                "DELETE",
                path,
                verdict,
                media_type=media,
                body=body,
                setup=first,
            )


EXCHANGES = [*_reads(), *_creations(), *_associations(), *_removals()]

# Where openapi-core 0.23.1 itself departs from the spec it reads, not the contract or the mock: (test, reason).
OPENAPI_CORE_BUGS: list[tuple[Any, str]] = [
    (
        lambda e: e.media_type in FORMS and e.verdict == "schema" and "unknown field" in e.label,
        "openapi-core 0.23.1 never sees an undeclared form field: MediaTypeDeserializer.decode builds the decoded "
        "form from the schema's `properties` only, so `additionalProperties: false` cannot fire for "
        "multipart/form-data or application/x-www-form-urlencoded bodies (it does for JSON)",
    ),
    (
        lambda e: e.media_type == "multipart/form-data" and e.body == {},
        "openapi-core 0.23.1 cannot read a multipart body without parts: data_form_loads asserts every part is an "
        "email Message, and the parser returns a str payload when there are none (AssertionError, not a verdict). "
        "RFC 2046 asks for one or more parts, so the mock, which takes it as an empty form, is the lenient one",
    ),
]


def _params(exchanges: list[Exchange]) -> list[Any]:
    params = []
    for exchange in exchanges:
        reasons = [reason for applies, reason in OPENAPI_CORE_BUGS if applies(exchange)]
        marks = [pytest.mark.xfail(reason=reasons[0], strict=True)] if reasons else []
        params.append(pytest.param(exchange, id=exchange.label, marks=marks))
    return params


@dataclass(frozen=True)
class Judged:
    """What the mock answered to one exchange, and what openapi-core said of the request and of the answer."""

    status: int
    body: Any
    mock_verdict: str
    request_refusal: str | None
    response_refusal: str | None


def _judge(app: Flask, exchange: Exchange) -> Judged:
    response = _call_mock(app, exchange)
    request, refusal = _judge_request(exchange)
    try:
        JUDGE.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        response_refusal = None
    except Exception as exc:  # as for requests: the reason is what matters
        response_refusal = f"{type(exc).__name__}: {exc} ({exc.__cause__ or exc.__context__})"
    body = response.get_json(silent=True)
    return Judged(response.status_code, body, _mock_verdict(response), refusal, response_refusal)


@pytest.fixture(scope="module")
def judged() -> dict[str, Judged]:
    """Every exchange sent once, in order, to one fresh mock (a state the exchanges are written for)."""
    app = create_app()
    return {exchange.label: _judge(app, exchange) for exchange in EXCHANGES}


def test_the_set_covers_every_operation_encoding_and_verdict() -> None:
    assert len({e.label for e in EXCHANGES}) == len(EXCHANGES), "labels name the cases"
    assert {e.operation_id for e in EXCHANGES} == set(SPEC.operations)
    for operation_id in ("createRoom", "addUserRoom", "removeUserRoom"):
        for verdict in ("ok", "schema", "rule"):
            media = {e.media_type for e in EXCHANGES if e.operation_id == operation_id and e.verdict == verdict}
            assert set(ENCODINGS) <= media, (operation_id, verdict, media)


@pytest.mark.parametrize("exchange", _params(EXCHANGES))
def test_openapi_core_judges_each_request_as_the_mock_does(judged: dict[str, Judged], exchange: Exchange) -> None:
    result = judged[exchange.label]
    assert result.mock_verdict == exchange.verdict, (result.status, result.body)
    if exchange.verdict in ("schema", "auth"):
        assert result.request_refusal is not None, (
            "the mock refuses this request for a contract reason, openapi-core not"
        )
    else:
        assert result.request_refusal is None, (
            f"the mock accepts this request, openapi-core not: {result.request_refusal}"
        )


@pytest.mark.parametrize("exchange", EXCHANGES, ids=[e.label for e in EXCHANGES])
def test_openapi_core_accepts_each_answer_of_the_mock(judged: dict[str, Judged], exchange: Exchange) -> None:
    result = judged[exchange.label]
    assert result.response_refusal is None, (result.status, result.body, result.response_refusal)


LEGACY = [
    *(
        Exchange(f"legacy room {code} on {base}", "getRoom", "GET", f"/rooms/{code}", "ok", base=base)
        for code in ("room1_code", "ceproom1", "b4vjj")
        for base in ("/api_v3", "/api_v4")
    ),
    Exchange("legacy list", "listRooms", "GET", "/rooms", "ok", {"fields": "id,payment,specialties"}),
    Exchange(
        "legacy associate",
        "addUserRoom",
        "POST",
        "/users/826/rooms",
        "ok",
        media_type=FORMS[0],
        body={"code": "b4vjj", "default": "1"},
    ),
]


@pytest.fixture(scope="module")
def legacy_mock() -> Flask:
    return create_app({"scenario": "legacy"})


@pytest.mark.parametrize("exchange", LEGACY, ids=[e.label for e in LEGACY])
def test_openapi_core_accepts_the_legacy_scenarios_answers(legacy_mock: Flask, exchange: Exchange) -> None:
    """Rooms in the old documented shape (no visits/auth/subtitle/operation_settings, legacy payment) pass too."""
    result = _judge(legacy_mock, exchange)
    assert (result.mock_verdict, result.request_refusal, result.response_refusal) == ("ok", None, None), result
