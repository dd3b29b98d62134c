"""The run's own verdicts as test reports, so that a CI dashboard reading the JUnit XML shows what the exit code says:
`--contract-require-all` failing the run is a failed test case naming the rules left unchecked (and why), not only
an exit status on a file that says `failures=0`."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

NODE_ID = "contract_tests::every_rule_was_checked"


def report_unchecked(config: pytest.Config, unchecked: Mapping[str, str]) -> None:
    """One failed test case, reported through pytest's own hook (the terminal, JUnit and any other reporter see it
    like every other test's), before the reporters write their files at the end of the session."""
    lines = [f"--contract-require-all: {len(unchecked)} rule(s) could not be checked"]
    lines += [f"  {rule}: {why}" for rule, why in unchecked.items()]
    location = ("contract_tests", None, "every rule was checked (--contract-require-all)")
    for when, outcome, longrepr in (("call", "failed", "\n".join(lines)), ("teardown", "passed", None)):
        report = pytest.TestReport(NODE_ID, location, {}, outcome, longrepr, when)  # type: ignore[arg-type]
        config.hook.pytest_runtest_logreport(report=report)
