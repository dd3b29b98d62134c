"""The one request decoder: the query and the body (JSON, multipart, urlencoded), each field given exactly once.

One rule for the query and for forms: a field the contract declares as one value and the request repeats
(`?limit=2&limit=500`) is refused with 400, never silently cut to its first value."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from vsee_contract import Operation, Refusal

from .responses import JSON

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
FILE_PART_CHARS = 1024  # a file part is read as text, this much of it: no operation takes a file


def decode_query(operation: Operation) -> dict[str, str]:
    """The query parameters, without the mock's `__x` conveniences; undeclared ones pass (the validator drops them)."""
    single = {p.name for p in operation.params_in("query") if p.schema.get("type") != "array"}
    query: dict[str, str] = {}
    for name, values in request.args.lists():
        if name.startswith("__"):
            continue
        if name in single and len(values) > 1:
            raise Refusal(400, f"query parameter '{name}': given {len(values)} times, expected once")
        query[name] = values[0]
    return query


def decode_body(operation: Operation) -> tuple[str | None, Any]:
    """(media type, decoded body) of the request, or (None, None) when it has no body.

    The raw bytes are cached first, so a forwarder can still send them unchanged after the form is parsed.
    """
    if operation.request_body is None or not (request.content_length or request.headers.get("Transfer-Encoding")):
        return None, None
    raw = request.get_data(cache=True)
    media_type = request.mimetype or None
    if media_type == JSON:
        try:
            return media_type, json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise Refusal(400, f"body: not valid UTF-8 JSON ({exc})") from exc
    if media_type in FORMS:
        if media_type == "multipart/form-data" and not request.mimetype_params.get("boundary"):
            raise Refusal(400, "body: multipart/form-data without a boundary")
        uploads = [
            (name, [u.read(FILE_PART_CHARS).decode("utf-8", "replace") for u in files])
            for name, files in request.files.lists()
        ]
        fields: dict[str, Any] = {}
        for name, values in [*request.form.lists(), *uploads]:
            if not isinstance(name, str) or not name:
                raise Refusal(400, "body: a form field has no name")
            if name in fields or len(values) != 1:
                raise Refusal(400, f"body field '{name}': given {len(values)} times, expected once")
            fields[name] = values[0]
        return media_type, fields
    return media_type, raw
