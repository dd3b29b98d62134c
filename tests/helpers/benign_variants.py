"""Benign variants of the Rooms API: correct deployments that make *other legal choices* where the docs are silent.

The mirror image of `broken_mocks.py`. Each variant is a deployment a real VSee server could be: it keeps every
documented rule, but answers differently from the mock where the docs (`../shared/docs/rooms-api-seed.txt`,
`vsee-api-facts.md`, cited as "facts §N") leave room. `tests/suite/test_suite_trusts_benign_variants.py` runs the contract
suite's real command line against each over HTTP on 127.0.0.1 and expects it to pass: the suite must never cry
wolf. `tests/suite/test_benign_variants.py` checks that each variant really behaves as its docstring says, so the
catalogue cannot silently turn into a copy of the mock.

The one hard rule: **a variant differs from the mock only through HTTP**. It is a WSGI middleware around
`create_app(...)` (installed as the Flask app's `wsgi_app`, the documented way to add middleware) that rewrites
requests and/or answers, or answers by itself without passing the request on. It never reaches into the mock's
store, handlers or other internals; the only things given to `create_app` are configuration (`seed`,
`fixtures_dir`). Because each factory returns the Flask app, a variant also works in-process:
`pytest --pyargs contract_tests --contract-app helpers.benign_variants:evolving`.

Knobs (read when the factory runs, so a served process takes them from its environment):
- `BENIGN_SLOW_MS`: the delay of `slow` in milliseconds (default 150);
- `BENIGN_THROTTLE_EVERY`: `throttling` refuses every n-th API request (default 7);
- `BENIGN_RETRY_AFTER`: the `Retry-After` seconds `throttling` sends (default 1);
- `BENIGN_RATE`: the requests per second `rate_limited` lets through (default 20).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import yaml
from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart
from werkzeug.wrappers import Request

from mock_server import create_app

WSGIApp = WSGIApplication
ROOT = Path(__file__).resolve().parents[2]
SEED_CLINIC = ROOT / "fixtures" / "accounts" / "vclinic.yaml"  # the default fixture account, as a file
VCLINIC = ("vclinic", "83ec6843c3af534c551ab609d869dd82")
VCLINIC_TEST_USER = "826"  # the suite's --user-id on the default account: the rules that change a user's default room
JSON = "application/json"
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
WRITES = ("createRoom", "addUserRoom", "removeUserRoom")
SLOW_MS_ENV, THROTTLE_EVERY_ENV, RETRY_AFTER_ENV = "BENIGN_SLOW_MS", "BENIGN_THROTTLE_EVERY", "BENIGN_RETRY_AFTER"
RATE_ENV = "BENIGN_RATE"

# The request fields and query parameters the contract declares, per operation (what a lenient server keeps).
BODY_FIELDS = {
    "createRoom": ("domain", "slug", "name", "code", "default"),
    "addUserRoom": ("code", "default"),
    "removeUserRoom": ("code",),
}
QUERY_PARAMETERS = {"listRooms": ("page", "limit", "start", "sort", "fields", "q", "domain", "slug", "code")}
LIST_BOUNDS = {"page": (1, None), "limit": (1, 100), "start": (0, None)}  # the contract's GET /rooms bounds
FORM_BOOLEANS = ("true", "false", "1", "0")

# ---------------------------------------------------------------- HTTP plumbing: operations, answers, bodies

_ROUTES = [
    ("GET", r"/rooms", "listRooms"),
    ("POST", r"/rooms", "createRoom"),
    ("GET", r"/rooms/(?P<code>[^/]+)", "getRoom"),
    ("GET", r"/rooms/(?P<code>[^/]+)/providers", "listRoomProviders"),
    ("GET", r"/rooms/(?P<code>[^/]+)/providers/(?P<id>[^/]+)", "getRoomProvider"),
    ("GET", r"/rooms/(?P<code>[^/]+)/queue", "getRoomQueue"),
    ("POST", r"/users/(?P<id>[^/]+)/rooms", "addUserRoom"),
    ("DELETE", r"/users/(?P<id>[^/]+)/rooms/(?P<room_code>[^/]+)", "removeUserRoom"),
]
ROUTES = [(method, re.compile(rf"/api_v[34]{pattern}/?"), op) for method, pattern, op in _ROUTES]


def operation(environ: WSGIEnvironment) -> tuple[str, dict[str, str]] | None:
    """(operationId, path parameters) of an API request, or None for anything else (console, admin, OPTIONS)."""
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    for route_method, pattern, operation_id in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return operation_id, match.groupdict()
    return None


def media_type(environ: WSGIEnvironment) -> str:
    return str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: status, headers (without Content-Length, recomputed on sending) and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def is_json(self) -> bool:
        return any(k.lower() == "content-type" and v.split(";")[0].strip() == JSON for k, v in self.headers)

    def json(self) -> Any:
        """The decoded body, or None when it is not JSON."""
        if not self.is_json or not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_json(self, body: Any, status: int | None = None) -> Answer:
        return replace(self, status=status or self.status, body=encode(body))


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    return Answer(status, (("Content-Type", JSON), *headers), encode(body))


def error_answer(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    """An answer in the documented error shape `{"code": int, "message": str}`."""
    return json_answer(status, {"code": status, "message": message}, headers)


def call(app: WSGIApp, environ: WSGIEnvironment) -> Answer:
    """Run `app` on `environ` and collect its whole answer."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        captured.update(status=int(status.split()[0]), headers=headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    headers = tuple((k, v) for k, v in captured["headers"] if k.lower() != "content-length")
    return Answer(captured["status"], headers, b"".join(chunks))


def send(start_response: StartResponse, answer: Answer) -> list[bytes]:
    try:
        phrase = HTTPStatus(answer.status).phrase
    except ValueError:
        phrase = "Unknown"
    headers = [*answer.headers, ("Content-Length", str(len(answer.body)))]
    if answer.status == 204:
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
    start_response(f"{answer.status} {phrase}", headers)
    return [answer.body] if answer.body else []


Before = Callable[[str, dict[str, str], WSGIEnvironment], Answer | None]
After = Callable[[str, dict[str, str], WSGIEnvironment, Answer], Answer]


def wrap(app: Flask, before: Before | None = None, after: After | None = None) -> Flask:
    """Put a middleware round the mock's WSGI app, for API requests only.

    `before(operation_id, path, environ)` may edit the request (environ) or return an Answer, which is sent
    without passing the request on; `after(operation_id, path, environ, answer)` may rewrite the mock's answer.
    """
    inner = app.wsgi_app

    def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        found = operation(environ)
        if found is None:
            return inner(environ, start_response)
        operation_id, path = found
        answer = before(operation_id, path, environ) if before else None
        if answer is None:
            answer = call(inner, environ)
            if after:
                answer = after(operation_id, path, environ, answer)
        return send(start_response, answer)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    return app


def read_body(environ: WSGIEnvironment) -> bytes:
    """The request body (put back, so the mock can still read it)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    set_body(environ, body)
    return body


def set_body(environ: WSGIEnvironment, body: bytes, content_type: str | None = None) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type


Fields = list[tuple[str, Any]]


def edit_body(environ: WSGIEnvironment, edit: Callable[[Fields, str], Fields]) -> None:
    """Rewrite the fields of a JSON-object or form body, re-encoded in the same media type.

    `edit(fields, media_type)` gets (name, value) pairs: JSON values for JSON, strings (or uploads) for forms.
    A body that cannot be decoded, or whose fields `edit` leaves alone, is passed on byte for byte.
    """
    media = media_type(environ)
    body = read_body(environ)
    if not body or media not in (JSON, *FORMS):
        return
    if media == JSON:
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            return
        if not isinstance(decoded, dict):
            return
        fields: Fields = list(decoded.items())
        if (edited := edit(fields, media)) != fields:
            set_body(environ, encode(dict(edited)))
        return
    form = Request({**environ, "wsgi.input": io.BytesIO(body)}, populate_request=False, shallow=False)
    try:
        fields = [*form.form.items(multi=True), *form.files.items(multi=True)]
    except ValueError:
        return
    if (edited := edit(fields, media)) == fields:
        return
    if media == "application/x-www-form-urlencoded":
        set_body(environ, urlencode([(k, v) for k, v in edited if isinstance(v, str)]).encode())
    else:
        boundary, data = encode_multipart(MultiDict(edited))
        set_body(environ, data, f"multipart/form-data; boundary={boundary}")


def edit_query(environ: WSGIEnvironment, edit: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> None:
    pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if (edited := edit(pairs)) != pairs:
        environ["QUERY_STRING"] = urlencode(edited)


def _map_json(value: Any, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """`edit` applied to every JSON object, innermost first."""
    if isinstance(value, dict):
        return edit({k: _map_json(v, edit) for k, v in value.items()})
    if isinstance(value, list):
        return [_map_json(v, edit) for v in value]
    return value


def _mock(**config: Any) -> Flask:
    return create_app({"seed": 7, **config})


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class BenignVariant:
    """A variant, the account the suite must be pointed at, the extra CLI arguments it needs, and what the
    suite's output must show when it runs against it (besides passing), as regular expressions."""

    name: str
    factory: Callable[[], WSGIApp]
    account_code: str = VCLINIC[0]
    api_token: str = VCLINIC[1]
    extra_args: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()

    @property
    def suite_args(self) -> tuple[str, ...]:
        """The suite's CLI arguments for this variant, besides `--base-url` and `--allow-writes`."""
        user = ("--user-id", VCLINIC_TEST_USER) if self.account_code == VCLINIC[0] else ()
        return ("--account-code", self.account_code, "--api-token", self.api_token, *user, *self.extra_args)

    @property
    def doc(self) -> str:
        return self.factory.__doc__ or ""


CATALOGUE: dict[str, BenignVariant] = {}
F = TypeVar("F", bound=Callable[[], WSGIApp])


def benign(
    account: tuple[str, str] = VCLINIC, extra_args: tuple[str, ...] = (), expect: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Register a zero-argument factory in the catalogue, with what the suite needs to test it."""

    def register(factory: F) -> F:
        name = factory.__name__
        CATALOGUE[name] = BenignVariant(name, factory, account[0], account[1], extra_args, expect)
        return factory

    return register


# ---------------------------------------------------------------- lenient input


def _valid_default(value: Any, media: str) -> bool:
    if media == JSON:
        return isinstance(value, bool)
    return isinstance(value, str) and value.lower() in FORM_BOOLEANS


@benign()
def lenient_default() -> Flask:
    """Any value of the optional `default` (`default=AAA`, `default=2`, `{"default": {}}`) is accepted: a value
    that is not a boolean counts as absent (false). The docs give `default` only as "(optional) Set this room as
    default" (facts §2, §7; rooms-api-seed: no type on POST /rooms, "Boolean" without an encoding on POST
    /users/:id/rooms) and never say a bad value is refused. Where the mock answers 400 only because of
    `default`, this variant strips it from the request before the mock sees it."""

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> None:
        if op in ("createRoom", "addUserRoom"):
            edit_body(
                environ, lambda fields, media: [(k, v) for k, v in fields if k != "default" or _valid_default(v, media)]
            )

    return wrap(_mock(), before)


@benign()
def ignores_unknown_input() -> Flask:
    """Unknown body fields and unknown query parameters are ignored, not refused. The docs list each operation's
    parameters (facts §1, §2, §7, §8) but never say what happens to others, and "Rooms API supports DataTable API"
    (facts §0.8) invites more query keys than are listed. The variant strips undeclared body fields of the writes
    and undeclared query parameters of every operation before the mock sees them."""

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> None:
        known = QUERY_PARAMETERS.get(op, ())
        edit_query(environ, lambda pairs: [(k, v) for k, v in pairs if k in known])
        if op in BODY_FIELDS:
            edit_body(environ, lambda fields, media: [(k, v) for k, v in fields if k in BODY_FIELDS[op]])

    return wrap(_mock(), before)


def _clamped(key: str, value: str) -> str:
    low, high = LIST_BOUNDS[key]
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
        return value
    number = max(low, int(value))
    return str(min(number, high) if high is not None else number)


@benign()
def clamps_list_bounds() -> Flask:
    """GET /rooms clamps out-of-range `page`, `limit` and `start` into range (`limit=500` serves 100 rooms,
    `limit=0` one, `page=0` the first page) instead of refusing them. The docs type `page` and `limit` only as
    "Integer" (facts §1); the contract's bounds (page ≥ 1, 1 ≤ limit ≤ 100, start ≥ 0) are its own choice."""

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> None:
        if op == "listRooms":
            edit_query(environ, lambda pairs: [(k, _clamped(k, v) if k in LIST_BOUNDS else v) for k, v in pairs])

    return wrap(_mock(), before)


# ---------------------------------------------------------------- out-of-contract requests, answered their own way

LIST_PATTERNS = {"sort": r"[A-Za-z_]+\.(asc|desc)", "fields": r"[A-Za-z_]+(,[A-Za-z_]+)*", "q": r".{3,}"}


def _in_bounds(key: str, value: str) -> bool:
    low, high = LIST_BOUNDS[key]
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
        return False
    return int(value) >= low and (high is None or int(value) <= high)


def _own_way(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """GET /rooms parameters outside the contract answered as a lenient server does: `limit` of 0, negative or
    over 100 means no limit (and so one page), any other list parameter out of range or form is ignored."""
    kept = [
        (k, v)
        for k, v in pairs
        if (k not in LIST_BOUNDS or _in_bounds(k, v)) and (k not in LIST_PATTERNS or re.fullmatch(LIST_PATTERNS[k], v))
    ]
    no_limit = any(k == "limit" for k, _ in pairs) and not any(k == "limit" for k, _ in kept)
    return [(k, v) for k, v in kept if not (no_limit and k == "page")]


@benign()
def own_way_out_of_contract() -> Flask:
    """Requests the contract calls invalid are answered the server's own way, not refused: GET /rooms takes
    `limit=0` (or negative, or over 100) as "no limit" and answers the whole list, ignores a negative `start`,
    a `page` below 1, a `q` under 3 characters and a malformed `sort` or `fields`; the writes drop unknown
    fields and a `default` that is not a boolean. The docs type `page` and `limit` only as "Integer" (facts §1,
    §0.8: DataTable's `start` is just an "Offset"), and never say a bad value is refused: what a server makes of
    one is its own choice, and no rule may judge that answer (issue 22: `limit=0&start=-1` was judged)."""

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> None:
        if op == "listRooms":
            edit_query(environ, _own_way)
        if op in BODY_FIELDS:
            edit_body(
                environ,
                lambda fields, media: [
                    (k, v) for k, v in fields if k in BODY_FIELDS[op] and (k != "default" or _valid_default(v, media))
                ],
            )

    return wrap(_mock(), before)


# ---------------------------------------------------------------- what sits between a client and a real API

LAG_MS_ENV = "BENIGN_LAG_MS"
LISTS = ("listRooms", "listRoomProviders")


@benign(expect=(r"advisory \[read-lag\] ×[1-9]",))
def lagging_lists(lag_ms: float | None = None) -> Flask:
    """GET /rooms and GET /rooms/{code}/providers come from a cache in front of the API (a CDN, or a read replica)
    that keeps each list answer for 1 s (`BENIGN_LAG_MS`): a write shows in the lists only once the cached answer
    expires; the room detail and the writes' answers are live. The docs promise no immediacy: GET /rooms is a
    public list (facts §1, §4: `[public access]`, the kind of answer a CDN caches), and nothing says a write is
    visible at once (facts §2, §7). The suite must re-read within --contract-consistency-window, not fail."""
    lag = (lag_ms if lag_ms is not None else float(os.environ.get(LAG_MS_ENV, "1000"))) / 1000
    cache: dict[str, tuple[float, Answer]] = {}
    lock = threading.Lock()

    def key(environ: WSGIEnvironment) -> str:
        return f"{environ.get('HTTP_X_ACCOUNTCODE', '')} {environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}"

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> Answer | None:
        if op not in LISTS:
            return None
        with lock:
            hit = cache.get(key(environ))
        if hit is None or time.monotonic() - hit[0] >= lag:
            return None
        age = int(time.monotonic() - hit[0])
        return replace(hit[1], headers=(*hit[1].headers, ("Age", str(age)), ("X-Cache", "HIT")))

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        if op in LISTS and answer.status == 200:
            with lock:
                cache[key(environ)] = (time.monotonic(), answer)
        return answer

    return wrap(_mock(), before, after)


@benign()
def compressing_gateway() -> Flask:
    """A gateway compresses every answer with gzip when the client accepts it (`Content-Encoding: gzip`, `Vary:
    Accept-Encoding`), as API gateways and CDNs do by default. Compression is HTTP's, not the API's: the docs
    (facts §0.2, §0.4) fix the JSON envelope, never the transfer, and a client must decode what it asked for."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", "") or not answer.body:
            return answer
        headers = (*answer.headers, ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding"))
        return Answer(answer.status, headers, gzip.compress(answer.body))

    return wrap(_mock(), after=after)


@benign()
def streaming_proxy() -> Flask:
    """A reverse proxy streams every answer as it comes, in small pieces, without `Content-Length` (HTTP/1.1
    chunked transfer coding). How the bytes travel is HTTP's business: the docs (facts §0.1, §0.2) fix the
    endpoint's JSON, not its framing, and a proxy in front of a real clinic may stream."""
    app = _mock()
    inner = app.wsgi_app

    def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = call(inner, environ)
        phrase = HTTPStatus(answer.status).phrase
        start_response(f"{answer.status} {phrase}", list(answer.headers))
        return [answer.body[i : i + 7] for i in range(0, len(answer.body), 7)]

    app.wsgi_app = middleware  # type: ignore[method-assign]
    return app


GATEWAY_HEADERS = (
    ("Via", "1.1 edge-gateway (envoy)"),
    ("Server", "envoy"),
    ("Cache-Control", "no-store"),
    ("Access-Control-Allow-Origin", "*"),
    ("Strict-Transport-Security", "max-age=31536000"),
    ("X-RateLimit-Limit", "600"),
    ("Set-Cookie", "AWSALB=replica-2; Path=/; HttpOnly"),
)


@benign()
def load_balancer_headers() -> Flask:
    """A load balancer across replicas adds its own headers to every answer: `Via`, `Server`, a request id, a
    rate-limit budget, CORS, HSTS, `Cache-Control` and a sticky-session cookie (`Set-Cookie: AWSALB=...`), which a
    client then sends back. The docs list the request headers the API reads (facts §0.3) and say nothing about
    response headers: a deployment behind an AWS ALB or Envoy carries these."""
    counter = iter(range(1, 10**9))

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        request_id = ("X-Request-Id", f"req-{next(counter):08d}")
        return replace(answer, headers=(*answer.headers, *GATEWAY_HEADERS, request_id))

    return wrap(_mock(), after=after)


@benign()
def reserializing_gateway() -> Flask:
    """A gateway that transforms answers re-serializes every JSON body: keys sorted, indented, every non-ASCII
    character escaped (`"Zo\\u00eb"`), and `Content-Type: application/json; charset=utf-8`. The JSON values are the
    same: the docs fix the envelope and the fields (facts §0.2), not their order, spacing or escaping, and JSON
    allows every one of these spellings."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if body is None:
            return answer
        headers = tuple((k, v) for k, v in answer.headers if k.lower() != "content-type")
        text = json.dumps(body, ensure_ascii=True, indent=2, sort_keys=True).encode()
        return Answer(answer.status, (("Content-Type", f"{JSON}; charset=utf-8"), *headers), text)

    return wrap(_mock(), after=after)


# ---------------------------------------------------------------- other legal shapes


def _user_rooms(drop: str, timestamps: bool = False) -> After:
    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if op != "addUserRoom" or answer.status >= 300 or not isinstance(body, dict):
            return answer
        rooms = [{k: v for k, v in room.items() if k != drop} for room in body.get("data", [])]
        if timestamps:
            rooms = [_sec_usec(room) for room in rooms]
        return answer.with_json({**body, "data": rooms})

    return after


@benign()
def user_rooms_id_only() -> Flask:
    """POST /users/{id}/rooms lists the user's rooms with the room id as `id` (as every other room object has
    it) and no Mongo-style `_id`. The docs' only example of this answer is a word-diff reconstruction (facts §7a,
    "Guesses"); `_id` there may well be a leak of the storage layer that other revisions do not show."""
    return wrap(_mock(), after=_user_rooms(drop="_id"))


@benign()
def user_rooms_as_documented() -> Flask:
    """POST /users/{id}/rooms answers exactly in the shape of the docs' (reconstructed) example: `_id` and no
    `id`, and `created`/`modified` as `{"sec": N, "usec": M}` objects, while every other operation keeps integer
    timestamps (facts §0.6, §7a: "A date field may therefore be an integer or a `{sec, usec}` object")."""
    return wrap(_mock(), after=_user_rooms(drop="id", timestamps=True))


def _sec_usec(room: dict[str, Any]) -> dict[str, Any]:
    """`created`/`modified` integers as `{sec, usec}` objects (the usec made up from the seconds)."""
    stamps = {
        k: {"sec": v, "usec": (v * 7919) % 1_000_000}
        for k in ("created", "modified")
        if isinstance(v := room.get(k), int) and not isinstance(v, bool)
    }
    return {**room, **stamps}


@benign()
def sec_usec_timestamps() -> Flask:
    """Every room timestamp (`created`, `modified`) in every answer is a Mongo-style `{"sec": N, "usec": M}`
    object, never an integer. The docs show integers in GET /rooms and POST /rooms but `{sec, usec}` in POST
    /users/:id/rooms and intakes (facts §0.6, open question 9): a server that stores rooms in Mongo may answer
    objects everywhere."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if answer.status >= 300 or body is None:
            return answer
        return answer.with_json(_map_json(body, _sec_usec))

    return wrap(_mock(), after=after)


@benign(expect=(r"201×[1-9]",))
def writes_answer_201() -> Flask:
    """POST /rooms and POST /users/{id}/rooms answer 201 Created (same body) instead of 200. The docs state no
    success status for either; only the generic table's "200 Success" (facts §0.4, open question 4)."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        created = op in ("createRoom", "addUserRoom") and answer.status == 200
        return replace(answer, status=201) if created else answer

    return wrap(_mock(), after=after)


@benign(expect=(r"204×[1-9]",))
def delete_answers_204() -> Flask:
    """DELETE /users/{id}/rooms/{room_code} answers 204 No Content with no body once the association is gone. The
    docs show only `{` `}` as the answer and no status at all (facts §8, open questions 4 and 12)."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        if op != "removeUserRoom" or answer.status != 200:
            return answer
        return Answer(204, tuple((k, v) for k, v in answer.headers if k.lower() != "content-type"), b"")

    return wrap(_mock(), after=after)


@benign()
def delete_answers_with_data() -> Flask:
    """DELETE /users/{id}/rooms/{room_code} answers 200 with a `data` envelope naming what was removed,
    `{"data": {"user_id": ..., "room_code": ...}}`, instead of `{}`. The docs' `{ }` may be a placeholder; "the
    live API may return `{"data": ...}`" (facts §8, open question 12)."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        if op != "removeUserRoom" or answer.status != 200:
            return answer
        return answer.with_json({"data": {"user_id": path["id"], "room_code": path["room_code"]}})

    return wrap(_mock(), after=after)


@benign()
def existing_code_400() -> Flask:
    """POST /rooms with a room code that already exists is refused with 400 (like the documented duplicate slug)
    instead of the mock's 409. The docs say only "(optional) Room code (should be unique)" (facts §2, open
    question 7), and 400 is the status they use for the other uniqueness clash."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if op != "createRoom" or answer.status != 409 or not isinstance(body, dict):
            return answer
        return answer.with_json({**body, "code": 400}, status=400)

    return wrap(_mock(), after=after)


@benign()
def error_code_offset() -> Flask:
    """Every error body's `code` is VSee's own number, 1000 + the HTTP status (404 → `"code": 1404`), not the
    status. The docs' own generic example has `code: 404` under the 400 row (facts §0.4: "The body's `code` is
    not always equal to the HTTP status")."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if answer.status < 400 or not isinstance(body, dict) or "code" not in body:
            return answer
        return answer.with_json({**body, "code": 1000 + answer.status})

    return wrap(_mock(), after=after)


def _token_errors(status: int) -> After:
    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if op not in WRITES or answer.status not in (401, 403) or not isinstance(body, dict):
            return answer
        return answer.with_json({**body, "code": status}, status=status)

    return after


@benign()
def token_errors_401() -> Flask:
    """A write without a token and a write with a wrong token are both answered 401 (the mock: 401 missing,
    403 wrong). The docs list 401 and 403 without saying which is for what (facts §0.4, open question 5)."""
    return wrap(_mock(), after=_token_errors(401))


@benign()
def token_errors_403() -> Flask:
    """A write without a token and a write with a wrong token are both answered 403 (the mock: 401 missing,
    403 wrong). The docs list 401 and 403 without saying which is for what (facts §0.4, open question 5)."""
    return wrap(_mock(), after=_token_errors(403))


@benign()
def account_code_required() -> Flask:
    """Every API request must carry `X-AccountCode`: without it (or blank) the answer is 403 in the error shape,
    and the request is not passed on. The docs: "If the app knows the account code, it should pass it in this
    header for every request. Otherwise leave blank" (facts §0.3), and every Rooms example sends it; what a
    server does when it is blank is undocumented (the mock falls back to its default account)."""

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> Answer | None:
        if str(environ.get("HTTP_X_ACCOUNTCODE", "")).strip():
            return None
        return error_answer(403, "X-AccountCode header required: which clinic is this request for?")

    return wrap(_mock(), before)


@benign(expect=(r"advisory \[json-bodies-refused\] ×[1-9]",))
def forms_only() -> Flask:
    """The writes accept only the form encodings of VSee's own examples (`curl --form`, multipart/form-data, and
    application/x-www-form-urlencoded): a write with `Content-Type: application/json` is answered 415 in the
    error shape and not passed on. Every Rooms write example in the docs is a form; JSON bodies appear only on
    other endpoints (facts §0.5, open question 14: "Whether every endpoint accepts all three is unverified")."""

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> Answer | None:
        if op not in WRITES or media_type(environ) != JSON:
            return None
        return error_answer(
            415,
            "Content-Type application/json is not accepted here; send multipart/form-data "
            "or application/x-www-form-urlencoded",
        )

    return wrap(_mock(), before)


@benign(expect=(r"429 retries: [1-9]",))
def throttling(every: int | None = None, retry_after: int | None = None) -> Flask:
    """Every n-th API request (default 7, `BENIGN_THROTTLE_EVERY`; counted per process, reads and writes alike) is
    answered 429 Too Many Requests with `Retry-After: 1` (`BENIGN_RETRY_AFTER`) and the error body, without being
    passed on: a throttled write changes nothing. The docs list 429 in the error table with no body and no rate
    (facts §0.4), so a deployment may throttle at any rate."""
    every = every or int(os.environ.get(THROTTLE_EVERY_ENV, "7"))
    retry = retry_after if retry_after is not None else int(os.environ.get(RETRY_AFTER_ENV, "1"))
    lock, seen = threading.Lock(), [0]

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> Answer | None:
        with lock:
            seen[0] += 1
            throttled = seen[0] % every == 0
        if not throttled:
            return None
        return error_answer(429, f"Too many requests: retry after {retry} s.", [("Retry-After", str(retry))])

    return wrap(_mock(), before)


@benign()
def rate_limited(rate: float | None = None) -> Flask:
    """A rate limiter in front of the API: a token bucket of 20 requests per second (`BENIGN_RATE`), holding at
    most a second's worth; an API request beyond it is answered 429 with `Retry-After: 1` and the error body, and not
    passed on. The docs list 429 with no rate (facts §0.4); a gateway in front of a real clinic may limit at any
    rate, and the suite must pace itself to it, never call it wrong."""
    per_second = rate if rate is not None else float(os.environ.get(RATE_ENV, "20"))
    lock, bucket = threading.Lock(), {"tokens": per_second, "at": time.monotonic()}

    def before(op: str, path: dict[str, str], environ: WSGIEnvironment) -> Answer | None:
        with lock:
            now = time.monotonic()
            bucket["tokens"] = min(per_second, bucket["tokens"] + (now - bucket["at"]) * per_second)
            bucket["at"] = now
            if bucket["tokens"] >= 1:
                bucket["tokens"] -= 1
                return None
        return error_answer(429, "Too many requests: retry after 1 s.", [("Retry-After", "1")])

    return wrap(_mock(), before)


@benign()
def slow(delay_ms: float | None = None) -> Flask:
    """Every answer (API or not) comes 150 ms late (`BENIGN_SLOW_MS`, or the factory's `delay_ms`): a real clinic
    across the internet. The docs promise no latency (facts §0.1: the endpoint is "To be advised by VSee Clinic
    Team"), so a correct deployment may be slow; the suite must neither time out nor call it wrong."""
    delay = (delay_ms if delay_ms is not None else float(os.environ.get(SLOW_MS_ENV, "150"))) / 1000
    app = _mock()
    inner = app.wsgi_app

    def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(delay)
        return inner(environ, start_response)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    return app


NEW_FIELDS = {"x_new_field": "added in a later release", "x_new_object": {"since": "api_v3.9", "flags": [1, None]}}


@benign()
def evolving() -> Flask:
    """Every JSON object of every answer, at every depth (rooms, consultations, queues, providers, the list
    envelope, error bodies, DELETE's `{}`), carries new fields (`x_new_field`, `x_new_object`); no existing
    field changes. The live API adds fields over time: the docs' examples differ between revisions (facts §3,
    §5: "more fields can exist"; open questions 1, 10)."""

    def after(op: str, path: dict[str, str], environ: WSGIEnvironment, answer: Answer) -> Answer:
        body = answer.json()
        if body is None:
            return answer
        return answer.with_json(_map_json(body, lambda obj: {**obj, **NEW_FIELDS}))

    return wrap(_mock(), after=after)


# ---------------------------------------------------------------- different data (fixtures are configuration)

OTHER_CLINIC = ("otherclinic", "e1d2c3b4a5968778695a4b3c2d1e0f9a", "rooms.otherclinic.example.org")
EMPTY_CLINIC = ("emptyclinic", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "empty-clinic.example.net")
EMPTY_CLINIC_USER = "1002"  # a user of the empty clinic who is no room's provider: the suite's --user-id
SOLO_CLINIC = ("soloclinic", "9a8b7c6d5e4f30211203f4e5d6c7b8a9", "solo.example.com")
# other lengths than the mock's 3-5 digit user ids and 5-17 character room codes
OTHER_USER_IDS = {"85741": "7", "401": "31", "826": "900000000001", "1002": "4242", "1003": "55555555", "1004": "123"}
OTHER_ROOM_CODES = {
    "b4vjj": "q",
    "room1_code": "R2",
    "ceproom1": "clinic.main-room_with.a.very.long.code.0123456789abcdef",
    "example-room-code": "x9",
    "sandbox": "SANDBOX-ROOM-000",
    "jstq9": "z",
}


def clinic_data(
    account: tuple[str, str, str], user_ids: Mapping[str, str] | None = None, codes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The default fixture clinic as another account (code, token, domain), users and rooms renamed."""
    code, token, domain = account
    data: dict[str, Any] = yaml.safe_load(SEED_CLINIC.read_text(encoding="utf-8"))

    def uid(user: str) -> str:
        return (user_ids or {}).get(user, user)

    def rcode(code: str) -> str:
        return (codes or {}).get(code, code)

    data["account"] = {
        **data["account"],
        "code": code,
        "domain": domain,
        "admin_token": token,
        "admin_user_id": uid(data["account"]["admin_user_id"]),
        "name": f"{code} (benign variant)",
    }
    data["users"] = [{**user, "id": uid(user["id"])} for user in data["users"]]
    rooms = []
    for i, room in enumerate(data["rooms"]):
        providers = [uid(p) for p in room["provider_ids"]]
        rooms.append(
            {
                **room,
                "code": rcode(room["code"]),
                "domain": domain,
                "account_code": code,
                "provider_ids": providers,
                "users": ",".join(providers),
                "id": str(7 * 10**i),
            }
        )
    data["rooms"] = rooms
    data["queues"] = {rcode(c): queue for c, queue in data["queues"].items()}
    data["defaults"] = {uid(u): rcode(c) for u, c in data["defaults"].items()}
    return data


def serve_clinic(data: dict[str, Any]) -> Flask:
    """The mock seeded with `data` as its only account. The fixture directory is configuration: it is written to
    a temporary directory, read by create_app at start and removed again (the state lives in memory)."""
    root = Path(tempfile.mkdtemp(prefix="benign-clinic-"))
    try:
        (root / "accounts").mkdir()
        (root / "accounts" / f"{data['account']['code']}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        return _mock(fixtures_dir=root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@benign(account=OTHER_CLINIC[:2])
def other_clinic() -> Flask:
    """Another clinic: account code `otherclinic`, domain `rooms.otherclinic.example.org`, its own 32-hex admin
    token, user ids of 1 to 12 digits and room codes of 1 to 55 characters (`q`, `R2`, dots, capitals), room ids
    of 1 to 6 digits. The docs fix none of these: ids are "numeric strings", a room code is generated *or* "any
    admin-chosen string" (facts §0.6), and the account code and domain are the clinic's own (facts §0.3)."""
    return serve_clinic(clinic_data(OTHER_CLINIC, OTHER_USER_IDS, OTHER_ROOM_CODES))


@benign(account=EMPTY_CLINIC[:2], extra_args=("--domain", EMPTY_CLINIC[2], "--user-id", EMPTY_CLINIC_USER))
def empty_clinic() -> Flask:
    """A clinic on day one: users exist but there is no room yet, so nothing can be discovered through GET /rooms
    until the suite creates rooms (it is told the domain with `--domain` and a user with `--user-id`). Nothing
    in the docs says a clinic has rooms; GET /rooms is documented as a list (facts §1)."""
    data = clinic_data(EMPTY_CLINIC)
    return serve_clinic({**data, "rooms": [], "queues": {}, "defaults": {}})


@benign(account=SOLO_CLINIC[:2])
def single_provider() -> Flask:
    """A one-person clinic: its only user is the admin, who is the one provider of every room. The docs put no
    lower bound on a clinic's staff; a room's `provider_ids` is just a list (facts §0.6, §4). The only user the
    suite can associate is the admin, already a provider of every room it creates, so the association rules see
    that user removed and added again."""
    data = clinic_data(SOLO_CLINIC)
    admin = data["account"]["admin_user_id"]
    rooms = [{**room, "provider_ids": [admin], "users": admin} for room in data["rooms"]]
    users = [user for user in data["users"] if user["id"] == admin]
    return serve_clinic({**data, "users": users, "rooms": rooms, "defaults": {admin: rooms[0]["code"]}})


VARIANTS: dict[str, Callable[[], WSGIApp]] = {name: variant.factory for name, variant in CATALOGUE.items()}
