"""pytest plugin (entry point `vsee_contract`): options, the target fixture, write safety, reporting, redaction."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from schemathesis.schemas import BaseSchema

from vsee_contract import Contract, redact
from vsee_contract.operations import REMOVE_USER_ROOM

from . import budget, gatecase, options, preflight, side_by_side, state, summary
from .generated import left_out, load_schema
from .settings import SuiteSettings, from_options
from .side_by_side import SideBySide
from .summary import rules_named
from .target import Target

WRITE_MARK = "contract_writes"
READ_ONLY = "a write test, and writes are not allowed"
SEED_INPUT = "vsee_contract_seed"  # in an xdist worker's `workerinput`: the run's seed


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


pytest_load_initial_conftests = options.pytest_load_initial_conftests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{WRITE_MARK}(rule, ...): sends write requests (needs --contract-allow-writes on a live target); its "
        "arguments name the rules only it checks",
    )
    config.addinivalue_line(
        "markers",
        f"{side_by_side.MARK}(layer, body, rooms=0, more=False): a layer whose body (its parameters: session "
        "fixtures) may run beside the other layers against a live deployment, with the rooms of --contract-max-rooms "
        "it needs (contract_tests.side_by_side)",
    )
    run = state.start(config, from_options(config.option, options.base_url(config)))
    settings = run.options
    _take_the_runs_seed(config, run)
    _join_write_budget(config, run)
    if settings.report_path:  # found now, not after the whole run: the report is overwritten at the end
        try:
            Path(settings.report_path).parent.mkdir(parents=True, exist_ok=True)  # as --junitxml makes its folder
            Path(settings.report_path).open("w", encoding="utf-8").close()
        except OSError as exc:
            raise pytest.UsageError(
                f"--contract-report {settings.report_path}: cannot write there ({exc.strerror}); pass a writable path"
            ) from None


def _take_the_runs_seed(config: pytest.Config, run: state.Run) -> None:
    """An xdist worker uses the controller's seed (`pytest_configure_node`): one seed for the whole run, which its
    summary names and a rerun with --contract-seed replays."""
    seed = getattr(config, "workerinput", {}).get(SEED_INPUT)
    if seed is not None:
        run.options = replace(run.options, seed=int(seed))


def _join_write_budget(config: pytest.Config, run: state.Run) -> None:
    """An xdist worker takes its part in the run's write budget, which the controller made (`pytest_configure_node`);
    where the budget file cannot be shared, it keeps an equal split of it, per process."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    given = workerinput.get(budget.WORKER_INPUT)
    if given is None:
        return
    run.write_budget = given
    run.shared_budget = budget.SharedBudget.join(given, str(workerinput["workerid"]))
    if run.shared_budget is None:
        share = budget.split_share(int(given["limit"]), int(given["workers"]))
        rooms = budget.split_share(run.options.max_rooms, int(given["workers"]))
        run.options = replace(run.options, max_writes=share, max_rooms=rooms)
        run.notes.append(
            "the write budget could not be shared between the xdist workers (no file locking here, or the "
            f"controller's budget file is not on this machine): each of the {given['workers']} workers kept "
            f"{share} of the {given['limit']} writes of --contract-max-writes and {rooms} of --contract-max-rooms"
        )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist's controller, for each worker it starts: the run's seed, and one write budget for the whole run,
    made once and given to every worker (`node.workerinput`), so that `-n 4` sends at most --contract-max-writes
    writes, not four times as many. In-process and read-only runs need no budget."""
    run = state.of(node.config)
    run.worker_count = int(node.workerinput["workercount"])
    node.workerinput[SEED_INPUT] = run.options.seed
    if run.options.in_process or not run.options.allow_writes:
        return
    if run.write_budget is None:
        run.write_budget = budget.create(run.options.max_writes, int(node.workerinput["workercount"]))
    node.workerinput[budget.WORKER_INPUT] = run.write_budget


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """pytest-xdist's controller: what a worker that finished sent, for the run's summary."""
    sent = getattr(node, "workeroutput", {}).get(budget.WORKER_OUTPUT)
    if sent is not None:
        state.of(node.config).workers[str(node.gateway.id)] = sent


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller removes the shared write budget it made (a worker was only given it)."""
    run = config.stash.get(state.RUN, None)
    if run is not None and run.write_budget is not None and not hasattr(config, "workerinput"):
        budget.remove(run.write_budget)


def _app_factory(factory: str | None, seed: int) -> Callable[[], Any]:
    """`--contract-app MODULE:FACTORY`, or the mock seeded with the run's seed (so a seed replays its codes too)."""
    if factory is None:
        from mock_server import create_app

        return functools.partial(create_app, {"seed": seed})
    module_name, _, attr = factory.partition(":")
    return getattr(importlib.import_module(module_name), attr or "create_app")  # type: ignore[no-any-return]


def build_target(settings: SuiteSettings) -> Target:
    """A target for `settings`: the in-process app (with its fixture account) or the --base-url deployment."""
    contract = Contract.load()
    if not settings.in_process:
        return Target(settings, contract)
    factory = _app_factory(settings.app_factory, settings.seed)
    if settings.account_code is None:
        from mock_server import default_credentials  # what the mock publishes; its fixtures stay its own

        code, token = default_credentials()
        settings = replace(settings, account_code=code, api_token=token)
    return Target(settings, contract, factory)


def session_target(config: pytest.Config) -> Target:
    """The run's one target, built on first need: by the preflight before any test against a live deployment,
    else by the first test that asks for it."""
    run = state.of(config)
    if run.target is None:
        run.target = build_target(run.options)
        run.target.budget = run.shared_budget
        # under pytest-xdist the workers already run the test files side by side, each in its own process
        overlap = run.target.concurrency > 1 and not hasattr(config, "workerinput")
        run.target.side_by_side = SideBySide(overlap)
        if run.shared_budget is not None:
            run.target.share_rooms(str(run.shared_budget.directory))
    return run.target


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    return session_target(pytestconfig)


@pytest.fixture(scope="session")
def contract_schema(pytestconfig: pytest.Config, target: Target) -> BaseSchema:
    """The contract as a schemathesis schema aimed at the target (`schemathesis.pytest.from_fixture`). Without
    --contract-allow-writes against a live deployment it has no write operation; the summary counts them as not run."""
    state.of(pytestconfig).writes_not_run += len(left_out(target))
    return load_schema(target)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The preflight, then write safety: without --contract-allow-writes on a live target the tests marked as writes are
    skipped, saying why (the generated tests lose their write operations in `contract_schema`)."""
    _preflight(config, items)
    run = state.of(config)
    if run.settings.writes_enabled:
        return
    writes = [item for item in items if item.get_closest_marker(WRITE_MARK)]
    for item in writes:  # skipped with the reason, not deselected: reports and JUnit list them
        item.add_marker(
            pytest.mark.skip(reason=f"{READ_ONLY}: pass --contract-allow-writes to run it against --base-url")
        )
        marker = item.get_closest_marker(WRITE_MARK)
        if marker is not None and marker.args:  # the rules only this test checks: the summary says why not
            session_target(config).ledger.cannot_check(
                marker.args, "writes are not allowed: pass --contract-allow-writes"
            )
    run.writes_not_run += len(writes)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Against a live deployment, before any test runs: the selected layers, and each one's share of the room
    allowance (contract_tests.footprint), decided by the selection alone."""
    if state.of(session.config).settings.in_process or not side_by_side.selected(session.items):
        return
    current = session_target(session.config)
    current.rooms.divide(current.side_by_side.select(session.items))


def _preflight(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against a live deployment, stop at once with one line when it is not ready to be tested."""
    if state.of(config).settings.in_process or not any(_is_suite_item(i) for i in items):
        return
    current = session_target(config)
    found = preflight.problem(current)
    if found is not None:
        state.of(config).stopped = True
        pytest.exit(f"vsee-contract: {redact(found, current.settings.secrets)}", returncode=4)
    if current.adapter is not None:  # it answers: from now on a lost connection ends the run with one line
        current.adapter.armed = True


def _is_suite_item(item: pytest.Item) -> bool:
    return item.nodeid.startswith("contract_tests/") or "/contract_tests/" in str(item.path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Advisories found while `item` runs are attached to it (JUnit `<property name="advisory">`). Its fixtures are
    set up by now, so the target exists if the test uses it. Progress stays monotonic (see the end)."""
    current = state.of(item.config).target
    if current is not None:
        current.advisories.current_item = item
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    collected, reported = item.session.testscollected, getattr(terminal, "reported_progress", 0)
    try:
        return (yield)
    finally:
        if current is not None:
            current.advisories.current_item = None
        # schemathesis counts each operation of a generated test as a collected test while it runs them, but the
        # terminal counts only those it showed as progress (depending on the verbosity): count what it counted, or
        # pytest's progress goes backwards and never reaches 100%
        item.session.testscollected = collected + getattr(terminal, "reported_progress", 0) - reported


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Defence in depth: whatever a failure prints (a server may echo the token), it is redacted before the
    terminal, JUnit or any other reporter sees the report (a subtest's report, one per generated operation, too).
    Failed tests are remembered with the rules they name."""
    report = yield
    run = state.of(item.config)
    _scrub_report(report, run.settings.secrets)
    if report.failed:
        run.failed[report.nodeid] = rules_named(str(report.longrepr))
    return report


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(
    node: pytest.Item | pytest.Collector, call: Any, report: pytest.TestReport | pytest.CollectReport
) -> None:
    """schemathesis rewrites a failure's text here, after the report was made: redact again, last."""
    _scrub_report(report, state.of(node.config).settings.secrets)


def _scrub_report(report: pytest.TestReport | pytest.CollectReport, secrets: tuple[str, ...]) -> None:
    if not secrets:
        return
    if report.longrepr is not None:
        text = str(report.longrepr)
        if any(s in text for s in secrets):
            report.longrepr = redact(text, secrets)
    report.sections = [(title, redact(body, secrets)) for title, body in report.sections]


@pytest.hookimpl(tryfirst=True)  # before junitxml writes its file: the require-all verdict is a test case in it
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Undo the associations the run made on a live deployment (rooms cannot be deleted: they are listed). With
    --contract-require-all a run that left a rule unchecked fails, so a gate cannot go green on part of the suite;
    under pytest-xdist the controller judges that over every worker's checks (a worker sends them, see
    `summary.worker_output`)."""
    run = state.of(session.config)
    current = run.target
    if current is not None:
        current.side_by_side.stop(current)
    if current is not None and not current.settings.in_process and not run.stopped:
        _clean_up(run, current)
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[budget.WORKER_OUTPUT] = summary.worker_output(run)
        return
    seen = summary.observed(run)
    if seen is None or not run.settings.require_all or session.exitstatus != pytest.ExitCode.OK:
        return
    unchecked = summary.unchecked_rules(seen.ledger)
    if unchecked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        gatecase.report_unchecked(session.config, unchecked)


def _clean_up(run: state.Run, current: Target) -> None:
    if current.adapter is not None and current.adapter.gone is not None:
        left = len(current.ledger.associations)
        run.notes.append(f"{left} association(s) the run made could not be undone: the deployment stopped answering")
        return
    current.cleaning = True  # the budget kept these writes back
    if current.budget is not None:  # give back to the run what this worker held for an association never made
        current.budget.settle(len(current.ledger.associations))
    made = list(current.ledger.associations)
    for user, code in current.footprint.to_undo(made) if current.footprint is not None else made:
        try:
            current.call(REMOVE_USER_ROOM, path={"id": user, "room_code": code})
        except (AssertionError, pytest.skip.Exception, pytest.fail.Exception) as exc:
            run.notes.append(f"could not remove the association of user {user} with room {code}: {exc}")
    if current.footprint is not None:
        run.suite_rooms = current.footprint.suite_rooms_now()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The summary, in the terminal and as Markdown (--contract-report, $GITHUB_STEP_SUMMARY), redacted. Under
    pytest-xdist the controller's is the whole run's, from every worker's part; a worker shows none."""
    run = state.of(config)
    if hasattr(config, "workerinput") or run.stopped:
        return
    notes = run.summary_notes()
    if run.worker_count:
        notes += summary.xdist_lines(run.write_budget, run.workers, run.worker_count)
    seen = summary.observed(run)
    if seen is None and not notes:
        return
    lines, text = notes, "\n".join(notes)
    if seen is not None:
        contract = run.target.contract if run.target is not None else Contract.load()
        skipped = len(terminalreporter.stats.get("skipped", []))
        report = summary.build(contract, run.settings, seen, notes, skipped, exitstatus, summary.suite_rooms(run))
        lines, text = report.terminal_lines(), report.markdown()
    terminalreporter.section("VSee Rooms API contract")
    for line in lines:
        terminalreporter.write_line(line)
    text = redact(text, run.settings.secrets) + "\n"
    if run.settings.report_path:
        with Path(run.settings.report_path).open("w", encoding="utf-8") as fh:
            fh.write(text)
    if os.environ.get("GITHUB_STEP_SUMMARY"):  # GitHub's convention: each step appends its summary
        with Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as fh:
            fh.write(text)
