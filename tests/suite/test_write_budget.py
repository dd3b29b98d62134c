"""--contract-max-writes is the budget of the whole run, not of each process: under pytest-xdist the workers share one
(contract_tests.budget), as witnessed by a deployment that logs every request it receives; the workers' clean-up
always fits in it; and the run says that the budget was shared and how much of it was used."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import re
from pathlib import Path

import pytest

from contract_tests import budget
from vsee_contract import READ_METHODS

from helpers.recording import RECORDING_FILE, received
from helpers.suite_runner import ACCOUNT_ARGS, run_suite, served_app

BUDGET = 10
WRITING_LAYERS = "operation_conforms or write_input or workflow or model_predicts"  # the tests that send writes


@pytest.mark.parametrize("workers", [2, None], ids=["xdist-2-workers", "one-process"])
def test_the_write_budget_bounds_what_the_whole_run_delivers(tmp_path: Path, workers: int | None) -> None:
    log = tmp_path / "received.jsonl"
    parallel = ["-n", str(workers)] if workers else []
    with served_app("helpers.recording.recording()", env={RECORDING_FILE: str(log)}) as base:
        result = run_suite(
            "--base-url",
            base,
            *ACCOUNT_ARGS,
            "--contract-allow-writes",
            "--contract-max-writes",
            str(BUDGET),
            "-k",
            WRITING_LAYERS,
            *parallel,
        )
    writes = [r for r in received(log) if r["method"] not in READ_METHODS]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert 0 < len(writes) <= BUDGET, f"{len(writes)} writes reached the deployment\n{result.stdout[-3000:]}"
    sent = re.search(r"writes sent: ([0-9]+)", result.stdout)
    assert sent and int(sent.group(1)) == len(writes), result.stdout[-3000:]
    shared = f"write budget shared by the run's {workers} xdist workers: {len(writes)} of {BUDGET} writes used"
    assert (shared in result.stdout) == bool(workers), result.stdout[-3000:]


def _spend(given: dict[str, object], worker: str, holds: list[int], spent: multiprocessing.queues.Queue[int]) -> None:
    """A worker: writes while the budget lets it (holding `holds[i]` back after its i-th), then its clean-up."""
    share = budget.SharedBudget.join(given, worker)
    assert share is not None
    writes = 0
    for hold in holds:
        if not share.reserve(hold):
            break
        writes += 1
    clean_up = max(share.held - 1, 0)  # one was kept for an association the last write did not make
    share.settle(clean_up)
    for _ in range(clean_up):
        assert share.reserve_clean_up(), f"{worker}: the clean-up did not fit in what it held back"
        writes += 1
    spent.put(writes)


def test_workers_in_parallel_processes_never_spend_more_than_the_budget_and_their_clean_up_always_fits() -> None:
    given = budget.create(limit=40, workers=4)
    try:
        context = multiprocessing.get_context("fork")
        spent: multiprocessing.queues.Queue[int] = context.Queue()
        holds = [1 + min(i // 3, 4) for i in range(40)]  # an association more every third write, up to 4
        processes = [context.Process(target=_spend, args=(given, f"gw{n}", holds, spent)) for n in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        assert [p.exitcode for p in processes] == [0] * 4
        total = sum(spent.get(timeout=5) for _ in processes)
        usage = budget.used(given)
        assert usage is not None and usage.sent == total
        assert 30 <= total <= 40, total  # nearly all of it spent, none of it twice
    finally:
        budget.remove(given)
    assert not Path(str(given["path"])).exists()


def test_a_worker_that_cannot_lock_the_shared_file_does_not_join_it() -> None:
    given = budget.create(limit=10, workers=3)
    try:
        assert budget.SharedBudget.join(given, "gw0") is not None
        assert budget.SharedBudget.join({**given, "path": "/nonexistent/elsewhere"}, "gw0") is None  # a remote worker
        assert budget.SharedBudget.join(given, "gw0", can_lock=False) is None  # no fcntl, as on Windows
        assert budget.split_share(10, 3) == 3  # the fallback: 3 workers × 3 writes stay within the 10
    finally:
        budget.remove(given)
