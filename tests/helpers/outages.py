"""Deployments that look like a set-up problem to a preflight: one that stops answering mid-run (the mock, whose
process exits after `DIE_AFTER` requests, as a crashed server or a dropped tunnel would: every later connection is
refused), and one whose room list demands a token (a violation, not a wrong account code)."""

from __future__ import annotations

import json
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


def list_needs_token() -> Flask:
    """GET /rooms without `X-ApiToken` is refused with 401 (public-reads-need-no-token)."""
    app = create_app()
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        listing = environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].endswith("/api_v3/rooms")
        if listing and "HTTP_X_APITOKEN" not in environ:
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [json.dumps({"code": 401, "message": "Token required"}).encode()]
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app
