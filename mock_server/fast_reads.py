"""A WSGI layer in front of Flask that replays GET responses while the state they were made from is unchanged.

A read of the same URL, account and (absent) preference gets the very bytes Flask produced last time, as long
as no write happened since: the response was validated (and, in strict mode, judged) when it was made, and the
state version tells when it may no longer hold. A read of one room in full (the mock's ending says so,
`ROOM_READ_KEY`) stays good while that room's stamp is the same (`Rows.stamps`), whatever else changed: in a mix of
reads and creates, a create used to cost every instance a new render of every room read since. Requests this
cannot answer exactly (CORS, Prefer, fault injection) go to Flask as usual. Profiling showed Flask's
request/response objects, validation and JSON encoding as most of a read's cost; a replay skips all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vsee_contract import Refusal
from vsee_http import Journal
from vsee_http.journal import environ_key

from .namespaces import Namespaces, namespace_of
from .site import SITE
from .store import StateNotSaved, Store

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_ENTRIES = 4096
ROOM_READ_KEY = f"{SITE.name}.room_read"  # WSGI environ: (account, code) of an answer that is that room alone
BYPASS_HEADERS = ("HTTP_PREFER", "HTTP_ORIGIN")


@dataclass(frozen=True)
class _Replay:
    store: Store  # the namespace's state it was made from, that state's version, and the database's generation
    version: int
    generation: int  # (a version number is taken again after the server lost a commit in a crash: a new generation)
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    problem: str | None
    room: tuple[str, str] | None = None  # the answer is that room alone, as it was at `stamp`
    stamp: int | None = None

    def holds(self, store: Store, version: int) -> bool:
        """Still the answer: the state unchanged, or the one room it shows unchanged."""
        if self.store is not store or self.generation != store.database.generation:
            return False
        return self.version == version or (self.room is not None and store.stamp(*self.room) == self.stamp)


class FastReads:
    """Serve repeated GETs from a cache keyed by request and namespace, invalidated by the state's version."""

    def __init__(
        self,
        app: WSGIApp,
        namespaces: Namespaces,
        journal: Journal,
        api_prefixes: tuple[str, ...],
        account_header: str,
    ) -> None:
        self.app = app
        self.namespaces = namespaces
        self.journal = journal
        self.api_prefixes = api_prefixes
        self.account_key = environ_key(account_header)
        self._cache: dict[tuple[str, str, str, str], _Replay] = {}
        self._lock = threading.Lock()

    def _key(self, environ: dict[str, Any]) -> tuple[str, str, str, str] | None:
        if environ["REQUEST_METHOD"] != "GET" or any(h in environ for h in BYPASS_HEADERS):
            return None
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if not path.startswith(self.api_prefixes) or "__" in query:
            return None
        return path, query, environ.get(self.account_key, ""), environ.get("HTTP_X_MOCK_NAMESPACE", "")

    def _store(self, environ: dict[str, Any]) -> Store | None:
        """The state the request reads, when its namespace exists already (the app creates one, not a cache)."""
        try:
            namespace = namespace_of(environ)
        except Refusal:
            return None
        environ[SITE.namespace_key] = namespace
        return self.namespaces.peek(namespace)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = self._key(environ)
        store = self._store(environ) if key is not None else None
        if key is None or store is None:
            return self.app(environ, start_response)
        try:
            version = store.sync()  # another worker's write, if any, is seen here
            generation = store.database.generation
        except StateNotSaved:  # the database is gone: the app answers 503 in the error shape
            return self.app(environ, start_response)
        hit = self._cache.get(key)
        if hit is not None and hit.holds(store, version):
            started = time.perf_counter()
            start_response(hit.status, hit.headers)
            elapsed = (time.perf_counter() - started) * 1000
            status = int(hit.status[:3])
            self.journal.record(environ, status, elapsed, hit.problem, b"", (hit.headers, hit.body))
            self.journal.log_call(environ, status, elapsed, " (replayed)")
            return [hit.body]
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured.update(status=status, headers=headers)
            write: Callable[[bytes], Any] = (
                start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
            )
            return write

        body = b"".join(self.app(environ, capture))
        room = environ.get(ROOM_READ_KEY)
        with store.lock:  # no write between the look at the version and the one at the room's stamp
            if "status" not in captured or store.version != version or store.database.generation != generation:
                return [body]
            stamp = store.stamp(*room) if room is not None else None
        replay = _Replay(
            store,
            version,
            generation,
            captured["status"],
            captured["headers"],
            body,
            environ.get(SITE.problem_key),
            room,
            stamp,
        )
        with self._lock:
            if len(self._cache) >= MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = replay
        return [body]
