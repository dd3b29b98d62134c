"""Load the mock's seed data and refuse, naming file and field, anything the contract would not allow."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from vsee_contract import Spec, VseeError, load_spec, rules
from vsee_contract.operations import provider_detail, provider_list_item
from vsee_contract.spec import SAFE_LOADER

from .scenarios import SCENARIOS, Scenario

DEFAULT_FIXTURES = Path(__file__).with_name("_fixtures")
ACCOUNT_SCHEMA = {
    "type": "object",
    "required": ["code", "domain", "admin_token", "admin_user_id"],
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        "domain": {"type": "string", "minLength": 1},
        "admin_token": {"type": "string", "minLength": 16},
        "admin_user_id": {"type": "string", "pattern": "^[0-9]+$"},
        "name": {"type": "string"},
    },
    "additionalProperties": False,
}
FILE_SCHEMA = {
    "type": "object",
    "required": ["account", "users", "rooms", "queues", "defaults"],
    "properties": {
        "account": {"type": "object"},
        "users": {"type": "array", "items": {"type": "object"}},
        "rooms": {"type": "array", "items": {"type": "object"}},
        "queues": {"type": "object", "additionalProperties": {"type": "object"}},
        "defaults": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


class FixtureError(VseeError, ValueError):
    """A fixture file breaks the contract; the message names the file and the field."""


@dataclass
class AccountFixture:
    """One clinic account's seed: account info, users, rooms, queues and default rooms."""

    code: str
    domain: str
    admin_token: str
    admin_user_id: str
    name: str
    users: dict[str, dict[str, Any]]
    rooms: list[dict[str, Any]]
    queues: dict[str, dict[str, Any]]
    defaults: dict[str, str] = field(default_factory=dict)


class _Checker:
    def __init__(self, spec: Spec, source: Path) -> None:
        self.spec = spec
        self.source = source
        self._validators: dict[str, Any] = {}

    def fail(self, where: str, message: str) -> None:
        raise FixtureError(f"{self.source}: {where}: {message}")

    def check(self, where: str, value: Any, schema: dict[str, Any] | str) -> None:
        if isinstance(schema, str):
            if schema not in self._validators:
                self._validators[schema] = jsonschema_rs.validator_for(self.spec.schema(schema))
            validator = self._validators[schema]
        else:
            validator = jsonschema_rs.validator_for(schema)
        try:
            error = next(iter(validator.iter_errors(value)), None)
        except (ValueError, OverflowError) as exc:  # e.g. a non-string YAML key
            self.fail(where, f"cannot be checked against the contract ({exc})")
        if error is not None:
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
            self.fail(f"{where}{path}", error.message)


def load_account(path: Path, spec: Spec, scenario: Scenario = SCENARIOS["default"]) -> AccountFixture:
    """Read one account file, apply the scenario, and validate the result."""
    check = _Checker(spec, path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FixtureError(f"{path}: cannot read: {exc}") from exc
    check.check("(file)", data, FILE_SCHEMA)
    scenario.edit(data)
    check.check("account", data["account"], ACCOUNT_SCHEMA)
    users: dict[str, dict[str, Any]] = {}
    for i, user in enumerate(data["users"]):
        check.check(f"users[{i}]", provider_detail(user), "ProviderDetail")
        check.check(f"users[{i}]", provider_list_item(user), "ProviderListItem")
        users[user["id"]] = user
    codes: set[str] = set()
    for i, room in enumerate(data["rooms"]):
        for schema in scenario.room_schemas:
            check.check(f"rooms[{i}]", room, schema)
        if room["code"] in codes:
            check.fail(f"rooms[{i}].code", f"room code {room['code']!r} is used twice")
        codes.add(room["code"])
        unknown = [p for p in room["provider_ids"] if p not in users]
        if unknown:
            check.fail(f"rooms[{i}].provider_ids", f"unknown users {unknown}")
    for problem in rules.slug_unique_per_domain(data["rooms"]):
        check.fail("rooms", problem)
    for code, queue in data["queues"].items():
        if code not in codes:
            check.fail(f"queues.{code}", "no room has this code")
        check.check(f"queues.{code}", queue, "Queue")
        for problem in rules.queue_arithmetic(queue):
            check.fail(f"queues.{code}", problem)
    associated = {(p, r["code"]) for r in data["rooms"] for p in r["provider_ids"]}
    for user_id, code in data["defaults"].items():
        if (user_id, code) not in associated:
            check.fail(f"defaults.{user_id}", f"user is not associated with room {code!r}")
    account = data["account"]
    if account["admin_user_id"] not in users:
        check.fail("account.admin_user_id", f"no user {account['admin_user_id']!r}")
    return AccountFixture(
        code=account["code"],
        domain=account["domain"],
        admin_token=account["admin_token"],
        admin_user_id=account["admin_user_id"],
        name=account.get("name", account["code"]),
        users=users,
        rooms=data["rooms"],
        queues=data["queues"],
        defaults=data["defaults"],
    )


@dataclass(frozen=True)
class NewRoomDefaults:
    """`new_room.yaml`: what a created room gets besides its input and generated fields, and its queue."""

    room: dict[str, Any]
    queue: dict[str, Any]

    def fresh_room(self) -> dict[str, Any]:
        room: dict[str, Any] = _copied(self.room)
        return room

    def fresh_queue(self) -> dict[str, Any]:
        return dict(self.queue)


def _copied(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, scalars) that shares its keys and scalars: 5 µs against
    copy.deepcopy's 16 for the created room's defaults; through JSON text, 4.5 µs but twice the memory a room keeps."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


@functools.cache
def new_room_defaults() -> NewRoomDefaults:
    """The packaged defaults for created rooms (one file, read once)."""
    with (DEFAULT_FIXTURES / "new_room.yaml").open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=SAFE_LOADER)
    return NewRoomDefaults(data["room"], data["queue"])


def default_credentials() -> tuple[str, str]:
    """The account code and admin token a client of the mock on its embedded fixtures sends by default (the first
    account's): published, so that clients such as the contract suite need not read the fixtures themselves."""
    account = load_fixtures(None, load_spec())[0]
    return account.code, account.admin_token


def load_fixtures(
    directory: str | Path | None, spec: Spec, scenario: Scenario = SCENARIOS["default"]
) -> list[AccountFixture]:
    """Every `accounts/*.yaml` under `directory` in `scenario`, validated; the first (by name) is the default."""
    root = Path(directory or DEFAULT_FIXTURES)
    files = sorted((root / "accounts").glob("*.yaml"))
    if not files:
        raise FixtureError(f"{root}: no accounts/*.yaml fixture files")
    accounts = [load_account(f, spec, scenario) for f in files]
    seen: set[str] = set()
    for account in accounts:
        if account.code in seen:
            raise FixtureError(f"{root}: account code {account.code!r} appears in two files")
        seen.add(account.code)
    return accounts
