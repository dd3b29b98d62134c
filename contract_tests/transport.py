"""The one way out of the suite: every request, from every layer, passes through here before it is sent.

Over HTTP that is a `requests` adapter mounted on the session that the suite's own calls and schemathesis (its
generated cases and the checks that re-send them) share; in-process it is a WSGI wrapper around the app. Both ask
one gate before each attempt (read-only mode, the write budget, counting) and both wait out a `429` as its
`Retry-After` says (or back off when it has none) and send the same request again, a bounded number of times: a
throttled request was not processed (RFC 6585), so sending it again cannot create anything twice.
"""

from __future__ import annotations

import email.utils
import io
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from vsee_contract import READ_METHODS

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

    def __post_init__(self) -> None:
        self.lock = threading.Lock()  # not a field: the counts alone go to the xdist controller (`asdict`)

    def summary(self) -> str:
        return f"429 retries: {self.retries} (waited {self.waited:.1f} s)"

    def absorb(self, other: Traffic) -> None:
        """Another process's traffic (an xdist worker's) added to this one."""
        self.sent += other.sent
        self.writes += other.writes
        self.retries += other.retries
        self.waited += other.waited

    def admit(self, gate: Gate, method: str) -> None:
        """One attempt: through the gate (which may refuse it by raising), then counted; one thread at a time, so
        parallel requests (the suite's races) never pass the write budget together."""
        with self.lock:
            gate(method)
            self.sent += 1
            if method.upper() not in READ_METHODS:
                self.writes += 1


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


def _wait(traffic: Traffic, header: str | None, attempt: int, sleep: Callable[[float], None]) -> bool:
    """Whether to send again after a 429 (and wait first): as long as `Retry-After` says, or 1, 2, 4, ... s when
    it says nothing usable; bounded in attempts and in seconds."""
    seconds = retry_after(header)
    if seconds is None:
        seconds = float(2**attempt)
    if attempt >= MAX_RETRIES or seconds > MAX_WAIT:
        return False
    traffic.retries += 1
    traffic.waited += seconds
    sleep(seconds)
    return True


class GuardedAdapter(HTTPAdapter):
    """Every HTTP attempt: through the gate, with the run's timeout, and sent again after a 429 with Retry-After."""

    def __init__(self, gate: Gate, traffic: Traffic, timeout: float, sleep: Callable[[float], None] = time.sleep):
        super().__init__()
        self.gate, self.traffic, self.timeout, self.sleep = gate, traffic, timeout, sleep

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        timeout = kwargs.get("timeout")
        kwargs["timeout"] = self.timeout if timeout is None else min(float(timeout), self.timeout)
        attempt = 0
        while True:
            self.traffic.admit(self.gate, str(request.method))
            response = super().send(request, **kwargs)
            if response.status_code != 429 or not _wait(
                self.traffic, response.headers.get("Retry-After"), attempt, self.sleep
            ):
                return response
            response.close()
            attempt += 1


def guarded_wsgi(app: Any, gate: Gate, traffic: Traffic, sleep: Callable[[float], None] = time.sleep) -> Any:
    """The in-process twin of GuardedAdapter: the same gate, counting and 429 retries around a WSGI app."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        stream = environ.get("wsgi.input")
        body = stream.read() if stream is not None else b""
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer.update(status=status, headers=headers)

        attempt = 0
        while True:
            traffic.admit(gate, method)
            environ["wsgi.input"] = io.BytesIO(body)
            chunks = b"".join(app(environ, capture))
            retry_header = {k.lower(): v for k, v in answer["headers"]}.get("retry-after")
            if not answer["status"].startswith("429") or not _wait(traffic, retry_header, attempt, sleep):
                start_response(answer["status"], answer["headers"])
                return [chunks]
            attempt += 1

    return wsgi
