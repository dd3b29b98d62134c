"""schemathesis' tests of every operation (its phases, the run's seed and profile), several operations at once.

`schemathesis.pytest.from_fixture(...).parametrize()` runs an operation's cases only after the previous operation's
are done: against a deployment across the network the schema layer is then one round trip after another. The
operations are independent (each its own Hypothesis test with its own seed, the rooms it writes its own), so here
up to `--contract-concurrency` of them run at once, each in a thread (taking turns to run Python, overlapping only
their waits for answers: `transport.Baton`), and their outcomes are reported afterwards as
the same subtests, in the schema's order (`test_operation_conforms[POST /rooms]`): the same cases, the same
verdicts. In-process the target's concurrency is 1 and they run one after another, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from unittest import SkipTest

import pytest
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.core.result import Ok
from schemathesis.pytest._subtests import make_subtests
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.schemas import BaseSchema

from .side_by_side import submit_here
from .transport import Baton


def _outcome(test: Callable[..., None], fixtures: dict[str, Any]) -> Future[None]:
    """Run one operation's test now; its outcome, to be raised later in its subtest."""
    done: Future[None] = Future()
    try:
        test(**fixtures)
        done.set_result(None)
    except BaseException as exc:  # a skip or a failure alike: raised again where it is reported
        done.set_exception(exc)
    return done


def _run_in_order(
    tests: list[Callable[..., None] | None], fixtures: dict[str, Any], baton: Baton
) -> list[Future[None] | None]:
    with baton.held():  # Hypothesis and schemathesis are not thread-safe: only the waits for answers overlap
        return [None if test is None else _outcome(test, fixtures) for test in tests]


@dataclass
class Outcomes:
    """What running every operation's test gave: schemathesis' built tests and each one's outcome (None where the
    test could not be built)."""

    built: list[Any]
    pending: list[Future[None] | None]


def run_each_operation(
    schema: BaseSchema,
    test: Callable[..., None],
    workers: int,
    baton: Baton,
    chained: Collection[str] = (),
    **fixtures: Any,
) -> Outcomes:
    """`test(case, **fixtures)` for the cases of every operation of `schema`, `workers` operations at once (those
    whose operationId is in `chained` share state: one after another, in one thread). A thread runs Python only while
    it holds `baton`, which the transport gives up while a request is out. Report them with `report_each`."""
    load_all_checks()
    enabled = schema.config.operations.filter_set_with(include=schema.filter_set)  # `enabled: false` respected
    schema = schema.clone(filter_set=enabled, test_function=test)
    built = list(get_all_tests(schema=schema, test_func=test, settings=None, given_kwargs={}))
    tests = [result.ok()[1] if isinstance(result, Ok) else None for result in built]
    if workers <= 1 or len(built) <= 1:
        return Outcomes(built, _run_in_order(tests, fixtures, baton))
    in_chain = [isinstance(r, Ok) and r.ok()[0].definition.raw.get("operationId") in chained for r in built]
    groups = [[i for i in range(len(built)) if in_chain[i]]] + [[i] for i in range(len(built)) if not in_chain[i]]
    with ThreadPoolExecutor(workers, thread_name_prefix="vsee-contract-operation") as pool:
        running = [
            (group, submit_here(pool, _run_in_order, [tests[i] for i in group], fixtures, baton)) for group in groups
        ]
        with baton.released():  # a layer beside this one (contract_tests.side_by_side) runs meanwhile
            wait([done for _, done in running])
    outcomes = {i: one for group, done in running for i, one in zip(group, done.result(), strict=True)}
    return Outcomes(built, [outcomes[i] for i in range(len(built))])


def report_each(outcomes: Outcomes, request: pytest.FixtureRequest) -> None:
    """Each operation's outcome as a subtest of the running test, as schemathesis' own `parametrize()` reports it
    (`test_operation_conforms[POST /rooms]`), in the schema's order."""
    node, node_id = request.node, request.node.nodeid
    subtests = make_subtests(request)
    request.session.testscollected += len(outcomes.built)
    for result, outcome in zip(outcomes.built, outcomes.pending, strict=True):
        if outcome is None:
            error = result.err()
            with subtests.test(path=error.path):
                error.as_failing_test_function()()
            continue
        operation = result.ok()[0]
        node._nodeid = f"{node_id}[{operation.method.upper()} {operation.path}]"
        try:
            with subtests.test(label=operation.label):
                _raise(outcome)
        finally:
            node._nodeid = node_id


def _raise(outcome: Future[None]) -> None:
    """An operation's outcome as schemathesis' own subtests report it."""
    __tracebackhide__ = True
    try:
        outcome.result()
    except FailureGroup as exc:
        raise as_reported_failure(exc) from None
    except SkipTest as exc:
        raise pytest.skip.Exception(str(exc)).with_traceback(exc.__traceback__) from None
