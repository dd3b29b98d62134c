"""pytest plugin (entry point `vsee_contract`): options, the target fixture, write safety, reporting, redaction."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vsee_contract import Contract

from . import preflight, state, summary
from .findings import redact
from .summary import rules_named
from .settings import PROFILES, from_options
from .target import Target

WRITE_MARK = "contract_writes"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vsee-contract", "VSee Rooms API contract suite")
    group.addoption("--base-url", dest="contract_base_url", help="v3 base URL of the deployment "
                    "(e.g. https://api.vsee.me/api_v3); env VSEE_BASE_URL. Without it: the mock, in-process.")  # fmt: skip
    group.addoption("--v4-base-url", dest="contract_v4_base_url", help="v4 base (default: --base-url with api_v4)")
    group.addoption("--account-code", dest="contract_account_code", help="X-AccountCode; env VSEE_ACCOUNT_CODE")
    group.addoption("--api-token", dest="contract_api_token", help="clinic admin X-ApiToken; env VSEE_API_TOKEN")
    group.addoption("--allow-writes", dest="contract_allow_writes", action="store_true",
                    help="run write operations against --base-url (always on in-process)")  # fmt: skip
    group.addoption("--max-writes", dest="contract_max_writes", type=int, default=1000,
                    help="most write requests sent to a live deployment (default 1000)")  # fmt: skip
    group.addoption("--room-code", dest="contract_room_code", help="a room to read when discovery finds none")
    group.addoption("--user-id", dest="contract_user_id", help="a user to associate when discovery finds none")
    group.addoption("--contract-profile", dest="contract_profile", choices=sorted(PROFILES), default="ci",
                    help="example counts and bounds (default: ci)")  # fmt: skip
    group.addoption("--contract-seed", dest="contract_seed", type=int, help="seed that reproduces a run")
    group.addoption("--contract-report", dest="contract_report", metavar="PATH",
                    help="write the per-operation summary as Markdown (also to $GITHUB_STEP_SUMMARY)")  # fmt: skip
    group.addoption("--contract-app", dest="contract_app", metavar="MODULE:FACTORY",
                    help="in-process WSGI app factory to test instead of mock_server:create_app")  # fmt: skip
    group.addoption(
        "--contract-timeout",
        dest="contract_timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long one request may take before the test fails (default 30)",
    )
    group.addoption(
        "--contract-strict",
        dest="contract_strict",
        action="store_true",
        help="fail on advisories too (legal choices where the docs are silent, e.g. lenient input)",
    )
    group.addoption(
        "--contract-require-all",
        dest="contract_require_all",
        action="store_true",
        help="fail the run when a rule could not be checked (no room, no provider, writes not allowed, ...)",
    )
    group.addoption(
        "--domain",
        dest="contract_domain",
        help="the clinic's domain, for a deployment with no room to learn it from; env VSEE_DOMAIN",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{WRITE_MARK}: sends write requests (needs --allow-writes on a live target)")
    settings = state.configure(from_options(config.option))
    if settings.report_path:  # found now, not after the whole run: the report is overwritten at the end
        try:
            Path(settings.report_path).open("w", encoding="utf-8").close()
        except OSError as exc:
            raise pytest.UsageError(
                f"--contract-report {settings.report_path}: cannot write there ({exc.strerror}); pass a writable path"
            ) from None


def _app_factory(factory: str | None, seed: int) -> Callable[[], Any]:
    """`--contract-app MODULE:FACTORY`, or the mock seeded with the run's seed (so a seed replays its codes too)."""
    if factory is None:
        from mock_server import create_app

        return functools.partial(create_app, {"seed": seed})
    module_name, _, attr = factory.partition(":")
    return getattr(importlib.import_module(module_name), attr or "create_app")  # type: ignore[no-any-return]


def build_target() -> Target:
    """The session's target: the in-process app (with its fixture account) or the --base-url deployment."""
    settings = state.settings()
    contract = Contract.load()
    if not settings.in_process:
        return Target(settings, contract)
    factory = _app_factory(settings.app_factory, settings.seed)
    if settings.account_code is None:
        from mock_server import default_credentials  # what the mock publishes; its fixtures stay its own

        code, token = default_credentials()
        settings = state.configure(replace(settings, account_code=code, api_token=token))
    return Target(settings, contract, factory)


@pytest.fixture(scope="session")
def target() -> Target:
    return state.target(build_target)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _preflight(items)
    if state.settings().writes_enabled:
        return
    labels = {f"[{op.method} {op.path}]" for op in Contract.load().spec.operations.values() if op.method != "GET"}
    for item in items:  # schemathesis' generated items: one per operation, named after it
        if any(item.name.endswith(label) for label in labels):
            item.add_marker(WRITE_MARK)
    writes = [item for item in items if item.get_closest_marker(WRITE_MARK)]
    if writes:
        config.hook.pytest_deselected(items=writes)
        items[:] = [item for item in items if not item.get_closest_marker(WRITE_MARK)]
        state.note(f"{len(writes)} write tests deselected: pass --allow-writes to run them against --base-url")


def _preflight(items: list[pytest.Item]) -> None:
    """Against a live deployment, stop at once with one line when it is not ready to be tested."""
    if state.settings().in_process or not any(_is_suite_item(i) for i in items):
        return
    current = state.target(build_target)
    found = preflight.problem(current)
    if found is not None:
        pytest.exit(f"vsee-contract: {redact(found, current.settings.secrets)}", returncode=4)


def _is_suite_item(item: pytest.Item) -> bool:
    return item.nodeid.startswith("contract_tests/") or "/contract_tests/" in str(item.path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    """Advisories found while `item` runs are attached to it (JUnit `<property name="advisory">`)."""
    current = state.current_target()
    if current is not None:
        current.advisories.current_item = item
    try:
        return (yield)
    finally:
        if current is not None:
            current.advisories.current_item = None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Defence in depth: whatever a failure prints (a server may echo the token), it is redacted before the
    terminal, JUnit or any other reporter sees the report. Failed tests are remembered with the rules they name."""
    _scrub_report(report)
    if report.failed:
        state.failed(report.nodeid, rules_named(str(report.longrepr)))


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node: Any, call: Any, report: pytest.TestReport) -> None:
    """schemathesis rewrites a failure's text here, after logreport: redact again, last."""
    _scrub_report(report)


def _scrub_report(report: pytest.TestReport) -> None:
    secrets = state.settings().secrets
    if not secrets:
        return
    if report.longrepr is not None:
        text = str(report.longrepr)
        if any(s in text for s in secrets):
            report.longrepr = redact(text, secrets)
    report.sections = [(title, redact(body, secrets)) for title, body in report.sections]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Undo the associations the run made on a live deployment (rooms cannot be deleted: they are listed). With
    --contract-require-all a run that left a rule unchecked fails, so a gate cannot go green on part of the suite."""
    current = state.current_target()
    if current is None:
        return
    if not current.settings.in_process:
        _clean_up(current)
    if current.settings.require_all and summary.unchecked_rules(current) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _clean_up(current: Target) -> None:
    current.cleaning = True  # the budget kept these writes back
    for user, code in list(current.ledger.associations):
        try:
            current.call("removeUserRoom", path={"id": user, "room_code": code})
        except (AssertionError, pytest.skip.Exception, pytest.fail.Exception) as exc:
            state.note(f"could not remove the association of user {user} with room {code}: {exc}")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    current = state.current_target()
    notes = state.notes()
    if current is None and not notes:
        return
    failed = state.failed_tests()
    unchecked = len(summary.unchecked_rules(current)) if current is not None and current.settings.require_all else 0
    outcome = summary.Outcome(failed, len(terminalreporter.stats.get("skipped", [])), exitstatus, unchecked)
    terminalreporter.section("VSee Rooms API contract")
    for line in [*notes, *(summary.terminal_lines(current, outcome) if current is not None else [])]:
        terminalreporter.write_line(line)
    text = summary.markdown(current, outcome, notes) if current is not None else "\n".join(notes)
    text = redact(text, state.settings().secrets) + "\n"
    report_path = state.settings().report_path
    if report_path:
        Path(report_path).write_text(text, encoding="utf-8")
    if os.environ.get("GITHUB_STEP_SUMMARY"):  # GitHub's convention: each step appends its summary
        with Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as fh:
            fh.write(text)
