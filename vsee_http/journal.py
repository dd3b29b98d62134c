"""The request journal: the last N API calls, so tests (and people) can see what a frontend really sent."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from vsee_contract import REDACTED

from .errors import header_text
from .request_log import request_lines
from .site import Site

JOURNAL_SIZE = 1000
BODY_CHARS = 16 * 1024  # of each body kept for the detail view: enough to read, bounded in memory


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
    namespace: str
    detail: Exchange = field(repr=False, compare=False)  # request and response, shown by `entry(id)` only


@dataclass(slots=True)
class Exchange:
    """What a call sent and got, as the detail view renders it. The token header is never among its headers."""

    request_headers: tuple[tuple[str, str], ...]  # WSGI keys: HTTP_X_REQUEST_ID, CONTENT_TYPE, ...
    request_body: bytes  # at most BODY_CHARS of it
    request_size: int
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes
    response_size: int

    def render(self, token_header: str, token_sent: bool) -> dict[str, Any]:
        headers = {_header_name(k): header_text(v) for k, v in self.request_headers}
        if token_sent:
            headers[_header_name(environ_key(token_header))] = REDACTED
        return {
            "request": {"headers": headers, "body": _text(self.request_body, self.request_size)},
            "response": {
                "status": self.status,
                "headers": dict(self.response_headers),
                "body": _text(self.response_body, self.response_size),
            },
        }


# an entry's fields after its id: time, method, path, query, status, latency_ms, account, token, valid, problem,
# namespace
Summary = tuple[float, str, str, str, int, float, str, str, bool, str | None, str]


@dataclass(slots=True)  # made on every call: the cheapest dataclass
class Call:
    """One call as captured on the request's path: a copy of the WSGI environ and the answer, turned into an `Entry`
    only when someone reads the journal (building it on every call halved the replayed reads a worker serves).
    The copy holds neither the token's value nor the request's body stream and server objects (`NOT_KEPT`)."""

    id: int
    time: float
    environ: dict[str, Any]
    token_sent: bool
    status: int
    latency_ms: float
    problem: str | None
    request_body: bytes  # at most BODY_CHARS of it, as the response body
    request_size: int
    response_headers: list[tuple[str, str]]
    response_body: bytes
    response_size: int

    def entry(self, account_key: str, namespace_key: str) -> Entry:
        """`account_key`, `namespace_key`: the environ keys of the account header and of the site's namespace."""
        return Entry(self.id, *self.summary(account_key, namespace_key), detail=Exchange(*self.exchange()))

    def summary(self, account_key: str, namespace_key: str) -> Summary:
        """The entry's fields after its id (`SUMMARY_FIELDS`' order) as plain values: the shared journal packs
        these as they are, without building the entry (~5 of 15 µs a call, on a thread that takes the interpreter
        from the requests)."""
        environ = self.environ
        return (
            self.time,
            environ.get("REQUEST_METHOD", ""),
            header_text(environ.get("PATH_INFO", "")),
            header_text(environ.get("QUERY_STRING", "")),
            self.status,
            round(self.latency_ms, 3),
            header_text(environ.get(account_key, "")),
            REDACTED if self.token_sent else "none",
            self.problem is None,
            self.problem,
            environ.get(namespace_key, ""),
        )

    def exchange(self) -> list[Any]:
        """The detail's fields (`Exchange`'s order) as plain values."""
        environ = self.environ
        return [
            tuple([(k, v) for k, v in environ.items() if k.startswith("HTTP_") or (k in CGI_HEADERS and v)]),
            self.request_body,
            self.request_size,
            self.status,
            self.response_headers,
            self.response_body,
            self.response_size,
        ]


# Environ entries a call's copy leaves out: the body stream (up to a megabyte), the server's and Werkzeug's objects.
NOT_KEPT = ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper", "werkzeug.request", "waitress.client_disconnected")
SUMMARY_FIELDS = [f for f in fields(Entry) if f.name != "detail"]  # the id, then `Call.summary()`
CGI_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


def _header_name(key: str) -> str:
    return CGI_HEADERS.get(key) or key[5:].replace("_", "-").title()


def _text(body: bytes, size: int) -> str:
    text = body.decode("utf-8", "replace")
    return text + (f"… ({size} bytes in all)" if size > len(body) else "")


def environ_key(header: str) -> str:
    """Where WSGI puts a request header: X-ApiToken -> HTTP_X_APITOKEN."""
    return "HTTP_" + header.upper().replace("-", "_")


class Journal:
    """A bounded, thread-safe log of API calls with filters, and the one-line request log."""

    def __init__(self, site: Site, token_header: str, account_header: str, size: int = JOURNAL_SIZE) -> None:
        """`token_header`, `account_header`: the contract's (`Spec.security_header()`, `Spec.account_header()`)."""
        self._log = site.log
        self._namespace_key = site.namespace_key
        self._token_header = token_header
        self._token_key = environ_key(token_header)
        self._account_key = environ_key(account_header)
        self._calls: deque[Call] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _token(self, environ: Mapping[str, Any]) -> str:
        return REDACTED if environ.get(self._token_key) else "none"

    def log_call(self, environ: Mapping[str, Any], status: int, latency_ms: float, note: str = "") -> None:
        """The one-line request log: never the token's value, control characters escaped (no forged lines)."""
        if not self._log.isEnabledFor(logging.INFO):
            return
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        line = "%s %s %s %d %.1fms account=%s token=%s%s" % (  # noqa: UP031 (the logging format it replaces)
            environ.get("REMOTE_ADDR"),
            environ.get("REQUEST_METHOD"),
            target.encode("unicode_escape").decode("ascii"),
            status,
            latency_ms,
            environ.get(self._account_key) or "-",
            self._token(environ),
            note,
        )
        lines = request_lines()
        if lines is not None:
            lines.add(line)
        else:
            self._log.info("%s", line)

    def record(
        self,
        environ: Mapping[str, Any],
        status: int,
        latency_ms: float,
        problem: str | None,
        request_body: bytes = b"",
        response: tuple[list[tuple[str, str]], bytes] = ([], b""),
    ) -> None:
        """One call; its environ is kept without the token's value, its bodies cut to BODY_CHARS."""
        response_headers, response_body = response
        kept = dict(environ)
        token = kept.pop(self._token_key, None)
        for key in NOT_KEPT:
            kept.pop(key, None)
        call = Call(
            next(self._ids),
            time.time(),
            kept,
            bool(token),
            status,
            latency_ms,
            problem,
            request_body[:BODY_CHARS],
            len(request_body),
            response_headers,
            response_body[:BODY_CHARS],
            len(response_body),
        )
        self._keep(call)

    def _keep(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def entry_of(self, call: Call) -> Entry:
        return call.entry(self._account_key, self._namespace_key)

    def summary_of(self, call: Call) -> Summary:
        return call.summary(self._account_key, self._namespace_key)

    def summary(self, entry: Entry) -> dict[str, Any]:
        return {f.name: getattr(entry, f.name) for f in SUMMARY_FIELDS}

    def rendered(self, entry: Entry) -> dict[str, Any]:
        """The entry with its request and response, as `GET <admin prefix>/requests/<id>` shows it."""
        return {**self.summary(entry), "detail": entry.detail.render(self._token_header, entry.token == REDACTED)}

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        """One call with its request and response, or None once it left the journal."""
        with self._lock:
            found = next((c for c in self._calls if c.id == entry_id), None)
        return None if found is None else self.rendered(self.entry_of(found))

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        namespace: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first, without request and response; `path` matches as a substring, the others exactly."""
        with self._lock:
            calls = list(self._calls)
        return self.listed(map(self.entry_of, reversed(calls)), method, path, status, valid, namespace)

    def listed(
        self,
        entries: Iterable[Entry],
        method: str | None,
        path: str | None,
        status: int | None,
        valid: bool | None,
        namespace: str | None,
    ) -> list[dict[str, Any]]:
        """The summaries of the `entries` that match, as `entries()` filters them."""
        return [
            self.summary(e)
            for e in entries
            if (method is None or e.method == method.upper())
            and (path is None or path in e.path)
            and (status is None or e.status == status)
            and (valid is None or e.valid == valid)
            and (namespace is None or e.namespace == namespace)
        ]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
