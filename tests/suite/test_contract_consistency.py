"""A read that must show a write is made again within the consistency window: a lag is an advisory, a write never
shown in time is the violation its problems say (`contract_tests/consistency.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from contract_tests.consistency import READ_LAG, settled


class Seen:
    """A target stand-in: the window, and the advisories added."""

    def __init__(self, window: float) -> None:
        self.settings = SimpleNamespace(window=window)
        self.advisories = SimpleNamespace(add=lambda rule, message, curl: self.added.append((rule, message, curl)))
        self.added: list[tuple[str, str, str]] = []


def exchange(n: int) -> Any:
    return SimpleNamespace(method="GET", url=f"http://x/rooms#{n}", curl=f"curl {n}")


def counting(reads: list[int]) -> Callable[[], int]:
    """A read that records itself in `reads` and answers how many reads there were."""

    def read() -> int:
        reads.append(1)
        return len(reads)

    return read


def test_a_write_shown_at_once_is_read_once_and_no_advisory() -> None:
    target, reads = Seen(5), list[int]()
    value = settled(target, counting(reads), lambda n: [], exchange)  # type: ignore[arg-type]
    assert value == 1 and reads == [1] and target.added == []


def test_a_lagging_read_is_made_again_and_the_lag_is_an_advisory() -> None:
    target, reads, slept = Seen(5), list[int](), list[float]()
    value = settled(
        target,  # type: ignore[arg-type]
        counting(reads),
        lambda n: [] if n >= 3 else ["not yet"],
        exchange,
        sleep=slept.append,
    )
    assert value == 3 and slept == [0.1, 0.2]
    ((rule, message, curl),) = target.added
    assert rule == READ_LAG and "and 3 reads" in message and curl == "curl 3"


def test_a_write_never_shown_is_returned_for_judging_once_the_window_has_passed() -> None:
    target, slept = Seen(0.3), list[float]()
    clock = iter(range(100))

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    value = settled(
        target,  # type: ignore[arg-type]
        lambda: next(clock),
        lambda n: ["never"],
        exchange,
        sleep=sleep,
    )
    assert value >= 1 and target.added == [] and sum(slept) <= 0.3 + 1e-9


def test_no_window_means_one_read() -> None:
    target, reads = Seen(0), list[int]()
    settled(target, counting(reads), lambda _: ["never"], exchange)  # type: ignore[arg-type]
    assert reads == [1] and target.added == []
