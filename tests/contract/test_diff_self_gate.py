"""The project gates its own contract: openapi.yaml must keep every client of the last released contract
(released/openapi.yaml) working. A deliberate break is released by replacing that copy in the same change (README,
"Gate changes to the contract")."""

from __future__ import annotations

from vsee_contract import load_spec
from vsee_contract.diff import judge

from helpers.mock_api import ROOT


def test_openapi_yaml_keeps_the_clients_of_the_released_contract_working() -> None:
    released, working = load_spec(ROOT / "released" / "openapi.yaml"), load_spec(ROOT / "openapi.yaml")
    verdict = judge(released, working, time_limit=600)  # the whole search, however busy the machine
    assert not verdict.breaking, "\n".join(change.line() for change in verdict.breaking)
