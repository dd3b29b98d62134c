"""A WSGI layer in front of Flask that replays GET responses while the state they were made from is unchanged.

A read of the same URL, account and (absent) preference gets the very bytes Flask produced last time, as long
as no write happened since: the response was validated (and, in strict mode, judged) when it was made, and the
state version tells when it may no longer hold. Requests this cannot answer exactly (CORS, Prefer, fault
injection) go to Flask as usual. Profiling showed Flask's request/response objects, validation and JSON encoding
as most of a read's cost; a replay skips all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from vsee_http import PROBLEM_KEY, Journal

from .store import Store

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_ENTRIES = 4096
BYPASS_HEADERS = ("HTTP_PREFER", "HTTP_ORIGIN")


class FastReads:
    """Serve repeated GETs from a cache keyed by request and invalidated by the store's version."""

    def __init__(self, app: WSGIApp, store: Store, journal: Journal, api_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.store = store
        self.journal = journal
        self.api_prefixes = api_prefixes
        self._cache: dict[tuple[str, str, str], tuple[int, str, list[tuple[str, str]], bytes, str | None]] = {}
        self._lock = threading.Lock()

    def _key(self, environ: dict[str, Any]) -> tuple[str, str, str] | None:
        if environ["REQUEST_METHOD"] != "GET" or any(h in environ for h in BYPASS_HEADERS):
            return None
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if not path.startswith(self.api_prefixes) or "__" in query:
            return None
        return path, query, environ.get("HTTP_X_ACCOUNTCODE", "")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        version = self.store.version
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            started = time.perf_counter()
            _, status, headers, body, problem = hit
            start_response(status, headers)
            elapsed = (time.perf_counter() - started) * 1000
            self.journal.record(environ, int(status[:3]), elapsed, problem, b"", (headers, body))
            self.journal.log_call(environ, int(status[:3]), elapsed, " (replayed)")
            return [body]
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured.update(status=status, headers=headers)
            write: Callable[[bytes], Any] = (
                start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
            )
            return write

        body = b"".join(self.app(environ, capture))
        if "status" in captured and self.store.version == version:
            with self._lock:
                if len(self._cache) >= MAX_ENTRIES:
                    self._cache.clear()
                self._cache[key] = (version, captured["status"], captured["headers"], body, environ.get(PROBLEM_KEY))
        return [body]
