"""JSON answers, serialised one way: compact, UTF-8, keys in the order built."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

JSON = "application/json"


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    status: int,
    body: Any,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    encoded: bytes | None = None,
) -> Response:
    """A JSON response (none for 204); `encoded` is `body` already serialised, when the caller has it."""
    if status == 204:
        response = Response(b"", status=204, headers=headers)
        del response.headers["Content-Type"]  # no body, so no body type (Werkzeug would say text/html)
        return response
    return Response(encoded if encoded is not None else encode(body), status=status, mimetype=JSON, headers=headers)
