"""The request journal of a mock whose workers share one database: every worker's calls in one list.

A call is kept in memory at once (cheap, on the request's path) and written to the database's `journal` table by a
background thread in small batches, so the workers do not take the database's write lock once per call. Reading the
journal writes this worker's pending calls first, so a client sees its own last call; another worker's may be up to
one flush interval late.
"""

from __future__ import annotations

import json
import time
from dataclasses import fields
from typing import Any

from vsee_http import Journal, Site
from vsee_http.batches import Batches
from vsee_http.journal import JOURNAL_SIZE, Call, Entry, Exchange

from .state_db import StateDatabase, StateNotSaved

FLUSH_SECONDS = 0.1
HAND_OVER_EVERY, HAND_OVER_S = 10, 0.0001  # rows made (~14 µs each) between two pauses that hand the interpreter over
COLUMNS = ("summary", "detail", "method", "path", "status", "valid", "namespace")
KEPT = "id > (SELECT max(id) FROM journal) - ?"  # the newest `size` calls, whatever a trim has left below them


class SharedJournal(Journal):
    """A `Journal` kept in the shared database (ids are the database's, unique across workers)."""

    def __init__(
        self, database: StateDatabase, site: Site, token_header: str, account_header: str, size: int = JOURNAL_SIZE
    ) -> None:
        super().__init__(site, token_header, account_header, size)
        self._database = database
        self._size = size
        self._trimmed = 0  # each call up to this id is out of the journal (0: unknown, the first trim goes all the way)
        # Only the newest `size` calls can be in the journal after a write: under a load the writes cannot keep up
        # with, older ones are dropped before they are written, not held in memory.
        self._pending: Batches[Call] = Batches(self._write, FLUSH_SECONDS, "vsee-mock-journal", keep_last=size)

    def _keep(self, call: Call) -> None:
        self._pending.add(call)

    def flush(self) -> None:
        """Write the pending calls now (reads of the journal do, so a client sees its own last call)."""
        self._pending.flush()

    def close(self) -> None:
        self.flush()
        self._database.close()

    def _write(self, pending: list[Call]) -> None:
        """The calls in one transaction; what falls out of the journal's size is dropped. When the database cannot
        take them (a database server gone for a while), they wait for the next flush (the newest `size` of them).

        Made into rows here, after a flood has dropped what the journal would not keep, and a few at a time: a request
        thread that wants the interpreter meanwhile gets it at the next pause instead of after CPython's switch
        interval (5 ms), which a create pays at each of its round trips (measured, the 90/10 mix at 16 connections on
        --state-url: creates' p99 25-31 ms made in one go, 19-25 ms in slices; made in the request's thread
        instead, ~20 ms, but reads lost 15% making rows a flood then drops; bench/results.md, session 11).

        What falls out is deleted from where this process's last trim ended: on PostgreSQL the rows deleted before
        stay in the index until a vacuum (autovacuum comes by once a minute at most), and a trim from the start of the
        table walked all of them, ~40 ms at each batch after a minute of reads, in the database the creates wait for
        (bench/results.md, session 12). Another instance's batch can commit below that point after this one's trim;
        its own next trim, or the first trim of any process started later, takes it out, and no list shows it."""
        rows = []
        for index, call in enumerate(pending, 1):
            e = self.entry_of(call)
            rows.append((_packed(e), _packed_detail(e.detail), e.method, e.path, e.status, int(e.valid), e.namespace))
            if index % HAND_OVER_EVERY == 0:
                time.sleep(HAND_OVER_S)
        try:
            with self._database.write() as connection:
                self._database.append(connection, "journal", COLUMNS, rows)
                newest = connection.execute("SELECT max(id) FROM journal").fetchone()[0]
                cutoff = newest - self._size
                connection.execute("DELETE FROM journal WHERE id > ? AND id <= ?", (self._trimmed, cutoff))
            self._trimmed = max(self._trimmed, cutoff)
        except StateNotSaved as exc:
            self._log.warning("vsee-mock: the journal waits for the database: %s", exc)
            for call in pending:
                self._pending.add(call)

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        self.flush()
        with self._database.read() as connection:
            found = connection.execute(
                f"SELECT summary, detail FROM journal WHERE id = ? AND {KEPT}", (entry_id, self._size)
            ).fetchone()
        if found is None:
            return None
        return self.rendered(_unpacked(entry_id, found[0], found[1]))

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
        namespace: str | None = None,
    ) -> list[dict[str, Any]]:
        self.flush()
        where = [KEPT]
        values: list[Any] = [self._size]
        for clause, value in (
            ("method = ?", method.upper() if method is not None else None),
            ("instr(path, ?) > 0", path),
            ("status = ?", status),
            ("valid = ?", None if valid is None else int(valid)),
            ("namespace = ?", namespace),
        ):
            if value is not None:
                where.append(clause)
                values.append(value)
        query = f"SELECT id, summary, '' FROM journal WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"
        with self._database.read() as connection:
            rows = connection.execute(query, (*values, self._size)).fetchall()
        return [self.summary(_unpacked(*row)) for row in rows]

    def clear(self) -> None:
        self._pending.drop()
        with self._database.write() as connection:
            connection.execute("DELETE FROM journal")


# Kept as JSON lists of plain values (bodies as latin-1 text, which round-trips any bytes) and rendered when read:
# rendering on every call cost more than the call itself (58 µs an entry, measured), and pickle from a state file
# someone hands you would run code.
SUMMARY = [f.name for f in fields(Entry) if f.name not in ("id", "detail")]


def _packed(entry: Entry) -> str:
    return json.dumps([getattr(entry, name) for name in SUMMARY])


def _packed_detail(detail: Exchange) -> str:
    return json.dumps(
        [
            detail.request_headers,
            detail.request_body.decode("latin-1"),
            detail.request_size,
            detail.status,
            detail.response_headers,
            detail.response_body.decode("latin-1"),
            detail.response_size,
        ]
    )


def _unpacked(entry_id: int, summary: str, detail: str) -> Entry:
    values = dict(zip(SUMMARY, json.loads(summary), strict=True))
    if detail:
        sent, sent_body, sent_size, status, got, got_body, got_size = json.loads(detail)
        exchange = Exchange(
            tuple((k, v) for k, v in sent),
            sent_body.encode("latin-1"),
            sent_size,
            status,
            [(k, v) for k, v in got],
            got_body.encode("latin-1"),
            got_size,
        )
    else:
        exchange = Exchange((), b"", 0, 0, [], b"", 0)  # a list of entries shows no detail
    return Entry(id=entry_id, detail=exchange, **values)
