"""The request journal of a mock whose workers share one database: every worker's calls in one list.

A call is kept in memory at once (cheap, on the request's path) and written by a background thread in batches, so
the workers do not take the database's write lock once per call. Reading the journal writes this worker's pending
calls first, so a client sees its own last call; another worker's may be up to one flush interval late (a second
after a full batch: under a flood, packing the newest 1,000 calls ten times a second halved replayed reads).

A batch is one row of `journal_batches`, its calls numbered from a counter in `meta`: as a row each, a call cost
PostgreSQL ~20 µs of its CPU (COPY's parsing, the heap, the index; then the trim and the vacuum of as many rows),
at the 90/10 mix ~8% of a core for two instances, on the cores the creates' round trips wait for (creates' p99 about
4 ms higher; bench/results.md, session 14). The journal's filters run on the newest `size` calls, here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from vsee_http import Journal, Site
from vsee_http.batches import Batches
from vsee_http.journal import JOURNAL_SIZE, Call, Entry, Exchange

from .state_db import StateDatabase, StateNotSaved

FLUSH_SECONDS = 0.1
FLUSH_WHEN_FULL_S = 1.0  # after a batch of the journal's size (older calls were dropped: a flood)
# calls packed (~10 µs each) between two pauses that hand the interpreter over
HAND_OVER_EVERY, HAND_OVER_S = 10, 0.0001
CALLS = "(SELECT value FROM meta WHERE key = 'calls')"  # the newest call's id (inside a write: this batch's last)
NEWEST = "(SELECT max(last_call) FROM journal_batches)"  # ... of the newest call committed


class SharedJournal(Journal):
    """A `Journal` kept in the shared database (ids are the database's, unique across workers)."""

    def __init__(
        self, database: StateDatabase, site: Site, token_header: str, account_header: str, size: int = JOURNAL_SIZE
    ) -> None:
        super().__init__(site, token_header, account_header, size)
        self._database = database
        self._size = size
        # Only the newest `size` calls can be in the journal after a write: under a load the writes cannot keep up
        # with, older ones are dropped before they are written, not held in memory.
        self._pending: Batches[Call] = Batches(
            self._write, FLUSH_SECONDS, "vsee-mock-journal", keep_last=size, when_full=FLUSH_WHEN_FULL_S
        )

    def _keep(self, call: Call) -> None:
        self._pending.add(call)

    def flush(self) -> None:
        """Write the pending calls now (reads of the journal do, so a client sees its own last call)."""
        self._pending.flush()

    def close(self) -> None:
        self.flush()
        self._database.close()

    def _write(self, pending: list[Call]) -> None:
        """The calls as one row, numbered after every call written before (the counter's row lock orders the
        workers' batches), and the batches that fell out of the journal's size deleted: one round trip on
        PostgreSQL. When the database cannot take them (a database server gone for a while), they wait for the next
        flush (the newest `size` of them).

        Packed here, after a flood has dropped what the journal would not keep, and a few at a time: a request
        thread that wants the interpreter meanwhile gets it at the next pause instead of after CPython's switch
        interval (5 ms), which a create pays at each of its round trips (measured, the 90/10 mix at 16 connections on
        --state-url: creates' p99 25-31 ms packed in one go, 19-25 ms in slices; packed in the request's thread
        instead, ~20 ms, but reads lost 15% packing calls a flood then drops; bench/results.md, session 11)."""
        summaries, details = [], []
        for start in range(0, len(pending), HAND_OVER_EVERY):
            some = pending[start : start + HAND_OVER_EVERY]
            summaries.append(_packed([self.summary_of(call) for call in some]))
            details.append(_packed([_plain(call.exchange()) for call in some]))
            time.sleep(HAND_OVER_S)
        try:
            with self._database.write() as connection:
                connection.execute("UPDATE meta SET value = value + ? WHERE key = 'calls'", (len(pending),))
                connection.execute(
                    "INSERT INTO journal_batches (last_call, calls, summaries, details) "
                    "SELECT value, ?, ?, ? FROM meta WHERE key = 'calls'",
                    (len(pending), _listed(summaries), _listed(details)),
                )
                connection.execute(f"DELETE FROM journal_batches WHERE last_call <= {CALLS} - ?", (self._size,))
        except StateNotSaved as exc:
            self._log.warning("vsee-mock: the journal waits for the database: %s", exc)
            for call in pending:
                self._pending.add(call)

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        self.flush()
        with self._database.read() as connection:
            found = connection.execute(
                f"SELECT last_call, calls, summaries, details, {NEWEST} FROM journal_batches "
                "WHERE last_call >= ? AND last_call - calls < ?",
                (entry_id, entry_id),
            ).fetchone()
        if found is None:
            return None
        last_call, calls, summaries, details, newest = found
        if entry_id <= newest - self._size:
            return None
        index = entry_id - (last_call - calls + 1)
        return self.rendered(_unpacked(entry_id, json.loads(summaries)[index], json.loads(details)[index]))

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        namespace: str | None = None,
    ) -> list[dict[str, Any]]:
        self.flush()
        with self._database.read() as connection:
            batches = connection.execute(
                f"SELECT last_call, summaries FROM journal_batches WHERE last_call > {NEWEST} - ? "
                "ORDER BY last_call DESC",
                (self._size,),
            ).fetchall()
        return self.listed(_newest(batches, self._size), method, path, status, valid, namespace)

    def clear(self) -> None:
        self._pending.drop()
        with self._database.write() as connection:
            connection.execute("DELETE FROM journal_batches")


# Kept as JSON lists of plain values (bodies as latin-1 text, which round-trips any bytes) and rendered when read:
# rendering on every call cost more than the call itself (58 µs an entry, measured), and pickle from a state file
# someone hands you would run code. Packed from the calls' plain values, a few per json.dumps: building each call's
# entry and encoding it alone cost 15 µs a call, this 10 (the packing is what the journal costs the 90/10 mix on two
# instances: creates' p99 17.3 ms with it, 12.6 with the calls neither packed nor written; bench/results.md).
SUMMARY = [f.name for f in fields(Entry) if f.name not in ("id", "detail")]
NO_DETAIL = Exchange((), b"", 0, 0, [], b"", 0)  # a list of entries shows none


def _plain(exchange: list[Any]) -> list[Any]:
    """`Call.exchange()` with its bodies as text."""
    exchange[1] = exchange[1].decode("latin-1")
    exchange[5] = exchange[5].decode("latin-1")
    return exchange


def _packed(calls: list[Any]) -> str:
    """Some calls' values as the items of a JSON list, without its brackets (`_listed` joins them)."""
    return json.dumps(calls)[1:-1]


def _listed(packed: list[str]) -> str:
    """The calls' JSON texts as one JSON list."""
    return f"[{','.join(packed)}]"


def _newest(batches: list[Any], size: int) -> Iterator[Entry]:
    """The calls of `batches` (newest batch first) that are among the newest `size`, newest first."""
    if not batches:
        return
    oldest_kept = batches[0][0] - size + 1
    for last_call, summaries in batches:
        for offset, summary in enumerate(reversed(json.loads(summaries))):
            if last_call - offset < oldest_kept:
                return
            yield _unpacked(last_call - offset, summary, None)


def _unpacked(entry_id: int, summary: list[Any], detail: list[Any] | None) -> Entry:
    values = dict(zip(SUMMARY, summary, strict=True))
    if detail is None:
        return Entry(id=entry_id, detail=NO_DETAIL, **values)
    sent, sent_body, sent_size, status, got, got_body, got_size = detail
    exchange = Exchange(
        tuple((k, v) for k, v in sent),
        sent_body.encode("latin-1"),
        sent_size,
        status,
        [(k, v) for k, v in got],
        got_body.encode("latin-1"),
        got_size,
    )
    return Entry(id=entry_id, detail=exchange, **values)
