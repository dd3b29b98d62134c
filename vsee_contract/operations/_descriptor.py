"""What one operation means, declared once: the descriptor every ending reads, and the small types it is written
against (what a handler needs of a clinic account, what a watcher of traffic remembers, what a recording keeps).

The core knows no HTTP server: a handler gets an already-validated call and returns (status, body), and refuses with
`Refusal` (status, message), which the mock's pipeline sends in the VSee error shape.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..validation import ParsedRequest

Reply = tuple[int, Any]
Path = Mapping[str, Any]
Sent = Mapping[str, Any]


class Account(Protocol):
    """What a handler needs of one clinic account's state (the mock's `AccountState` is one). A write changes it
    through its containers (`rooms[code] = ...`, `defaults.pop(...)`) or `set_providers`, which record what has to
    be saved; a nested value changed in place is not seen."""

    @property
    def code(self) -> str: ...
    @property
    def admin_user_id(self) -> str: ...
    @property
    def rooms(self) -> MutableMapping[str, dict[str, Any]]: ...
    @property
    def users(self) -> Mapping[str, dict[str, Any]]: ...
    @property
    def queues(self) -> MutableMapping[str, dict[str, Any]]: ...
    @property
    def defaults(self) -> MutableMapping[str, str]: ...
    def now(self) -> int: ...
    def room_with_slug(self, domain: str, slug: str) -> dict[str, Any] | None: ...
    def new_code(self) -> str: ...
    def new_room_id(self) -> str: ...
    def new_uuid(self) -> str: ...
    def rooms_of(self, user_id: str) -> list[dict[str, Any]]: ...
    def set_providers(self, room: dict[str, Any], provider_ids: list[str]) -> None: ...


class RoomDefaults(Protocol):
    """What a created room gets besides its input and generated fields, and its queue (the mock's `new_room.yaml`)."""

    def fresh_room(self) -> dict[str, Any]: ...
    def fresh_queue(self) -> dict[str, Any]: ...


class Call(Protocol):
    """One validated API call: the caller's account, the parsed request, the token's user (writes only), and what a
    new room starts as (the mock's `Call` is one)."""

    @property
    def account(self) -> Account: ...
    @property
    def request(self) -> ParsedRequest: ...
    @property
    def token_user(self) -> str | None: ...
    def room_defaults(self) -> RoomDefaults: ...


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class ExchangeRule:
    """A rule one successful answer can show: `check(data, path, query, sent)` returns its problems. It is given the
    body's `data` member, or with `of_body` the whole body (a rule about what sits beside `data`)."""

    name: str
    check: Callable[[Any, Mapping[str, str], Mapping[str, Any], Mapping[str, Any]], list[str]]
    of_body: bool = False
    # whether it can break on a request with this (typed) query and body: only then is the rule checked by it
    applies: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = lambda query, sent: True


def when(kind: type, check: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """Judge only a `data` of the expected kind (the schema reports any other)."""
    return lambda data, *args: check(data, *args) if isinstance(data, kind) else []


class SessionMemory:
    """What a watcher of traffic remembers of what it saw acknowledged (the caller holds the lock)."""

    def __init__(self) -> None:
        self.created: set[tuple[str, str]] = set()  # (account, room code) of the rooms seen created


@dataclass(frozen=True)
class SessionRule:
    """A rule a sequence of exchanges shows to someone who only watches them: `judge(memory, account, status, data,
    path)` remembers what this exchange acknowledged and returns what it contradicts of what was before."""

    name: str
    judge: Callable[[SessionMemory, str, int, Any, Mapping[str, str]], list[str]]


class Recording(Protocol):
    """What a recording keeps of one account, for fixtures: rooms and queues by code, users by id."""

    @property
    def rooms(self) -> dict[str, dict[str, Any]]: ...
    @property
    def users(self) -> dict[str, dict[str, Any]]: ...
    @property
    def queues(self) -> dict[str, dict[str, Any]]: ...


class Effect(enum.Enum):
    """What a successful write changes, as the suite's ledger, footprint and generated cases need to know it."""

    CREATES_ROOM = "creates a room: the body names its domain, slug and maybe code; the answer's data has its code"
    ADDS_PROVIDER = "makes the path's user a provider of a room"
    REMOVES_PROVIDER = "ends the path's user being a provider of a room"


class View(enum.Enum):
    """What a successful read shows of a clinic (`Descriptor.shows`), which a model of the clinic predicts and
    checks, one check per view (`contract_tests.test_model_based`); `parameters`: the path parameters naming what it
    is a view of."""

    ROOMS = ("the clinic's rooms", ())
    ROOM = ("one room in full", ("code",))
    PROVIDERS = ("one room's providers", ("code",))
    PROVIDER = ("one provider of one room", ("code", "id"))
    QUEUE = ("one room's queue", ("code",))

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.value[1])


@dataclass(frozen=True)
class Descriptor:
    """One operation of openapi.yaml, everything this project says about it beyond the spec itself.

    - `handler`: the mock's answer from state (none: the mock serves the first documented success example);
    - `rules`: the single-exchange rules judging its successful answers (with the schema, by the mock's strict
      mode, the suite and the proxy);
    - `session`: the proxy's rule across exchanges;
    - `record`: what the proxy's recorder keeps of a successful answer (`record(recording, path, data)`);
    - `effect` and `association`: what a successful write changes, and for an association the (user, room) it
      concerns, from the path and the sent body: the suite's ledger, clean-up, footprint and generated cases;
    - `shown_by`: per documented status, the rule whose checks would have shown it (the summary says why a status
      was never observed);
    - `valid_refusals`: the statuses a schema-valid request may get, where the docs allow refusing it for what a
      schema cannot say (the reason beside it): schemathesis' `positive_data_acceptance` tuning;
    - `shows`: for a read, what its answer shows of the clinic: the suite's model observes it (on every api the spec
      serves it on) wherever that view of the state may have changed.
    """

    operation_id: str
    handler: Handler | None = None
    rules: tuple[ExchangeRule, ...] = ()
    session: SessionRule | None = None
    record: Callable[[Recording, Mapping[str, str], Any], None] | None = None
    effect: Effect | None = None
    association: Callable[[Path, Sent], tuple[str, Any]] | None = None
    shown_by: Mapping[str, str] = field(default_factory=dict)
    valid_refusals: tuple[str, ...] = ()
    shows: View | None = None
