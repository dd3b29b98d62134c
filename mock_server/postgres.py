"""The mock's state on a PostgreSQL server (`--state-url`): the tables of `state_db.py`, shared by every instance of
the mock on any host, through psycopg 3 and a psycopg_pool connection pool.

- A write is one transaction that first takes a transaction-scoped advisory lock: writers are serialised across
  instances as `BEGIN IMMEDIATE` serialises them on SQLite, so a write decides on the state every earlier write
  left (next ids, codes), and the unique constraints (code; slug per domain) stand behind the handlers' own checks.
  It commits without waiting for the disk (the lock goes with the COMMIT) and is acknowledged only after a durable
  commit sent right after it returned (flushed after it). It goes in pipeline mode, two round trips in all
  (`write()`).
- A read learns whether someone committed from this instance's listener (`pg_lease.py`: LISTEN/NOTIFY, a fence on
  writes and leases), without a round trip; while the instance holds no valid lease it asks the database for the
  global change counter first (one statement on the connection this process holds), as before. When the counter
  moved, the namespace catches up row by row, as with SQLite.
- The schema is created at start under an advisory lock (instances starting at once wait for each other), with
  its version in `meta`; a database holding another version is refused with one line.
- The server gone (stopped, restarted, unreachable): the connection is handed back to the pool, which drops it and
  connects again in the background; meanwhile each request answers 503 (`StateNotSaved`), and a write in flight is
  rolled back by the server. Nothing else is needed to recover.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

import psycopg
import psycopg_pool
from psycopg import errors

from vsee_contract import VseeError

from . import pg_lease
from .pg_wire import Answer, PgConnection, Statements
from .state_db import SCHEMA_VERSION, Change, Connection, StateConflict, StateDatabase, StateNotSaved, schema

SCHEMA_LOCK = 0x76736565_0001  # advisory lock keys ("vsee"): creating the schema; every write transaction
WRITE_LOCK = 0x76736565_0002
CONNECT_TIMEOUT_S = 3  # an unreachable server: a start-up that fails, or a request that answers 503, within this
POOL_WAIT_S = 1.0  # a request waits this long for a connection while the server is away, then answers 503
# a lost connection is tried again after this, then only when a request wants one: psycopg_pool's own backoff
# (1, 2, 4, 8 s... for minutes) kept an instance answering 503 for up to 4 s after a 3 s outage had ended
RECONNECT_S = 0.5
STATE_TABLES = ("accounts", "rooms", "providers", "users", "queues", "defaults")  # a namespace's rows
POOL_SIZE = 2  # the process's lock serialises its use of the store: one connection in use, one spare

SCHEMA = schema("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY") + pg_lease.TABLE


class StateUrlError(VseeError, ValueError):
    """The database named by --state-url cannot be used (unreachable, refused, another schema); one line."""


def prepare(url: str) -> None:
    """At start: reach the server and create the schema (idempotent; under an advisory lock, so instances starting at
    once wait for each other), or StateUrlError naming the problem."""
    # psycopg's warnings (the pool's, at each failed reconnection; a pipeline ended by a broken connection) repeat
    # what the 503s and the journal say once; "psycopg.pool" inherits this level
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as connection:
            _create_schema(connection)
    except psycopg.Error as exc:
        raise StateUrlError(_one_line(exc)) from None


def _create_schema(connection: psycopg.Connection[Any]) -> None:
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        found = connection.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
        if found and found[0]:
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != SCHEMA_VERSION:
                raise StateUrlError(
                    f"the database holds tables of another program or another vsee-mock schema "
                    f"({row[0] if row else 'none'}, this one is {SCHEMA_VERSION}); name an empty database"
                )
        connection.execute(SCHEMA)  # DDL, several statements: no parameters


class _Answering:
    """`PostgresDatabase.answering()`: the same object in every thread, its state in the database's thread-local."""

    def __init__(self, fences: threading.local, fence: Callable[[], None]) -> None:
        self._fences, self._fence = fences, fence

    def __enter__(self) -> None:
        self._fences.answering = True

    def __exit__(self, *exc: object) -> None:
        self._fences.answering = False
        self._fence()


def _analyse(url: str) -> None:
    with (
        suppress(psycopg.Error),
        psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as connection,
    ):
        connection.execute(f"ANALYZE {', '.join(STATE_TABLES)}")  # the next time: the database away meanwhile


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


COUNTER = "SELECT value FROM meta WHERE key = 'counter'"  # asked before a read when no lease tells it
NOTIFY = f"SELECT pg_notify('{pg_lease.CHANNEL}', ?)"  # a write's change, told at its commit (`pg_lease.told`)
COMMIT_BEFORE_FLUSH = "SET LOCAL synchronous_commit = off"
DURABLE = "SELECT txid_current()"  # a transaction of its own that takes an id: its commit waits for the flush


class PostgresDatabase:
    """This process's handle on the server: a pool (opened on first use in each process, so an app built before
    granian forks its workers holds no connection), the connection the store uses, and the write transaction."""

    shared = True

    def __init__(self, url: str, serialised: bool = True) -> None:
        self.url = url
        self._serialised = serialised  # writes take turns with every instance's (the state's; not the journal's)
        self.lock = threading.RLock()
        self.generation = 0
        self.epoch = 0
        self._counter = -1
        self._pool: psycopg_pool.ConnectionPool[Any] | None = None
        self._pid = 0
        self._held: PgConnection | None = None  # the connection in use, kept while it works (one round trip a read)
        self._listened = 0  # the listener's connections when this process last trusted what it learnt (-1: none)
        self._schema_ready = False
        self._statements: weakref.WeakKeyDictionary[psycopg.Connection[Any], Statements] = weakref.WeakKeyDictionary()
        self._listener: pg_lease.Listener | None = None  # the state's (not the journal's), one per process
        self._committing: int | None = None  # the counter the write in progress took
        self._changes: list[Change] = []  # ... each counter it took, and what it changed
        self._base: Answer | None = None  # the counter as the write in progress found it (locked)
        self._fences = threading.local()  # per thread: its writes not yet fenced, whether inside answering()
        self._answering = _Answering(self._fences, self.fence)
        self.reads: Counter[str] = Counter()  # how reads learnt of others' writes: "cached" or "polled"
        self.caught_up: Counter[str] = Counter()

    def _connection(self) -> PgConnection:
        if self._pool is None or self._pid != os.getpid():
            # a forked copy of the parent's pool is abandoned, never closed: its sockets are the parent's
            self._pool = psycopg_pool.ConnectionPool(
                self.url,
                min_size=1,
                max_size=POOL_SIZE,
                kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "vsee-mock"},
                timeout=POOL_WAIT_S,
                reconnect_timeout=RECONNECT_S,
                open=False,
                name="vsee-mock",
            )
            self._pool.open(wait=False)
            self._pid, self._held = os.getpid(), None
            self.generation += 1
            self._counter = -1
            self._listener, self._listened = None, 0  # a forked copy's thread did not survive the fork
        if self._held is None:
            raw = self._pool.getconn()
            held = PgConnection(raw, self._statements.setdefault(raw, Statements()))
            self._held = held
            if not self._schema_ready:  # an app made by create_app without the CLI's prepare()
                _create_schema(held.raw)
                self._schema_ready = True
            if self._listener is None and self._serialised:
                self._listener = pg_lease.Listener(self.url)
        connections = self._listener.connections if self._listener is not None else 0
        if connections != self._listened:
            if self._listened != 0 or connections != 1:  # (the listener's first connection is no news)
                # connected again (the listener, or this connection after it failed): the server may have restarted
                # and lost commits it had not flushed (a write commits without waiting for the disk), whose numbers
                # the next writes take again: nothing learnt holds
                self._counter = -1
                self.generation += 1
            self._listened = connections
        return self._held

    @contextmanager
    def _using(self, doing: str) -> Iterator[PgConnection]:
        """The held connection; a failure of the server or the connection becomes StateNotSaved, and the connection
        goes back to the pool, which replaces a broken one."""
        try:
            yield self._connection()
        except errors.IntegrityError as exc:
            diag = exc.diag
            raise StateConflict(diag.constraint_name or "", _one_line(exc)) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout, StateUrlError) as exc:
            self._release()
            self._listened = -1  # the server may be restarting: forget what was learnt (`_connection`)
            raise StateNotSaved(f"the state database could not be {doing} ({_one_line(exc)})") from exc

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None and self._pool is not None and self._pid == os.getpid():
            self._pool.putconn(held.raw)

    @contextmanager
    def read(self) -> Iterator[PgConnection]:
        with self.lock, self._using("reached") as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[PgConnection]:
        """One transaction, after every earlier writer of every instance (the advisory lock, released by COMMIT or
        ROLLBACK); rolled back on any error. Sent in pipeline mode: BEGIN, the lock and the counter go with the
        block's first read (the namespace's catch-up), and its writes, the COMMIT and the fence's first look go
        together at the end: two round trips, where one by one they were seven (measured in the tests, `helpers.wire`);
        what a database on another host charges while the lock is held. The journal's handle (not serialised) takes
        no lock: its batch of calls goes in one round trip."""
        with self.lock, self._using("written") as connection:
            self._committing, self._changes = None, []
            commit = first_look = None
            try:
                with connection.batch():
                    connection.execute("BEGIN")
                    if self._serialised:
                        connection.execute(COMMIT_BEFORE_FLUSH)  # the lock goes with the COMMIT, before the flush
                        connection.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
                        self._base = connection.execute(COUNTER)  # under the lock: next_version() knows the next value
                    connection.writing = True
                    yield connection
                    for change in self._changes:  # delivered at the COMMIT, in this order
                        connection.execute(NOTIFY, (pg_lease.told(change),))
                        if self._listener is not None:
                            self._listener.expect(change)
                    committed = connection.execute("COMMIT")
                    # its own durable commit, flushed after this write's: the answer waits for the disk, the lock not
                    commit = connection.execute(DURABLE) if self._serialised else committed
                    if self._committing is not None and self._listener is not None:
                        first_look = self._listener.ask(connection)  # runs after the COMMIT
            except BaseException as exc:
                if not (isinstance(exc, psycopg.Error) and commit is not None and commit.succeeded):
                    with suppress(psycopg.Error):  # a connection gone rolled back already; _using hands it back
                        connection.rollback()
                    if commit is not None and self._listener is not None:
                        for change in self._changes:
                            self._listener.forget(change.counter)
                    raise
                first_look = None  # committed all the same (the first look failed): the fence waits for the leases
            finally:
                connection.writing, self._base = False, None
            if self._committing is not None and self._listener is not None:
                self._wrote(self._committing)
                self._pending().append(self._listener.wrote(self._committing))
                if first_look is None:
                    self._release()
                else:  # usually every other instance has seen it already
                    self._listener.release(first_look)

    def _wrote(self, counter: int) -> None:
        """This process committed `counter` on a view of the one before (under the lock): the views that were
        current stay current but for the write's namespace, which the store brings along itself, so the next read
        asks nothing. When others committed after the counter this process last learnt, every view catches up."""
        if self._counter < counter - 1:
            self.epoch += 1
        self._counter = max(self._counter, counter)

    @contextmanager
    def together(self, connection: Connection) -> Iterator[None]:
        """A batch (inside a write, the write's) whose every answer is in at the end of the block: one round trip."""
        assert isinstance(connection, PgConnection)
        if connection.batching:
            yield
            connection.sync()
        else:
            with connection.batch():
                yield

    def behind(self, version: int) -> bool:
        """The listener's newest counter is past `version` (or there is no lease to tell)."""
        newest = self._listener.newest() if self._listener is not None else None
        return newest is None or newest > version

    def grew(self) -> None:
        """On a connection and a thread of their own: an ANALYZE at thousands of rooms takes tens of milliseconds,
        which under the write lock every instance's writes waited for (two instances, creates only: p99 36 -> 51 ms)."""
        threading.Thread(target=_analyse, args=(self.url,), name="vsee-mock-analyse", daemon=True).start()

    def fence(self) -> None:
        """Before this thread's writes are acknowledged (outside the lock): every instance that may serve a cached
        read has seen them, or has lost its lease (`pg_lease.py`)."""
        pending = getattr(self._fences, "pending", None)
        if not pending or getattr(self._fences, "answering", False):
            return  # nothing written, or at the answer's end
        self._fences.pending = []
        if self._listener is not None:
            for event in pending:
                self._listener.fence(event)

    def answering(self) -> AbstractContextManager[None]:
        """The fence waits at the answer's end, the other instances' confirmations coming in while this thread
        renders, validates and journals the answer rather than after (one object for every request: it is on
        every read's path)."""
        return self._answering

    def _pending(self) -> list[threading.Event]:
        pending: list[threading.Event] | None = getattr(self._fences, "pending", None)
        if pending is None:
            pending = self._fences.pending = []
        return pending

    def poll(self, connection: Connection) -> int:
        assert isinstance(connection, PgConnection)
        cached = None if self._listener is None or connection.in_transaction else self._listener.newest()
        if cached is not None:
            return self._learnt(cached, "cached")
        # prepared once per connection (pg_wire); inside a write, with the write's other statements
        row = connection.execute(COUNTER).fetchone()
        assert row is not None  # the schema's row
        return self._learnt(int(row[0]), "polled")

    def known(self) -> int | None:
        """`poll()` from the lease, when taking the connection would change nothing (`_connection()`: the same
        process, a connection held, the listener's connections as last trusted) and no write is open on it."""
        listener, held = self._listener, self._held
        if self._pid != os.getpid() or listener is None or held is None or listener.connections != self._listened:
            return None
        cached = None if held.in_transaction else listener.newest()
        return None if cached is None else self._learnt(cached, "cached")

    def _learnt(self, counter: int, how: str) -> int:
        self.reads[how] += 1
        if counter > self._counter:  # it only grows; a cached one may lag behind one polled before
            self._counter = counter
            self.epoch += 1
        return self.epoch

    def next_version(self, connection: Connection, namespace: str) -> int:
        """The counter moved on, and every listener told (at the commit). The counter was read under the lock with
        the write's first round trip, so nothing here waits for an answer. Only the state's writes take one (the
        journal's handle, not serialised, never does)."""
        if self._committing is None:
            assert self._base is not None, "next_version() outside a serialised write"
            row = self._base.fetchone()
            assert row is not None  # the schema's row
            self._committing = int(row[0])
        self._committing += 1  # a write may take several (seeding a namespace, then the change)
        connection.execute("UPDATE meta SET value = ? WHERE key = 'counter'", (self._committing,))
        self._changes.append(Change(self._committing, namespace, None, None))
        return self._committing

    def changed(self, version: int, since: int, rows: str) -> None:
        self._changes = [
            change._replace(since=since, rows=rows) if change.counter == version else change for change in self._changes
        ]

    def notified(self, since: int) -> tuple[int, list[Change]] | None:
        return self._listener.notified(since) if self._listener is not None and self._pid == os.getpid() else None

    def told(self, since: int, upto: int) -> list[Change]:
        return self._listener.told(since, upto) if self._listener is not None and self._pid == os.getpid() else []

    @property
    def counter(self) -> int:
        return self._counter

    def status(self) -> dict[str, Any]:
        leased = self._listener is not None and self._listener.newest() is not None
        return {"database": "postgresql", "reads": dict(self.reads), "caught_up": dict(self.caught_up), "lease": leased}

    def sibling(self) -> StateDatabase:
        """The journal's handle: its batches of calls are no part of the state, so they do not wait for the state's
        writers, nor hold them up (measured, two instances: creates only 19 -> 72 req/s, the 90/10 mix 143 -> 913)."""
        return PostgresDatabase(self.url, serialised=False)

    def close(self) -> None:
        if self._listener is not None and self._pid == os.getpid():
            self._listener.stop()  # its row gone: writers stop waiting for this instance
        self._listener = None
        with self.lock:
            if self._pool is not None and self._pid == os.getpid():
                self._release()
                self._pool.close(timeout=1.0)
            self._pool = None
