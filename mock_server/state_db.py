"""The seam between a namespace's store and the database that holds its rows: SQLite (`database.py`: in memory, or
one file the workers of one host share) or PostgreSQL (`postgres.py`: instances on any number of hosts share it).

Both keep the same tables and speak the same SQL to them (`?` placeholders, `ON CONFLICT` upserts); what differs is
how a connection is had, how writers are serialised, and how a reader learns that someone else committed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

from vsee_contract import VseeError

SCHEMA_VERSION = 1  # in `meta`; a database of another version is refused (where a later change migrates it)

# The tables, in the SQL both databases speak; `{serial}` is each one's auto-numbered primary key (the creation
# order of rooms, the journal's ids). Integers are 64-bit in both (SQLite's INTEGER is; BIGINT has its affinity).
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta VALUES ('schema', {version}), ('counter', 0), ('calls', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS spaces (
    name TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    version BIGINT NOT NULL,  -- the counter at this namespace's last change
    full_at BIGINT NOT NULL   -- ... at its last change a reader cannot apply row by row (seeding, a deletion)
);
CREATE TABLE IF NOT EXISTS accounts (
    ns TEXT NOT NULL REFERENCES spaces (name) ON DELETE CASCADE,
    code TEXT NOT NULL,
    position INTEGER NOT NULL,
    domain TEXT NOT NULL,
    admin_token TEXT NOT NULL,
    admin_user_id TEXT NOT NULL,
    next_id BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    PRIMARY KEY (ns, code)
);
CREATE TABLE IF NOT EXISTS rooms (
    seq {serial},  -- creation order, the order of the list
    ns TEXT NOT NULL,
    account TEXT NOT NULL,
    code TEXT NOT NULL,
    domain TEXT NOT NULL,
    slug TEXT NOT NULL,
    doc TEXT NOT NULL,  -- the room as served, without provider_ids (the providers table)
    changed BIGINT NOT NULL,
    CONSTRAINT rooms_code UNIQUE (ns, account, code),
    CONSTRAINT rooms_slug UNIQUE (ns, account, domain, slug),
    FOREIGN KEY (ns, account) REFERENCES accounts (ns, code) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS rooms_changed ON rooms (ns, changed);
CREATE TABLE IF NOT EXISTS providers (
    ns TEXT NOT NULL,
    account TEXT NOT NULL,
    room TEXT NOT NULL,
    user_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (ns, account, room, user_id),
    -- the account's, not the room's: the check of a key into rooms, planned while the table held a few rows, went
    -- on scanning every room of the account through rooms_slug (a PostgreSQL plan kept for the session: a create
    -- cost O(rooms)); a room's providers are deleted with it by the store
    FOREIGN KEY (ns, account) REFERENCES accounts (ns, code) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS users (
    ns TEXT NOT NULL,
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    changed BIGINT NOT NULL,
    PRIMARY KEY (ns, account, id),
    FOREIGN KEY (ns, account) REFERENCES accounts (ns, code) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS users_changed ON users (ns, changed);
CREATE TABLE IF NOT EXISTS queues (
    ns TEXT NOT NULL,
    account TEXT NOT NULL,
    room TEXT NOT NULL,
    doc TEXT NOT NULL,
    changed BIGINT NOT NULL,
    PRIMARY KEY (ns, account, room),
    FOREIGN KEY (ns, account) REFERENCES accounts (ns, code) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS queues_changed ON queues (ns, changed);
CREATE TABLE IF NOT EXISTS journal_batches (  -- the request journal every worker writes, when the database is shared
    id {serial},
    last_call BIGINT NOT NULL,  -- the id of the batch's last call: its calls are numbered up to it (`meta`'s 'calls')
    calls INTEGER NOT NULL,     -- how many
    summaries TEXT NOT NULL,    -- JSON: each call as the list shows it
    details TEXT NOT NULL       -- JSON: each call's request and response
);
CREATE TABLE IF NOT EXISTS defaults (
    ns TEXT NOT NULL,
    account TEXT NOT NULL,
    user_id TEXT NOT NULL,
    room TEXT,  -- NULL: the user's default was removed (kept so another worker sees the removal row by row)
    changed BIGINT NOT NULL,
    PRIMARY KEY (ns, account, user_id),
    FOREIGN KEY (ns, account) REFERENCES accounts (ns, code) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS defaults_changed ON defaults (ns, changed);
"""


def schema(serial: str) -> str:
    """The tables for one database: its auto-numbered key type filled in."""
    return TABLES.replace("{serial}", serial).replace("{version}", str(SCHEMA_VERSION))


class StateNotSaved(VseeError):
    """The database could not be reached, locked or written (disk full, file not writable, another worker holding
    the lock too long, a database server gone); nothing of the write was kept."""


class StateConflict(VseeError):
    """A uniqueness constraint refused a write; `constraint` names it: `rooms_slug`, `rooms_code`, or another."""

    def __init__(self, constraint: str, text: str) -> None:
        super().__init__(text)
        self.constraint = constraint


class Change(NamedTuple):
    """A committed write as its notification tells it to the other instances (PostgreSQL): its counter, the
    namespace it changed, and, when they fit, its rows as the store's catch-up would ask for them after `since`, the
    namespace's version before it (JSON: the accounts' next ids, then the other five answers; None: ask)."""

    counter: int
    namespace: str | None  # None: not told (a notification of an older vsee-mock)
    since: int | None
    rows: str | None


class Cursor(Protocol):
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
    caught_up: Counter[str]  # how views caught up with others' writes: "told" (in rows, no round trip) or "asked"

    @property
    def counter(self) -> int:
        """The newest commit this process has learnt of (-1: none yet, or never told: SQLite)."""
        ...

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self) -> AbstractContextManager[Connection]: ...

    def poll(self, connection: Connection) -> int: ...

    def known(self) -> int | None:
        """The epoch, when this process can tell it without a statement or its connection (nobody else writes the
        database, or a lease tells who did); else None, and `poll()` asks. On every read's path."""
        ...

    def next_version(self, connection: Connection, namespace: str) -> int:
        """Inside a write: the counter's next value, which marks everything this write changes in `namespace`."""
        ...

    def changed(self, version: int, since: int, rows: str) -> None:
        """The write that took `version` changed its namespace from version `since` by exactly `rows` (`Change`):
        the other instances may apply them without asking (PostgreSQL: they go with its notification; SQLite:
        nothing to tell, its readers ask the file)."""
        ...

    def notified(self, since: int) -> tuple[int, list[Change]] | None:
        """Without a round trip: the newest counter and every write committed after `since` up to it, as they were
        told to this process; None when it cannot tell them all (no lease, notifications missed, SQLite)."""
        ...

    def told(self, since: int, upto: int) -> list[Change]:
        """The writes committed after `since` up to `upto` that were told to this process so far (some may be
        missing: a reader follows a namespace's by their `since`)."""
        ...

    def together(self, connection: Connection) -> AbstractContextManager[Any]:
        """The statements sent in the block go to the server together, and every answer is in when it ends: one
        round trip for several questions (PostgreSQL: a pipeline; SQLite: nothing to save)."""
        ...

    def behind(self, version: int) -> bool:
        """Whether someone may have committed after `version`, as far as this process knows without asking: then
        the changes are worth asking for with the question whether there are any (SQLite: never; no round trip)."""
        ...

    def grew(self) -> None:
        """A write made the namespace's rooms double. PostgreSQL keeps a plan per session, made on the tables as
        they were; without statistics, on any number of rows, it cannot tell a lookup of one room by its code from a
        scan of the account's rooms through another index (the providers' catch-up, each write: 0.5 s at 2,000 rooms),
        so it is given statistics and made to plan again (ANALYZE). SQLite plans each statement by its indexes."""
        ...

    def sibling(self) -> StateDatabase:
        """Another handle on the same database, for the shared journal (its own connection; on PostgreSQL its writes
        need not take turns with the state's)."""
        ...

    def fence(self) -> None:
        """After this thread's write left the lock, before it is acknowledged: wait until no process may still serve
        a read from before it (PostgreSQL: `pg_lease.py`). Inside `answering()`, at its end instead."""
        ...

    def answering(self) -> AbstractContextManager[None]:
        """A request's span: the fences of the writes made in it wait at its end, once the answer is made."""
        ...

    def status(self) -> dict[str, Any]:
        """What the admin index shows of the state database (on PostgreSQL: how reads learnt of others' writes)."""
        ...

    def close(self) -> None:
        """At a clean stop: leave the database complete on its own (SQLite: the WAL checkpointed) and let go."""
        ...
