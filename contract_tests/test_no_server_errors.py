"""No input makes the deployment answer 5xx: garbage in every query parameter, path segment and body field.
(Every exchange is also judged for JSON and the error shape; what unknown things, tokens and refused writes
must do is the model layer's to check, in `test_model_based.py`.)"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsee_contract import Operation, rules

from .discovery import rule_examples
from .footprint import NO_SUCH_ROOM
from .target import Call, Exchange, Target

PATH_TEXT = st.text(min_size=1, max_size=30).filter(lambda s: s.strip(". ") != "")
UNDECLARED = "other"  # a query parameter no operation declares


def _path(operation: Operation, user: str, room: str) -> dict[str, str]:
    """Its path parameters: `user` for an `id` (a user's or a provider's), `room` for the rest."""
    return {p.name: user if p.name == "id" else room for p in operation.params_in("path")}


def _no_5xx(target: Target, exchange: Exchange) -> None:
    target.expect(rules.NO_SERVER_ERROR, [f"answered {exchange.status}"] if exchange.status >= 500 else [], exchange)


def test_no_read_input_produces_a_5xx(target: Target) -> None:
    """Each query parameter gets garbage on its own (so validation of another cannot hide it), then all at once;
    the reads of one example are independent, so they are sent together (--contract-concurrency)."""
    operations = [op for op in target.contract.spec.operations.values() if not op.is_write]
    keys = {p.name: None for op in operations for p in op.params_in("query")} | {UNDECLARED: None}
    values = st.fixed_dictionaries({key: st.text(max_size=20) for key in keys})

    @rule_examples(target.settings)
    @given(code=PATH_TEXT, provider_id=PATH_TEXT, query=values)
    def reads(code: str, provider_id: str, query: dict[str, str]) -> None:
        calls: list[Call] = []
        for op in operations:
            path = _path(op, provider_id, code)
            own = [p.name for p in op.params_in("query")]
            if own:  # each of its parameters on its own, one it does not declare, then all at once
                calls += [(op.operation_id, {"path": path, "query": {k: query[k]}}) for k in (*own, UNDECLARED)]
            calls.append((op.operation_id, {"path": path, "query": query if own else {}}))
        for answer in target.call_all(calls):  # independent reads: together, judged in this order
            _no_5xx(target, answer())

    reads()


@pytest.mark.contract_writes
def test_no_write_input_produces_a_5xx(target: Target) -> None:
    """Bodies here never carry a slug, so nothing can be created by accident, nor on a live deployment a `default`
    flag, which could move a user's default room (contract_tests.footprint)."""
    left_out = {"slug"} if target.settings.in_process else {"slug", "default"}
    operations = [op for op in target.contract.spec.operations.values() if op.is_write]

    @rule_examples(target.settings)
    @given(
        body=st.dictionaries(
            st.text(max_size=12).filter(lambda k: k not in left_out), st.text(max_size=20), max_size=5
        ),
        media_type=st.sampled_from(["multipart/form-data", "application/x-www-form-urlencoded", "application/json"]),
        user=PATH_TEXT,
    )
    def writes(body: dict[str, str], media_type: str, user: str) -> None:
        sent = {"body": body, "media_type": media_type}
        calls: list[Call] = [(op.operation_id, {"path": _path(op, user, NO_SUCH_ROOM), **sent}) for op in operations]
        for answer in target.call_all(calls):  # independent: no slug, so nothing one makes another can see
            _no_5xx(target, answer())

    writes()
