"""All of the mock's state, isolated per account, seeded from fixtures and deterministic under a seed."""

from __future__ import annotations

import copy
import json
import os
import random
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .fixtures import AccountFixture, FixtureError

CODE_ALPHABET = string.ascii_lowercase + string.digits


class AccountState:
    """One clinic account: rooms by code (in creation order), users by id, queues and default rooms."""

    def __init__(self, fixture: AccountFixture, rng: random.Random, clock: Callable[[], int]) -> None:
        self.code = fixture.code
        self.domain = fixture.domain
        self.admin_token = fixture.admin_token
        self.admin_user_id = fixture.admin_user_id
        self.rooms: dict[str, dict[str, Any]] = {r["code"]: copy.deepcopy(r) for r in fixture.rooms}
        self.users: dict[str, dict[str, Any]] = copy.deepcopy(fixture.users)
        self.queues: dict[str, dict[str, Any]] = copy.deepcopy(fixture.queues)
        self.defaults: dict[str, str] = dict(fixture.defaults)
        self._rng = rng
        self._clock = clock
        self._next_id = max((int(r["id"]) for r in fixture.rooms), default=0) + 1

    def now(self) -> int:
        return self._clock()

    def room_with_slug(self, domain: str, slug: str) -> dict[str, Any] | None:
        return next((r for r in self.rooms.values() if r["domain"] == domain and r["slug"] == slug), None)

    def new_code(self) -> str:
        """A fresh 5-character lowercase code, like the server-generated `b4vjj`."""
        while True:
            code = "".join(self._rng.choice(CODE_ALPHABET) for _ in range(5))
            if code not in self.rooms:
                return code

    def new_room_id(self) -> str:
        room_id, self._next_id = str(self._next_id), self._next_id + 1
        return room_id

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def rooms_of(self, user_id: str) -> list[dict[str, Any]]:
        return [r for r in self.rooms.values() if user_id in r["provider_ids"]]

    def set_providers(self, room: dict[str, Any], provider_ids: list[str]) -> None:
        """Keep `provider_ids` and the `users` string in step, and mark the room modified."""
        room["provider_ids"] = provider_ids
        room["users"] = ",".join(provider_ids)
        room["modified"] = self.now()

    def saved(self) -> dict[str, Any]:
        """What --state-file keeps of this account: everything a write can change."""
        rooms = list(self.rooms.values())
        return {
            "rooms": rooms,
            "users": self.users,
            "queues": self.queues,
            "defaults": self.defaults,
            "next_id": self._next_id,
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.rooms = {r["code"]: r for r in saved["rooms"]}
        self.users, self.queues, self.defaults = saved["users"], saved["queues"], saved["defaults"]
        self._next_id = int(saved["next_id"])

    def snapshot(self) -> dict[str, Any]:
        """What GET /__mock__/state shows (never the token)."""
        return {
            "code": self.code,
            "domain": self.domain,
            "admin_user_id": self.admin_user_id,
            "rooms": list(self.rooms.values()),
            "users": list(self.users.values()),
            "queues": self.queues,
            "defaults": self.defaults,
        }


class StateNotSaved(Exception):
    """A write could not be made durable in the state file; memory was put back as it was before the write."""


class Store:
    """Every account's state behind one lock; `reset()` returns to the fixtures (and the seed's sequence)."""

    def __init__(
        self,
        fixtures: list[AccountFixture],
        seed: int | None = None,
        clock: Callable[[], int] | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self._fixtures = fixtures
        self._seed = seed
        self._clock = clock or (lambda: int(time.time()))
        self.state_file = state_file
        self.accounts: dict[str, AccountState] = {}
        self.version = 0  # bumped by every write and reset: what a cached read was made from
        self.reset()
        if state_file is not None and state_file.exists():
            self._restore(state_file)

    def _restore(self, path: Path) -> None:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))["accounts"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FixtureError(f"{path}: unreadable state file ({exc})") from exc
        for code, account_state in saved.items():
            if code in self.accounts:
                self.accounts[code].restore(account_state)

    def persist(self) -> None:
        """With a state file, write the whole state to it (atomically, synced) before a write is acknowledged."""
        if self.state_file is None:
            return
        with self.lock:
            data = {"accounts": {code: a.saved() for code, a in self.accounts.items()}}
            partial = self.state_file.with_name(self.state_file.name + ".partial")
            with partial.open("w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, self.state_file)

    def changed(self) -> None:
        """Call under the lock when the state is about to change."""
        self.version += 1

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write, all or nothing: applied in memory inside the block, then made durable. With a state file, a
        block that raises, or a save that fails (StateNotSaved), leaves memory as it was before the write."""
        with self.lock:
            self.changed()
            before = copy.deepcopy({code: a.saved() for code, a in self.accounts.items()}) if self.state_file else None
            try:
                yield
                self.persist()
            except BaseException as exc:
                if before is not None:
                    for code, saved in before.items():
                        self.accounts[code].restore(saved)
                    self.changed()
                if isinstance(exc, OSError):
                    raise StateNotSaved(f"the write could not be saved to {self.state_file} ({exc.strerror})") from exc
                raise

    def load(self, fixtures: list[AccountFixture]) -> None:
        """Seed from other fixtures (a scenario) from now on, starting at once."""
        with self.lock:
            self._fixtures = fixtures
            self.reset()

    def reset(self) -> None:
        with self.lock:
            self.changed()
            master = random.Random(self._seed)
            self.accounts = {
                f.code: AccountState(f, random.Random(master.getrandbits(64)), self._clock) for f in self._fixtures
            }
            if self.version > 1:  # not the first seeding, which a state file may still override
                self.persist()

    @property
    def default_account(self) -> AccountState:
        return next(iter(self.accounts.values()))

    def account(self, code: str | None) -> AccountState | None:
        """The account for an X-AccountCode value; blank means the default account."""
        return self.accounts.get(code) if code else self.default_account

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy({"accounts": [a.snapshot() for a in self.accounts.values()]})
