"""Turn what the proxy saw into fixtures the mock can serve: masked consistently, and validated before writing.

Only exchanges without violations are observed. Personal data (names, e-mails, phones, user names and codes, VSee
ids) is replaced by stable stand-ins (the same value always masks to the same stand-in), the admin token is a
fresh placeholder, and every room that does not satisfy the contract's full `Room` is reported instead of written.
What the mock accepts as fixtures comes in as a `FixtureFormat` from whoever starts the proxy (the CLI): the proxy
imports nothing of the mock.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from vsee_contract import Spec, rules
from vsee_contract.operations import descriptor

MASKED = {"first_name": "First", "last_name": "Last", "username": "user", "vseeid": "masked+user"}
PERSONAL = ("first_name", "last_name", "username", "email", "phone", "vseeid", "code")
USER_DEFAULTS: dict[str, Any] = {
    "code": "",
    "first_name": "",
    "last_name": "",
    "username": "",
    "vseeid": "",
    "email": "",
    "active": True,
    "title": "",
    "suffix": "",
    "tos": False,
    "phone": "",
    "subtype": "482",
    "status": False,
    "educational_training": "",
    "professional_interests": "",
    "personal_interests": "",
    "short_bio": False,
    "photo": None,
}


@dataclass(frozen=True)
class FixtureFormat:
    """What the mock serves as fixtures: `fresh_queue()` is the queue of a new room (given to a recorded room seen
    without one), `problem(directory)` why the fixtures there do not load (None when they do)."""

    fresh_queue: Callable[[], dict[str, Any]]
    problem: Callable[[Path], str | None]


class Recorder:
    """Collects rooms, providers and queues per account; `write()` turns them into `accounts/*.yaml`."""

    def __init__(self, directory: Path, spec: Spec, fixtures: FixtureFormat) -> None:
        self.directory = directory
        self.spec = spec
        self.fixtures = fixtures
        self.rooms: dict[str, dict[str, Any]] = defaultdict(dict)
        self.users: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.queues: dict[str, dict[str, Any]] = defaultdict(dict)
        self._stand_ins: dict[tuple[str, str], str] = {}
        self._counter = itertools.count(1)
        self._room = jsonschema_rs.validator_for(spec.schema("Room"))

    def observe(self, operation_id: str, path: dict[str, str], account: str, body: dict[str, Any]) -> None:
        """Keep what a successful answer shows of the account (the operation's `record` hook)."""
        record = descriptor(operation_id).record
        if record is not None:
            record(_Account(self, account), path, body.get("data"))

    def _mask(self, kind: str, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        key = (kind, value)
        if key not in self._stand_ins:
            n = next(self._counter)
            if kind == "email":
                stand_in = f"user{n}@example.com"
            elif kind == "phone":
                stand_in = f"555 01{n:02d}"
            elif kind == "code":
                stand_in = hashlib.sha256(f"masked-{n}".encode()).hexdigest()[:32]
            else:
                stand_in = f"{MASKED[kind]}{n}"
            self._stand_ins[key] = stand_in
        return self._stand_ins[key]

    def _user(self, user_id: str, seen: dict[str, Any]) -> dict[str, Any]:
        """A provider as the mock stores it: what was seen, personal fields masked, the rest filled neutrally."""
        user = {**USER_DEFAULTS, **seen, "id": user_id}
        for key in PERSONAL:
            user[key] = self._mask(key, user[key])
        return user

    def write(self) -> list[str]:
        """Write one fixture file per account seen; return what was left out and why."""
        problems: list[str] = []
        (self.directory / "accounts").mkdir(parents=True, exist_ok=True)
        for account in sorted(self.rooms):
            rooms = []
            for code, room in self.rooms[account].items():
                error = next(iter(self._room.iter_errors(room)), None)
                if error is not None:
                    problems.append(f"room {code!r} not recorded: {error.message}")
                else:
                    rooms.append(room)
            if not rooms:
                problems.append(f"account {account or '(blank)'}: no room satisfies the full Room schema")
                continue
            ids = {p for room in rooms for p in room["provider_ids"]}
            users = [self._user(i, self.users[account].get(i, {})) for i in sorted(ids | set(self.users[account]))]
            queues = {
                c: q
                for c, q in self.queues[account].items()
                if c in {r["code"] for r in rooms} and not rules.queue_arithmetic(q)
            }
            queues.update({r["code"]: self.fixtures.fresh_queue() for r in rooms if r["code"] not in queues})
            code = account or "recorded"
            fixture = {
                "account": {
                    "code": code,
                    "domain": rooms[0]["domain"],
                    "admin_token": hashlib.sha256(f"recorded-{code}".encode()).hexdigest()[:32],
                    "admin_user_id": users[0]["id"],
                    "name": f"Recorded from {code}",
                },
                "users": users,
                "rooms": rooms,
                "queues": queues,
                "defaults": {},
            }
            target = self.directory / "accounts" / f"{code}.yaml"
            target.write_text("# Recorded by vsee-mock proxy; personal data masked.\n" + yaml.safe_dump(fixture))
        problem = self.fixtures.problem(self.directory)
        if problem is not None:
            problems.append(f"recording does not load as fixtures: {problem}")
        return problems


class _Account:
    """One account's part of a recording (`vsee_contract.operations.Recording`)."""

    def __init__(self, recorder: Recorder, account: str) -> None:
        self.rooms = recorder.rooms[account]
        self.users = recorder.users[account]
        self.queues = recorder.queues[account]
