"""Errors in the VSee shape, `{"code": <status>, "message": "..."}`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by handlers and the request pipeline; becomes an error response in the VSee shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "message": message}
