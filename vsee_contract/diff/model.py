"""What a diff finds: one change of the contract, judged from the side of a client built on the old version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..spec import Operation


@dataclass(frozen=True)
class Change:
    """One change: `breaking` when a client of OLD stops working with NEW.

    `operation` is "<operationId> <METHOD> <path>" (empty for the document as a whole), `pointer` a JSON pointer into
    the spec (OLD's, or NEW's for what only NEW has), `example` a request OLD accepts and NEW refuses, or an answer
    NEW allows that OLD's clients do not expect.
    """

    operation: str
    pointer: str
    why: str
    breaking: bool
    example: str = ""

    def line(self) -> str:
        verdict = "BREAKING" if self.breaking else "compatible"
        where = f"{self.operation} {self.pointer}" if self.operation else self.pointer
        example = f"; e.g. {self.example}" if self.example else ""
        return f"{verdict} {where}: {self.why}{example}"


def operation_label(operation: Operation) -> str:
    return f"{operation.operation_id} {operation.method} {operation.path}"


def escape(token: str) -> str:
    """One JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def operation_pointer(operation: Operation) -> str:
    return f"/paths/{escape(operation.path)}/{operation.method.lower()}"


def shown(value: Any, limit: int = 160) -> str:
    """A value in a line of the report: compact JSON, cut short."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
