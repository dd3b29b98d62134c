"""The one request pipeline, as Stoplight Prism is built: route → decode and validate the input → an *ending*
(the mock's handler over its store, or the proxy's upstream call) → judge the answer → journal.

Decoding, validation, JSON answers and judging are written here once; an ending only decides what answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, Response, request

from vsee_contract import Contract, Operation, ParsedRequest, Refusal, Violation

from .decoding import decode_body, decode_query
from .errors import error_body
from .responses import JSON, json_response
from .site import Site

_TEMPLATE = re.compile(r"\{([^}]+)\}")
Headers = list[tuple[str, str]]


def flask_rule(base: str, template: str) -> str:
    """`/api_v3` + `/rooms/{code}` -> `/api_v3/rooms/<code>`."""
    return base + _TEMPLATE.sub(r"<\1>", template)


@dataclass(frozen=True)
class Incoming:
    """One API call, routed, decoded and validated: `problem` says why the contract refuses it, if it does."""

    operation: Operation
    base: str  # the local base path it came in on: /api_v3 or /api_v4
    path: dict[str, str]
    parsed: ParsedRequest | None
    problem: Refusal | None

    def valid(self) -> ParsedRequest:
        """The parsed request, or the refusal raised (an ending that answers for the contract calls this)."""
        if self.problem is not None:
            raise self.problem
        assert self.parsed is not None
        return self.parsed


@dataclass
class Answer:
    """What goes back: a decoded `body`, or the exact bytes in `encoded` (decoded only to be judged)."""

    status: int
    body: Any = None
    headers: Headers = field(default_factory=list)
    encoded: bytes | None = None
    content_type: str | None = JSON
    judge: bool = True  # whether the contract judges it (a canned example or an upstream failure is not)
    problem: str | None = None  # what the journal records as wrong with the exchange
    raw: bool = False  # `encoded` and `headers` go out exactly as they are (an upstream's answer, passed through)

    @classmethod
    def error(cls, exc: Refusal, headers: Headers | None = None) -> Answer:
        return cls(exc.status, error_body(exc.status, exc.message), [*(headers or []), *exc.headers.items()])

    def decoded(self) -> Any:
        if self.encoded is None or self.status == 204:
            return self.body
        try:
            return json.loads(self.encoded) if self.encoded else None
        except (UnicodeDecodeError, ValueError):
            return None

    def response(self) -> Response:
        if self.raw:
            return Response(self.encoded or b"", status=self.status, headers=self.headers)
        return json_response(self.status, self.body, self.headers, self.encoded)


class Ending(Protocol):
    """Where the pipeline ends: answers an incoming call, then decides what a broken contract changes."""

    def answer(self, incoming: Incoming) -> Answer: ...

    def judged(self, incoming: Incoming, answer: Answer, violations: list[Violation]) -> Answer: ...


def read_incoming(contract: Contract, operation: Operation, base: str, path: dict[str, str]) -> Incoming:
    """Decode and validate the request; a refusal is kept, not raised, so each ending decides when it counts."""
    try:
        query = decode_query(operation)
        media_type, body = decode_body(operation)
        parsed = contract.validator[operation.operation_id].parse_request(
            path, query, request.headers, media_type, body
        )
    except Refusal as exc:
        return Incoming(operation, base, path, None, exc)
    return Incoming(operation, base, path, parsed, None)


class Pipeline:
    """Registers every operation of the contract on a Flask app and runs each call through one ending."""

    def __init__(self, contract: Contract, ending: Ending, site: Site) -> None:
        self.contract = contract
        self.ending = ending
        self.problem_key = site.problem_key

    def register(self, app: Flask) -> None:
        for operation in self.contract.spec.operations.values():
            for base in operation.local_base_paths():
                app.add_url_rule(
                    flask_rule(base, operation.path),
                    endpoint=f"{operation.operation_id}@{base}",
                    view_func=self._view(operation, base),
                    methods=[operation.method],
                )

    def _view(self, operation: Operation, base: str) -> Callable[..., Response]:
        def view(**path: str) -> Response:
            return self.dispatch(read_incoming(self.contract, operation, base, path))

        view.__name__ = operation.operation_id
        return view

    def dispatch(self, incoming: Incoming) -> Response:
        answer = self.ending.answer(incoming)
        if answer.judge:
            parsed = incoming.parsed
            violations = self.contract.judge(
                incoming.operation.operation_id,
                answer.status,
                answer.content_type,
                answer.decoded(),
                incoming.path,
                parsed.query if parsed else {},
                parsed.body if parsed else None,
            )
            answer = self.ending.judged(incoming, answer, violations)
        if answer.problem is not None:
            request.environ[self.problem_key] = answer.problem
        return answer.response()
