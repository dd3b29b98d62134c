"""A witness for the suite's behaviour on live systems: the mock, logging every request it receives to the file
`RECORDING_FILE` (one JSON line each: method, path, query, body, whether it carried an `X-ApiToken`), before
anything else sees it."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from mock_server import create_app

RECORDING_FILE = "RECORDING_FILE"


def recording() -> Flask:
    app = create_app({"seed": 7})
    inner, log, lock = app.wsgi_app, Path(os.environ[RECORDING_FILE]), threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        line = {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ.get("QUERY_STRING", ""),
            "body": body.decode("utf-8", "replace"),
            "token": "HTTP_X_APITOKEN" in environ,
        }
        with lock, log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def received(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def clinic_state(base: str) -> dict[str, Any]:
    """The mock's whole state of its first clinic (`GET /__mock__/state`): every room with its providers, and every
    user's default room, beyond what the Rooms API shows."""
    root = base.rsplit("/api_v3", 1)[0]
    return dict(requests.get(f"{root}/__mock__/state", timeout=10).json()["data"]["accounts"][0])


def changes(before: dict[str, Any], after: dict[str, Any], ignored: tuple[str, ...] = ()) -> list[str]:
    """What happened to what was there before: a room changed (but for the `ignored` fields) or gone, its providers
    included; a user's default room moved."""
    now = {room["code"]: room for room in after["rooms"]}
    found = [f"room {code} is gone" for code in {r["code"] for r in before["rooms"]} - set(now)]
    for room in before["rooms"]:
        changed = sorted(
            k
            for k in room.keys() | now.get(room["code"], {}).keys()
            if k not in ignored and room.get(k) != now.get(room["code"], room).get(k)
        )
        found += [f"room {room['code']} changed: {changed}"] if changed else []
    was, is_now = before["defaults"], after["defaults"]
    found += [
        f"user {u}'s default {was.get(u)} became {is_now.get(u)}"
        for u in was.keys() | is_now.keys()
        if was.get(u) != is_now.get(u)
    ]
    return found
