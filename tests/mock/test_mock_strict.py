"""Strict mode: the mock judges its own answers with the contract core, so a wrong handler cannot go unnoticed.

Each broken handler below breaks one named rule. With strict on, the call must become a 500 whose message names
that rule; with strict off, the broken answer goes out exactly as the handler returned it (strict is the only
thing standing between a mock bug and a frontend built on it). Then a broad set of real calls is judged by
`Contract.judge` directly, on an app that does not judge itself.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mock_server import create_app, handlers
from mock_server.handlers import Call

from helpers.mock_api import AUTH, CONTRACT, WELL_TOKEN, body_kwargs, judge

Handler = Callable[[Call], tuple[int, Any]]
# (operationId, broken handler, method, url, client kwargs, the rule strict mode must name)
BrokenCase = tuple[str, Handler, str, str, dict[str, Any], str]


def queue_breaking_arithmetic(call: Call) -> tuple[int, Any]:
    return 200, {"data": {"length": 2, "capacity": 10, "average_visit_time": 600, "before_me": 5}}


def room_other_than_asked(call: Call) -> tuple[int, Any]:
    other = "b4vjj" if call.request.path["code"] != "b4vjj" else "ceproom1"
    return 200, {"data": copy.deepcopy(call.account.rooms[other])}


def provider_without_email(call: Call) -> tuple[int, Any]:
    user = {k: v for k, v in call.account.users[call.request.path["id"]].items() if k not in ("email", "photo")}
    return 200, {"data": user}


def provider_other_than_asked(call: Call) -> tuple[int, Any]:
    user = {k: v for k, v in call.account.users["401"].items() if k != "photo"}
    return 200, {"data": user}


def list_summaries_without_slug(call: Call) -> tuple[int, Any]:
    rooms = [{k: r[k] for k in ("name", "domain", "code", "created", "modified")} for r in call.account.rooms.values()]
    return 200, {"data": rooms}


def list_ignoring_limit(call: Call) -> tuple[int, Any]:
    query = {k: v for k, v in call.request.query.items() if k not in ("limit", "page")}
    return handlers.list_rooms(dataclasses.replace(call, request=dataclasses.replace(call.request, query=query)))


def create_renaming_the_room(call: Call) -> tuple[int, Any]:
    status, body = handlers.create_room(call)
    return status, {"data": {**body["data"], "name": "Not what was sent"}}


def add_user_room_listing_nothing(call: Call) -> tuple[int, Any]:
    handlers.add_user_room(call)
    return 200, {"data": []}


def add_user_room_without_ids(call: Call) -> tuple[int, Any]:
    status, body = handlers.add_user_room(call)
    return status, {"data": [{k: v for k, v in room.items() if k not in ("_id", "id")} for room in body["data"]]}


def add_user_room_without_default(call: Call) -> tuple[int, Any]:
    status, body = handlers.add_user_room(call)
    return status, {"data": [{k: v for k, v in room.items() if k != "default"} for room in body["data"]]}


def error_without_message(call: Call) -> tuple[int, Any]:
    return 404, {"code": 404}


def remove_answering_a_list(call: Call) -> tuple[int, Any]:
    handlers.remove_user_room(call)
    return 200, []


BROKEN: list[BrokenCase] = [
    ("getRoomQueue", queue_breaking_arithmetic, "GET", "/api_v3/rooms/ceproom1/queue", {}, "queue-arithmetic"),
    ("getRoom", room_other_than_asked, "GET", "/api_v3/rooms/ceproom1", {}, "room-is-the-requested-one"),
    ("getRoom", room_other_than_asked, "GET", "/api_v4/rooms/room1_code", {}, "room-is-the-requested-one"),
    ("getRoomProvider", provider_without_email, "GET", "/api_v3/rooms/ceproom1/providers/826", {}, "response-schema"),
    (
        "getRoomProvider",
        provider_other_than_asked,
        "GET",
        "/api_v3/rooms/ceproom1/providers/826",
        {},
        "provider-is-the-requested-one",
    ),
    ("listRooms", list_summaries_without_slug, "GET", "/api_v3/rooms", {}, "response-schema"),
    ("listRooms", list_ignoring_limit, "GET", "/api_v3/rooms?limit=2", {}, "page-within-limit"),
    (
        "createRoom",
        create_renaming_the_room,
        "POST",
        "/api_v3/rooms",
        {"json": {"domain": "vclinic.vsee.me", "slug": "strict-1", "name": "Strict"}, "headers": AUTH},
        "created-room-echoes-input",
    ),
    (
        "addUserRoom",
        add_user_room_listing_nothing,
        "POST",
        "/api_v3/users/1002/rooms",
        {"data": {"code": "ceproom1"}, "content_type": "multipart/form-data", "headers": AUTH},
        "association-listed-for-user",
    ),
    (
        "addUserRoom",
        add_user_room_without_ids,
        "POST",
        "/api_v3/users/1002/rooms",
        {"json": {"code": "ceproom1"}, "headers": AUTH},
        "user-room-identified",
    ),
    (
        "addUserRoom",
        add_user_room_without_default,
        "POST",
        "/api_v3/users/1002/rooms",
        {"data": {"code": "ceproom1"}, "headers": AUTH},
        "default-flag-given",
    ),
    ("getRoomQueue", error_without_message, "GET", "/api_v3/rooms/ceproom1/queue", {}, "response-schema"),
    (
        "removeUserRoom",
        remove_answering_a_list,
        "DELETE",
        "/api_v3/users/401/rooms/ceproom1",
        {"headers": AUTH},
        "response-schema",
    ),
]
IDS = [f"{b[0]}-{b[1].__name__}" for b in BROKEN]


def _recording(handler: Handler, replies: list[tuple[int, Any]]) -> Handler:
    def recorded(call: Call) -> tuple[int, Any]:
        reply = handler(call)
        replies.append(copy.deepcopy(reply))
        return reply

    return recorded


def _call_broken(case: BrokenCase, strict: bool) -> tuple[TestResponse, list[tuple[int, Any]]]:
    """Build the mock with the case's broken handler, make its call, and return the response and the handler's
    replies."""
    operation_id, broken, method, url, kwargs, _ = case
    replies: list[tuple[int, Any]] = []
    client = create_app({"strict": strict}, handlers={operation_id: _recording(broken, replies)}).test_client()
    return client.open(url, method=method, **copy.deepcopy(kwargs)), replies


@pytest.mark.parametrize("case", BROKEN, ids=IDS)
def test_strict_mode_turns_a_broken_answer_into_a_500_naming_the_rule(case: BrokenCase) -> None:
    """The broken handler is given to create_app; strict mode must catch what it answers."""
    resp, replies = _call_broken(case, strict=True)
    rule = case[-1]
    assert len(replies) == 1, "the broken handler ran"
    assert resp.status_code == 500, (resp.status_code, resp.get_json())
    body = resp.get_json()
    assert set(body) == {"code", "message"} and body["code"] == 500
    assert f"[{rule}]" in body["message"], body["message"]


@pytest.mark.parametrize("case", BROKEN, ids=IDS)
def test_without_strict_the_broken_answer_goes_out_unchanged(case: BrokenCase) -> None:
    """strict=False is a pass-through: same status, same body as the handler returned."""
    resp, replies = _call_broken(case, strict=False)
    assert len(replies) == 1
    status, body = replies[0]
    assert resp.status_code == status
    assert resp.get_json() == body


def test_strict_is_on_by_default() -> None:
    """`create_app()` without options must protect frontends: strict is the default."""
    app = create_app(handlers={"getRoomQueue": queue_breaking_arithmetic})
    resp = app.test_client().get("/api_v3/rooms/ceproom1/queue")
    assert resp.status_code == 500
    assert "[queue-arithmetic]" in resp.get_json()["message"]


# ------------------------------------------------------------------ every real answer satisfies the contract

Exchange = tuple[str, str, str, dict[str, str], dict[str, Any], dict[str, Any] | None, dict[str, Any]]


def _exchanges() -> list[Exchange]:
    """(operationId, method, url, path params, typed query, sent body, client kwargs) for a broad set of calls."""
    vc, well = {"X-AccountCode": "vclinic"}, {"X-AccountCode": "wellclinic"}
    out: list[Exchange] = []
    for query, typed in [
        ("", {}),
        ("limit=2", {"limit": 2}),
        ("page=2&limit=2", {"page": 2, "limit": 2}),
        ("page=50&limit=3", {"page": 50, "limit": 3}),
        ("start=1&limit=1", {"start": 1, "limit": 1}),
        ("limit=101", {}),
        ("q=room&sort=name.desc&fields=id,active", {}),
        ("q=ab", {}),
        ("slug=ceproom1", {}),
        ("domain=vclinic.vsee.me&code=b4vjj", {}),
    ]:
        out.append(("listRooms", "GET", f"/api_v3/rooms?{query}", {}, typed, None, {}))
    out.append(("listRooms", "GET", "/api_v3/rooms", {}, {}, None, {"headers": well}))
    out.append(("listRooms", "GET", "/api_v3/rooms", {}, {}, None, {"headers": {"X-AccountCode": "nobody"}}))
    for code in ["b4vjj", "room1_code", "ceproom1", "example-room-code", "sandbox", "jstq9", "nope"]:
        params = {"code": code}
        for base in ("/api_v3", "/api_v4"):
            out.append(("getRoom", "GET", f"{base}/rooms/{code}", params, {}, None, {"headers": vc}))
        out.append(("listRoomProviders", "GET", f"/api_v3/rooms/{code}/providers", params, {}, None, {}))
        out.append(("getRoomQueue", "GET", f"/api_v3/rooms/{code}/queue", params, {}, None, {}))
        for provider in ["826", "401", "85741", "1002", "1003", "999"]:
            p = {"code": code, "id": provider}
            out.append(("getRoomProvider", "GET", f"/api_v3/rooms/{code}/providers/{provider}", p, {}, None, {}))
    for code in ["uc7k2", "pd3m9", "dm8x1", "ps4q6", "cl0s3"]:
        out.append(("getRoom", "GET", f"/api_v4/rooms/{code}", {"code": code}, {}, None, {"headers": well}))
        out.append(("getRoomQueue", "GET", f"/api_v3/rooms/{code}/queue", {"code": code}, {}, None, {"headers": well}))
    extras: list[tuple[str, dict[str, Any]]] = [
        ("json", {}),
        ("multipart", {"default": "true"}),
        ("form", {"code": "judged_code"}),
        ("json", {"default": False}),
    ]
    for i, (encoding, extra) in enumerate(extras):
        sent = {"domain": "vclinic.vsee.me", "slug": f"judged-{i}", "name": f"Judged {i}", **extra}
        out.append(("createRoom", "POST", "/api_v3/rooms", {}, {}, sent, body_kwargs(encoding, sent, AUTH)))
    dup = {"domain": "vclinic.vsee.me", "slug": "judged-0", "name": "Again"}
    out.append(("createRoom", "POST", "/api_v3/rooms", {}, {}, dup, body_kwargs("multipart", dup, AUTH)))
    code_taken = {"domain": "vclinic.vsee.me", "slug": "judged-x", "name": "X", "code": "ceproom1"}
    out.append(("createRoom", "POST", "/api_v3/rooms", {}, {}, code_taken, body_kwargs("json", code_taken, AUTH)))
    out.append(("createRoom", "POST", "/api_v3/rooms", {}, {}, None, body_kwargs("json", dup, {})))
    out.append(
        ("createRoom", "POST", "/api_v3/rooms", {}, {}, None, body_kwargs("json", dup, {"X-ApiToken": WELL_TOKEN}))
    )
    out.append(("createRoom", "POST", "/api_v3/rooms", {}, {}, None, body_kwargs("json", {"slug": "x"}, AUTH)))
    for user, code, encoding in [
        ("1002", "ceproom1", "multipart"),
        ("-", "sandbox", "form"),
        ("401", "b4vjj", "json"),
        ("999", "ceproom1", "json"),
        ("401", "nope", "form"),
    ]:
        sent = {"code": code}
        out.append(
            (
                "addUserRoom",
                "POST",
                f"/api_v3/users/{user}/rooms",
                {"id": user},
                {},
                sent,
                body_kwargs(encoding, sent, AUTH),
            )
        )
    default = {"code": "example-room-code", "default": "1"}
    out.append(
        (
            "addUserRoom",
            "POST",
            "/api_v3/users/826/rooms",
            {"id": "826"},
            {},
            None,
            body_kwargs("multipart", default, AUTH),
        )
    )
    for user, code, body in [
        ("1002", "ceproom1", {"code": "ceproom1"}),
        ("85741", "b4vjj", None),
        ("401", "room1_code", {"code": "b4vjj"}),
        ("401", "nope", None),
        ("999", "b4vjj", None),
    ]:
        kwargs = body_kwargs("form", body, AUTH)
        out.append(
            (
                "removeUserRoom",
                "DELETE",
                f"/api_v3/users/{user}/rooms/{code}",
                {"id": user, "room_code": code},
                {},
                body,
                kwargs,
            )
        )
    out.append(
        (
            "removeUserRoom",
            "DELETE",
            "/api_v3/users/401/rooms/ceproom1",
            {"id": "401", "room_code": "ceproom1"},
            {},
            None,
            {},
        )
    )
    for prefer in ["code=404", "example=docs_room1_partial", "code=409", "example=docs_generic"]:
        out.append(
            (
                "getRoom",
                "GET",
                "/api_v3/rooms/ceproom1",
                {"code": "ceproom1"},
                {},
                None,
                {"headers": {"Prefer": prefer}},
            )
        )
    return out


@pytest.mark.parametrize("strict", [False, True])
def test_every_answer_of_a_broad_session_satisfies_the_contract(strict: bool) -> None:
    """Judged from outside (strict off, so nothing is masked) and inside (strict on, so nothing becomes a 500)."""
    client: FlaskClient = create_app({"strict": strict, "seed": 11}).test_client()
    exchanges = _exchanges()
    operations_seen = set()
    for operation_id, method, url, params, query, sent, kwargs in exchanges:
        resp = client.open(url, method=method, **copy.deepcopy(kwargs))
        assert resp.status_code < 500, (method, url, resp.status_code, resp.get_json(silent=True))
        assert judge(operation_id, resp, params, query, sent) == [], (method, url, resp.get_json(silent=True))
        operations_seen.add(operation_id)
    assert operations_seen == set(CONTRACT.spec.operations)
