"""Plain helpers shared by the mock-server tests: the fixture accounts' constants, requests and checks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from vsee_contract import Contract

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = Contract.load()

# The two fixture accounts: vclinic (the default) and wellclinic, each with its admin token, user and domain.
VCLINIC, TOKEN, ADMIN, DOMAIN = "vclinic", "83ec6843c3af534c551ab609d869dd82", "85741", "vclinic.vsee.me"
WELL, WELL_TOKEN = "wellclinic", "5f2b9c0e7a1d4e3f8b6a9c2d1e0f7a3b"
WELL_ADMIN, WELL_DOMAIN = "20001", "wellclinic.vsee.me"
AUTH = {"X-ApiToken": TOKEN}
WELL_AUTH = {"X-ApiToken": WELL_TOKEN, "X-AccountCode": WELL}

# The three documented body encodings, and the Content-Type of the two form ones.
ENCODINGS = ["multipart", "form", "json"]
FORM_CONTENT_TYPES = {"multipart": "multipart/form-data", "form": "application/x-www-form-urlencoded"}


def body_kwargs(encoding: str, fields: Mapping[str, Any] | None, headers: Mapping[str, str]) -> dict[str, Any]:
    """Test-client keyword arguments sending `fields` (if any) in `encoding`; form encodings write booleans as
    `true`/`false`."""
    kwargs: dict[str, Any] = {"headers": dict(headers)}
    if fields is None:
        return kwargs
    if encoding == "json":
        kwargs["json"] = dict(fields)
    else:
        kwargs["data"] = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in fields.items()}
        kwargs["content_type"] = FORM_CONTENT_TYPES[encoding]
    return kwargs


def send(
    client: FlaskClient,
    method: str,
    path: str,
    fields: Mapping[str, Any] | None = None,
    encoding: str = "json",
    headers: Mapping[str, str] | None = None,
) -> TestResponse:
    """One API call (`path` under /api_v3) with `fields` as a body in `encoding`."""
    return client.open("/api_v3" + path, method=method, **body_kwargs(encoding, fields, headers or {}))


def create_room(
    client: FlaskClient, slug: str, encoding: str = "json", headers: Mapping[str, str] = AUTH, **extra: Any
) -> TestResponse:
    """POST /rooms for `slug` (domain vclinic.vsee.me and name `Room <slug>` unless given in `extra`)."""
    fields = {"domain": extra.pop("domain", DOMAIN), "slug": slug, "name": extra.pop("name", f"Room {slug}"), **extra}
    return send(client, "POST", "/rooms", fields, encoding, headers)


def judge(
    operation_id: str,
    resp: TestResponse,
    path: Mapping[str, str],
    query: Mapping[str, Any] | None = None,
    sent: Mapping[str, Any] | None = None,
) -> list[Any]:
    """What the contract core finds wrong with this exchange (an empty list when nothing)."""
    body = resp.get_json(silent=True) if resp.data else None
    return CONTRACT.judge(operation_id, resp.status_code, resp.content_type, body, path, query or {}, sent)


def assert_error(resp: TestResponse, status: int | None = None) -> dict[str, Any]:
    """The response is a JSON error `{"code": int, "message": str}` (with `status`, or any 4xx when None)."""
    assert resp.mimetype == "application/json", (resp.status_code, resp.content_type, resp.data[:200])
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"code", "message"}, body
    assert type(body["code"]) is int and isinstance(body["message"], str) and body["message"], body
    if status is None:
        assert 400 <= resp.status_code < 500, (resp.status_code, body)
    else:
        assert resp.status_code == status, (resp.status_code, body)
        assert body["code"] == status, body
    return body


def state(client: FlaskClient) -> dict[str, Any]:
    """The mock's whole state, from GET /__mock__/state."""
    resp = client.get("/__mock__/state")
    assert resp.status_code == 200
    data: dict[str, Any] = resp.get_json()["data"]
    return data


def all_rooms(client: FlaskClient) -> list[dict[str, Any]]:
    """Every room of every account, as the state shows them."""
    return [room for account in state(client)["accounts"] for room in account["rooms"]]


def room_slugs(client: FlaskClient) -> list[str]:
    """The slugs of every room of every account."""
    return [room["slug"] for room in all_rooms(client)]


def leased(*clients: FlaskClient) -> bool:
    """Each `--state-url` app's listener holds its lease (its admin index says so): reads come from its cache."""
    return all(client.get("/__mock__").get_json()["data"]["state"]["lease"] for client in clients)


def until_leased(*clients: FlaskClient, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not leased(*clients):
        assert time.monotonic() < deadline, f"no lease within {seconds:g} s"
        time.sleep(0.01)
