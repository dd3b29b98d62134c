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
