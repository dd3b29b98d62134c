"""The seam between a namespace's store and the database that holds its rows: SQLite (`database.py`: in memory, or
one file the workers of one host share) or PostgreSQL (`postgres.py`: instances on any number of hosts share it).

Both keep the same tables and speak the same SQL to them (`?` placeholders, `ON CONFLICT` upserts); what differs is
how a connection is had, how writers are serialised, and how a reader learns that someone else committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class StateNotSaved(Exception):
    """The database could not be reached, locked or written (disk full, file not writable, another worker holding
    the lock too long, a database server gone); nothing of the write was kept."""


class StateConflict(Exception):
    """A uniqueness constraint refused a write; `constraint` names it: `rooms_slug`, `rooms_code`, or another."""

    def __init__(self, constraint: str, text: str) -> None:
        super().__init__(text)
        self.constraint = constraint


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store, the namespaces and the journal need of a connection (sqlite3's, or postgres.py's wrapper)."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...


class StateDatabase(Protocol):
    """One process's handle on the state database: a lock over its use in this process, a connection to read on
    (`read()`) and one write transaction at a time across every process sharing it (`write()`)."""

    lock: threading.RLock
    shared: bool  # other processes may write it: poll() before trusting what this process holds
    generation: int  # moves on when this process (re)opens the database: views held in memory must reload
    epoch: int  # moves on when poll() sees another commit

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self) -> AbstractContextManager[Connection]: ...

    def poll(self, connection: Connection) -> int: ...

    def next_version(self, connection: Connection) -> int: ...

    def sibling(self) -> StateDatabase:
        """Another handle on the same database (the shared journal writes through its own)."""
        ...

    def close(self) -> None:
        """At a clean stop: leave the database complete on its own (SQLite: the WAL checkpointed) and let go."""
        ...
