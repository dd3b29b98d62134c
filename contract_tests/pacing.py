"""Pacing: send no faster than a rate-limited deployment allows, learnt from what it answers, instead of running into
its limit and waiting a whole `Retry-After` for every refusal.

Every attempt, from every thread, takes the next slot from one `Pacer` before it leaves (`wait`), and every answer
teaches it (`learn`):
- A `429` says the run went faster than allowed when the deployment refused a third or more of its last 40 answers
  (at least 10): the rate it accepted over the time those answers took is what it allows, and the pace becomes 90 %
  of that (at most one such step per half window, the `Retry-After` or a second, so the refusals of one overload
  count once). A deployment that refuses a smaller share whatever the pace (one request in seven, say) is no rate
  limit that pacing would help with, and is not paced: lowering the pace would only lower it again. The refused
  request itself still waits its own `Retry-After` before it is sent again (the transport does that, bounded and
  counted).
- `RateLimit-Remaining` / `X-RateLimit-Remaining` (and their `-Reset`) say it before a refusal: when few requests are
  left in the window, the rest of the window is shared among them; none left, nothing is sent until it resets. The
  IETF draft's combined `RateLimit: limit=.., remaining=.., reset=..` is read too.
- Each second the pace rises by 2 %, up to the rate last seen accepted (so a pace learnt too low recovers, without
  running into the limit again and again).
A deployment that never throttles is never paced. The clock and the sleep are seams, so tests need no real waits.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

SAFETY = 0.9  # the pace after a refusal: this share of the rate the deployment accepted
REFUSED_SHARE = 1 / 3  # refusals below this share of the last answers do not lower the pace
SAMPLE, MIN_SAMPLE = 40, 10  # the last answers a refusal is judged by, and how many it needs
PROBE = 1.02  # the pace rises by this factor per second without a refusal
FEW_LEFT = 2  # RateLimit-Remaining at or below this spreads the rest of the window over them
MIN_WINDOW = 1.0  # seconds: the shortest window between two steps down is half of this
MIN_SPAN = 0.05  # seconds: the accepted rate of answers that came faster than this is measured over this
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
        self._answers: deque[tuple[float, bool]] = deque(maxlen=SAMPLE)  # the last answers: when, whether refused
        self._last_step = float("-inf")  # when the pace was last lowered
        self._last_rise = 0.0
        self._ceiling: float | None = None  # the rate the deployment accepted when it last refused: rises stop there

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
            self._answers.append((now, status == 429))
            if status == 429:
                self._refused(now, max(MIN_WINDOW, retry_after or 0.0))
            remaining, reset = rate_limit_headers(headers)
            if remaining is not None and reset is not None and remaining <= FEW_LEFT:
                if remaining < 1:
                    self._closed_until = max(self._closed_until, now + reset)
                else:
                    self._slow_to(remaining / max(reset, 1e-3), now)

    def _refused(self, now: float, window: float) -> None:
        if now - self._last_step < window / 2:
            return
        refused = sum(was_refused for _, was_refused in self._answers)
        if len(self._answers) < MIN_SAMPLE or refused < REFUSED_SHARE * len(self._answers):
            return
        span = max(now - self._answers[0][0], MIN_SPAN)
        accepted = max(len(self._answers) - refused, 1) / span
        self._slow_to(SAFETY * accepted, now)
        self._ceiling = accepted

    def _slow_to(self, rate: float, now: float) -> None:
        self.rate = rate if self.rate is None else min(self.rate, rate)
        self._last_step = self._last_rise = now

    def _rise(self, now: float) -> None:
        if self.rate is not None and now - self._last_rise >= 1.0:
            risen = self.rate * PROBE ** int(now - self._last_rise)
            self.rate = risen if self._ceiling is None else max(self.rate, min(risen, self._ceiling))
            self._last_rise = now
