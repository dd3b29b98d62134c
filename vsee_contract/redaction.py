"""Secrets never leave a tool: one marker, one way to redact text and headers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"
# Credential headers redacted wherever headers are shown, besides the contract's own token header (which every
# caller passes in `also`, from `Spec.security_header()`).
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-apikey", "x-apisecret"})


def is_secret_header(name: str, also: Iterable[str] = ()) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or lowered in {a.lower() for a in also}


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each (non-empty) secret value replaced by the marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def redact_headers(headers: Mapping[str, str], also: Iterable[str] = ()) -> dict[str, str]:
    """The headers with the value of every credential header (and of the names in `also`) replaced."""
    names = tuple(also)
    return {k: (REDACTED if is_secret_header(k, names) else v) for k, v in headers.items()}
