"""Layer 1: every operation, positive and negative data, through schemathesis' examples, coverage and fuzzing.

The schema comes from the `contract_schema` fixture (built with the session's target, not at import); each operation
is a subtest, `test_operation_conforms[POST /rooms]`.
"""

from __future__ import annotations

import schemathesis

from .generated import ContractCase, judge, prepare, record, token_headers
from .target import Target

schema = schemathesis.pytest.from_fixture("contract_schema")
CHECKED = {"schemathesis-checks", "vsee_contract_rules"}


@schema.parametrize()
def test_operation_conforms(case: ContractCase, target: Target) -> None:
    prepare(target, case)
    headers = token_headers(target, case)
    response = case.call(headers=headers)
    record(target, case, response, CHECKED)
    judge(target, case, response, headers)


@schema.include(operation_id="getRoom").parametrize()
def test_room_detail_conforms_on_v4(case: ContractCase, target: Target) -> None:
    v4 = target.base("v4")
    assert v4 is not None, "cannot derive the api_v4 base from --base-url; pass --v4-base-url"
    response = case.call(base_url=v4)
    record(target, case, response, CHECKED)
    judge(target, case, response, {}, {"base_url": v4})
