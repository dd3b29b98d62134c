"""Proof that the contract suite never cries wolf: it passes on every benign variant of the deployment
(`benign_variants.py`: correct servers that make other legal choices where the docs are silent), for several
seeds, through its real command line over real HTTP on 127.0.0.1, without printing the token, and shows what
each variant expects it to show (e.g. `429 retries:` against the throttling one).

The runs go at once: the busy ones one per core (each is a server process plus a suite process), the sleepy
ones (`throttling`, `slow`: mostly waiting for Retry-After or the delay, ~1 minute each) on their own threads
beside them, so their waiting costs no wall time while the busy runs take longer than that anyway. Hence the slow
variant keeps its full 150 ms per answer (~50 s of waiting in a quick-profile run of ~330 requests);
`BENIGN_SLOW_MS` lowers it. `BENIGN_SEEDS=1,2,3` (the default) picks the seeds, `BENIGN_ONLY=a,b` the variants.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from helpers.benign_variants import CATALOGUE, SLOW_MS_ENV
from helpers.suite_runner import run_suite, served_app

SEEDS = tuple(int(seed) for seed in os.environ.get("BENIGN_SEEDS", "1,2,3").split(","))
# Issue 22's variants run one seed each in CI (taking turns over SEEDS), to keep CI's time; BENIGN_SEEDS runs them all.
ONE_SEED_IN_CI = (
    "own_way_out_of_contract",
    "lagging_lists",
    "compressing_gateway",
    "streaming_proxy",
    "load_balancer_headers",
    "reserializing_gateway",
)
ONLY = [name for name in os.environ.get("BENIGN_ONLY", "").split(",") if name]  # a part of the catalogue, by name
RUNS = [
    (name, seed)
    for name in sorted(ONLY or CATALOGUE)
    for seed in (
        SEEDS
        if name not in ONE_SEED_IN_CI or "BENIGN_SEEDS" in os.environ
        else SEEDS[ONE_SEED_IN_CI.index(name) % len(SEEDS) :][:1]
    )
]
SERVER_ENV = {SLOW_MS_ENV: os.environ.get(SLOW_MS_ENV, "150")}
SLEEPY = ("throttling", "slow", "rate_limited", "lagging_lists")  # mostly waiting, not computing
FAILURE_LINE = re.compile(r"^(FAILED|ERROR) |\[[a-z][a-z0-9-]+\]|ContractViolation|Expected |^E +\w+Error|advisory")
# pytest's own verdicts; the suite's summary may say "failed" in prose (e.g. "advisories: 2 (listed, not failed)")
FAILED = re.compile(r"^(FAILED|ERROR) |\b[0-9]+ (failed|errors?)\b", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    """One suite run against one variant: what it printed, its exit code and how long it took (server included)."""

    name: str
    seed: int
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def verdict(self) -> str:
        """pytest's last line, and what the suite's summary says about advisories and retries."""
        lines = self.stdout.strip().splitlines() or [self.stderr.strip()[-200:]]
        notes = [line.strip() for line in lines if line.startswith(("advisories:", "429 retries:"))]
        return "; ".join([lines[-1].strip("= "), *notes])

    def why(self) -> str:
        """The lines that say what went wrong, then the tail of the output."""
        lines = [line for line in self.stdout.splitlines() if FAILURE_LINE.search(line)]
        head = f"{self.name} seed {self.seed}: exit {self.returncode} after {self.seconds:.1f} s"
        return "\n".join([head, *lines[:40], "--- tail ---", self.stdout[-2500:], self.stderr[-1000:]])


def _run(name: str, seed: int) -> Run:
    """Serve the variant on a free 127.0.0.1 port and run the suite's CLI against it, as a user would."""
    entry = CATALOGUE[name]
    started = time.monotonic()
    try:
        with served_app(f"helpers.benign_variants.VARIANTS[{name!r}]()", env=SERVER_ENV) as base:
            # run_suite passes `--contract-seed 1` first; the later option wins.
            args = ["--contract-seed", str(seed), "--base-url", base, "--allow-writes", *entry.suite_args]
            result = run_suite(*args)
        return Run(name, seed, result.returncode, result.stdout, result.stderr, time.monotonic() - started)
    except (AssertionError, OSError, subprocess.SubprocessError) as exc:  # no server, or the suite hung
        return Run(name, seed, -1, "", f"{type(exc).__name__}: {exc}", time.monotonic() - started)


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, int], Run]:
    sleepy = [run for run in RUNS if run[0] in SLEEPY]
    started = time.monotonic()
    with (
        ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as busy,
        ThreadPoolExecutor(max_workers=max(1, len(sleepy))) as idle,
    ):
        futures = [(idle if run in sleepy else busy).submit(_run, *run) for run in RUNS]
        done = [future.result() for future in futures]
    print(f"{len(done)} suite runs in {time.monotonic() - started:.1f} s")
    for run in sorted(done, key=lambda r: -r.seconds):
        print(f"  {run.name:<26} seed {run.seed}  {run.seconds:6.1f} s  exit {run.returncode}: {run.verdict()}")
    return {(run.name, run.seed): run for run in done}


@pytest.mark.parametrize(("name", "seed"), RUNS)
def test_suite_passes_on_benign_variant(runs: dict[tuple[str, int], Run], name: str, seed: int) -> None:
    run, entry = runs[(name, seed)], CATALOGUE[name]
    assert run.returncode == 0, run.why()
    assert " passed" in run.stdout and not FAILED.search(run.stdout), run.why()
    assert entry.api_token not in run.stdout + run.stderr, f"{name} seed {seed}: the token leaked into the output"
    missing = [pattern for pattern in entry.expect if not re.search(pattern, run.stdout)]
    assert not missing, f"the output does not show {missing}\n{run.why()}"
