"""The mock serves many clients at once (waitress runs 8 threads): the slug rule and code generation must hold
under concurrent writes, not only one request at a time."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from mock_server import create_app

from helpers.mock_api import AUTH, DOMAIN, ENCODINGS, all_rooms, create_room


def _post_room(app: Flask, slug: str, encoding: str) -> TestResponse:
    """One POST /rooms from a client of its own (a browser tab, say)."""
    return create_room(app.test_client(), slug, encoding)


def _run_at_once(count: int, work: Callable[[int], TestResponse]) -> list[tuple[int, Any]]:
    """Start `count` threads behind a barrier so their requests overlap; collect (status, body) or the exception."""
    barrier = threading.Barrier(count, timeout=30)
    results: list[tuple[int, Any] | None] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            resp = work(i)
            results[i] = (resp.status_code, resp.get_json())
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request thread hung"
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def _rooms_with_slug(app: Flask, slug: str) -> list[dict[str, Any]]:
    return [r for r in all_rooms(app.test_client()) if r["slug"] == slug]


def test_fifty_threads_creating_one_slug_make_exactly_one_room() -> None:
    """Exactly one 200; the 49 others get the documented duplicate-slug 400; one room exists."""
    app = create_app()
    results = _run_at_once(50, lambda i: _post_room(app, "race", ENCODINGS[i % 3]))
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({200: 1, 400: 49}), statuses
    message = f"In domain '{DOMAIN}' slug 'race' already exists."
    assert all(body == {"code": 400, "message": message} for status, body in results if status == 400)
    winner = next(body["data"] for status, body in results if status == 200)
    rooms = _rooms_with_slug(app, "race")
    assert [r["code"] for r in rooms] == [winner["code"]]
    assert app.test_client().get(f"/api_v3/rooms/{winner['code']}").status_code == 200


def test_twenty_threads_creating_distinct_slugs_get_distinct_readable_rooms() -> None:
    """Twenty concurrent creations: twenty distinct codes and ids, each readable and listed."""
    app = create_app()
    results = _run_at_once(20, lambda i: _post_room(app, f"parallel-{i}", ENCODINGS[i % 3]))
    assert [status for status, _ in results] == [200] * 20, results
    rooms = [body["data"] for _, body in results]
    codes = [r["code"] for r in rooms]
    assert len(set(codes)) == 20
    assert len({r["id"] for r in rooms}) == 20
    client = app.test_client()
    listed = [item["code"] for item in client.get("/api_v3/rooms").get_json()["data"]]
    for i, room in enumerate(rooms):
        got = client.get(f"/api_v3/rooms/{room['code']}")
        assert got.status_code == 200
        assert got.get_json()["data"]["slug"] == f"parallel-{i}"
        assert listed.count(room["code"]) == 1


def test_concurrent_associations_keep_provider_ids_and_users_in_step() -> None:
    """Five users joining one room at once: all five end up providers, listed once each, `users` agrees."""
    app = create_app()
    users = ["85741", "1002", "1003", "1004", "826"]

    def join(i: int) -> TestResponse:
        return app.test_client().post(f"/api_v3/users/{users[i]}/rooms", json={"code": "sandbox"}, headers=AUTH)

    results = _run_at_once(len(users), join)
    assert [status for status, _ in results] == [200] * len(users)
    room = app.test_client().get("/api_v3/rooms/sandbox").get_json()["data"]
    assert sorted(room["provider_ids"]) == sorted(users)
    assert room["users"] == ",".join(room["provider_ids"])
