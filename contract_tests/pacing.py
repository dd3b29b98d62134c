"""Pacing: send no faster than a rate-limited deployment allows, learnt from what it answers, instead of running into
its limit and waiting a whole `Retry-After` for every refusal.

Every attempt, from every thread, takes the next slot from one `Pacer` before it leaves (`wait`), and every answer
teaches it (`learn`):
- A `429` says the run went faster than allowed. The rate the deployment did accept over the last window (the
  `Retry-After`, at least a second) is what it allows: the pace becomes 90 % of that (at most one such step per half
  window, so a burst of refusals of one overload counts once). The refused request itself still waits its own
  `Retry-After` before it is sent again (the transport does that, bounded and counted).
- `RateLimit-Remaining` / `X-RateLimit-Remaining` (and their `-Reset`) say it before a refusal: when few requests are
  left in the window, the rest of the window is shared among them; none left, nothing is sent until it resets. The
  IETF draft's combined `RateLimit: limit=.., remaining=.., reset=..` is read too.
- Each second without a refusal the pace rises by 2 %, so a rate learnt too low (a limit raised, or a window where
  the run was not the one using it up) recovers.
A deployment that never throttles is never paced. The clock and the sleep are seams, so tests need no real waits.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

SAFETY = 0.9  # the pace after a refusal: this share of the rate the deployment accepted
PROBE = 1.02  # the pace rises by this factor per second without a refusal
FEW_LEFT = 2  # RateLimit-Remaining at or below this spreads the rest of the window over them
MIN_WINDOW = 1.0  # seconds: the shortest window a refusal's accepted rate is measured over
EPOCH_SECONDS = 1e9  # a reset above this is a point in time (X-RateLimit-Reset as Unix seconds), not a delay
DRAFT_FIELD = re.compile(r"\b(limit|remaining|reset|r|t)\s*=\s*([0-9.]+)", re.IGNORECASE)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def rate_limit_headers(headers: Mapping[str, str]) -> tuple[float | None, float | None]:
    """(remaining, seconds until the window resets) from `RateLimit-*`, `X-RateLimit-*` or the draft's combined
    `RateLimit` field; None where a deployment does not say. `headers` must look names up case-insensitively."""
    remaining = _number(headers.get("RateLimit-Remaining") or headers.get("X-RateLimit-Remaining"))
    reset = _number(headers.get("RateLimit-Reset") or headers.get("X-RateLimit-Reset"))
    combined = headers.get("RateLimit")
    if combined:
        fields = {k.lower(): float(v) for k, v in DRAFT_FIELD.findall(combined)}
        remaining = fields.get("remaining", fields.get("r", remaining))
        reset = fields.get("reset", fields.get("t", reset))
    if reset is not None and reset > EPOCH_SECONDS:
        reset = max(0.0, reset - time.time())
    return remaining, reset


class Pacer:
    """The run's pace, shared by every thread that sends; thread-safe."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self.rate: float | None = None  # requests per second it paces to; None: not paced
        self._next = 0.0  # the earliest start of the next attempt
        self._closed_until = 0.0  # nothing leaves before this (a window with nothing left)
        self._accepted: deque[float] = deque()  # when recent answers other than 429 came
        self._last_step = float("-inf")  # when the pace was last lowered
        self._last_rise = 0.0

    def wait(self) -> float:
        """Before an attempt: take the next free slot and wait for it; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            self._rise(now)
            start = max(now, self._next, self._closed_until)
            if self.rate is not None:
                self._next = start + 1.0 / self.rate
            delay = start - now
        if delay > 0:
            self.sleep(delay)
        return delay

    def learn(self, status: int, headers: Mapping[str, str], retry_after: float | None) -> None:
        """After an answer: its status, headers (case-insensitive) and `Retry-After` in seconds (None: not given)."""
        with self._lock:
            now = self.clock()
            window = max(MIN_WINDOW, retry_after or 0.0)
            while self._accepted and self._accepted[0] < now - 2 * window:
                self._accepted.popleft()
            if status == 429:
                self._refused(now, window)
            else:
                self._accepted.append(now)
            remaining, reset = rate_limit_headers(headers)
            if remaining is not None and reset is not None and remaining <= FEW_LEFT:
                if remaining < 1:
                    self._closed_until = max(self._closed_until, now + reset)
                else:
                    self._slow_to(remaining / max(reset, 1e-3), now)

    def _refused(self, now: float, window: float) -> None:
        if now - self._last_step < window / 2:
            return
        accepted = sum(1 for t in self._accepted if t >= now - window)
        self._slow_to(SAFETY * max(accepted, 1) / window, now)

    def _slow_to(self, rate: float, now: float) -> None:
        self.rate = rate if self.rate is None else min(self.rate, rate)
        self._last_step = self._last_rise = now

    def _rise(self, now: float) -> None:
        if self.rate is not None and now - self._last_rise >= 1.0:
            self.rate *= PROBE ** int(now - self._last_rise)
            self._last_rise = now
