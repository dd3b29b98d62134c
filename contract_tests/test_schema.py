"""Layer 1: every operation, positive and negative data, through schemathesis' examples, coverage and fuzzing."""

from __future__ import annotations

from schemathesis import Case

from . import state
from .generated import judge, load_schema, prepare, record, token_headers
from .plugin import build_target

TARGET = state.target(build_target)
schema = load_schema(TARGET)
CHECKED = {"schemathesis-checks", "vsee_contract_rules"}


@schema.parametrize()
def test_operation_conforms(case: Case) -> None:
    prepare(TARGET, case)
    headers = token_headers(TARGET, case)
    response = case.call(headers=headers)
    record(TARGET, case, response, CHECKED)
    judge(TARGET, case, response, headers)


@schema.include(operation_id="getRoom").parametrize()
def test_room_detail_conforms_on_v4(case: Case) -> None:
    v4 = TARGET.base("v4")
    assert v4 is not None, "cannot derive the api_v4 base from --base-url; pass --v4-base-url"
    response = case.call(base_url=v4)
    record(TARGET, case, response, CHECKED)
    judge(TARGET, case, response, {}, {"base_url": v4})
