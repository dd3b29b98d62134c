"""One namespace's state: the accounts (`account.py`, their rows in `rows.py`) as the handlers see them (plain dicts
in this process), kept in step with the database (`database.py`), which is the truth every worker shares.

A read first catches up with what other workers committed (row by row, from the change counter; on PostgreSQL from the
rows their notifications told, when they did), then runs on the dicts. A write runs inside one database transaction:
catch up, run the handler, then save exactly the rows it set or removed (the containers remember them), and commit
before the answer leaves. A write that fails leaves the database untouched and the dicts reloaded from it. Generated
codes and ids derive from (seed, account, next id), so they are the same whichever worker makes them, and repeat after a
reset.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from vsee_contract import Refusal

from .account import AccountState, Clock
from .fixtures import AccountFixture
from .state_db import Change, Connection, Cursor, StateConflict, StateDatabase, StateNotSaved

__all__ = ["StateNotSaved", "Store"]


# What `_ask()` sends for a namespace and a version: each table's rows changed after it, in the order `_load()` reads
CHANGES = (
    "SELECT code, domain, admin_token, admin_user_id, next_id FROM accounts WHERE ns = ? AND changed > ? "
    "ORDER BY position",
    "SELECT p.account, p.room, p.user_id FROM providers p JOIN rooms r ON (r.ns, r.account, r.code) = "
    "(p.ns, p.account, p.room) WHERE p.ns = ? AND r.changed > ? ORDER BY p.position",
    "SELECT account, code, doc FROM rooms WHERE ns = ? AND changed > ? ORDER BY seq",
    "SELECT account, id, doc FROM users WHERE ns = ? AND changed > ?",
    "SELECT account, room, doc FROM queues WHERE ns = ? AND changed > ?",
    "SELECT account, user_id, room FROM defaults WHERE ns = ? AND changed > ?",
)


GREW_FROM = 64  # rooms in a namespace: below, any plan reads a page or two


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Store:
    """One namespace: its accounts as dicts, in step with the database; `reset()` returns to the fixtures."""

    def __init__(
        self,
        database: StateDatabase,
        namespace: str,
        scenario: str,
        fixtures: Callable[[str], list[AccountFixture]],
        seed: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.namespace = namespace
        self.scenario = scenario  # the scenario it is seeded with when the database has no such namespace yet
        self._fixtures = fixtures
        self._seed = seed
        self._clock = clock or (lambda: int(time.time()))
        self._accounts: dict[str, AccountState] = {}
        self.version = -1  # the change counter this view reflects; -1: not loaded in this process
        self._as_of = -1  # ... and every commit up to this one (of any namespace) is in it
        self._generation = -1
        self._epoch = -1
        self._current_for: int | None = None  # the thread inside reading() or write(): caught up, under the lock
        self._counted = 0  # the rooms at the last grew() from this process (0: none yet)

    @property
    def lock(self) -> Any:
        return self.database.lock

    # ------------------------------------------------------------------ reading

    def sync(self) -> int:
        """Catch up with the database (other workers' writes, or a first load in this process); the version."""
        database = self.database
        with database.lock:
            epoch = database.known() if self._generation == database.generation else None
            if epoch is not None and (epoch == self._epoch or self._notified()):
                return self.version  # no connection taken: most reads, on a private database or under a lease
            with database.read() as connection:
                if self._generation != database.generation:
                    self._catch_up(connection, loaded=False)
                elif database.shared and (
                    epoch is not None or (database.poll(connection) != self._epoch and not self._notified())
                ):
                    self._catch_up(connection, loaded=True)
                return self.version

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The lock, over a view that has caught up with every committed write."""
        with self.lock:
            self.sync()
            with self._current():
                yield

    @contextmanager
    def _current(self) -> Iterator[None]:
        """Inside reading() or write() the view is current until the block ends (this thread holds the lock, and in
        a write the database's): the handler's every look at `accounts` need not ask the database again (on
        PostgreSQL a round trip each)."""
        before, self._current_for = self._current_for, threading.get_ident()
        try:
            yield
        finally:
            self._current_for = before

    @property
    def accounts(self) -> dict[str, AccountState]:
        if self._current_for != threading.get_ident():
            self.sync()
        return self._accounts

    @property
    def default_account(self) -> AccountState:
        return next(iter(self.accounts.values()))

    def account(self, code: str | None) -> AccountState | None:
        """The account for an X-AccountCode value; blank means the default account."""
        return self.accounts.get(code) if code else self.default_account

    def stamp(self, account: str, code: str) -> int | None:
        """The stamp of the account's room in this view (`Rows.stamps`; None: never seen here)."""
        found = self._accounts.get(account)
        return found.rooms.stamps.get(code) if found is not None else None

    def snapshot(self) -> dict[str, Any]:
        with self.reading():
            return copy.deepcopy({"accounts": [a.snapshot() for a in self._accounts.values()]})

    def _notified(self) -> bool:
        """Without asking the database: the changes told to this process since the view (`notified()`), when none
        is missing and this namespace's are told in rows; else False."""
        told = self.database.notified(max(self.version, self._as_of))
        if told is None:
            return False
        newest, changes = told
        version = self.version
        if not self._follow(changes, None):
            return False
        if self.version != version:
            self.database.caught_up["told"] += 1
        self._as_of, self._epoch = newest, self.database.epoch
        return True

    def _follow(self, changes: list[Change], target: int | None) -> bool:
        """Apply this namespace's `changes` when each is told in rows and follows the one before from the view's
        version (so none of them is missing), up to `target` when given (the namespace's version as stored)."""
        version, rows = self.version, []
        for change in changes:
            if change.namespace is None or (change.namespace == self.namespace and change.counter > version):
                if change.since != version or change.rows is None:
                    return False  # not told in rows (a deletion, a reset, too large), or one before it missing
                rows.append((change.rows, version))
                version = change.counter
        if target is not None and version != target:
            return False
        for told, since in rows:
            next_ids, *answers = json.loads(told)  # told without the account's other fields (its token)
            for code, next_id in next_ids:
                self._accounts[code].next_id = next_id
            self._load([[], *answers], since)
        self.version = version
        return True

    def _catch_up(self, connection: Connection, loaded: bool) -> None:
        database = self.database
        as_of = database.counter  # committed before the questions are sent: in their answers
        # the rows changed since this view are asked for with the question whether there are any, when some are
        # likely: on PostgreSQL one round trip instead of seven (while a write holds the lock, every instance waits)
        ahead = loaded and database.behind(max(self.version, self._as_of))
        with database.together(connection) if ahead else nullcontext():
            row = connection.execute("SELECT version, full_at, scenario FROM spaces WHERE name = ?", (self.namespace,))
            changes = self._ask(connection, self.version) if ahead else None
        found = row.fetchone()
        if found is not None:
            version, full_at, scenario = found
            if not loaded or full_at > self.version:
                self._load(self._asked(connection, None), None)
            elif version != self.version:
                if changes is None and self._follow(database.told(self.version, version), version):
                    database.caught_up["told"] += 1
                else:
                    self._load(self._asked(connection, self.version) if changes is None else changes, self.version)
                    database.caught_up["asked"] += 1
            self.version, self.scenario, self._as_of = version, scenario, as_of
            self._generation, self._epoch = database.generation, database.epoch
            return
        # new, or dropped by another worker: created from the fixtures on (this) first use
        if connection.in_transaction:
            self._seed_fixtures(connection, self.scenario)
        else:
            with database.write() as writing:
                self._catch_up(writing, loaded)  # another worker may have created it meanwhile

    def _ask(self, connection: Connection, since: int | None) -> list[Cursor]:
        """The questions for all of the namespace (since=None), or for the rows changed after version `since`, sent
        one after another without waiting (inside `together()`: one round trip)."""
        after = -1 if since is None else since
        return [connection.execute(query, (self.namespace, after)) for query in CHANGES]

    def _asked(self, connection: Connection, since: int | None) -> list[Cursor]:
        """`_ask` in a round trip of its own, every answer in."""
        with self.database.together(connection):
            return self._ask(connection, since)

    def _load(self, answers: Sequence[Iterable[Any]], since: int | None) -> None:
        """The answers to `_ask(connection, since)` into the dicts."""
        changed_accounts, changed_providers, changed_rooms, changed_users, changed_queues, changed_defaults = answers
        accounts = {} if since is None else self._accounts
        for code, domain, token, admin, next_id in changed_accounts:
            account = accounts.get(code)
            if account is None:
                accounts[code] = AccountState(code, domain, token, admin, next_id, self._seed, self._clock)
            else:
                account.next_id = next_id
        providers: dict[tuple[str, str], list[str]] = {}
        for account_code, room, user in changed_providers:
            providers.setdefault((account_code, room), []).append(user)
        for account_code, code, doc in changed_rooms:
            room = json.loads(doc)
            room["provider_ids"] = providers.get((account_code, code), [])
            accounts[account_code].rooms.load(code, room)
        for answer, attribute in ((changed_users, "users"), (changed_queues, "queues")):
            for account_code, key_value, doc in answer:
                getattr(accounts[account_code], attribute).load(key_value, json.loads(doc))
        for account_code, user, room in changed_defaults:
            defaults = accounts[account_code].defaults
            if room is None:
                defaults.forget(user)
            else:
                defaults.load(user, room)
        for account in accounts.values():
            account.settle()
        self._accounts = accounts

    # ------------------------------------------------------------------ writing

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write, all or nothing: the block changes the dicts; what it changed is saved and committed after it.
        A block that raises, or a commit that fails (StateNotSaved), leaves the state as it was before."""
        with self.lock:
            saved = False
            if self._generation == self.database.generation:
                self._notified()  # what others told: the first round trip need not ask for it
            try:
                with self.database.write() as connection:
                    self._catch_up(connection, loaded=self._generation == self.database.generation)
                    with self._current():
                        yield
                    if any(a.touched() for a in self._accounts.values()):
                        version = self.database.next_version(connection, self.namespace)
                        saved = True
                        self._save(connection, version)
            except BaseException as exc:
                if saved or any(a.touched() for a in self._accounts.values()):
                    # the dicts hold what was not saved, and the view a version that was not committed (another
                    # instance's next commit takes the same number): load them again
                    self._generation = -1
                for account in self._accounts.values():
                    account.settle()
                if isinstance(exc, StateConflict):
                    raise _conflict(exc) from exc
                raise
            self._epoch = self.database.epoch  # caught up under the lock, and this write: current
            if saved:
                self._as_of = max(self._as_of, self.version)
        self.database.fence()

    def _save(self, connection: Connection, version: int) -> None:
        """Write the rows this write set or removed, marked with its version; told as rows (`changed()`, each of
        `CHANGES`'s answers for this write alone) unless it removed some (a reader then loads the namespace)."""
        ns, full, since = self.namespace, False, self.version
        told: list[list[list[Any]]] = [[], [], [], [], [], []]  # next ids, providers, rooms, users, queues, defaults
        for account in self._accounts.values():
            key = (ns, account.code)
            if account.next_id_changed:
                connection.execute(
                    "UPDATE accounts SET next_id = ?, changed = ? WHERE ns = ? AND code = ?",
                    (account.next_id, version, *key),
                )
                told[0].append([account.code, account.next_id])
            rooms = account.rooms
            for code in rooms.removed:
                full = True
                connection.execute("DELETE FROM rooms WHERE ns = ? AND account = ? AND code = ?", (*key, code))
                connection.execute("DELETE FROM providers WHERE ns = ? AND account = ? AND room = ?", (*key, code))
            dirty = [c for c in rooms if c in rooms.dirty] if len(rooms.dirty) > 1 else list(rooms.dirty)
            for code in dirty:
                room = rooms[code]
                told[2].append([account.code, code, _save_room(connection, key, room, version)])
                providers = dict.fromkeys(room.get("provider_ids") or ())  # once each, as stored
                told[1].extend([account.code, code, user] for user in providers)
            for table, rows, column, answer in (
                ("users", account.users, "id", told[3]),
                ("queues", account.queues, "room", told[4]),
            ):
                for item in rows.removed:
                    full = True
                    connection.execute(
                        f"DELETE FROM {table} WHERE ns = ? AND account = ? AND {column} = ?", (*key, item)
                    )
                for item in rows.dirty:
                    doc = _dumps(rows[item])
                    connection.execute(
                        f"INSERT INTO {table} (ns, account, {column}, doc, changed) VALUES (?, ?, ?, ?, ?) "
                        f"ON CONFLICT (ns, account, {column}) DO UPDATE SET doc = excluded.doc, "
                        "changed = excluded.changed",
                        (*key, item, doc, version),
                    )
                    answer.append([account.code, item, doc])
            defaults = account.defaults
            for user in defaults.dirty | defaults.removed:
                connection.execute(
                    "INSERT INTO defaults (ns, account, user_id, room, changed) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (ns, account, user_id) DO UPDATE SET room = excluded.room, changed = excluded.changed",
                    (*key, user, defaults.get(user), version),
                )
                told[5].append([account.code, user, defaults.get(user)])
        connection.execute(
            "UPDATE spaces SET version = ?, full_at = CASE WHEN ? THEN ? ELSE full_at END WHERE name = ?",
            (version, full, version, ns),
        )
        if not full:
            self.database.changed(version, since, _dumps(told))
        count = sum(len(account.rooms) for account in self._accounts.values())
        if count >= max(GREW_FROM, 2 * self._counted):  # from this process's first write past GREW_FROM, then doubled
            self.database.grew()
            self._counted = count
        for account in self._accounts.values():
            account.settle()
        self.version = version

    def reset(self, scenario: str | None = None) -> None:
        """Back to the fixtures of `scenario` (KeyError for an unknown one), or of the current one."""
        fixtures = self._fixtures(scenario or self.scenario)  # before the lock: KeyError for an unknown scenario
        with self.lock:
            try:
                with self.database.write() as connection:
                    self._seed_fixtures(connection, scenario or self.scenario, fixtures)
            except BaseException:
                self._generation = -1  # the dicts may hold what was not committed
                raise
        self.database.fence()

    def _seed_fixtures(
        self, connection: Connection, scenario: str, fixtures: list[AccountFixture] | None = None
    ) -> None:
        """Inside a write: the namespace's rows replaced by the fixtures of `scenario`."""
        fixtures = self._fixtures(scenario) if fixtures is None else fixtures
        version = self.database.next_version(connection, self.namespace)
        ns = self.namespace
        connection.execute("DELETE FROM accounts WHERE ns = ?", (ns,))
        connection.execute(
            "INSERT INTO spaces (name, scenario, version, full_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO "
            "UPDATE SET scenario = excluded.scenario, version = excluded.version, full_at = excluded.full_at",
            (ns, scenario, version, version),
        )
        for position, fixture in enumerate(fixtures):
            key = (ns, fixture.code)
            next_id = max((int(r["id"]) for r in fixture.rooms), default=0) + 1
            connection.execute(
                "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, position, fixture.domain, fixture.admin_token, fixture.admin_user_id, next_id, version),
            )
            for room in fixture.rooms:
                _save_room(connection, key, room, version)
            connection.executemany(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                [(*key, user_id, _dumps(user), version) for user_id, user in fixture.users.items()],
            )
            connection.executemany(
                "INSERT INTO queues VALUES (?, ?, ?, ?, ?)",
                [(*key, room, _dumps(queue), version) for room, queue in fixture.queues.items()],
            )
            connection.executemany(
                "INSERT INTO defaults VALUES (?, ?, ?, ?, ?)",
                [(*key, user, room, version) for user, room in fixture.defaults.items()],
            )
        self._load(self._asked(connection, None), None)
        self.version, self.scenario, self._as_of = version, scenario, version
        self._generation, self._epoch = self.database.generation, self.database.epoch


def _save_room(connection: Connection, key: tuple[str, str], room: dict[str, Any], version: int) -> str:
    """The room's row and its providers'; the row's doc."""
    doc = _dumps({k: v for k, v in room.items() if k != "provider_ids"})
    code = room["code"]
    connection.execute(
        "INSERT INTO rooms (ns, account, code, domain, slug, doc, changed) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (ns, account, code) DO UPDATE SET domain = excluded.domain, slug = excluded.slug, "
        "doc = excluded.doc, changed = excluded.changed",
        (*key, code, room["domain"], room["slug"], doc, version),
    )
    connection.execute("DELETE FROM providers WHERE ns = ? AND account = ? AND room = ?", (*key, code))
    if providers := room.get("provider_ids"):
        connection.executemany(
            "INSERT INTO providers VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(*key, code, user, position) for position, user in enumerate(providers)],
        )
    return doc


def _conflict(exc: StateConflict) -> Refusal:
    """A uniqueness constraint refused the write (the handler's own check missed it): the documented answers."""
    if exc.constraint == "rooms_slug":
        return Refusal(400, "In this domain the slug already exists.")
    if exc.constraint == "rooms_code":
        return Refusal(409, "Room code already exists.")
    return Refusal(409, f"The write conflicts with the stored state ({exc}).")
