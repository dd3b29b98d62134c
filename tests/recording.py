"""A witness for the suite's safety: the mock, logging every request it receives to the file `RECORDING_FILE`
(one JSON line each: method, path, whether it carried an `X-ApiToken`), before anything else sees it."""

from __future__ import annotations

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
        line = {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "token": "HTTP_X_APITOKEN" in environ,
        }
        with lock, log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def received(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
