"""Deliberately broken variants of the mock: each breaks one documented rule or one schema promise.

`tests/suite/test_suite_catches_faults.py` runs the contract suite against each (in-process through `--contract-app
helpers.broken_mocks:NAME`, and over HTTP on 127.0.0.1) and expects it to fail naming the rule. Each variant patches
one handler (or wraps the WSGI app) in its own process, with the mock's strict mode off so the fault goes out.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import html
import io
import json
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import yaml
from flask import Flask, request
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from mock_server import create_app, runtime
from mock_server.fixtures import DEFAULT_FIXTURES
from mock_server.handlers import HANDLERS, Call, Handler, Reply
from mock_server.rows import Rows
from vsee_contract import Refusal
from vsee_contract.operations import provider_detail

Behaviour = Callable[[Handler, Call], Reply]
Handlers = dict[str, Handler]


def _app(handlers: Handlers | None = None) -> Flask:
    return create_app({"strict": False, "seed": 7}, handlers=handlers)


def _patch(handlers: Handlers, operation_id: str, behaviour: Behaviour) -> None:
    """Put `behaviour` round the operation's handler in `handlers` (the mock's own, or one patched already)."""
    inner = handlers.get(operation_id, HANDLERS[operation_id])
    handlers[operation_id] = lambda call: behaviour(inner, call)


def _variant(operation_id: str) -> Callable[[Behaviour], Callable[[], Flask]]:
    """Turn `behaviour(inner_handler, call)` into a factory of the mock with that operation's handler replaced."""

    def decorate(behaviour: Behaviour) -> Callable[[], Flask]:
        def factory() -> Flask:
            handlers: Handlers = {}
            _patch(handlers, operation_id, behaviour)
            return _app(handlers)

        factory.__name__, factory.__doc__ = behaviour.__name__, behaviour.__doc__
        return factory

    return decorate


def _rewrite_body(
    app: Flask, match: Callable[[str, str], bool], edit: Callable[[bytes], bytes], content_type: str | None = None
) -> Flask:
    """Wrap the WSGI app so matching responses get their body (and maybe content type) rewritten."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not match(environ["REQUEST_METHOD"], environ["PATH_INFO"]):
            return inner(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)

        body = edit(b"".join(inner(environ, capture)))
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in ("content-length", "content-type")]
        headers += [("Content-Type", content_type or "application/json"), ("Content-Length", str(len(body)))]
        start_response(captured["status"], headers)
        return [body]

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def _providers_kept(inner: Handler, call: Call, code: str) -> Reply:
    """Run the real handler, then put the room's providers back as they were."""
    room = call.account.rooms.get(code)
    before = list(room["provider_ids"]) if room else []
    reply = inner(call)
    if room is not None:
        call.account.set_providers(room, before)
    return reply


def _with_query(call: Call, query: dict[str, Any]) -> Call:
    return Call(call.account, dataclasses.replace(call.request, query=query), call.token_user)


# ---------------------------------------------------------------- one variant per documented rule


@_variant("getRoom")
def wrong_room(inner: Handler, call: Call) -> Reply:
    """GET /rooms/{code} returns another room (room-is-the-requested-one)."""
    status, body = inner(call)
    others = [r for r in call.account.rooms.values() if r["code"] != call.request.path["code"]]
    return (status, {"data": others[0]}) if status == 200 else (status, body)


@_variant("createRoom")
def create_not_stored(inner: Handler, call: Call) -> Reply:
    """POST /rooms answers with a room but forgets it (created-room-readable-and-listed)."""
    status, body = inner(call)
    if status == 200:
        call.account.rooms.pop(body["data"]["code"])
    return status, body


@_variant("createRoom")
def create_ignores_name(inner: Handler, call: Call) -> Reply:
    """POST /rooms stores a name other than the one sent (created-room-echoes-input)."""
    status, body = inner(call)
    if status == 200:
        body["data"]["name"] = "Untitled room"
    return status, body


TWIN_MARK = "\u200b"  # the store's uniqueness constraint refuses a true twin: a duplicate is kept marked


def _unmarked(value: Any) -> Any:
    """The reply as the broken server shows it: every marked slug back to the slug that was sent."""
    if isinstance(value, dict):
        return {
            k: v.rstrip(TWIN_MARK) if k == "slug" and isinstance(v, str) else _unmarked(v) for k, v in value.items()
        }
    return [_unmarked(v) for v in value] if isinstance(value, list) else value


def _twin_handlers(allowed: Callable[[Call], bool]) -> Handlers:
    """Handlers whose POST /rooms, when `allowed(call)`, creates a second room with a slug taken in the domain (kept
    marked in the store, whose constraint refuses a true twin), and whose every answer shows the slug as sent."""
    handlers: Handlers = {}

    def create(inner: Handler, call: Call) -> Reply:
        body = call.request.body or {}
        domain, slug = str(body.get("domain", "")), str(body.get("slug", ""))
        if call.account.room_with_slug(domain, slug) is None or not allowed(call):
            return inner(call)
        while call.account.room_with_slug(domain, slug) is not None:
            slug += TWIN_MARK
        return inner(_with_body(call, slug=slug))

    def shown(inner: Handler, call: Call) -> Reply:
        status, reply = inner(call)
        return status, _unmarked(reply)

    _patch(handlers, "createRoom", create)
    for operation_id in HANDLERS:
        _patch(handlers, operation_id, shown)
    return handlers


def duplicate_slug_accepted() -> Flask:
    """The same slug again in the same domain creates a second room (duplicate-slug-refused)."""
    return _app(_twin_handlers(lambda call: True))


@_variant("createRoom")
def existing_code_overwritten(inner: Handler, call: Call) -> Reply:
    """POST /rooms with a taken code replaces that room (existing-code-refused)."""
    code = (call.request.body or {}).get("code")
    if isinstance(code, str) and code in call.account.rooms:
        call.account.rooms.pop(code)
    return inner(call)


@_variant("addUserRoom")
def association_not_listed(inner: Handler, call: Call) -> Reply:
    """POST /users/{id}/rooms leaves the room out of the user's rooms (association-listed-for-user)."""
    status, body = inner(call)
    code = (call.request.body or {}).get("code")
    if status == 200:
        body = {"data": [r for r in body["data"] if r["code"] != code]}
    return status, body


@_variant("addUserRoom")
def association_not_a_provider(inner: Handler, call: Call) -> Reply:
    """The association is answered but the user never joins the providers list (association-makes-provider)."""
    return _providers_kept(inner, call, (call.request.body or {}).get("code", ""))


@_variant("removeUserRoom")
def delete_keeps_provider(inner: Handler, call: Call) -> Reply:
    """DELETE /users/{id}/rooms/{room_code} answers 200 but the user stays a provider (association-makes-provider)."""
    return _providers_kept(inner, call, call.request.path["room_code"])


@_variant("addUserRoom")
def default_not_exclusive(inner: Handler, call: Call) -> Reply:
    """default=true leaves the other rooms default too (default-room-exclusive)."""
    status, body = inner(call)
    if status == 200 and (call.request.body or {}).get("default"):
        for room in body["data"]:
            room["default"] = True
    return status, body


@_variant("listRooms")
def page_ignores_limit(inner: Handler, call: Call) -> Reply:
    """GET /rooms returns limit + 1 items (page-within-limit)."""
    query = dict(call.request.query)
    limit = query.pop("limit", None)
    if limit is not None:
        query["limit"] = min(limit + 1, 100)
    return inner(_with_query(call, query))


@_variant("listRooms")
def pages_overlap(inner: Handler, call: Call) -> Reply:
    """Page n starts one item early, so neighbouring pages share an item (pages-partition-list)."""
    query = dict(call.request.query)
    if "limit" in query and query.get("page", 1) > 1:
        query["start"] = (query.pop("page") - 1) * query["limit"] - 1
    return inner(_with_query(call, query))


@_variant("listRooms")
def page_past_end_not_empty(inner: Handler, call: Call) -> Reply:
    """A page past the end repeats the first page (page-past-end-empty)."""
    status, body = inner(call)
    if status == 200 and not body["data"] and call.request.query.get("page", 1) > 1:
        query = {**call.request.query, "page": 1}
        return inner(_with_query(call, query))
    return status, body


@_variant("getRoomQueue")
def queue_overflow(inner: Handler, call: Call) -> Reply:
    """before_me is larger than the queue (queue-arithmetic)."""
    status, body = inner(call)
    if status == 200:
        body = {"data": {**body["data"], "before_me": body["data"]["length"] + 1}}
    return status, body


@_variant("getRoom")
def unknown_room_found(inner: Handler, call: Call) -> Reply:
    """An unknown room code answers 200 with a made-up room (unknown-resource-is-4xx)."""
    try:
        return inner(call)
    except Refusal:
        first = copy.deepcopy(next(iter(call.account.rooms.values())))
        return 200, {"data": {**first, "code": call.request.path["code"]}}


def token_not_checked() -> Flask:
    """Writes succeed without a valid token (writes-need-admin-token)."""
    app = _app()
    token = runtime(app).store.default_account.admin_token
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["HTTP_X_APITOKEN"] = token
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


@_variant("getRoomQueue")
def reads_need_token(inner: Handler, call: Call) -> Reply:
    """The public reads demand a token (public-reads-need-no-token)."""
    raise Refusal(401, "Token required")


@_variant("listRooms")
def crash_on_search(inner: Handler, call: Call) -> Reply:
    """A search keyword makes GET /rooms fail with 500 (no-5xx)."""
    if "q" in call.request.query:
        raise Refusal(500, "search backend down")
    return inner(call)


# ---------------------------------------------------------------- faults only a cross-side check sees


def _created_rooms(handlers: Handlers) -> set[tuple[str, str]]:
    """Patch POST /rooms to note (account, code) of every room it creates from now on; return that (live) set."""
    created: set[tuple[str, str]] = set()

    def note(inner: Handler, call: Call) -> Reply:
        status, body = inner(call)
        if status == 200:
            created.add((call.account.code, body["data"]["code"]))
        return status, body

    _patch(handlers, "createRoom", note)
    return created


def _path_user(call: Call) -> str:
    """The user a /users/{id}/... call is about (`-` is the token's user)."""
    user_id: str = call.request.path["id"]
    return (call.token_user or "") if user_id == "-" else user_id


def v4_misses_new_rooms() -> Flask:
    """GET /api_v4/rooms/{code} answers 404 for rooms created during the run (created-room-readable-and-listed)."""
    handlers: Handlers = {}
    created = _created_rooms(handlers)

    def behaviour(inner: Handler, call: Call) -> Reply:
        code = call.request.path["code"]
        if request.path.startswith("/api_v4/") and (call.account.code, code) in created:
            raise Refusal(404, f"Room '{code}' not found.")
        return inner(call)

    _patch(handlers, "getRoom", behaviour)
    return _app(handlers)


def list_shows_slug_as_name() -> Flask:
    """GET /rooms shows the slug as the name of rooms created during the run (list-agrees-with-detail)."""
    handlers: Handlers = {}
    created = _created_rooms(handlers)

    def behaviour(inner: Handler, call: Call) -> Reply:
        status, body = inner(call)
        if status == 200:
            items = [
                {**r, "name": r["slug"]} if (call.account.code, r.get("code")) in created and "slug" in r else r
                for r in body["data"]
            ]
            body = {**body, "data": items}
        return status, body

    _patch(handlers, "listRooms", behaviour)
    return _app(handlers)


def provider_detail_outlives_removal() -> Flask:
    """GET /rooms/{code}/providers/{id} still finds a provider removed from the room (association-makes-provider)."""
    handlers: Handlers = {}
    removed: set[tuple[str, str, str]] = set()

    def remove(inner: Handler, call: Call) -> Reply:
        room = call.account.rooms.get(call.request.path["room_code"])
        before = list(room["provider_ids"]) if room else []
        status, body = inner(call)
        if room is not None and status == 200:
            removed.update((call.account.code, room["code"], p) for p in before if p not in room["provider_ids"])
        return status, body

    def get(inner: Handler, call: Call) -> Reply:
        code, provider_id = call.request.path["code"], call.request.path["id"]
        try:
            return inner(call)
        except Refusal as exc:
            known = code in call.account.rooms and provider_id in call.account.users
            if exc.status != 404 or not known or (call.account.code, code, provider_id) not in removed:
                raise
            return 200, {"data": provider_detail(call.account.users[provider_id])}

    _patch(handlers, "removeUserRoom", remove)
    _patch(handlers, "getRoomProvider", get)
    return _app(handlers)


def user_rooms_only_latest() -> Flask:
    """POST /users/{id}/rooms omits the user's earlier associations of the run (association-listed-for-user)."""
    handlers: Handlers = {}
    associated: set[tuple[str, str, str]] = set()

    def behaviour(inner: Handler, call: Call) -> Reply:
        status, body = inner(call)
        if status != 200:
            return status, body
        user, code = (call.account.code, _path_user(call)), (call.request.body or {})["code"]
        earlier = {c for a, u, c in associated if (a, u) == user and c != code}
        associated.add((*user, code))
        return status, {**body, "data": [r for r in body["data"] if r["code"] not in earlier]}

    _patch(handlers, "addUserRoom", behaviour)
    return _app(handlers)


def pages_miss_new_rooms() -> Flask:
    """Paged GET /rooms (with `limit`) never shows rooms created during the run (pages-partition-list)."""
    handlers: Handlers = {}
    created = _created_rooms(handlers)

    def behaviour(inner: Handler, call: Call) -> Reply:
        if "limit" not in call.request.query:
            return inner(call)
        account = copy.copy(call.account)  # the same state, but the rooms dict as it was at start
        account.rooms = Rows((c, r) for c, r in call.account.rooms.items() if (account.code, c) not in created)
        return inner(Call(account, call.request, call.token_user))

    _patch(handlers, "listRooms", behaviour)
    return _app(handlers)


def form_slugs_not_unique() -> Flask:
    """A slug taken by a room created from a form can be created again (duplicate-slug-refused)."""
    from_form: set[tuple[str, str]] = set()

    def twin_of_form_room(call: Call) -> bool:
        body = call.request.body or {}
        twin = call.account.room_with_slug(str(body.get("domain", "")), str(body.get("slug", "")))
        return twin is not None and (call.account.code, twin["code"]) in from_form

    def note(inner: Handler, call: Call) -> Reply:
        status, reply = inner(call)
        if status == 200 and call.request.media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            from_form.add((call.account.code, reply["data"]["code"]))
        return status, reply

    handlers = _twin_handlers(twin_of_form_room)
    _patch(handlers, "createRoom", note)
    return _app(handlers)


def refused_association_applied() -> Flask:
    """POST /users/{id}/rooms refused for its token still makes the association (refused-write-changes-nothing)."""
    app = _app()
    state = runtime(app)
    header = state.contract.spec.security_header()
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            endpoint, args = app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return inner(environ, start_response)
        headers = EnvironHeaders(environ)
        account = state.store.account(headers.get("X-AccountCode", "").strip())
        if environ["REQUEST_METHOD"] != "POST" or not endpoint.startswith("addUserRoom@") or account is None:
            return inner(environ, start_response)
        if headers.get(header) == account.admin_token:  # a call the mock accepts: nothing to break
            return inner(environ, start_response)
        raw = Request(environ).get_data()  # read once, so the refused call and the replay both see the body
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.update({"wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))})
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = b"".join(inner(environ, capture))
        if captured.get("status", "")[:3] in ("401", "403"):
            token_key = "HTTP_" + header.upper().replace("-", "_")
            replay = {**environ, token_key: account.admin_token, "wsgi.input": io.BytesIO(raw)}
            # the view alone: no journal entry, no log line, answer dropped
            with app.request_context(replay), contextlib.suppress(HTTPException):
                app.view_functions[endpoint](**args)
        return [body]

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def removal_forgets_other_rooms() -> Flask:
    """Removing one association also drops the user from the run's other rooms (association-makes-provider)."""
    handlers: Handlers = {}
    created = _created_rooms(handlers)

    def behaviour(inner: Handler, call: Call) -> Reply:
        status, body = inner(call)
        if status != 200:
            return status, body
        account, user_id, code = call.account, _path_user(call), call.request.path["room_code"]
        for room in account.rooms.values():
            if room["code"] != code and (account.code, room["code"]) in created and user_id in room["provider_ids"]:
                modified = room["modified"]  # silently: the room does not even look modified
                account.set_providers(room, [p for p in room["provider_ids"] if p != user_id])
                room["modified"] = modified
                if account.defaults.get(user_id) == room["code"]:
                    del account.defaults[user_id]
        return status, body

    _patch(handlers, "removeUserRoom", behaviour)
    return _app(handlers)


# ---------------------------------------------------------------- schema promises


@_variant("getRoomQueue")
def queue_status_201(inner: Handler, call: Call) -> Reply:
    """GET /rooms/{code}/queue answers 201, a status the contract does not declare for it (response-schema)."""
    status, body = inner(call)
    return (201 if status == 200 else status), body


@_variant("listRooms")
def list_item_without_code(inner: Handler, call: Call) -> Reply:
    """GET /rooms items lack the required `code` (response-schema)."""
    status, body = inner(call)
    return status, {**body, "data": [{k: v for k, v in r.items() if k != "code"} for r in body["data"]]}


@_variant("getRoomProvider")
def provider_id_as_number(inner: Handler, call: Call) -> Reply:
    """GET /rooms/{code}/providers/{id} sends the id as a JSON number (response-schema)."""
    status, body = inner(call)
    return (status, {"data": {**body["data"], "id": int(body["data"]["id"])}}) if status == 200 else (status, body)


def queue_as_text() -> Flask:
    """GET /rooms/{code}/queue answers text/plain (a JSON API must say application/json)."""
    return _rewrite_body(_app(), lambda m, p: p.endswith("/queue"), lambda b: b, content_type="text/plain")


def error_without_message() -> Flask:
    """Errors come as `{"error": ...}` instead of `{"code", "message"}` (response-schema: the `Error` schema of every 4XX)."""

    def edit(raw: bytes) -> bytes:
        body = json.loads(raw)
        return json.dumps({"error": body["message"]}).encode() if "message" in body else raw

    return _rewrite_body(_app(), lambda m, p: "/rooms/" in p, edit)


# ---------------------------------------------------------------- issue 22: the fault classes and their neighbours


def _with_body(call: Call, **changes: Any) -> Call:
    body = {**(call.request.body or {}), **changes}
    return Call(call.account, dataclasses.replace(call.request, body=body), call.token_user)


def _create_with_name(transform: Callable[[str], str]) -> Behaviour:
    def behaviour(inner: Handler, call: Call) -> Reply:
        name = (call.request.body or {}).get("name")
        return inner(_with_body(call, name=transform(name)) if isinstance(name, str) else call)

    return behaviour


def _named(factory: Callable[[], Flask], name: str, doc: str) -> Callable[[], Flask]:
    factory.__name__, factory.__doc__ = name, doc
    return factory


def _create_variant(name: str, transform: Callable[[str], str], doc: str) -> Callable[[], Flask]:
    """A mock whose POST /rooms stores `transform(name)` instead of the name sent."""

    def factory() -> Flask:
        handlers: Handlers = {}
        _patch(handlers, "createRoom", _create_with_name(transform))
        return _app(handlers)

    return _named(factory, name, doc)


# data fidelity: a name (or slug) stored or shown as another text than the one sent
names_html_escaped = _create_variant(
    "names_html_escaped", html.escape, "POST /rooms stores the name HTML-escaped (created-room-echoes-input)."
)
names_whitespace_collapsed = _create_variant(
    "names_whitespace_collapsed",
    lambda name: " ".join(name.split()),
    "POST /rooms trims the name and collapses its inner spaces (created-room-echoes-input).",
)
names_truncated = _create_variant(
    "names_truncated",
    lambda name: name[:64],
    "POST /rooms keeps the first 64 characters of a name (created-room-echoes-input).",
)
names_backslash_escaped = _create_variant(
    "names_backslash_escaped",
    lambda name: name.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"'),
    "POST /rooms stores quotes and backslashes escaped, as PHP's addslashes (created-room-echoes-input).",
)


@_variant("createRoom")
def slugs_ascii_folded(inner: Handler, call: Call) -> Reply:
    """POST /rooms stores a slug with its non-ASCII letters folded to ASCII (created-room-echoes-input)."""
    slug = (call.request.body or {}).get("slug")
    if not isinstance(slug, str):
        return inner(call)
    folded = unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode()
    return inner(_with_body(call, slug=folded or slug))


@_variant("listRooms")
def list_names_mojibake(inner: Handler, call: Call) -> Reply:
    """GET /rooms shows names as UTF-8 read as Latin-1 (list-agrees-with-detail)."""
    status, body = inner(call)
    if status != 200:
        return status, body
    rooms = [{**r, "name": r["name"].encode().decode("latin-1")} if "name" in r else r for r in body["data"]]
    return status, {**body, "data": rooms}


@_variant("addUserRoom")
def user_rooms_names_ascii(inner: Handler, call: Call) -> Reply:
    """POST /users/{id}/rooms lists the user's rooms with ASCII-folded names (list-agrees-with-detail)."""
    status, body = inner(call)
    if status != 200:
        return status, body

    def fold(name: str) -> str:
        return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()

    return status, {**body, "data": [{**r, "name": fold(r["name"])} if "name" in r else r for r in body["data"]]}


# pagination: pages of every size, with and without `page`
@_variant("listRooms")
def last_page_drops_last(inner: Handler, call: Call) -> Reply:
    """A short last page (fewer than `limit` rooms) loses its last room (pages-partition-list)."""
    status, body = inner(call)
    limit = call.request.query.get("limit")
    if status == 200 and limit and 0 < len(body["data"]) < limit:
        return status, {**body, "data": body["data"][:-1]}
    return status, body


@_variant("listRooms")
def limit_ignored_without_page(inner: Handler, call: Call) -> Reply:
    """`limit` is applied only together with `page`: GET /rooms?limit=n alone is the whole list (page-within-limit)."""
    query = call.request.query
    if "limit" in query and "page" not in query and "start" not in query:
        return inner(_with_query(call, {k: v for k, v in query.items() if k != "limit"}))
    return inner(call)


@_variant("listRooms")
def last_page_padded(inner: Handler, call: Call) -> Reply:
    """A short last page is filled up to `limit` with rooms of the page before (pages-partition-list)."""
    status, body = inner(call)
    query = call.request.query
    limit, total = query.get("limit"), body.get("total_count", 0) if status == 200 else 0
    if status == 200 and limit and query.get("page", 1) > 1 and 0 < len(body["data"]) < limit:
        return inner(_with_query(call, {k: v for k, v in query.items() if k != "page"} | {"start": total - limit}))
    return status, body


@_variant("listRooms")
def pages_skip_one(inner: Handler, call: Call) -> Reply:
    """Page n > 1 starts one room late, so a room at each page boundary is on no page (pages-partition-list)."""
    query = dict(call.request.query)
    if "limit" in query and query.get("page", 1) > 1:
        query["start"] = (query.pop("page") - 1) * query["limit"] + 1
    return inner(_with_query(call, query))


# associations: a removed room stays gone, and the default moves only when asked
def removed_room_still_in_user_rooms() -> Flask:
    """POST /users/{id}/rooms still lists rooms the user was removed from (association-listed-for-user)."""
    handlers: Handlers = {}
    removed: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    def remove(inner: Handler, call: Call) -> Reply:
        room = copy.deepcopy(call.account.rooms.get(call.request.path["room_code"]))
        status, body = inner(call)
        if status == 200 and room is not None:
            removed.setdefault((call.account.code, _path_user(call)), {})[room["code"]] = room
        return status, body

    def add(inner: Handler, call: Call) -> Reply:
        status, body = inner(call)
        if status != 200:
            return status, body
        listed = {r["code"] for r in body["data"]}
        ghosts = removed.get((call.account.code, _path_user(call)), {})
        extra = [{"_id": r["id"], **r, "default": False} for c, r in ghosts.items() if c not in listed]
        return status, {**body, "data": [*body["data"], *extra]}

    _patch(handlers, "removeUserRoom", remove)
    _patch(handlers, "addUserRoom", add)
    return _app(handlers)


@_variant("addUserRoom")
def association_steals_default(inner: Handler, call: Call) -> Reply:
    """Every association makes its room the user's default, asked or not (default-moves-only-when-asked)."""
    return inner(_with_body(call, default=True))


@_variant("addUserRoom")
def default_false_clears_default(inner: Handler, call: Call) -> Reply:
    """default=false on another room takes the default away from the user's default room
    (default-moves-only-when-asked)."""
    status, body = inner(call)
    user = _path_user(call)
    if status == 200 and (call.request.body or {}).get("default") is False and user in call.account.defaults:
        del call.account.defaults[user]
        body = {**body, "data": [{**r, "default": False} for r in body["data"]]}
    return status, body


@_variant("removeUserRoom")
def removal_clears_default(inner: Handler, call: Call) -> Reply:
    """Removing any of a user's rooms leaves the user without a default room (default-moves-only-when-asked)."""
    status, body = inner(call)
    user = _path_user(call)
    if status == 200 and user in call.account.defaults:
        del call.account.defaults[user]
    return status, body


# authentication: only the exact admin token in X-ApiToken writes
def _token_rewritten(accepts: Callable[[str | None, dict[str, Any], str], bool]) -> Flask:
    """The mock, but a write whose credentials `accepts(header value, environ, admin token)` passes as the admin's."""
    app = _app()
    state = runtime(app)
    key = "HTTP_" + state.contract.spec.security_header().upper().replace("-", "_")
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        account = state.store.account(str(environ.get("HTTP_X_ACCOUNTCODE", "")).strip())
        writing = environ["REQUEST_METHOD"] in ("POST", "DELETE")
        if account is not None and writing and accepts(environ.get(key), environ, account.admin_token):
            environ[key] = account.admin_token
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


empty_token_accepted = _named(
    lambda: _token_rewritten(lambda sent, env, token: sent is not None and not sent.strip()),
    "empty_token_accepted",
    "An empty X-ApiToken writes as the admin (only-the-exact-token-writes).",
)
token_prefix_accepted = _named(
    lambda: _token_rewritten(lambda sent, env, token: bool(sent and token.startswith(sent[:8]))),
    "token_prefix_accepted",
    "A token whose first 8 characters match writes as the admin (only-the-exact-token-writes).",
)
token_case_insensitive = _named(
    lambda: _token_rewritten(lambda sent, env, token: sent is not None and sent.lower() == token.lower()),
    "token_case_insensitive",
    "The token is compared ignoring letter case (only-the-exact-token-writes).",
)
token_whitespace_ignored = _named(
    lambda: _token_rewritten(lambda sent, env, token: sent is not None and "".join(sent.split()) == token),
    "token_whitespace_ignored",
    "Whitespace inside the token is removed before it is compared (only-the-exact-token-writes).",
)
token_in_query_accepted = _named(
    lambda: _token_rewritten(
        lambda sent, env, token: token in [v for k, v in parse_qsl(env.get("QUERY_STRING", "")) if "token" in k.lower()]
    ),
    "token_in_query_accepted",
    "The admin token in the query string (`?api_token=`) writes as the admin (only-the-exact-token-writes).",
)
bearer_token_accepted = _named(
    lambda: _token_rewritten(lambda sent, env, token: env.get("HTTP_AUTHORIZATION", "") == f"Bearer {token}"),
    "bearer_token_accepted",
    "The admin token in `Authorization: Bearer` writes as the admin (only-the-exact-token-writes).",
)


# secrets: the admin token never comes back
@_variant("createRoom")
def token_in_created_room(inner: Handler, call: Call) -> Reply:
    """POST /rooms answers the room with the admin token inside it (admin-token-never-in-answers)."""
    status, body = inner(call)
    if status == 200:
        body = {"data": {**body["data"], "api_token": call.account.admin_token}}
    return status, body


@_variant("listRooms")
def token_in_list(inner: Handler, call: Call) -> Reply:
    """GET /rooms, a public read, shows the admin token of each room's account (admin-token-never-in-answers)."""
    status, body = inner(call)
    if status == 200:
        body = {**body, "data": [{**r, "owner_token": call.account.admin_token} for r in body["data"]]}
    return status, body


def _leaking(status_prefix: tuple[str, ...], header: str | None, in_message: bool) -> Flask:
    app = _app()
    state = runtime(app)
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        account = state.store.account(str(environ.get("HTTP_X_ACCOUNTCODE", "")).strip())
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)

        body = b"".join(inner(environ, capture))
        headers = list(captured["headers"])
        if account is not None and captured["status"].startswith(status_prefix):
            if header is not None:
                headers.append((header, account.admin_token))
            if in_message and body:
                reply = json.loads(body)
                reply["message"] = f"{reply.get('message', '')} (expected token {account.admin_token})"
                body = json.dumps(reply).encode()
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


token_in_header = _named(
    lambda: _leaking(("2",), "X-Debug-Token", False),
    "token_in_header",
    "Every successful answer carries the admin token in an X-Debug-Token header (admin-token-never-in-answers).",
)
token_in_refusal = _named(
    lambda: _leaking(("401", "403"), None, True),
    "token_in_refusal",
    "A write refused for its token says which token was expected (admin-token-never-in-answers).",
)


# concurrency: a check, a gap, then the write — as a server without a constraint does it
RACE_GAP = 0.15  # seconds between the check and the write: wide enough for parallel requests to all pass the check
CHECKED_FREE = "broken_mocks.checked_free"


def _sub_get(inner: Callable[..., Any], environ: dict[str, Any], path: str, query: str = "") -> Any:
    """A GET through the app itself (the check of a check-then-write), with the caller's account."""
    probe = {
        **environ,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
    }
    probe.pop("CONTENT_TYPE", None)
    answer = b"".join(inner(probe, lambda status, headers, exc_info=None: None))
    return json.loads(answer).get("data") if answer else None


def _form_or_json(environ: dict[str, Any]) -> dict[str, Any]:
    """The request body's fields (JSON or a form), leaving the body readable for the app."""
    raw = Request(environ).get_data()
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.update({"wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))})
    parsed = Request({**environ, "wsgi.input": io.BytesIO(raw)})
    if parsed.mimetype == "application/json":
        decoded = json.loads(raw or b"null")
        return decoded if isinstance(decoded, dict) else {}
    return dict(parsed.form)


def _racy(app: Flask, match: Callable[[dict[str, Any]], str | None], free: Callable[[Any, str], bool]) -> Flask:
    """Wrap `app`: a matching write first checks (a GET of the path `match` gives) whether it is free to go, waits
    RACE_GAP, then goes on carrying the check's verdict for the handler."""
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        probe = match(environ)
        if probe is not None:
            path, _, query = probe.partition("?")
            environ[CHECKED_FREE] = free(_sub_get(inner, environ, path, query), environ.get("broken_mocks.user", ""))
            time.sleep(RACE_GAP)
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def slug_check_then_insert() -> Flask:
    """POST /rooms checks the slug is free, then inserts without a uniqueness constraint: one create at a time is
    refused correctly, parallel creates of one slug all succeed (concurrent-creates-one-wins)."""
    handlers = _twin_handlers(lambda call: bool(request.environ.get(CHECKED_FREE)))

    def match(environ: dict[str, Any]) -> str | None:
        if environ["REQUEST_METHOD"] != "POST" or not environ["PATH_INFO"].rstrip("/").endswith("/api_v3/rooms"):
            return None
        fields = _form_or_json(environ)
        return f"/api_v3/rooms?{urlencode({'domain': fields.get('domain', ''), 'slug': fields.get('slug', '')})}"

    return _racy(_app(handlers), match, lambda rooms, user: not rooms)


def association_check_then_append() -> Flask:
    """POST /users/{id}/rooms checks whether the user is already a provider, then appends without a constraint:
    parallel associations of one user with one room list the user several times (concurrent-associations-converge)."""
    handlers: Handlers = {}

    def add(inner: Handler, call: Call) -> Reply:
        room = call.account.rooms.get(str((call.request.body or {}).get("code", "")))
        user = _path_user(call)
        already = room is not None and user in room["provider_ids"]
        status, body = inner(call)
        if status == 200 and room is not None and already and request.environ.get(CHECKED_FREE):
            call.account.set_providers(room, [*room["provider_ids"], user])
        return status, body

    _patch(handlers, "addUserRoom", add)

    def match(environ: dict[str, Any]) -> str | None:
        path = environ["PATH_INFO"].rstrip("/")
        if environ["REQUEST_METHOD"] != "POST" or "/users/" not in path:
            return None
        environ["broken_mocks.user"] = path.split("/users/")[1].split("/")[0]
        return f"/api_v3/rooms/{_form_or_json(environ).get('code', '')}/providers"

    def free(providers: Any, user: str) -> bool:
        return isinstance(providers, list) and all(str(p.get("id")) != user for p in providers)

    return _racy(_app(handlers), match, free)


def lists_lag_past_window() -> Flask:
    """GET /rooms and the providers lists come from a cache that keeps each answer for 60 s, far past any
    consistency window: a write the lists never show in time (created-room-readable-and-listed)."""
    from helpers.benign_variants import lagging_lists  # the benign cache, with a lag no window forgives

    return lagging_lists(lag_ms=60_000)


# ---------------------------------------------------------------- not rule breaches: for the plugin's own tests


def leaky_errors() -> Flask:
    """Error bodies echo the caller's token and carry a string `code`: the suite must fail without printing it."""

    def edit_for(environ: dict[str, Any]) -> Callable[[bytes], bytes]:
        def edit(raw: bytes) -> bytes:
            body = json.loads(raw)
            if "message" not in body:
                return raw
            token = environ.get("HTTP_X_APITOKEN", "")
            return json.dumps({"code": str(body["code"]), "message": f"{body['message']} (token {token})"}).encode()

        return edit

    app = _app()
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        wrapped = Flask("leaky")
        wrapped.wsgi_app = inner  # type: ignore[method-assign]
        return _rewrite_body(wrapped, lambda m, p: True, edit_for(environ)).wsgi_app(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def flaky_503() -> Flask:
    """One API call in five answers 503 (the mock's own --error-rate): transient server errors, to be reported as
    `[no-5xx]` wherever they come (discovery and set-up included), never as a crash of the suite."""
    return create_app({"strict": False, "seed": 7, "error_rate": 0.2})


def empty_clinic() -> Flask:
    """A clinic with one user and no rooms: discovery finds nothing, so rules that need a room are skipped."""
    root = Path(tempfile.mkdtemp(prefix="empty-clinic-"))
    (root / "accounts").mkdir()
    source = yaml.safe_load((DEFAULT_FIXTURES / "accounts" / "vclinic.yaml").read_text())
    admin = next(u for u in source["users"] if u["id"] == source["account"]["admin_user_id"])
    empty = {"account": source["account"], "users": [admin], "rooms": [], "queues": {}, "defaults": {}}
    (root / "accounts" / "vclinic.yaml").write_text(yaml.safe_dump(empty))
    return create_app({"fixtures_dir": root, "seed": 7})


VARIANTS: dict[str, Callable[[], Flask]] = {
    f.__name__: f
    for f in (
        wrong_room,
        create_not_stored,
        create_ignores_name,
        duplicate_slug_accepted,
        existing_code_overwritten,
        association_not_listed,
        association_not_a_provider,
        delete_keeps_provider,
        default_not_exclusive,
        page_ignores_limit,
        pages_overlap,
        page_past_end_not_empty,
        queue_overflow,
        unknown_room_found,
        token_not_checked,
        reads_need_token,
        crash_on_search,
        queue_status_201,
        list_item_without_code,
        provider_id_as_number,
        queue_as_text,
        error_without_message,
        v4_misses_new_rooms,
        list_shows_slug_as_name,
        provider_detail_outlives_removal,
        user_rooms_only_latest,
        pages_miss_new_rooms,
        form_slugs_not_unique,
        refused_association_applied,
        removal_forgets_other_rooms,
        names_html_escaped,
        names_whitespace_collapsed,
        names_truncated,
        names_backslash_escaped,
        slugs_ascii_folded,
        list_names_mojibake,
        user_rooms_names_ascii,
        last_page_drops_last,
        limit_ignored_without_page,
        last_page_padded,
        pages_skip_one,
        removed_room_still_in_user_rooms,
        association_steals_default,
        default_false_clears_default,
        removal_clears_default,
        empty_token_accepted,
        token_prefix_accepted,
        token_case_insensitive,
        token_whitespace_ignored,
        token_in_query_accepted,
        bearer_token_accepted,
        token_in_created_room,
        token_in_list,
        token_in_header,
        token_in_refusal,
        slug_check_then_insert,
        association_check_then_append,
        lists_lag_past_window,
    )
}
