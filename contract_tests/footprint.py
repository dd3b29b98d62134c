"""What a run against a live deployment may change, and how many rooms it may leave there.

Ownership. A live run changes only what it owns: the rooms it created, and for associations it makes and undoes,
the suite's own rooms from earlier runs (a `ct-` slug in the clinic's domain). It never changes a user's default
room (a `default` flag moves the default of the user it names, and in a create that of its creator, the token's
own user `-`), an association it did not make, or a room someone else made, unless the user named that user with
--contract-user-id (`-` counts as a user). Every layer shapes its requests to fit (`generated.prepare`, the model,
`discovery.own_room`); `Footprint.refusal` has the last word on every write before it leaves (`Target.call` for the
suite's own requests, `generated.GuardedTransport` for schemathesis' cases and the requests its checks re-send).

The room allowance (`--contract-max-rooms`, `RoomAllowance`): rooms cannot be deleted through this API, so each
fresh slug a live run sends in a create (which may become a room, even when the deployment should refuse it) takes
one of the allowance, once per slug (sending the same slug again, a race of creates of one slug, a re-sent case,
takes nothing more). Before any test runs, the allowance is divided (`divide`, from what each selected layer says it
needs: contract_tests.side_by_side): each layer draws only on its own share, whether the layers run one after
another or side by side, so what a layer can create never depends on what the others did first, and the tests that
are no layer share the rest. Under pytest-xdist the allowance is one for the whole run, kept beside the shared write
budget (`contract_tests.budget`), and divided once.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vsee_contract import READ_METHODS, VseeError
from vsee_contract.operations import Effect, descriptor

from .budget import LOCK
from .settings import ROOM_PREFIX
from .side_by_side import Need, current_layer

if TYPE_CHECKING:
    from .target import Ledger
    from .transport import Baton

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux: each worker keeps its own part (plugin._join_write_budget)
    fcntl = None  # type: ignore[assignment]

TOUR_ROOMS = 5  # the model's tour: a room in each of 3 encodings, a clash of codes, a create without a valid token
FOR_OTHERS = 1  # rooms of the allowance kept for the tests that are no layer: the race of creates of one slug
UNKNOWN_USER = "999999999999"  # a user id no clinic has: what an undeclared-method probe is sent for
NO_SUCH_ROOM = "zz-no-such-room"
SELF = "-"  # the user the token belongs to
ROOMS_STATE = "rooms.json"

Reader = Callable[[str], Any]  # a GET of a v3 route (e.g. "/rooms"), its decoded JSON body or None


class OutsideFootprint(VseeError, AssertionError):
    """The suite kept a write back: it would have changed something the run does not own."""


class RoomAllowance:
    """Hands out the rooms a run may create: `take(slug)` before a create with a fresh slug is sent (False: none
    left), from the calling layer's share once `divide`d. Unlimited in-process (`limit` None). `shared`: the
    directory of the run's shared write budget."""

    def __init__(self, limit: int | None, shared: str | os.PathLike[str] | None = None) -> None:
        self.limit = limit
        self.directory = Path(shared) if shared is not None and fcntl is not None else None
        self._state: dict[str, Any] = {"slugs": {}, "shares": None}  # slugs: each taken, by whom ("": no layer)
        if self.directory is not None and not (self.directory / ROOMS_STATE).exists():
            with self._edit():
                pass

    @contextmanager
    def _edit(self) -> Iterator[dict[str, Any]]:
        """The allowance's state, read and written back under the shared budget's lock when there is one."""
        if self.directory is None:
            yield self._state
            return
        assert fcntl is not None
        with (self.directory / LOCK).open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                path = self.directory / ROOMS_STATE
                state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else dict(self._state)
                yield state
                temporary = self.directory / f"{ROOMS_STATE}.{os.getpid()}"
                temporary.write_text(json.dumps(state), encoding="utf-8")
                os.replace(temporary, path)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def divide(self, needs: Sequence[Need]) -> dict[str, int] | None:
        """Each layer's share (`shares`), set once for the whole run (the first xdist worker to get here divides,
        the others find it done); what the run divided (None: unlimited)."""
        if self.limit is None:
            return None
        with self._edit() as state:
            if state["shares"] is None:
                state["shares"] = shares(self.limit - len(state["slugs"]), needs)
            return dict(state["shares"])

    def take(self, slug: str) -> bool:
        """One room for a create with `slug` (nothing more if this slug already has one), from the calling layer's
        share, or from what is no layer's share for a test that is no layer (or before the allowance is divided)."""
        if self.limit is None:
            return True
        layer = current_layer()
        with self._edit() as state:
            if slug in state["slugs"]:
                return True
            if self._left(state, layer) <= 0:
                return False
            state["slugs"][slug] = layer or ""
            if layer in (state["shares"] or {}):
                state["shares"][layer] -= 1
        return True

    def left(self) -> int | None:
        """How many more rooms `take` would give the calling layer (None: unlimited)."""
        if self.limit is None:
            return None
        with self._edit() as state:
            return self._left(state, current_layer())

    def _left(self, state: dict[str, Any], layer: str | None) -> int:
        divided: dict[str, int] = state["shares"] or {}
        if layer in divided:
            return max(0, divided[layer])
        return max(0, self.limit - len(state["slugs"]) - sum(divided.values())) if self.limit is not None else 0

    def any_slug(self) -> str | None:
        """A slug that already has its room (for a create the deployment must refuse as a duplicate): the calling
        layer's first, else the first a test that is no layer took, else the first of all (so which one a layer gets
        does not depend on which layer took one first)."""
        with self._edit() as state:
            taken: dict[str, str] = state["slugs"]
            for owner in (current_layer() or "", ""):
                if owner in taken.values():
                    return next(slug for slug, by in taken.items() if by == owner)
            return next(iter(taken), None)

    def has(self, slug: str) -> bool:
        if self.limit is None:
            return True
        with self._edit() as state:
            return slug in state["slugs"]


def shares(rooms: int, needs: Sequence[Need]) -> dict[str, int]:
    """`rooms` divided: each layer in turn (the first served first) the least it needs while rooms last, then
    `FOR_OTHERS` left to the tests that are no layer (the race of creates), then one at a time to the layers that use
    more, in turn. Decided by the selection alone, never by which layer asks first."""
    divided: dict[str, int] = {}
    for need in needs:
        divided[need.layer] = max(0, min(need.least, rooms - sum(divided.values())))
    spare = max(0, rooms - sum(divided.values()) - FOR_OTHERS)
    growing = [need.layer for need in needs if need.more]
    for n in range(spare if growing else 0):
        divided[growing[n % len(growing)]] += 1
    return divided


def summary_line(created: int, limit: int, suite_rooms: int | None) -> str:
    """The summary's word on what a live run with writes leaves behind."""
    held = (
        ""
        if suite_rooms is None
        else f"; the deployment now holds {suite_rooms} of the suite's rooms ({ROOM_PREFIX}...)"
    )
    return f"rooms created by this run: {created} (--contract-max-rooms {limit}){held}"


def _room_code(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class Footprint:
    """What a live run with writes may change (see the module's docstring); `refusal` says why a write may not go."""

    def __init__(
        self, named_user: str | None, rooms: RoomAllowance, ledger: Ledger, read: Reader, baton: Baton | None = None
    ) -> None:
        self.named_user = named_user
        self.rooms = rooms
        self.ledger = ledger
        self.read = read
        self._before: dict[str, Mapping[str, Any]] | None = None  # the clinic's rooms before the run's first write
        self._providers: dict[str, set[str]] = {}  # an earlier suite room -> its providers before the run touched it
        self._self_added: set[str] = set()  # earlier suite rooms the clean-up found the run left `-` on
        # held while a "before" is read: parallel writes (the races, the schema layer's operations) each ask before
        # they are sent, so the first reading precedes every write of the run, and no later reading replaces it
        self._reading: AbstractContextManager[Any] = threading.RLock()
        if baton is not None:  # a reading sends a request: the lock is waited for without the baton
            self._reading = baton.acquired(threading.RLock())
        self.domain: str | None = None

    def before(self) -> dict[str, Mapping[str, Any]]:
        """The clinic's rooms as the run found them (read once, before its first write)."""
        with self._reading:
            if self._before is None:
                body = self.read("/rooms")
                data = body.get("data") if isinstance(body, Mapping) else None
                if not isinstance(data, list):
                    raise OutsideFootprint(
                        "could not list the clinic's rooms, so the suite cannot tell which are its own"
                    )
                rooms = [r for r in data if isinstance(r, Mapping) and _room_code(r.get("code"))]
                self._before = {str(r["code"]): r for r in rooms}
            return self._before

    def is_suite_room(self, room: Mapping[str, Any]) -> bool:
        slug, domain = str(room.get("slug", "")), room.get("domain")
        return slug.startswith(ROOM_PREFIX) and (self.domain is None or domain == self.domain)

    def suite_rooms(self) -> list[str]:
        """The suite's rooms from earlier runs, which this run reuses for reads and associations."""
        return [code for code, room in self.before().items() if self.is_suite_room(room)]

    def suite_rooms_now(self) -> int | None:
        """How many of the suite's rooms the deployment holds now (None when its list cannot be read)."""
        body = self.read("/rooms")
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            return None
        return sum(1 for r in data if isinstance(r, Mapping) and self.is_suite_room(r))

    def foreign(self, code: str) -> bool:
        """A room someone else made: it was there before the run and is not one of the suite's."""
        room = self.before().get(code)
        return room is not None and not self.is_suite_room(room) and code not in self.ledger.created_rooms

    def earlier(self, code: str) -> bool:
        """One of the suite's rooms from an earlier run."""
        return code in self.suite_rooms() and code not in self.ledger.created_rooms

    def provider_before(self, user: str, code: str) -> bool:
        """Whether `user` was a provider of the earlier suite room `code` before this run touched it. The token's own
        user (`-`) may be: its id is not known, so the run never removes it there (it may be the room's creator)
        unless the clean-up found that the run put it there (`to_undo`)."""
        if user == SELF:
            return code not in self._self_added
        return user in self._providers_before(code)

    def _providers_before(self, code: str) -> set[str]:
        """The providers of `code` as the run's first association there found them (read then)."""
        with self._reading:
            if code not in self._providers:
                self._providers[code] = self._providers_now(code)
            return self._providers[code]

    def _providers_now(self, code: str) -> set[str]:
        body = self.read(f"/rooms/{code}/providers")
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise OutsideFootprint(f"could not read the providers of room {code!r}, which this run did not create")
        return {str(p.get("id")) for p in data if isinstance(p, Mapping)}

    def to_undo(self, made: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The associations the clean-up removes: those the run made, not those it found (and only re-added). The
        token's own user is removed from an earlier suite room when the room has a provider now that it had before
        none of the run's associations there and that is none of the users removed: `-` is the only one left (when
        the providers cannot be read now, `-` stays: never taken off without knowing)."""
        undo = [(user, code) for user, code in made if not (self.earlier(code) and self.provider_before(user, code))]
        for code in sorted({code for user, code in made if user == SELF and self.earlier(code)}):
            removed = {user for user, at in undo if at == code}
            try:
                left = self._providers_now(code) - self._providers_before(code) - removed
            except OutsideFootprint:
                continue
            if left:
                self._self_added.add(code)
                undo.append((SELF, code))
        return undo

    def refusal(
        self, operation_id: str | None, method: str, declared: bool, path: Mapping[str, Any], body: Any
    ) -> str | None:
        """Why this write may not be sent (None: it may): what it would change that the run does not own."""
        if method.upper() in READ_METHODS:
            return None
        fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        what = f"{method.upper()} {operation_id or ''}".strip()
        for key in ("code", "room_code"):
            code = _room_code(path.get(key))
            if code is not None and self.foreign(code):
                return f"{what} would change room {code!r}, which someone else made"
        user = str(path.get("id", "")) or None
        if not declared:
            if user is not None and user not in (UNKNOWN_USER, self.named_user):
                return f"{what} (a method the contract does not declare) would be sent for user {user}"
            return None
        operation = descriptor(operation_id)
        if operation.effect is Effect.CREATES_ROOM:
            return self._create(fields)
        if operation.association is None or user is None:
            return None
        code = _room_code(operation.association(path, fields)[1])
        if operation.effect is Effect.ADDS_PROVIDER:
            return self._associate(user, code, fields)
        if code is not None and self.earlier(code) and self.provider_before(user, code):
            return f"removing user {user} from room {code!r} would undo an association this run did not make"
        return None

    def _create(self, fields: Mapping[str, Any]) -> str | None:
        if "default" in fields and self.named_user != SELF:
            return (
                "a create with `default` would move the default room of the token's own user: pass --contract-user-id -"
            )
        code, slug = _room_code(fields.get("code")), _room_code(fields.get("slug"))
        if code is not None and self.foreign(code):
            return f"a create with code {code!r} would clash with a room someone else made"
        if slug is None or self.rooms.has(slug):
            return None  # no slug: the deployment must refuse it
        twin = next((r for r in self.before().values() if r.get("slug") == slug), None)
        if twin is not None and self.is_suite_room(twin):
            return None  # a duplicate of a suite room: refused, or the deployment breaks the rule
        if twin is not None:
            return f"a create with slug {slug!r} would clash with a room someone else made"
        return f"a create with slug {slug!r} was not given a room of --contract-max-rooms {self.rooms.limit}"

    def _associate(self, user: str, code: str | None, fields: Mapping[str, Any]) -> str | None:
        if "default" in fields and user != self.named_user:
            return f"an association with `default` would change user {user}'s default room: name the user with --contract-user-id"
        if code is not None and self.foreign(code):
            return f"associating user {user} with room {code!r} would change a room someone else made"
        if code is not None and self.earlier(code):
            self._providers_before(code)  # known before the association, so the clean-up can tell
        return None
