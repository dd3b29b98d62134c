"""The layers side by side (contract_tests.side_by_side): against a live deployment the marked layers' bodies run at
once, each reporting to its own test; each associates only with rooms it made; one moves default rooms; the baton
goes to the model first; at --contract-concurrency 1 they run one after another, as before."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from contract_tests.transport import Baton

from helpers.suite_runner import ACCOUNT_ARGS, TESTS, served, suite_env

# Two layers whose bodies meet twice: only possible when they run at once (each gives the baton up to wait, as the
# transport does while a request is out). Between the meetings each takes the room it may associate with and asks
# whether it may move default rooms; the last test compares what they got.
LAYERS = textwrap.dedent(
    """
    import threading

    import pytest

    from contract_tests.discovery import own_room

    MEET = threading.Barrier(2, timeout=20)
    SEEN = {}


    def meet(target):
        with target.baton.released():
            MEET.wait()


    def body(name):
        def run(target):
            meet(target)
            SEEN[name] = (own_room(target, ""), target.side_by_side.moves_defaults())
            meet(target)
            return name
        return run


    @pytest.mark.contract_side_by_side("model", body("model"), rooms=1)
    def test_model(target, request):
        assert target.side_by_side.outcome(request) == "model"


    @pytest.mark.contract_side_by_side("schema", body("schema"), rooms=1)
    def test_schema(target, request):
        assert target.side_by_side.outcome(request) == "schema"


    def test_what_each_got():
        (model_room, model_moves), (schema_room, schema_moves) = SEEN["model"], SEEN["schema"]
        assert model_room != schema_room, "two layers side by side were given the same room"
        assert (model_moves, schema_moves) == (True, False), "only the model may move default rooms beside it"
    """
)


# A layer that fails at once beside one that would send requests for a long time from a pool's thread (as the
# schema layer's operations do): with -x the run ends at the failure, and the layer still running must stop sending
# and let the process exit (the interpreter waits for a pool's threads).
ENDLESS = textwrap.dedent(
    """
    from concurrent.futures import ThreadPoolExecutor

    import pytest

    from contract_tests.side_by_side import submit_here
    from vsee_contract.operations import LIST_ROOMS


    def fails(target):
        target.call(LIST_ROOMS)
        raise AssertionError("the first failure")


    def endless(target):
        def calls():
            with target.baton.held():
                for _ in range(100_000):
                    target.call(LIST_ROOMS)

        with ThreadPoolExecutor(1) as pool, target.baton.released():
            submit_here(pool, calls).result()


    @pytest.mark.contract_side_by_side("model", fails)
    def test_model(target, request):
        target.side_by_side.outcome(request)


    @pytest.mark.contract_side_by_side("schema", endless)
    def test_schema(target, request):
        target.side_by_side.outcome(request)
    """
)


def _run_layers(tmp_path: Path, base: str, *args: str, source: str = LAYERS) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_layers.py").write_text(source, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_layers.py")]
    command += ["--base-url", base, "--contract-allow-writes", *ACCOUNT_ARGS, "--contract-seed", "1", *args]
    env = {**suite_env(), "PYTHONPATH": str(TESTS.parent)}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_marked_layers_run_at_once_each_with_its_own_room_and_one_moving_defaults(tmp_path: Path) -> None:
    with served(None) as base:
        done = _run_layers(tmp_path, base)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


def test_at_concurrency_1_the_layers_run_one_after_another(tmp_path: Path) -> None:
    with served(None) as base:
        done = _run_layers(tmp_path, base, "--contract-concurrency", "1")
    assert done.returncode != 0
    assert "BrokenBarrierError" in done.stdout, done.stdout[-3000:]


def test_a_run_that_ends_early_stops_the_layers_still_running_and_exits(tmp_path: Path) -> None:
    with served(None) as base:
        done = _run_layers(tmp_path, base, "-x", source=ENDLESS)  # (a hang would time out: subprocess.TimeoutExpired)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 failed" in done.stdout and "the first failure" in done.stdout
    sent = re.search(r"requests sent: ([0-9]+)", done.stdout)
    assert sent is not None and int(sent.group(1)) < 10_000, "the layer went on after the run had ended"


def test_the_baton_goes_to_the_lowest_rank_then_in_order_of_arrival() -> None:
    ranks = threading.local()
    baton = Baton(lambda: int(getattr(ranks, "rank", 9)))
    order: list[str] = []
    inside = 0
    most_inside = 0
    queued = threading.Semaphore(0)

    def waiter(name: str, rank: int) -> None:
        nonlocal inside, most_inside
        ranks.rank = rank
        queued.release()
        with baton.held():
            inside += 1
            most_inside = max(most_inside, inside)
            order.append(name)
            inside -= 1

    with baton.held():
        threads: list[threading.Thread] = []
        for name, rank in (("links", 2), ("model", 0), ("schema, first", 1), ("schema, second", 1)):
            thread = threading.Thread(target=waiter, args=(name, rank))
            thread.start()
            queued.acquire()
            _until_waiting(baton, len(threads) + 1)
            threads.append(thread)
    for thread in threads:
        thread.join(timeout=10)
    assert order == ["model", "schema, first", "schema, second", "links"]
    assert most_inside == 1


def test_a_thread_holding_the_baton_takes_it_again_and_gives_it_up_while_it_waits() -> None:
    baton = Baton()
    other_ran = threading.Event()

    def other() -> None:
        with baton.held():
            other_ran.set()

    with baton.held(), baton.held():  # the same thread: no deadlock
        thread = threading.Thread(target=other)
        thread.start()
        with baton.released():
            assert other_ran.wait(timeout=10), "the baton was not handed over while released"
    thread.join(timeout=10)


def _until_waiting(baton: Baton, count: int) -> None:
    """Until `count` threads queue for the baton (each has said it is about to)."""
    for _ in range(10_000):
        if len(baton._waiting) >= count:
            return
        threading.Event().wait(0.001)
    pytest.fail(f"fewer than {count} threads queued for the baton")
