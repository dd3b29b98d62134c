"""Errors in the VSee shape, `{"code": <status>, "message": "..."}`."""

from __future__ import annotations

from typing import Any


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "message": message}


def shown(value: str, limit: int = 64) -> str:
    """A value the client sent, as a message may quote it: control characters escaped, at most `limit` characters."""
    text = value if value.isprintable() else value.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "…"


def header_text(value: str) -> str:
    """A header value as the client wrote it: WSGI hands it over as Latin-1, most clients send UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
