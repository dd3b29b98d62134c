"""The mock's state in SQLite: one database for every namespace and account, private to the process (in memory) or
shared by worker processes through a file (`--state-file`, or the temporary one `--workers` makes).

One connection per process, opened on first use in that process (so an app built before granian forks its workers
is safe) and guarded by one lock. A write is one `BEGIN IMMEDIATE` transaction, which also serialises writers across
processes; every write takes the next value of a global change counter, and `PRAGMA data_version` tells a worker,
at the cost of one statement, whether another process has committed since it last looked.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from vsee_contract import VseeError

from .state_db import SCHEMA_VERSION, Change, Connection, StateConflict, StateDatabase, StateNotSaved, schema

__all__ = ["Database", "StateFileError", "StateNotSaved", "check_state_database"]

BUSY_TIMEOUT_MS = 10_000  # how long a writer waits for another worker's transaction before giving up (503)
HEADER = b"SQLite format 3\x00"

SCHEMA = schema("INTEGER PRIMARY KEY AUTOINCREMENT")
_NOTHING_TO_FENCE = nullcontext()  # answering(): on every request's path, made once


class StateFileError(VseeError, ValueError):
    """The state file is not a database this mock can use."""


def check_state_database(path: Path) -> None:
    """Refuse, as StateFileError, an existing file that is not a vsee-mock state database (e.g. the JSON state file
    of an earlier version, or a corrupt one). A missing or empty file is fine: it is created."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(HEADER))
    except FileNotFoundError:
        return
    if not head:
        return
    if head != HEADER:
        raise StateFileError(f"{path} is not an SQLite database (a state file of an earlier vsee-mock is JSON)")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            stored = dict(connection.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise StateFileError(f"{path} is not a usable database ({exc})") from None
    if tables and stored.get("schema") != SCHEMA_VERSION:
        raise StateFileError(f"{path} is an SQLite database, but not one of this vsee-mock (schema {SCHEMA_VERSION})")


class Database:
    """The connection of this process (re-opened after a fork), its lock, and the write transaction."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.shared = path is not None  # a file other processes may write too
        self.lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self.generation = 0  # bumped whenever this process opens a connection: in-memory views must reload
        self._data_version = -1
        self.epoch = 0  # bumped whenever another process is seen to have committed
        self.counter = -1  # never told: poll() asks the file
        self.caught_up: Counter[str] = Counter()

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            self._open()
        assert self._connection is not None
        return self._connection

    def _open(self) -> None:
        if self.path is not None:
            check_state_database(self.path)
        target = str(self.path) if self.path is not None else ":memory:"
        connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=0)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            _patiently(lambda: connection.execute("PRAGMA journal_mode = WAL"))
            connection.execute("PRAGMA synchronous = FULL")  # acknowledged means on disk
        # one transaction: another worker's check_state_database sees no tables or all of them with their version
        script = f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;"
        try:
            _patiently(lambda: connection.executescript(script))
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._connection, self._pid = connection, os.getpid()
        self.generation += 1
        self._data_version = -1

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock (autocommit: each statement sees every committed write)."""
        with self.lock:
            try:
                yield self.connection
            except sqlite3.OperationalError as exc:
                raise StateNotSaved(f"the state could not be read ({exc})") from exc

    def poll(self, connection: Connection) -> int:
        """The epoch: it moves on when another process has committed since the last poll (one cheap statement for
        a shared file, nothing for a private database)."""
        if self.shared:
            version = connection.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._data_version = version
                self.epoch += 1
        return self.epoch

    def known(self) -> int | None:
        if self.shared or self._connection is None or self._pid != os.getpid():
            return None
        return self.epoch

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the database's write lock across processes; rolled back on any error.
        A failure of the database itself becomes StateNotSaved."""
        with self.lock:
            connection = self.connection
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StateNotSaved(f"the state could not be locked for writing ({exc})") from exc
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StateNotSaved(f"the write could not be saved ({exc})") from exc
                if isinstance(exc, sqlite3.IntegrityError):
                    raise _conflict(exc) from exc
                raise

    def sibling(self) -> StateDatabase:
        return Database(self.path)

    def together(self, connection: Connection) -> AbstractContextManager[Any]:
        return nullcontext()

    def behind(self, version: int) -> bool:
        return False

    def grew(self) -> None:
        """SQLite's planner needs no statistics for the store's lookups."""

    def fence(self) -> None:
        """Nothing to wait for: every reader of a shared file asks it for the counter before each read."""

    def answering(self) -> AbstractContextManager[None]:
        return _NOTHING_TO_FENCE

    def status(self) -> dict[str, Any]:
        return {"database": "sqlite"}

    def close(self) -> None:
        """Checkpoint the WAL into the file and close, so that the file alone holds the state (a copy of it, a
        volume snapshot) once the server has stopped cleanly."""
        with self.lock:
            if self._connection is None or self._pid != os.getpid():
                return
            if self.path is not None:
                # another worker still writing: busy, and the last one to close checkpoints
                with suppress(sqlite3.OperationalError):
                    self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._connection.close()
            self._connection = None

    def next_version(self, connection: Connection, namespace: str) -> int:
        """Inside a write: the counter's next value, which marks everything this write changes."""
        row = connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'counter' RETURNING value").fetchone()
        return int(row[0])

    def changed(self, version: int, since: int, rows: str) -> None:
        """Nothing to tell: a reader of a shared file asks it (`poll()`), one statement."""

    def notified(self, since: int) -> tuple[int, list[Change]] | None:
        return None

    def told(self, since: int, upto: int) -> list[Change]:
        return []


def _patiently(statement: Callable[[], object]) -> None:
    """Run a set-up statement, waiting out another worker's lock: SQLite answers "database is locked" to a change of
    journal mode (and, while another connection converts the file, to the schema) without calling the busy handler,
    so two workers opening one new file at once would otherwise fail."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _conflict(exc: sqlite3.IntegrityError) -> StateConflict:
    """SQLite names a uniqueness constraint by its columns: `UNIQUE constraint failed: rooms.ns, ..., rooms.slug`."""
    text = str(exc)
    for constraint, columns in (("rooms_slug", "rooms.slug"), ("rooms_code", "rooms.code")):
        if columns in text:
            return StateConflict(constraint, text)
    return StateConflict("", text)
