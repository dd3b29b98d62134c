"""Violations vs advisories (contract_tests.findings): advisories are counted, redacted, attached, strict fails."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from contract_tests.findings import Advisories, ContractViolation
from vsee_contract import redact

TOKEN = "83ec6843c3af534c551ab609d869dd82"


def test_redact_replaces_every_secret() -> None:
    assert redact(f"-H 'X-ApiToken: {TOKEN}' and {TOKEN}", (TOKEN, "")) == "-H 'X-ApiToken: [redacted]' and [redacted]"


def test_advisories_are_counted_per_rule_with_the_first_example_redacted() -> None:
    advisories = Advisories(strict=False, secrets=(TOKEN,))
    advisories.add("lenient-input", "POST /rooms answered 200 to default=AAA", f"curl -H 'X-ApiToken: {TOKEN}' a")
    advisories.add("lenient-input", "POST /rooms answered 200 to default=2", "curl b")
    advisories.add("json-bodies-refused", "POST /rooms answered 415", "curl c")
    assert advisories.lines() == [
        "advisories: 3 (listed, not failed; --contract-strict fails them)",
        "  advisory [json-bodies-refused] ×1: POST /rooms answered 415",
        "    e.g. curl c",
        "  advisory [lenient-input] ×2: POST /rooms answered 200 to default=AAA",
        "    e.g. curl -H 'X-ApiToken: [redacted]' a",
    ]


def test_no_advisories_say_so() -> None:
    assert Advisories(strict=False, secrets=()).lines() == ["advisories: none"]


def test_an_advisory_is_attached_to_the_running_test_for_junit() -> None:
    advisories = Advisories(strict=False, secrets=())
    advisories.current_item = SimpleNamespace(user_properties=[])
    advisories.add("strict-input", "GET /rooms answered 400 to limit=100", "curl")
    assert advisories.current_item.user_properties == [
        ("advisory", "[strict-input] GET /rooms answered 400 to limit=100")
    ]


def test_with_strict_an_advisory_fails_naming_its_rule_and_curl() -> None:
    advisories = Advisories(strict=True, secrets=(TOKEN,))
    with pytest.raises(
        ContractViolation, match=r"\[lenient-input\] .*--contract-strict\)\n  reproduce: curl \[redacted\]"
    ):
        advisories.add("lenient-input", "accepted default=AAA", f"curl {TOKEN}")
    assert advisories.by_rule["lenient-input"].count == 1
