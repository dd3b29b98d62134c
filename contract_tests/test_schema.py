"""Layer 1: every operation, positive and negative data, through schemathesis' examples, coverage and fuzzing.

The schema comes from the `contract_schema` fixture (built with the session's target, not at import); each operation
is a subtest, `test_operation_conforms[POST /rooms]`, and up to --contract-concurrency operations run at once
against a live deployment (`operations.py`), beside the other layers (`side_by_side.py`).
"""

from __future__ import annotations

import pytest
from schemathesis.schemas import BaseSchema

from vsee_contract.operations import GET_ROOM, REGISTRY

from .discovery import own_room
from .generated import ContractCase, judge, prepare, record, token_headers
from .operations import Outcomes, report_each, run_each_operation
from .target import Target

CHECKED = {"schemathesis-checks", "vsee_contract_rules"}
# They make and undo associations of the same rooms (live: the run's own room), so what one answers depends on what
# the other did: one after another, while every other operation runs beside them.
ASSOCIATIONS = tuple(op for op, d in REGISTRY.items() if d.association is not None)


def _conforms(case: ContractCase, target: Target) -> None:
    prepare(target, case)
    headers = token_headers(target, case)
    response = case.call(headers=headers)
    record(target, case, response, CHECKED)
    judge(target, case, response, headers)


def _conforms_on_v4(case: ContractCase, target: Target) -> None:
    v4 = target.base("v4")
    assert v4 is not None, "cannot derive the api_v4 base from --base-url; pass --v4-base-url"
    response = case.call(base_url=v4)
    record(target, case, response, CHECKED)
    judge(target, case, response, {}, {"base_url": v4})


def _every_operation(target: Target, contract_schema: BaseSchema) -> Outcomes:
    if target.concurrency > 1 and target.settings.writes_enabled:
        own_room(target, "")  # the room the associations use, made first: the same one whatever runs first
    return run_each_operation(contract_schema, _conforms, target.concurrency, target.baton, ASSOCIATIONS, target=target)


@pytest.mark.contract_side_by_side("schema", _every_operation, rooms=1, more=True)  # the associations' room
def test_operation_conforms(target: Target, request: pytest.FixtureRequest) -> None:
    report_each(target.side_by_side.outcome(request), request)


def test_room_detail_conforms_on_v4(
    target: Target, contract_schema: BaseSchema, request: pytest.FixtureRequest
) -> None:
    v4 = contract_schema.include(operation_id=GET_ROOM)
    report_each(run_each_operation(v4, _conforms_on_v4, 1, target.baton, target=target), request)
