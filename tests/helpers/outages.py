"""A deployment that stops answering mid-run: the mock, whose process exits after `DIE_AFTER` requests (as a crashed
server or a dropped tunnel would: every later connection is refused)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from mock_server import create_app

DIE_AFTER = "DIE_AFTER"


def dying() -> Flask:
    app, inner, seen = create_app(), None, [0]
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen[0] += 1
        if seen[0] > int(os.environ[DIE_AFTER]):
            os._exit(0)
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app
