"""The project's own errors: one base for all of them, and the one refusal a request can get."""

from __future__ import annotations


class VseeError(Exception):
    """The base of every error this project raises on purpose (a bug elsewhere is not one): `except VseeError`
    catches ours and lets the unexpected through."""


class Refusal(VseeError):
    """A request refused: the HTTP status to answer with, the message, and headers to add (e.g. `Allow`).

    Raised by the contract's validators, the request pipeline, the mock's handlers and the proxy alike, and answered
    in the VSee error shape, `{"code": status, "message": message}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
