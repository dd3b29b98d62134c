"""Reads that must show a write are made again within `--contract-consistency-window`: the docs promise no
immediacy, and a real deployment may serve its lists from a cache or a replica that lags its writes. A read that
shows the write only after a while is an advisory (`read-lag`, with how long it took); one that still disagrees
when the window has passed is the violation it shows, so a deployment that never shows a write is still caught.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .target import Exchange, Target

READ_LAG = "read-lag"
FIRST_WAIT = 0.1  # seconds before the first re-read; each later wait doubles
T = TypeVar("T")


def settled(
    target: Target,
    read: Callable[[], T],
    problems: Callable[[T], list[str]],
    shown: Callable[[T], Exchange],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`read()` until `problems` finds none or the window has passed; returns the last read (for the caller to
    judge). `shown(value)` is the exchange an advisory names."""
    window = target.settings.window
    started, wait, attempts = time.monotonic(), FIRST_WAIT, 1
    while True:
        value = read()
        found = problems(value)
        waited = time.monotonic() - started
        if not found:
            if attempts > 1:
                exchange = shown(value)
                target.advisories.add(
                    READ_LAG,
                    f"{exchange.method} {exchange.url} showed an earlier write only after {waited:.1f} s and "
                    f"{attempts} reads (within --contract-consistency-window {window:g})",
                    exchange.curl,
                )
            return value
        if waited >= window:
            return value
        sleep(min(wait, window - waited))
        wait, attempts = wait * 2, attempts + 1
