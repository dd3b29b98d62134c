"""The request journal: the last N API calls, so tests (and people) can see what a frontend really sent."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from vsee_contract import REDACTED

log = logging.getLogger("vsee_mock")
JOURNAL_SIZE = 1000
PROBLEM_KEY = "vsee_mock.problem"  # WSGI environ key: why the contract refused the request, if it did


@dataclass(frozen=True)
class Entry:
    """One API call, without secrets: whether a token was sent (the redaction marker), never its value."""

    id: int
    time: float
    method: str
    path: str
    query: str
    status: int
    latency_ms: float
    account: str
    token: str
    valid: bool
    problem: str | None


def environ_key(header: str) -> str:
    """Where WSGI puts a request header: X-ApiToken -> HTTP_X_APITOKEN."""
    return "HTTP_" + header.upper().replace("-", "_")


class Journal:
    """A bounded, thread-safe log of API calls with filters, and the one-line request log."""

    def __init__(self, token_header: str, size: int = JOURNAL_SIZE) -> None:
        self._token_key = environ_key(token_header)
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _token(self, environ: Mapping[str, Any]) -> str:
        return REDACTED if environ.get(self._token_key) else "none"

    def log_call(self, environ: Mapping[str, Any], status: int, latency_ms: float, note: str = "") -> None:
        """The one-line request log: never the token's value, control characters escaped (no forged lines)."""
        if not log.isEnabledFor(logging.INFO):
            return
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        log.info(
            "%s %s %s %d %.1fms account=%s token=%s%s",
            environ.get("REMOTE_ADDR"),
            environ.get("REQUEST_METHOD"),
            target.encode("unicode_escape").decode("ascii"),
            status,
            latency_ms,
            environ.get("HTTP_X_ACCOUNTCODE") or "-",
            self._token(environ),
            note,
        )

    def record(self, environ: Mapping[str, Any], status: int, latency_ms: float, problem: str | None) -> None:
        entry = Entry(
            id=next(self._ids),
            time=time.time(),
            method=environ.get("REQUEST_METHOD", ""),
            path=environ.get("PATH_INFO", ""),
            query=environ.get("QUERY_STRING", ""),
            status=status,
            latency_ms=round(latency_ms, 3),
            account=environ.get("HTTP_X_ACCOUNTCODE", ""),
            token=self._token(environ),
            valid=problem is None,
            problem=problem,
        )
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[dict[str, Any]]:
        """Newest first; `path` matches as a substring, `method` and `status` exactly."""
        with self._lock:
            found = list(self._entries)
        found = [
            e
            for e in reversed(found)
            if (method is None or e.method == method.upper())
            and (path is None or path in e.path)
            and (status is None or e.status == status)
        ]
        return [asdict(e) for e in found]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
