"""A request as a curl command line, so any report can say how to reproduce it (credentials redacted)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from .redaction import redact_headers

MAX_RAW_BODY = 2000  # characters of a raw body shown; a reproduction needs the start, not megabytes


def form_value(value: Any) -> str:
    """A value as form text: booleans as `true`/`false`, the spelling the contract's `FormBoolean` documents."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any = None,
    media_type: str | None = None,
    secret_headers: Iterable[str] = (),
) -> str:
    """`body` is either raw bytes as sent, or decoded fields rendered in `media_type`'s encoding."""
    parts = ["curl", "-X", method]
    for name, value in redact_headers(headers, secret_headers).items():
        parts += ["-H", f"{name}: {value}"]
    if isinstance(body, bytes):
        if body:
            parts += ["--data-binary", body.decode("utf-8", "replace")[:MAX_RAW_BODY]]
    elif isinstance(body, Mapping) and media_type == "multipart/form-data":
        for key, value in body.items():
            parts += ["--form", f"{key}={form_value(value)}"]
    elif isinstance(body, Mapping) and media_type == "application/x-www-form-urlencoded":
        parts += ["--data", urlencode({k: form_value(v) for k, v in body.items()})]
    elif body is not None:
        parts += ["-H", f"Content-Type: {media_type}", "--data-raw", json.dumps(body)]
    return " ".join(shlex.quote(p) for p in [*parts, url])
