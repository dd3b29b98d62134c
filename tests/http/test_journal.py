"""The request journal (`/__mock__/requests`): what was sent, whether the contract accepted it, never the token."""

from __future__ import annotations

import gc
import io
import json
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from mock_server.site import SITE
from vsee_http import Journal
from vsee_http.batches import Batches

from helpers.mock_api import AUTH, DOMAIN, TOKEN, VCLINIC, assert_error


def _journal(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    reply = client.get(f"/__mock__/requests{query}")
    assert reply.status_code == 200
    entries: list[dict[str, Any]] = reply.get_json()["data"]
    return entries


def test_every_api_call_is_journaled_newest_first_with_its_verdict(client: FlaskClient) -> None:
    client.delete("/__mock__/requests")
    client.get("/api_v3/rooms/ceproom1", headers={"X-AccountCode": VCLINIC})
    client.get("/api_v3/rooms/ceproom1", headers={"X-AccountCode": VCLINIC})  # replayed from the read cache
    client.get("/api_v3/rooms?limit=0")
    client.post(
        "/api_v3/rooms",
        headers={**AUTH, "X-AccountCode": VCLINIC},
        json={"domain": DOMAIN, "slug": "journaled", "name": "J"},
    )
    entries = _journal(client)
    assert [(e["method"], e["path"], e["status"], e["valid"]) for e in entries] == [
        ("POST", "/api_v3/rooms", 200, True),
        ("GET", "/api_v3/rooms", 400, False),
        ("GET", "/api_v3/rooms/ceproom1", 200, True),
        ("GET", "/api_v3/rooms/ceproom1", 200, True),
    ]
    assert "limit" in entries[1]["problem"] and entries[1]["query"] == "limit=0"
    assert entries[0]["token"] == "[redacted]" and entries[2]["token"] == "none"
    assert TOKEN not in str(entries)


def test_refusals_before_the_operation_runs_are_invalid_but_unknown_rooms_are_not(client: FlaskClient) -> None:
    client.delete("/__mock__/requests")
    client.post("/api_v3/rooms", json={"domain": DOMAIN, "slug": "x", "name": "x"})  # no token
    client.get("/api_v3/rooms/no-such-room")
    missing, unknown = _journal(client)[1], _journal(client)[0]
    assert (missing["status"], missing["valid"]) == (401, False) and "X-ApiToken" in missing["problem"]
    assert (unknown["status"], unknown["valid"], unknown["problem"]) == (404, True, None)


def test_filters_and_clearing(client: FlaskClient) -> None:
    client.delete("/__mock__/requests")
    client.get("/api_v3/rooms")
    client.get("/api_v3/rooms/b4vjj/queue")
    client.get("/api_v3/rooms/nope/queue")
    assert len(_journal(client, "?path=/queue")) == 2
    assert [e["path"] for e in _journal(client, "?status=404")] == ["/api_v3/rooms/nope/queue"]
    assert len(_journal(client, "?method=get")) == 3 and _journal(client, "?method=POST") == []
    assert client.get("/__mock__/requests?status=abc").status_code == 400
    assert client.delete("/__mock__/requests").status_code == 200
    assert _journal(client) == []
    client.get("/__mock__/state")
    client.get("/api_v3/rooms")
    assert [e["path"] for e in _journal(client)] == ["/api_v3/rooms"], "admin calls are not journaled"


def test_an_entry_opens_to_its_request_and_response_without_the_token(client: FlaskClient) -> None:
    fields = {"domain": "vclinic.vsee.me", "slug": "journal-detail", "name": "Jörnal"}
    created = client.post("/api_v3/rooms", json=fields, headers=AUTH)
    newest = client.get("/__mock__/requests").get_json()["data"][0]
    assert "detail" not in newest, "the list stays light; the detail is one request away"
    detail = client.get(f"/__mock__/requests/{newest['id']}").get_json()["data"]["detail"]
    assert detail["request"]["headers"]["X-Apitoken"] == "[redacted]"
    assert TOKEN not in json.dumps(detail)
    assert json.loads(detail["request"]["body"]) == fields
    assert detail["response"]["status"] == 200 and json.loads(detail["response"]["body"]) == created.get_json()
    assert detail["response"]["headers"]["Content-Type"] == "application/json"
    assert_error(client.get("/__mock__/requests/999999"), 404)


def test_the_journal_filters_by_verdict_and_shows_utf8_paths_as_sent(client: FlaskClient) -> None:
    client.delete("/__mock__/requests")  # the module's app is shared: only this test's calls
    client.get("/api_v3/rooms?limit=abc")
    client.get("/api_v3/rooms/räume")
    refused = client.get("/__mock__/requests?valid=false").get_json()["data"]
    assert [e["query"] for e in refused] == ["limit=abc"]
    accepted = client.get("/__mock__/requests?valid=true").get_json()["data"]
    assert accepted[0]["path"] == "/api_v3/rooms/räume"
    assert_error(client.get("/__mock__/requests?valid=maybe"), 400)


def test_batches_written_behind_keep_the_newest_items_only_when_bounded() -> None:
    """The shared journal's calls wait for their write bounded by the journal's size (a load its writes cannot keep
    up with dropped the oldest, not grew a worker by hundreds of MB); the request log's lines all wait."""
    bounded: list[int] = []
    every: list[int] = []
    journal_like = Batches(bounded.extend, 3600, "test-bounded", keep_last=3)
    log_like = Batches(every.extend, 3600, "test-every")
    for item in range(10):
        journal_like.add(item)
        log_like.add(item)
    journal_like.flush()
    log_like.flush()
    assert bounded == [7, 8, 9]
    assert every == list(range(10))


def test_batches_written_behind_wait_longer_after_a_full_batch() -> None:
    """A full batch dropped the oldest items: the writer is behind a flood, so it waits `when_full` before the next
    (the shared journal packed the newest 1,000 calls ten times a second, and replayed reads lost up to half their
    rate to it, bench/results.md); a batch that was not full is followed at the usual interval."""
    written: list[list[int]] = []
    batches = Batches(written.append, 0.02, "test-when-full", keep_last=3, when_full=3600)
    for item in range(2):
        batches.add(item)
    _until(lambda: sum(map(len, written)) == 2)  # not full: the next batch comes 0.02 s later
    for item in range(2, 102):
        batches.add(item)
    _until(lambda: written[-1] == [99, 100, 101])  # full (however the adds fell between two batches)
    batches.add(102)
    time.sleep(0.3)  # fifteen intervals: a writer that did not wait longer would have written it
    assert written[-1] == [99, 100, 101]
    batches.flush()  # (a reader of the journal still gets it at once)
    assert written[-1] == [102]


def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not written in time"
        time.sleep(0.005)


def test_a_journaled_call_holds_neither_the_tokens_value_nor_the_request_body_stream() -> None:
    """What the journal keeps per call (a copy of the environ) is searched as memory: the token's value, the body
    stream (up to a megabyte a call) and the server's objects are not reachable from it."""
    journal = Journal(SITE, "X-ApiToken", "X-AccountCode")
    body = io.BytesIO(b"x" * 100_000)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api_v3/rooms",
        "HTTP_X_ACCOUNTCODE": VCLINIC,
        "HTTP_X_APITOKEN": TOKEN,
        "CONTENT_LENGTH": "100000",
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
    }
    journal.record(environ, 200, 1.0, None, b"x" * 100_000, ([("Content-Type", "application/json")], b"{}"))
    seen, todo = set[int](), list[object]([journal])
    while todo:  # the journal's data: its containers and its own instances, not its classes, functions or modules
        obj = todo.pop()
        if id(obj) not in seen:
            seen.add(id(obj))
            assert obj is not body and obj is not sys.stderr and obj != TOKEN
            if isinstance(obj, (dict, list, tuple, deque)) or type(obj).__module__.startswith("vsee_http"):
                todo.extend(gc.get_referents(obj))
    assert journal.entries()[0]["token"] == "[redacted]"
