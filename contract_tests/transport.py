"""The one way out of the suite: every request, from every layer, passes through here before it is sent.

Over HTTP that is a `requests` adapter mounted on the session that the suite's own calls and schemathesis (its
generated cases and the checks that re-send them) share; in-process it is a WSGI wrapper around the app. Both ask
one gate before each attempt (read-only mode, the write budget, counting), take the attempt's slot from the run's
`Pacer` (which learns a rate-limited deployment's pace from its answers, `pacing.py`), and wait out a `429` as its
`Retry-After` says (or back off when it has none) and send the same request again, a bounded number of times: a
throttled request was not processed (RFC 6585), so sending it again cannot create anything twice. All of it is
thread-safe: the suite sends independent reads concurrently.
"""

from __future__ import annotations

import contextlib
import email.utils
import heapq
import io
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from werkzeug.datastructures import Headers

from vsee_contract import READ_METHODS

from .pacing import Pacer

MAX_RETRIES = 5  # 429s in a row for one request before its 429 is judged like any other answer
MAX_WAIT = 30.0  # seconds: a longer Retry-After is not waited for

Gate = Callable[[str], None]  # called with the method before each attempt; raises to stop the request


@dataclass
class Traffic:
    """What left the suite: every attempt counts, retries included, so the numbers match what the server saw."""

    sent: int = 0
    writes: int = 0
    retries: int = 0
    waited: float = 0.0
    paced: float = 0.0  # seconds attempts waited for their slot (pacing), in all threads together

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: the traffic goes to the xdist controller as plain values
        self.writes_in_flight = 0  # admitted, not answered yet: each may still make an association to undo

    def summary(self) -> str:
        paced = f"; paced {self.paced:.1f} s to the deployment's rate limit" if self.paced else ""
        return f"429 retries: {self.retries} (waited {self.waited:.1f} s){paced}"

    def absorb(self, other: Traffic) -> None:
        """Another process's traffic (an xdist worker's) added to this one."""
        self.sent += other.sent
        self.writes += other.writes
        self.retries += other.retries
        self.waited += other.waited
        self.paced += other.paced

    def admit(self, gate: Gate, method: str) -> None:
        """One attempt: through the gate (which may refuse it by raising), then counted; one at a time, so that
        concurrent writes cannot both take the last of the write budget."""
        with self._lock:
            gate(method)
            self.sent += 1
            if method.upper() not in READ_METHODS:
                self.writes += 1
                self.writes_in_flight += 1

    def answered(self, method: str) -> None:
        if method.upper() not in READ_METHODS:
            with self._lock:
                self.writes_in_flight -= 1

    def retried(self, seconds: float) -> None:
        with self._lock:
            self.retries += 1
            self.waited += seconds

    def paced_for(self, seconds: float) -> None:
        with self._lock:
            self.paced += seconds


class Baton:
    """Cooperative concurrency for code that is not thread-safe (Hypothesis and schemathesis generating cases: CPython
    3.11's `ast` is not, for one): a thread running such code holds the baton, and gives it up only while it waits
    for the network (the whole of `GuardedAdapter.send`), so the waits overlap and nothing else does.

    It is handed over in order of `rank()` (lowest first; the rank a thread has when it first takes the baton), then
    of arrival: a plain lock lets threads that give it up and take it again at once starve one that waits, and the
    layer whose steps are one after another (the longest chain of waits) should not queue behind the others."""

    def __init__(self, rank: Callable[[], int] = lambda: 0) -> None:
        self._rank = rank
        self._state = threading.Lock()
        self._busy = False
        self._waiting: list[tuple[int, int, threading.Event]] = []  # a heap: (rank, arrival, event)
        self._arrivals = itertools.count()
        self._mine = threading.local()

    def _take(self) -> None:
        with self._state:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Event()
            heapq.heappush(self._waiting, (self._mine.rank, next(self._arrivals), turn))
        turn.wait()  # the one giving it up handed it to this thread: it is busy on this thread's behalf

    def _give(self) -> None:
        with self._state:
            if self._waiting:
                heapq.heappop(self._waiting)[2].set()
            else:
                self._busy = False

    def keep(self) -> None:
        """Take the baton for good on this thread (it still gives it up while it waits: `released`), for a thread
        whose own Python runs beside the holders' from now on: pytest's main thread, once layers run side by side
        (formatting a failure parses source with `ast`)."""
        if not getattr(self._mine, "held", False):
            self._mine.rank = self._rank()
            self._take()
            self._mine.held = True

    def drop(self) -> None:
        """Give the baton up for good on this thread, if it holds it (`keep`): pytest's main thread, once the run
        has ended and the threads still waiting for the baton must finish."""
        if getattr(self._mine, "held", False):
            self._mine.held = False
            self._give()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the baton for the block (a thread that holds it already keeps it)."""
        if getattr(self._mine, "held", False):
            yield
            return
        self._mine.rank = self._rank()
        self._take()
        self._mine.held = True
        try:
            yield
        finally:
            self._mine.held = False
            self._give()

    def acquired(self, lock: Lock) -> Patient:
        """`lock` as a context manager taken without the baton: whoever holds it may be sending a request, and need
        the baton back to finish (a lock taken while holding the baton would wait for it forever)."""
        return Patient(self, lock)

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Give the baton up for the block, if this thread holds it."""
        if not getattr(self._mine, "held", False):
            yield
            return
        self._mine.held = False
        self._give()
        try:
            yield
        finally:
            self._take()
            self._mine.held = True


class Lock(Protocol):
    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class Patient:
    """A lock waited for with the baton given up (`Baton.acquired`); reusable, as the lock is."""

    def __init__(self, baton: Baton, lock: Lock) -> None:
        self.baton = baton
        self.lock = lock

    def __enter__(self) -> None:
        with self.baton.released():
            self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _attempt(traffic: Traffic, pacer: Pacer, gate: Gate, method: str) -> None:
    """Before each attempt: the gate and the count, then the attempt's slot in the run's pace."""
    traffic.admit(gate, method)
    if (seconds := pacer.wait()) > 0:
        traffic.paced_for(seconds)


def _wait(
    traffic: Traffic,
    pacer: Pacer,
    status: int,
    headers: Any,
    attempt: int,
    sleep: Callable[[float], None],
) -> bool:
    """After an answer: the pacer learns from it; and whether to send again after a 429 (and wait first): as long
    as `Retry-After` says, or 1, 2, 4, ... s when it says nothing usable; bounded in attempts and in seconds."""
    seconds = retry_after(headers.get("Retry-After"))
    pacer.learn(status, headers, seconds)
    if status != 429:
        return False
    if seconds is None:
        seconds = float(2**attempt)
    if attempt >= MAX_RETRIES or seconds > MAX_WAIT:
        return False
    traffic.retried(seconds)
    sleep(seconds)
    return True


class GuardedAdapter(HTTPAdapter):
    """Every HTTP attempt: through the gate, paced, with the run's timeout, and sent again after a 429."""

    def __init__(
        self,
        gate: Gate,
        traffic: Traffic,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        pacer: Pacer | None = None,
        connections: int = 10,
        baton: Baton | None = None,
    ):
        super().__init__(pool_connections=connections, pool_maxsize=connections)
        self.gate, self.traffic, self.timeout, self.sleep = gate, traffic, timeout, sleep
        self.pacer = pacer or Pacer(sleep=sleep)
        self.baton = Baton() if baton is None else baton

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        with self.baton.released():
            return self._send(request, **kwargs)

    def _send(self, request: PreparedRequest, **kwargs: Any) -> Response:
        timeout = kwargs.get("timeout")
        kwargs["timeout"] = self.timeout if timeout is None else min(float(timeout), self.timeout)
        attempt = 0
        while True:
            _attempt(self.traffic, self.pacer, self.gate, str(request.method))
            try:
                response = super().send(request, **kwargs)
            finally:
                self.traffic.answered(str(request.method))
            if not _wait(self.traffic, self.pacer, response.status_code, response.headers, attempt, self.sleep):
                return response
            response.close()
            attempt += 1


def guarded_wsgi(
    app: Any, gate: Gate, traffic: Traffic, sleep: Callable[[float], None] = time.sleep, pacer: Pacer | None = None
) -> Any:
    """The in-process twin of GuardedAdapter: the same gate, counting, pacing and 429 retries around a WSGI app."""
    pacer = pacer or Pacer(sleep=sleep)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        stream = environ.get("wsgi.input")
        body = stream.read() if stream is not None else b""
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer.update(status=status, headers=headers)

        attempt = 0
        while True:
            _attempt(traffic, pacer, gate, method)
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                chunks = b"".join(app(environ, capture))
            finally:
                traffic.answered(method)
            status = int(answer["status"].split()[0])
            if not _wait(traffic, pacer, status, Headers(answer["headers"]), attempt, sleep):
                start_response(answer["status"], answer["headers"])
                return [chunks]
            attempt += 1

    return wsgi
