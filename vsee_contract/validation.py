"""Validators compiled once from the contract: requests (parameters, bodies in every encoding) and responses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from .errors import Refusal
from .spec import Operation, Spec

FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_INT = re.compile(r"^[+-]?[0-9]+$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@dataclass(frozen=True)
class ParsedRequest:
    """The request's parameters and body, coerced to the types the contract declares."""

    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]
    body: dict[str, Any] | None
    media_type: str | None


def _types(schema: Mapping[str, Any], spec: Spec | None = None) -> set[str]:
    """The JSON types a schema admits: its own `type` and, one level down, those of its anyOf/oneOf branches."""
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, []):
            types |= _types(spec.resolve(branch) if spec else branch)
    return types


def coerce(value: str, schema: Mapping[str, Any], spec: Spec | None = None) -> Any:
    """Turn a string from a URL, header or form into the scalar type its schema declares (or leave it).

    A boolean is `true`/`false` or `1`/`0` in any letter case, exactly as the contract's `FormBoolean` spells it
    (no spaces around it): the form is validated as text before it is coerced, so only those spellings get here.
    """
    types = _types(schema, spec)
    lowered = value.lower()
    if "boolean" in types and lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    try:
        if "integer" in types and _INT.match(value.strip()):
            return int(value)
        if "number" in types and _NUMBER.match(value.strip()):
            return float(value)
    except ValueError:  # beyond Python's int-from-string digit limit: left as text, and refused as such
        pass
    return value


def _describe(error: jsonschema_rs.ValidationError, where: str) -> str:
    path = "/".join(str(p) for p in error.instance_path)
    message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
    return f"{where} '{path}': {message}" if path else f"{where}: {message}"


class _ObjectCheck:
    """A compiled object schema plus the per-property schemas used to coerce string input."""

    def __init__(self, spec: Spec, schema: dict[str, Any], where: str) -> None:
        self.spec = spec
        self.where = where
        self.properties = {
            name: spec.resolve(prop) for name, prop in spec.resolve(schema).get("properties", {}).items()
        }
        self.validator = jsonschema_rs.validator_for(spec.bundle(schema))

    def coerce(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return {k: coerce(v, self.properties[k], self.spec) if k in self.properties else v for k, v in raw.items()}

    def check(self, value: Any) -> None:
        try:
            error = next(iter(self.validator.iter_errors(value)), None)
        except (ValueError, OverflowError) as exc:  # e.g. a non-string key, an integer beyond 64 bits
            raise Refusal(400, f"{self.where}: cannot be checked against the contract ({exc})") from exc
        if error is not None:
            raise Refusal(400, _describe(error, self.where))


class OperationValidator:
    """Everything needed to judge one operation's requests and responses, compiled at start-up."""

    def __init__(self, spec: Spec, operation: Operation) -> None:
        self.operation = operation
        self.params: dict[str, _ObjectCheck] = {}
        for location in ("path", "query", "header"):
            params = operation.params_in(location)
            fold = location == "header"  # header names match case-insensitively
            schema = {
                "type": "object",
                "properties": {(p.name.lower() if fold else p.name): p.schema for p in params},
                "required": [(p.name.lower() if fold else p.name) for p in params if p.required],
            }
            self.params[location] = _ObjectCheck(spec, schema, f"{location} parameter")
        self.bodies: dict[str, _ObjectCheck] = {
            media: _ObjectCheck(spec, content["schema"], "body field")
            for media, content in (operation.request_body or {}).get("content", {}).items()
        }
        self.body_required = bool((operation.request_body or {}).get("required"))
        self.responses: dict[str, Any] = {}
        for key, response in operation.responses.items():
            media = response.get("content", {}).get("application/json")
            self.responses[key] = jsonschema_rs.validator_for(spec.bundle(media["schema"])) if media else None

    def parse_request(
        self,
        path: Mapping[str, str],
        query: Mapping[str, str],
        headers: Iterable[tuple[str, str]] | Mapping[str, str],
        media_type: str | None,
        body: Any,
    ) -> ParsedRequest:
        """Coerce and validate; raise Refusal (400/415) naming the offending field."""
        parsed: dict[str, dict[str, Any]] = {}
        for location, raw in (("path", path), ("query", query), ("header", headers)):
            check = self.params[location]
            items = raw.items() if isinstance(raw, Mapping) else raw
            wanted = {k.lower(): v for k, v in items} if location == "header" else dict(items)
            values = check.coerce({k: v for k, v in wanted.items() if k in check.properties})
            check.check(values)
            parsed[location] = values
        return ParsedRequest(parsed["path"], parsed["query"], parsed["header"], *self._body(media_type, body))

    def _body(self, media_type: str | None, body: Any) -> tuple[dict[str, Any] | None, str | None]:
        if body is None:
            if self.body_required:
                raise Refusal(400, "body: a request body is required")
            return None, None
        if media_type not in self.bodies:
            accepted = ", ".join(self.bodies) or "no body"
            sent = (
                f"Content-Type '{media_type[:64]}' is not accepted here"
                if media_type
                else "the body has no Content-Type"
            )
            raise Refusal(415, f"{sent}; use {accepted}")
        check = self.bodies[media_type]
        check.check(body)  # a form as the text it is: its schema spells out which strings a boolean may be
        value = check.coerce(body) if media_type in FORM_MEDIA_TYPES else body
        return value, media_type

    def declares_body(self, status: int) -> bool:
        """Whether the contract gives an answer with `status` a body schema (its compiled validator)."""
        key = self.operation.response_key(status)
        return key is not None and self.responses[key] is not None

    def response_problems(self, status: int, content_type: str | None, body: Any) -> list[str]:
        """Schema-level problems of a response: undeclared status, wrong content type, body not matching."""
        key = self.operation.response_key(status)
        if key is None:
            return [f"status {status} is not declared for {self.operation.operation_id}"]
        validator = self.responses[key]
        if validator is None:
            return []
        if not content_type or content_type.split(";")[0].strip() != "application/json":
            return [f"content type {content_type!r} is not application/json"]
        return [_describe(e, "response body") for e in validator.iter_errors(body)]


class ContractValidator:
    """The compiled validators of a whole spec, one per operation."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.operations = {op_id: OperationValidator(spec, op) for op_id, op in spec.operations.items()}

    def __getitem__(self, operation_id: str) -> OperationValidator:
        return self.operations[operation_id]
