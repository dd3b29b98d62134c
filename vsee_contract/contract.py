"""Judge one exchange (request + response) against the contract: schema first, then the rules one call can show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rules
from .errors import Refusal
from .operations import REGISTRY, ExchangeRule
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


# Per operation, like schemathesis' check registry: which single-exchange rules judge its successful answers
# (each declared in the operation's module of `vsee_contract.operations`).
EXCHANGE_RULES: Mapping[str, tuple[ExchangeRule, ...]] = {op: d.rules for op, d in REGISTRY.items() if d.rules}


class Contract:
    """openapi.yaml loaded once, its validators compiled, and the single-exchange rules."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.validator = ContractValidator(spec)
        self.stated = spec.stated_rules()  # judged like the schemas: on every answer, whatever the request

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
        if not self.validator[operation_id].declares_body(status):  # where declared, the schema says it
            found += [Violation(rules.ERROR_SHAPE, p) for p in rules.error_shape(status, body)]
        if status >= 300 or found or not isinstance(body, Mapping):
            return found
        typed, judging = self._judging(operation_id, path_params, query, sent)
        for rule in judging:
            subject = body if rule.of_body else body.get("data")
            found += [Violation(rule.name, p) for p in rule.check(subject, path_params, typed, sent or {})]
        return found

    def rules_judging(
        self,
        operation_id: str,
        path_params: Mapping[str, Any],
        query: Mapping[str, Any],
        sent: Mapping[str, Any] | None = None,
    ) -> tuple[str, ...]:
        """The rules a successful answer to this request is judged by, beyond its schema: those that could break on
        it (a rule counts as checked only by such an exchange)."""
        return tuple(rule.name for rule in self._judging(operation_id, path_params, query, sent)[1])

    def _judging(
        self,
        operation_id: str,
        path_params: Mapping[str, Any],
        query: Mapping[str, Any],
        sent: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], list[ExchangeRule]]:
        """The typed query, and the rules that judge a successful answer to this request."""
        typed = self.typed_query(operation_id, path_params, query, sent)
        if typed is None:  # what a deployment makes of a request outside the contract is no rule's to judge
            return {}, [rule for rule in EXCHANGE_RULES.get(operation_id, ()) if rule.name in self.stated]
        return typed, [rule for rule in EXCHANGE_RULES.get(operation_id, ()) if rule.applies(typed, sent or {})]

    def typed_query(
        self,
        operation_id: str,
        path_params: Mapping[str, Any],
        query: Mapping[str, Any],
        sent: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The query with the types the contract declares, when the contract calls the whole request valid (its
        path and query parameters, and its body as JSON, form text coerced); else None. Only such a request's
        answer is judged by the behavioural rules: a lenient answer to any other is at most an advisory (e.g.
        `limit=0` answered with the whole list)."""
        checks = self.validator[operation_id]
        try:
            typed: dict[str, Any] = {}
            for location, raw in (("path", path_params), ("query", query)):  # the query's types are what is kept
                check = checks.params[location]
                typed = _coerced(check, {k: v for k, v in raw.items() if k in check.properties})
                check.check(typed)
            body = checks.bodies.get("application/json")
            if sent is not None and body is not None:
                body.check(_coerced(body, sent))
        except Refusal:
            return None
        return typed

    @staticmethod
    def stated_rule_problems(operation_id: str, body: Any, stated: frozenset[str]) -> list[Violation]:
        """What the `stated` rules (a spec's `x-contract-rules`) find wrong with one successful answer on its own,
        whatever the request: with the schemas, what an answer of this contract may be."""
        if not isinstance(body, Mapping):
            return []
        return [
            Violation(rule.name, problem)
            for rule in EXCHANGE_RULES.get(operation_id, ())
            if rule.name in stated
            for problem in rule.check(body if rule.of_body else body.get("data"), {}, {}, {})
        ]

    @staticmethod
    def rules_for(operation_id: str) -> tuple[str, ...]:
        """The rules one successful answer of this operation is judged by, beyond its schema."""
        return tuple(rule.name for rule in EXCHANGE_RULES.get(operation_id, ()))


def _coerced(check: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Text values (from a URL or a form) as the types their schema declares; typed values as they are."""
    text = check.coerce({k: v for k, v in raw.items() if isinstance(v, str)})
    return {**dict(raw), **text}
