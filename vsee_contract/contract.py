"""Judge one exchange (request + response) against the contract: schema first, then the rules one call can show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rules
from .spec import Spec, load_spec
from .validation import ContractValidator

RESPONSE_SCHEMA = "response-schema"


@dataclass(frozen=True)
class Violation:
    """One broken rule, named so a report can group by it."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


class Contract:
    """openapi.yaml loaded once, its validators compiled, and the single-exchange rules."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.validator = ContractValidator(spec)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Contract:
        return cls(load_spec(path))

    def judge(
        self,
        operation_id: str,
        status: int,
        content_type: str | None,
        body: Any,
        path_params: Mapping[str, str],
        query: Mapping[str, Any],
        sent: Mapping[str, Any] | None = None,
    ) -> list[Violation]:
        """Everything wrong with this response to this request, as far as one exchange can tell.

        `sent` is the decoded request body, when there was one.
        """
        found = [
            Violation(RESPONSE_SCHEMA, p)
            for p in self.validator[operation_id].response_problems(status, content_type, body)
        ]
        found += [Violation(rules.ERROR_SHAPE, p) for p in rules.error_shape(status, body)]
        if status >= 300 or found or not isinstance(body, Mapping):
            return found
        data = body.get("data")
        checks: list[tuple[str, list[str]]] = []
        if operation_id == "getRoom" and isinstance(data, Mapping):
            checks.append((rules.ROOM_IS_REQUESTED, rules.room_is_requested(data, path_params["code"])))
        elif operation_id == "getRoomProvider" and isinstance(data, Mapping):
            checks.append((rules.PROVIDER_IS_REQUESTED, rules.provider_is_requested(data, path_params["id"])))
        elif operation_id == "getRoomQueue" and isinstance(data, Mapping):
            checks.append((rules.QUEUE_ARITHMETIC, rules.queue_arithmetic(data)))
        elif operation_id == "listRooms" and isinstance(data, list) and isinstance(query.get("limit"), int):
            checks.append((rules.PAGE_WITHIN_LIMIT, rules.page_within_limit(data, query["limit"])))
        elif operation_id == "createRoom" and isinstance(data, Mapping) and sent:
            checks.append((rules.CREATED_ROOM_ECHOES_INPUT, rules.created_room_echoes_input(data, sent)))
        elif operation_id == "addUserRoom" and isinstance(data, list) and sent:
            checks.append((rules.ASSOCIATION_LISTED, rules.association_listed(data, sent["code"])))
        return found + [Violation(rule, p) for rule, problems in checks for p in problems]
