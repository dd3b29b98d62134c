"""Judge one exchange (request + response) against the contract: schema first, then the rules one call can show."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rules
from .errors import Refusal
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


@dataclass(frozen=True)
class ExchangeRule:
    """A rule one successful answer can show: `check(data, path, query, sent)` returns its problems. It is given the
    body's `data` member, or with `of_body` the whole body (a rule about what sits beside `data`)."""

    name: str
    check: Callable[[Any, Mapping[str, str], Mapping[str, Any], Mapping[str, Any]], list[str]]
    of_body: bool = False
    # whether it can break on a request with this (typed) query and body: only then is the rule checked by it
    applies: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = lambda query, sent: True


def _when(kind: type, check: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """Judge only a `data` of the expected kind (the schema reports any other)."""
    return lambda data, *args: check(data, *args) if isinstance(data, kind) else []


# Per operation, like schemathesis' check registry: which single-exchange rules judge its successful answers.
EXCHANGE_RULES: dict[str, tuple[ExchangeRule, ...]] = {
    "getRoom": (
        ExchangeRule(
            rules.ROOM_IS_REQUESTED, _when(Mapping, lambda d, path, q, s: rules.room_is_requested(d, path["code"]))
        ),
    ),
    "getRoomProvider": (
        ExchangeRule(
            rules.PROVIDER_IS_REQUESTED,
            _when(Mapping, lambda d, path, q, s: rules.provider_is_requested(d, path["id"])),
        ),
    ),
    "getRoomQueue": (
        ExchangeRule(rules.QUEUE_ARITHMETIC, _when(Mapping, lambda d, p, q, s: rules.queue_arithmetic(d))),
    ),
    "listRooms": (
        ExchangeRule(
            rules.PAGE_WITHIN_LIMIT,
            _when(list, lambda d, p, q, s: rules.page_within_limit(d, q["limit"])),
            applies=lambda query, sent: isinstance(query.get("limit"), int),
        ),
    ),
    "createRoom": (
        ExchangeRule(
            rules.CREATED_ROOM_ECHOES_INPUT,
            _when(Mapping, lambda d, p, q, sent: rules.created_room_echoes_input(d, sent)),
        ),
    ),
    "addUserRoom": (
        ExchangeRule(
            rules.ASSOCIATION_LISTED,
            _when(list, lambda d, p, q, sent: rules.association_listed(d, sent["code"])),
            applies=lambda query, sent: "code" in sent,
        ),
        ExchangeRule(rules.USER_ROOM_IDENTIFIED, _when(list, lambda d, p, q, s: rules.user_room_identified(d))),
        ExchangeRule(rules.DEFAULT_FLAG_GIVEN, lambda body, p, q, s: rules.default_flag_given(body), of_body=True),
    ),
}


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
