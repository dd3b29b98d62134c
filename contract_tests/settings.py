"""What the suite is pointed at and how hard it looks: read once from pytest options and the environment."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Any

DEFAULT_WINDOW = 5.0  # seconds a live deployment may take to show a write
ROOM_PREFIX = "ct-"  # every room the suite creates carries it, so people can find (and clean up) them


@dataclass(frozen=True)
class Profile:
    """Example counts and bounds; `quick` for inner loops, `ci` (default) for gates, `thorough` for nightlies."""

    name: str
    schema_examples: int  # schemathesis fuzzing examples per operation
    phases: tuple[str, ...]  # schemathesis phases
    stateful_examples: int
    stateful_steps: int
    behaviour_examples: int  # hypothesis examples per behaviour rule
    sample_rooms: int  # how many discovered rooms a read rule looks at
    model_examples: int  # step sequences of the model-based layer
    model_steps: int  # steps per sequence
    shrink: bool  # shrink a failing step sequence of the in-process model layer (costs many more runs)


PROFILES = {
    "quick": Profile("quick", 5, ("examples", "fuzzing"), 3, 4, 3, 3, 3, 12, False),
    "ci": Profile("ci", 15, ("examples", "coverage", "fuzzing"), 10, 6, 8, 6, 10, 20, True),
    "thorough": Profile("thorough", 100, ("examples", "coverage", "fuzzing"), 50, 10, 40, 50, 60, 40, True),
}


@dataclass(frozen=True)
class SuiteSettings:
    """Everything the suite needs to know about its target; the token is kept out of repr."""

    base_url: str | None
    v4_base_url: str | None  # the override; `Target.base("v4")` derives it when not given
    account_code: str | None
    api_token: str | None = field(repr=False)
    allow_writes: bool
    max_writes: int
    room_code: str | None
    user_id: str | None
    profile: Profile
    seed: int  # chosen at random when not given, and printed, so every run can be reproduced
    report_path: str | None
    app_factory: str | None
    timeout: float = 30.0  # seconds per request, each attempt
    strict: bool = False  # advisories fail the run too
    domain: str | None = None  # the clinic's domain, when no room shows it
    require_all: bool = False  # a rule left unchecked fails the run
    namespace: str | None = None  # the shared mock's namespace this run (this xdist worker) keeps its rooms in
    worker: str | None = None  # the pytest-xdist worker this process is (gw0, gw1, ...), if any
    max_rooms: int = 10  # rooms a live run may create (contract_tests.footprint)
    concurrency: int = 8  # independent reads in flight at once against a live deployment (1: one at a time)
    consistency_window: float | None = None  # --contract-consistency-window; None: the default for the target

    @property
    def in_process(self) -> bool:
        return self.base_url is None

    @property
    def writes_enabled(self) -> bool:
        return self.in_process or self.allow_writes

    @property
    def window(self) -> float:
        """Seconds a deployment may take to show a write (`--contract-consistency-window`): 5 by default against a
        live deployment (a cache or replica may serve the lists), 0 in-process (the app the suite started is
        read straight), unless given."""
        if self.consistency_window is not None:
            return self.consistency_window
        return 0.0 if self.in_process else DEFAULT_WINDOW

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_token,) if s)


def namespace_for(name: str | None, worker: str | None) -> str | None:
    """One namespace per xdist worker, so parallel workers never see each other's rooms."""
    return f"{name}-{worker}" if name and worker else name or None


def from_options(option: Any, base_url: str | None) -> SuiteSettings:
    """Build settings from pytest's parsed options and pytest-base-url's base URL, falling back to VSEE_* environment
    variables."""
    env = os.environ
    base = base_url or env.get("VSEE_BASE_URL") or None
    v4_base = option.contract_v4_base_url or env.get("VSEE_V4_BASE_URL") or None
    return SuiteSettings(
        base_url=base.rstrip("/") if base else None,
        v4_base_url=v4_base.rstrip("/") if v4_base else None,
        account_code=option.contract_account_code or env.get("VSEE_ACCOUNT_CODE") or None,
        api_token=option.contract_api_token or env.get("VSEE_API_TOKEN") or None,
        allow_writes=bool(option.contract_allow_writes),
        max_writes=option.contract_max_writes,
        room_code=option.contract_room_code,
        user_id=option.contract_user_id,
        profile=PROFILES[option.contract_profile],
        seed=option.contract_seed if option.contract_seed is not None else random.randrange(2**31),
        report_path=option.contract_report,
        app_factory=option.contract_app,
        timeout=option.contract_timeout,
        strict=bool(option.contract_strict),
        domain=option.contract_domain or env.get("VSEE_DOMAIN") or None,
        namespace=namespace_for(option.contract_namespace or env.get("VSEE_NAMESPACE"), env.get("PYTEST_XDIST_WORKER")),
        worker=env.get("PYTEST_XDIST_WORKER") or None,
        require_all=bool(option.contract_require_all),
        max_rooms=option.contract_max_rooms,
        concurrency=option.contract_concurrency,
        consistency_window=option.contract_consistency_window,
    )
