"""`PgConnection`: a psycopg connection speaking the store's SQL (`?` placeholders) through libpq's pipeline directly.

psycopg's pipeline mode sends each statement as it is executed: a wait for the socket, a send and a wake-up of the
server per statement. Profiled on two instances creating rooms, that was half of the instances' interpreter time
(psycopg 49% of the GIL's samples, most of it in the per-statement exchange), spent while every other instance's
writes wait for the lock. Here the statements of a batch are queued in libpq's buffer and leave together at its
sync: one send and one stream of answers per round trip (measured alone: 0.48 -> 0.10 ms of the client's CPU for a
create's transaction). Each statement is prepared the first time a connection sends it (its Parse goes with that
batch); the answers come back as tuples of Python values (integers, booleans, floats, text, None).

psycopg keeps the connection (the pool, the schema's DDL): a batch leaves libpq idle, out of pipeline mode.
"""

from __future__ import annotations

import functools
import re
import select
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors, pq

__all__ = ["Answer", "PgConnection", "Statements"]

MAX_PREPARED = 256  # statements prepared per connection; past them, a statement is sent unprepared
_INTEGERS = frozenset((20, 21, 23, 26))  # int8, int2, int4, oid
_FLOATS = frozenset((700, 701))  # float4, float8
_BOOL = 16
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> bytes:
    """The store's SQL (`?` placeholders, shared with SQLite) with PostgreSQL's ($1, $2, ...)."""
    count = iter(range(1, 1 << 16))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql).encode()


def _value(value: Any, encoding: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode(encoding)


def _type(value: Any) -> int:
    """The parameter's type for the server: 0 (let the statement decide) but for integers and booleans."""
    return _BOOL if isinstance(value, bool) else 20 if isinstance(value, int) else 0


def _rows(result: pq.abc.PGresult, encoding: str) -> list[tuple[Any, ...]]:
    text = functools.partial(bytes.decode, encoding=encoding)
    converters: list[Callable[[bytes], Any]] = []
    for column in range(result.nfields):
        oid = result.ftype(column)
        converters.append(int if oid in _INTEGERS else float if oid in _FLOATS else _is_true if oid == _BOOL else text)
    rows = []
    for row in range(result.ntuples):
        values = []
        for column, convert in enumerate(converters):
            raw = result.get_value(row, column)
            values.append(None if raw is None else convert(raw))
        rows.append(tuple(values))
    return rows


def _is_true(raw: bytes) -> bool:
    return raw == b"t"


class Statements:
    """The statements prepared on one server connection (it outlives the wrappers the pool's loans make)."""

    def __init__(self) -> None:
        self.names: dict[bytes, bytes] = {}  # SQL -> name
        self._made = 0

    def add(self, query: bytes) -> bytes | None:
        """A new name for `query`, or None past MAX_PREPARED."""
        if len(self.names) >= MAX_PREPARED:
            return None
        self._made += 1
        name = self.names[query] = b"vsee_s%d" % self._made
        return name


class Answer:
    """A statement's answer, read as a cursor is: in a batch, the batch syncs (one round trip) when it is first read."""

    def __init__(self, connection: PgConnection) -> None:
        self._connection: PgConnection | None = connection
        self._rows: list[tuple[Any, ...]] = []
        self._next = 0
        self.status: pq.ExecStatus | None = None  # None: not answered (yet); PIPELINE_ABORTED: an earlier one failed

    @property
    def succeeded(self) -> bool:
        return self.status in _OK

    def _answered(self, result: pq.abc.PGresult, encoding: str) -> None:
        self.status = pq.ExecStatus(result.status)
        if self.status == pq.ExecStatus.TUPLES_OK:
            self._rows = _rows(result, encoding)
        self._connection = None

    def _ready(self) -> list[tuple[Any, ...]]:
        connection = self._connection
        if connection is not None:
            if not connection.batching:  # its batch ended in an error before the answer came
                raise psycopg.OperationalError("the statement was not answered")
            connection.sync()
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._ready()
        if self._next >= len(rows):
            return None
        self._next += 1
        return rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._ready()[self._next :]
        self._next += len(rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class PgConnection:
    """A psycopg connection speaking the store's SQL (the `state_db.Connection` protocol). Outside `batch()` each
    statement is a round trip of its own; inside, statements are queued and sent at `sync()` (or when an answer is
    first read), and the batch's end syncs what is left."""

    def __init__(self, connection: psycopg.Connection[Any], prepared: Statements) -> None:
        self.raw = connection
        self.writing = False  # inside PostgresDatabase.write(), whose transaction spans several batches
        self._prepared = prepared
        self._queue: list[Answer | bytes] | None = None  # in a batch: what was sent since the last sync
        self._encoding = connection.info.encoding

    @property
    def in_transaction(self) -> bool:
        return self.writing or self.raw.pgconn.transaction_status != pq.TransactionStatus.IDLE

    @property
    def batching(self) -> bool:
        return self._queue is not None

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Answer:
        if self._queue is None:
            with self.batch():
                return self._send(sql, parameters)
        return self._send(sql, parameters)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> None:
        with self.batch():
            for row in rows:
                self._send(sql, row)

    def rollback(self) -> None:
        """Out of a failed write's transaction (statements prepared meanwhile stay prepared)."""
        self.execute("ROLLBACK")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Statements executed in the block leave together at a sync; every answer is in at its end (a batch inside
        a batch is the outer one's). Any error of the server is raised at the sync, as psycopg raises it."""
        if self._queue is not None:
            yield
            return
        pgconn = self.raw.pgconn
        pgconn.enter_pipeline_mode()
        self._queue = []
        try:
            yield
            self.sync()
        except BaseException:
            self._drain()
            raise
        finally:
            self._queue = None
            try:
                pgconn.exit_pipeline_mode()
            except psycopg.Error:  # answers left unread (the connection broke): the pool drops it, not hands it on
                self.raw.close()

    def sync(self) -> None:
        """Send what is queued and read every answer: one round trip. The first error is raised once all are in."""
        queue = self._queue
        assert queue is not None, "sync() outside a batch"
        if not queue:
            return
        self._queue = []
        pgconn = self.raw.pgconn
        pgconn.pipeline_sync()
        self._flush()
        failure: psycopg.Error | None = None
        for waiting in queue:
            for result in self._results():
                if result.status == pq.ExecStatus.FATAL_ERROR and failure is None:
                    failure = errors.error_from_result(result, encoding=self._encoding)
                if isinstance(waiting, Answer):
                    waiting._answered(result, self._encoding)
                elif result.status != pq.ExecStatus.COMMAND_OK:  # a Parse that did not happen
                    self._prepared.names.pop(waiting, None)
        ending = self._result()
        if ending is None or ending.status != pq.ExecStatus.PIPELINE_SYNC:
            raise psycopg.OperationalError("the server's answers were out of step with the statements sent")
        if failure is not None:
            raise failure

    def _drain(self) -> None:
        """After an error: read what is still to come, so the connection can leave pipeline mode."""
        with suppress(psycopg.Error):
            self.sync()

    def _send(self, sql: str, parameters: Sequence[Any]) -> Answer:
        assert self._queue is not None
        pgconn = self.raw.pgconn
        query = _numbered(sql)
        values = [_value(p, self._encoding) for p in parameters]
        name = self._prepared.names.get(query)
        if name is None and (name := self._prepared.add(query)) is not None:
            pgconn.send_prepare(name, query, [_type(p) for p in parameters])
            self._queue.append(query)
        if name is None:
            pgconn.send_query_params(query, values, [_type(p) for p in parameters])
        else:
            pgconn.send_query_prepared(name, values)
        answer = Answer(self)
        self._queue.append(answer)
        return answer

    def _flush(self) -> None:
        pgconn = self.raw.pgconn
        while pgconn.flush():  # non-blocking: 1 while some is left to send
            _wait(pgconn.socket, write=True)

    def _results(self) -> Iterator[pq.abc.PGresult]:
        """One statement's results (one, or none when the connection broke), up to libpq's separator."""
        while (result := self._result()) is not None:
            yield result

    def _result(self) -> pq.abc.PGresult | None:
        pgconn = self.raw.pgconn
        while pgconn.is_busy():
            _wait(pgconn.socket, write=False)
            pgconn.consume_input()  # raises OperationalError when the connection is gone
        return pgconn.get_result()


def _wait(fd: int, write: bool) -> None:
    """Until the socket can be written or read (the GIL is free meanwhile); poll(), as select() refuses a descriptor
    past 1023, where poll() is not (Windows)."""
    if not hasattr(select, "poll"):
        select.select([fd] * (not write), [fd] * write, [])
        return
    poller = select.poll()
    poller.register(fd, select.POLLOUT if write else select.POLLIN)
    poller.poll()
