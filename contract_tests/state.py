"""The run's state, kept on pytest's config (`config.stash`), never in module globals: its settings, its one target,
and what the summary reports beside the target's ledger. Hooks reach it through the config they are given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from .budget import SharedBudget
from .settings import SuiteSettings

if TYPE_CHECKING:
    from .target import Target


@dataclass
class Run:
    """One pytest session of the suite."""

    options: SuiteSettings  # as given on the command line and in the environment
    target: Target | None = None  # built on first need (the preflight, else the `target` fixture)
    notes: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)  # failed test -> the rules its failure names
    writes_not_run: int = 0  # write tests skipped, and write operations left out of the generated tests
    # pytest-xdist: the controller's shared write budget (what it gives each worker, contract_tests.budget) and what
    # each worker reported (what it saw and sent); a worker's own share of that budget (None: per process, or not
    # under xdist)
    write_budget: dict[str, Any] | None = None
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    worker_count: int = 0  # the xdist workers the controller started (0: not under xdist, or a worker)
    shared_budget: SharedBudget | None = None
    stopped: bool = False  # the preflight stopped the run: its one line is all it says
    suite_rooms: int | None = None  # the suite's rooms the live deployment holds at the end (after the clean-up)

    @property
    def settings(self) -> SuiteSettings:
        """The target's settings once it exists (in-process they carry the mock's account and token), else the
        options: what redaction and the summary must use."""
        return self.target.settings if self.target is not None else self.options

    def summary_notes(self) -> list[str]:
        """The notes for the summary, the one about write tests not run first."""
        deselected = (
            f"{self.writes_not_run} write tests not run (skipped, or left out of the generated tests): pass "
            "--contract-allow-writes to run them against --base-url"
        )
        return [deselected, *self.notes] if self.writes_not_run else list(self.notes)


RUN = pytest.StashKey[Run]()


def start(config: pytest.Config, options: SuiteSettings) -> Run:
    config.stash[RUN] = Run(options)
    return config.stash[RUN]


def of(config: pytest.Config) -> Run:
    """The run `config` belongs to; only the vsee_contract plugin's `pytest_configure` starts one."""
    run = config.stash.get(RUN, None)
    if run is None:
        raise RuntimeError("the vsee_contract pytest plugin is not loaded")
    return run
