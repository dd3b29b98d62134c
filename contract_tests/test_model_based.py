"""Layer 3: a model of the documented semantics (`model.py`) drives the deployment through random sequences of all
8 operations and, after every step, compares everything the API lets it see of what that step touched with what
the model predicts: every list that should hold a room, the detail behind it on v3 and v4, every side of an
association (the user's rooms, the room's providers, the provider detail), the default flag of each of the user's
rooms, each page against the whole list.

A mismatch fails naming its rule, the steps that led to it (each with the curl of its own request) and the seed;
in-process the sequence is shrunk first, each example starting from a fresh app. Against a live deployment the
steps run only on the suite's own rooms and, without --contract-allow-writes, only the reads run (the write rules are then
reported as not checked). Every rule of the old one-rule tests is checked here, once.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from vsee_contract import rules
from vsee_contract.operations import (
    ADD_USER_ROOM,
    CREATE_ROOM,
    LIST_ROOM_PROVIDERS,
    LIST_ROOMS,
    REMOVE_USER_ROOM,
    View,
    showing,
)

from .consistency import settled
from .discovery import MEDIA_TYPES, NAMES, TRICKY_NAMES, TRICKY_SLUG_SUFFIX, run_id, unique_slug
from .findings import ContractViolation
from .footprint import TOUR_ROOMS
from .model import Check, ClinicModel
from .settings import ROOM_PREFIX, Profile
from .target import FORM_MEDIA, JSON_MEDIA, Auth, Exchange, Target

UNKNOWN_CODES = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=4, max_size=16).map(
    lambda s: f"zz-no-such-{s}"
)
UNKNOWN_IDS = st.integers(min_value=10**11, max_value=10**12).map(str)
SEARCH_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.", min_size=3, max_size=12)
DEFAULTS = st.sampled_from([None, True, False])
AUTHS: st.SearchStrategy[Auth] = st.sampled_from(["none", "wrong"])
SHOWN_STEPS = 40  # a failure lists at most the last this many steps (a live run's history is the whole run)
MAX_USERS = 3  # few users, so sequences often touch one user's rooms twice
WRITE_RULES = (
    rules.CREATED_ROOM_ECHOES_INPUT,
    rules.CREATED_ROOM_READABLE,
    rules.EXISTING_CODE_REFUSED,
    rules.DUPLICATE_SLUG_REFUSED,
    rules.SLUG_UNIQUE_PER_DOMAIN,
    rules.LIST_AGREES_WITH_DETAIL,
    rules.VALID_WRITE_ACCEPTED,
    rules.WRITES_NEED_TOKEN,
    rules.REFUSED_WRITE_CHANGES_NOTHING,
)
DEFAULT_RULES = (rules.DEFAULT_EXCLUSIVE, rules.DEFAULT_MOVES_ONLY_WHEN_ASKED)
# judged on the answers of associations (addUserRoom), which only runs with writes make
USER_RULES = (
    rules.ASSOCIATION_LISTED,
    rules.PROVIDER_FOLLOWS_ASSOCIATION,
    *DEFAULT_RULES,
    rules.USER_ROOM_IDENTIFIED,
    rules.DEFAULT_FLAG_GIVEN,
)
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Look = tuple[str, dict[str, Any], Callable[[Exchange], list[Check]]]  # an observation: a read and how to judge it
ViewCheck = Callable[[ClinicModel, Mapping[str, str], Exchange], list[Check]]


def step(method: F) -> F:
    """Log the step and, when anything in it breaks the contract, say which steps led there.

    In-process the violation goes to Hypothesis, which shrinks the sequence and replays it on a fresh app. A live
    deployment keeps its state, so a replay would not see the same thing: there the first violation is kept and
    the run stops at once (as a skip, which Hypothesis passes straight through); the test then raises it.
    """

    @functools.wraps(method)
    def run(self: ClinicMachine, **kwargs: Any) -> Any:
        self.begin(f"{method.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items() if k != 'data')})")
        try:
            return method(self, **kwargs)
        except ContractViolation as exc:
            failure = ContractViolation(f"{exc}\n{self.replay()}")
            if self.live_failures is None:
                raise failure from None
            self.live_failures.append(failure)
            raise pytest.skip.Exception("stopped at the first violation") from None

    return run  # type: ignore[return-value]


class ClinicMachine(RuleBasedStateMachine):
    """One clinic, seen only through the API, against the model of what the docs promise."""

    def __init__(self, target: Target, live_failures: list[ContractViolation] | None) -> None:
        super().__init__()
        self.target = target.fresh()
        self.live_failures = live_failures  # live: where the first violation is kept, to raise after Hypothesis
        self.model = ClinicModel()
        self.steps: list[list[str]] = []  # each step's label and the curls of its own requests
        self.users: list[str] = []  # users to associate
        self.seen: list[str] = []  # rooms the run did not create: read, never written
        self.baseline: dict[str, set[str]] = {}  # own room -> its providers right after creation
        self.domain = self.target.domain
        self.defaults_allowed = self.target.settings.in_process or bool(self.target.settings.user_id)
        left = self.target.rooms.left()  # the model's share of --contract-max-rooms (contract_tests.footprint)
        self.rooms_enough = left is None or left >= TOUR_ROOMS

    # ------------------------------------------------------------------ plumbing

    def begin(self, label: str) -> None:
        self.steps.append([label])

    def replay(self) -> str:
        seed = self.target.settings.seed
        lines = [f"steps that led here (rerun with --contract-seed {seed}; each with its own requests):"]
        if len(self.steps) > SHOWN_STEPS:
            lines.append(f"  ({len(self.steps) - SHOWN_STEPS} earlier steps not shown)")
        for n, (label, *curls) in enumerate(self.steps, 1):
            if n <= len(self.steps) - SHOWN_STEPS:
                continue
            lines.append(f"  {n}. {label}")
            lines += [f"       {curl}" for curl in curls]
        return "\n".join(lines)

    def act(self, operation_id: str, **kwargs: Any) -> Exchange:
        """The step's own request (its curl goes in the step log)."""
        exchange = self.target.call(operation_id, **kwargs)
        self.steps[-1].append(exchange.curl)
        return exchange

    def look(self, operation_id: str, **kwargs: Any) -> Exchange:
        """An observation made to check the step."""
        return self.target.call(operation_id, **kwargs)

    def judge(self, checks: list[Check], *exchanges: Exchange) -> None:
        for rule_name, problems in checks:
            self.target.expect(rule_name, problems, *exchanges)

    @property
    def writable(self) -> bool:
        return self.target.settings.writes_enabled and self.domain is not None and self.rooms_enough

    def fresh_slug(self, suffix: str = "") -> str | None:
        """A slug for a create that may make a room, within --contract-max-rooms (None: no room left for it)."""
        slug = unique_slug(self.target) + suffix
        return slug if self.target.rooms.take(slug) else None

    def can_create(self) -> bool:
        left = self.target.rooms.left()
        return self.writable and (left is None or left > 0)

    def pick_room(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(list(self.model.rooms)), label="room")

    # ------------------------------------------------------------------ observations of what a step touched

    def observe(self, *looks: Look) -> list[Exchange]:
        """The observations of a step: independent reads, sent together (up to --contract-concurrency at once) and
        judged in the order given, each before the next is taken. One that disagrees with the model is read again
        within the consistency window (a cache or replica may lag: contract_tests.consistency), then judged."""
        answers = self.target.call_all([(operation_id, kwargs) for operation_id, kwargs, _ in looks])
        return [self._settled(answer(), look) for answer, look in zip(answers, looks, strict=True)]

    def _settled(self, first: Exchange, look: Look) -> Exchange:
        """`first`, or while it disagrees with the model, the same read made again within the window; judged."""
        operation_id, kwargs, check = look
        pending = [first]  # the read sent with the others is the window's first

        def read() -> Exchange:
            return pending.pop() if pending else self.look(operation_id, **kwargs)

        exchange = settled(self.target, read, _problems(check), _shown)
        self.judge(check(exchange), exchange)
        return exchange

    def looks_of(self, view: View, path: Mapping[str, str]) -> list[Look]:
        """Every read that shows `view` of what `path` names (the registry's `shows`), on each api the spec serves
        it on and the target has, each judged by the model's check of that view."""
        check, named = VIEW_CHECKS[view], {key: path[key] for key in view.parameters}
        return [
            (operation_id, {"path": named, "api": api}, functools.partial(check, self.model, named))
            for operation_id in showing(view)
            for api in self.apis(operation_id)
        ]

    def apis(self, operation_id: str) -> list[str]:
        bases = self.target.contract.spec.operations[operation_id].local_base_paths()
        return [api for api in ("v3", "v4") if f"/api_{api}" in bases and self.target.base(api) is not None]

    def list_looks(self) -> list[Look]:
        return self.looks_of(View.ROOMS, {})

    def whole_list(self) -> list[str]:
        listing, *_ = self.observe(*self.list_looks())
        return [str(r["code"]) for r in listing.data]

    def room_looks(self, code: str) -> list[Look]:
        """Every view of one room (its detail, its providers and each known one's detail, its queue: every view
        named by a room's code), by every read that shows it."""
        model = self.model
        users = sorted(model.providers.get(code, set()) | model.absent.get(code, set()))
        return [
            look
            for view in View
            if "code" in view.parameters
            for path in (
                [{"code": code, "id": user} for user in users] if "id" in view.parameters else [{"code": code}]
            )
            for look in self.looks_of(view, path)
        ]

    def observe_room(self, code: str) -> None:
        looks = self.room_looks(code)
        exchanges = self.observe(*looks)
        if code not in self.model.rooms:  # a room of the clinic: one provider's detail, which a read-only run can check
            lists = [e for e, look in zip(exchanges, looks, strict=True) if look[0] in showing(View.PROVIDERS)]
            for p in (_data(lists[0]) or [])[:1] if lists else []:
                if isinstance(p, Mapping) and "id" in p:
                    self.observe(*self.looks_of(View.PROVIDER, {"code": code, "id": str(p["id"])}))

    def user_looks(self, user: str) -> list[Look]:
        """The providers of every room of this run the user is, or was, associated with."""
        model = self.model
        return [
            look
            for code in model.rooms
            if user in model.providers[code] | model.absent[code]
            for look in self.looks_of(View.PROVIDERS, {"code": code})
        ]

    # ------------------------------------------------------------------ the start of every sequence

    @initialize(data=st.data())
    @step
    def observe_clinic(self, data: st.DataObject) -> None:
        """Learn the clinic through the API (its rooms, its domain, users to associate), then tour it."""
        listing = self.look(LIST_ROOMS)
        # (not the rooms this run's other layers made meanwhile: which exist yet depends on timing, not on the seed)
        ours = f"{ROOM_PREFIX}{run_id(self.target.settings)}-"
        others = [r for r in listing.data if not str(r.get("slug", "")).startswith(ours)]
        listed = [str(r["code"]) for r in others][: self.target.settings.profile.sample_rooms]
        self.seen = listed or [code for code in (self.target.settings.room_code,) if code]
        if self.domain is None and listing.data:
            self.domain = self.target.domain = str(listing.data[0]["domain"])
        self.users = self.discover_users()
        ledger = self.target.ledger
        if not self.target.settings.writes_enabled:
            ledger.cannot_check((*WRITE_RULES, *USER_RULES), "writes are not allowed: pass --contract-allow-writes")
        elif self.domain is None:
            ledger.cannot_check(
                (*WRITE_RULES, *USER_RULES), "no room to learn the clinic's domain from: pass --contract-domain"
            )
        elif not self.rooms_enough:
            ledger.cannot_check(
                (*WRITE_RULES, *USER_RULES),
                f"--contract-max-rooms {self.target.rooms.limit} leaves fewer than the {TOUR_ROOMS} new rooms the "
                "model's tour needs: raise it",
            )
        if not self.users:
            ledger.cannot_check(USER_RULES, "no provider discovered to associate: pass --contract-user-id")
            ledger.cannot_check([rules.PROVIDER_IS_REQUESTED], "no room with a provider discovered to read")
        elif not self.defaults_allowed:
            ledger.cannot_check(DEFAULT_RULES, "it changes a user's default room: pass --contract-user-id")
        self.tour(data)

    def discover_users(self) -> list[str]:
        if self.target.settings.user_id:
            return [self.target.settings.user_id]
        found: list[str] = []
        for code in self.seen:
            providers = self.look(LIST_ROOM_PROVIDERS, path={"code": code})
            found += [str(p["id"]) for p in _data(providers) or [] if str(p["id"]) not in found]
            if len(found) >= MAX_USERS:
                break
        return found[:MAX_USERS]

    def tour(self, data: st.DataObject) -> None:
        """Touch every kind of state once, in an order that lets each side see the others, so that even a short
        run checks every rule; the random steps that follow interleave from there. What a fault can hide from random
        draws is fixed: names that must round-trip, every association law in turn, a short last page. The rest
        (codes, encodings, which room) is drawn, so a failure shrinks and each seed tours differently."""
        if self.writable:
            for n, (media, name) in enumerate(zip((JSON_MEDIA, *FORM_MEDIA), TRICKY_NAMES, strict=True)):
                self.begin(f"tour: create a room ({media}) whose name must round-trip unchanged")  # one per encoding
                suffix = TRICKY_SLUG_SUFFIX if n == 0 else ""
                self._create(media, name, data.draw(st.booleans(), label="with_code"), suffix)
            codes = list(self.model.rooms)
            for code in codes:  # uniqueness must hold however the first room was created
                self.begin(f"tour: the slug of room {code} again")
                self._duplicate(code, data.draw(MEDIA_TYPES, label="media"), "Slug twin")
            self.begin("tour: an existing code again")
            self._clash(self.pick_room(data), data.draw(MEDIA_TYPES, label="media"))
            refusals: list[tuple[str, str, str | None]] = [("create", codes[2], None)]
            if self.users:  # preferably a user who is not already a provider of the new rooms (their creator is)
                user = next((u for u in self.users if not any(u in self.baseline[c] for c in codes)), self.users[0])
                self._association_laws(data, user, codes)
                refusals += [("add", codes[0], user), ("remove", codes[1], user)]  # the one just removed, the one left
            for operation, code, who in refusals:
                self.begin(f"tour: {operation} without a valid token")
                self._without_token(operation, data.draw(AUTHS, label="auth"), code, who)
            self.begin("tour: associations with an unknown user or room")
            self._unknown_association(self.pick_room(data), data.draw(UNKNOWN_IDS), data.draw(UNKNOWN_CODES))
        self.begin("tour: read an unknown room and provider")
        self._read_unknown(data.draw(UNKNOWN_CODES, label="code"), data.draw(UNKNOWN_IDS, label="user"))
        self.begin("tour: walk the pages")
        self._walk(data.draw(st.integers(min_value=1, max_value=4), label="limit"))
        self._page_laws()
        self.begin("tour: search")
        self.act(LIST_ROOMS, query={"q": data.draw(SEARCH_TEXT, label="q")})

    def _association_laws(self, data: st.DataObject, user: str, codes: list[str]) -> None:
        """Every documented law of one user's associations, each seen from the next answer that lists the user's
        rooms: the default moves only with default=true (not with an association without it, nor a removal of
        another room), and a removed room is gone from the user's rooms in every later answer."""
        first, second, third = codes[:3]
        laws = [("add", first, True), ("add", second, None), ("remove", second, None), ("add", third, False)]
        laws += [("remove", first, None), ("add", second, None)]
        for step, (operation, code, default) in enumerate(laws):
            media = data.draw(MEDIA_TYPES, label="media")
            if operation == "add":
                self.begin(f"tour {step + 1}: associate user {user} with room {code} (default={default})")
                self._associate(user, code, media, default)
            else:
                self.begin(f"tour {step + 1}: remove user {user} from room {code}")
                self._remove(user, code, media)

    def _page_laws(self) -> None:
        """Pages of every size: a limit that leaves a short last page (walked to the end), and `limit` without
        `page` (the first page)."""
        whole = self.whole_list()
        limit = next((n for n in range(2, len(whole)) if len(whole) % n), None)
        if limit is None or len(whole) > 40:  # too few rooms for a short last page; a big clinic: random steps do
            return
        self.begin(f"tour: walk the pages of {limit}, the last one short")
        self._walk(limit)
        self.begin(f"tour: limit {limit} without page")
        self._read_page(None, limit)

    # ------------------------------------------------------------------ writes

    def _create(self, media: str, name: str, with_code: bool, slug_suffix: str = "") -> None:
        slug = self.fresh_slug(slug_suffix)
        if slug is None:
            return
        code = {"code": slug.removesuffix(slug_suffix).replace("-", "")} if with_code else {}
        sent = {"domain": self.domain, "slug": slug, "name": name} | code
        created = self.act(CREATE_ROOM, body=sent, media_type=media)
        self.judge(self.model.create(sent, created.status, created.body), created)
        new = str(created.data["code"])
        baseline: Look = LIST_ROOM_PROVIDERS, {"path": {"code": new}}, lambda _: []
        providers, *_ = self.observe(baseline, *self.room_looks(new), *self.list_looks())
        self.baseline[new] = {str(p["id"]) for p in _data(providers) or []}

    def _duplicate(self, code: str, media: str, name: str) -> None:
        first = self.model.rooms[code]
        sent = {"domain": first.domain, "slug": first.slug, "name": name}
        refused = self.act(CREATE_ROOM, body=sent, media_type=media)
        self.judge(self.model.create(sent, refused.status, refused.body), refused)
        self.observe(*self.room_looks(code), *self.list_looks())

    def _clash(self, code: str, media: str) -> None:
        first, slug = self.model.rooms[code], self.fresh_slug()
        if slug is None:
            return
        sent = {"domain": first.domain, "slug": slug, "name": "Code clash", "code": code}
        refused = self.act(CREATE_ROOM, body=sent, media_type=media)
        self.judge(self.model.create(sent, refused.status, refused.body), refused)
        self.observe(*self.room_looks(code), *self.list_looks())

    def _associate(self, user: str, code: str, media: str, default: bool | None) -> None:
        default = default if self.defaults_allowed else None
        body: dict[str, Any] = {"code": code} | ({} if default is None else {"default": default})
        added = self.act(ADD_USER_ROOM, path={"id": user}, body=body, media_type=media)
        self.judge(self.model.associate(user, code, default, added.status, added.body), added)
        self.observe(*self.room_looks(code), *self.user_looks(user))

    def _remove(self, user: str, code: str, media: str) -> None:
        path = {"id": user, "room_code": code}
        removed = self.act(REMOVE_USER_ROOM, path=path, body={"code": code}, media_type=media)
        self.judge(self.model.remove(user, code, removed.status), removed)
        self.observe(*self.room_looks(code), *self.user_looks(user))

    def _without_token(self, operation: str, auth: Auth, code: str, user: str | None) -> None:
        """A write without the admin token (or with a wrong one) is refused, and changes nothing: an association
        of `user` with `code`, its removal, or a new room."""
        if operation == "add" and user is not None:
            refused = self.act(ADD_USER_ROOM, path={"id": user}, body={"code": code}, auth=auth)
            if user not in self.baseline.get(code, set()):
                self.model.unauthorised_association(user, code)
        elif operation == "remove" and user is not None:
            refused = self.act(REMOVE_USER_ROOM, path={"id": user, "room_code": code}, auth=auth)
            self.model.unauthorised_removal(user, code)
        else:
            slug = self.fresh_slug()
            if slug is None:
                return
            sent = {"domain": self.domain, "slug": slug, "name": "Must not exist"}
            refused = self.act(CREATE_ROOM, body=sent, auth=auth)
            self.model.unauthorised_create(sent)
        self.judge(self.model.refused_without_token(refused.status, refused.body), refused)
        self.observe(*self.room_looks(code), *self.list_looks())

    @precondition(lambda self: self.can_create())
    @rule(media=MEDIA_TYPES, name=NAMES, with_code=st.booleans())
    @step
    def create_room(self, media: str, name: str, with_code: bool) -> None:
        self._create(media, name, with_code)

    @precondition(lambda self: self.writable and self.model.rooms)
    @rule(data=st.data(), media=MEDIA_TYPES, name=NAMES)
    @step
    def create_duplicate_slug(self, data: st.DataObject, media: str, name: str) -> None:
        self._duplicate(self.pick_room(data), media, name)

    @precondition(lambda self: self.can_create() and self.model.rooms)
    @rule(data=st.data(), media=MEDIA_TYPES)
    @step
    def create_existing_code(self, data: st.DataObject, media: str) -> None:
        self._clash(self.pick_room(data), media)

    @precondition(lambda self: self.writable and self.model.rooms and self.users)
    @rule(data=st.data(), media=MEDIA_TYPES, default=DEFAULTS)
    @step
    def associate(self, data: st.DataObject, media: str, default: bool | None) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        self._associate(user, self.pick_room(data), media, default)

    @precondition(lambda self: self.writable and self.model.associations())
    @rule(data=st.data(), media=MEDIA_TYPES)
    @step
    def remove_association(self, data: st.DataObject, media: str) -> None:
        user, code = data.draw(st.sampled_from(self.model.associations()), label="association")
        self._remove(user, code, media)

    @precondition(lambda self: self.writable and self.model.rooms)
    @rule(data=st.data(), operation=st.sampled_from(["create", "add", "remove"]), auth=AUTHS)
    @step
    def write_without_token(self, data: st.DataObject, operation: str, auth: Auth) -> None:
        code, user = self.pick_room(data), None
        if operation == "add" and self.users:
            user = data.draw(st.sampled_from(self.users), label="user")
        elif operation == "remove" and self.model.associations():
            user, code = data.draw(st.sampled_from(self.model.associations()), label="association")
        self._without_token(operation, auth, code, user)

    def _unknown_association(self, code: str, user: str, unknown: str) -> None:
        added = self.act(ADD_USER_ROOM, path={"id": user}, body={"code": code})
        self.judge(self.model.check_unknown(added.status, added.body, f"unknown user {user}"), added)
        removed = self.act(REMOVE_USER_ROOM, path={"id": user, "room_code": code})
        self.judge(self.model.check_unknown(removed.status, removed.body, f"unknown user {user}"), removed)
        if self.users:
            wrong = self.act(ADD_USER_ROOM, path={"id": self.users[0]}, body={"code": unknown})
            self.judge(self.model.check_unknown(wrong.status, wrong.body, f"unknown room {unknown!r}"), wrong)
        self.observe_room(code)

    @precondition(lambda self: self.writable and self.model.rooms)
    @rule(data=st.data(), user=UNKNOWN_IDS, unknown=UNKNOWN_CODES)
    @step
    def associate_unknown(self, data: st.DataObject, user: str, unknown: str) -> None:
        self._unknown_association(self.pick_room(data), user, unknown)

    # ------------------------------------------------------------------ reads

    @precondition(lambda self: self.model.rooms or self.seen)
    @rule(data=st.data())
    @step
    def read_room(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(list(self.model.rooms) + self.seen), label="room")
        self.steps[-1][0] += f" room {code!r}"
        self.observe_room(code)

    def _read_unknown(self, code: str, user: str) -> None:
        """Every view named by a room's code, of a room that does not exist (a provider's: a user no clinic has),
        then a known room's provider detail of that user: each some 4xx with the error body."""
        unknown = {"code": code, "id": user}
        reads = [
            (o, kwargs) for view in View if "code" in view.parameters for o, kwargs, _ in self.looks_of(view, unknown)
        ]
        known = list(self.model.rooms) + self.seen
        if known:
            reads += [(o, kwargs) for o, kwargs, _ in self.looks_of(View.PROVIDER, {"code": known[0], "id": user})]
        for (_, kwargs), taken in zip(reads, self.target.call_all(reads), strict=True):
            answer = taken()
            self.steps[-1].append(answer.curl)
            self.judge(self.model.check_unknown(answer.status, answer.body, f"unknown {kwargs['path']}"), answer)

    @rule(code=UNKNOWN_CODES, user=UNKNOWN_IDS)
    @step
    def read_unknown(self, code: str, user: str) -> None:
        self._read_unknown(code, user)

    @rule(
        page=st.none() | st.integers(min_value=1, max_value=6), limit=st.none() | st.integers(min_value=1, max_value=10)
    )
    @step
    def read_page(self, page: int | None, limit: int | None) -> None:
        self._read_page(page, limit)

    def _read_page(self, page: int | None, limit: int | None) -> None:
        query = {k: v for k, v in (("page", page), ("limit", limit)) if v is not None}

        def read() -> tuple[list[str], Exchange, list[str]]:
            return self.whole_list(), self.act(LIST_ROOMS, query=query), self.whole_list()

        def check(seen: tuple[list[str], Exchange, list[str]]) -> list[Check]:
            before, answer, after = seen
            return self.model.check_page(answer.data, page, limit, before, after)

        seen = settled(self.target, read, _problems(check), lambda seen: seen[1])
        self.judge(check(seen), seen[1])

    def _walk(self, limit: int) -> None:
        Walk = tuple[list[str], int, list[Exchange], list[str]]

        def read() -> Walk:
            before = self.whole_list()
            size = min(100, max(limit, math.ceil(len(before) / 20)))  # at most ~20 pages on a big clinic
            last = math.ceil(len(before) / size) + 1  # one page past the end
            answers = self.target.call_all(
                [(LIST_ROOMS, {"query": {"limit": size, "page": n}}) for n in range(1, last + 1)]
            )
            walked = []
            for taken in answers:
                walked.append(taken())
                self.steps[-1].append(walked[-1].curl)
            return before, size, walked, self.whole_list()

        def check(seen: Walk) -> list[Check]:
            before, size, walked, after = seen
            pages = [[str(r["code"]) for r in page.data] for page in walked]
            return self.model.check_walk(pages, size, before, after)

        seen = settled(self.target, read, _problems(check), lambda seen: seen[2][0])
        self.judge(check(seen), *seen[2][:3])

    @rule(limit=st.integers(min_value=1, max_value=10))
    @step
    def walk_pages(self, limit: int) -> None:
        self._walk(limit)

    @rule(text=SEARCH_TEXT)
    @step
    def search(self, text: str) -> None:
        """A search keyword (DataTable `q`): whatever it matches, it never breaks the server or the schema."""
        self.act(LIST_ROOMS, query={"q": text})


# the model's one check of each view (`View`, the registry's `shows`): what an answer showing it must agree with
VIEW_CHECKS: Mapping[View, ViewCheck] = {
    View.ROOMS: lambda model, path, listing: model.check_list(listing.data),
    View.ROOM: lambda model, path, one: model.check_detail(path["code"], one.status, _data(one)),
    View.PROVIDERS: lambda model, path, one: model.check_providers(path["code"], one.status, _data(one)),
    View.PROVIDER: lambda model, path, one: model.check_provider(path["code"], path["id"], one.status, one.body),
    View.QUEUE: lambda model, path, one: model.check_queue(path["code"], one.status),
}


def _problems(check: Callable[[T], list[Check]]) -> Callable[[T], list[str]]:
    """What `check` finds wrong, every rule together: whether a read must be made again."""
    return lambda seen: [problem for _, problems in check(seen) for problem in problems]


def _shown(exchange: Exchange) -> Exchange:
    return exchange


def _data(exchange: Exchange) -> Any:
    """The `data` of a 2xx answer, or None: the model judges the status itself."""
    body = exchange.body
    return body.get("data") if 200 <= exchange.status < 300 and isinstance(body, Mapping) else None


def _sequences(target: Target) -> None:
    """Random step sequences (the profile's count and length, seeded by --contract-seed), each checked step by step.

    In-process each sequence starts from a fresh app. A live deployment keeps its state from one sequence to the
    next, which Hypothesis cannot replay, so there the run is one sequence as long as all of them together (and
    the tour, with its rooms, is made once)."""
    profile, in_process = target.settings.profile, target.settings.in_process
    live_failures: list[ContractViolation] | None = None if in_process else []
    machine = functools.partial(ClinicMachine, target, live_failures)
    hypothesis.seed(target.settings.seed)(machine)  # the same seed replays the same step sequences
    try:
        _run(machine, profile, in_process)
    except pytest.skip.Exception:
        if live_failures:
            raise live_failures[0] from None
        raise


@pytest.mark.contract_side_by_side("model", _sequences, rooms=TOUR_ROOMS, more=True)
def test_the_deployment_behaves_as_the_model_predicts(target: Target, request: pytest.FixtureRequest) -> None:
    target.side_by_side.outcome(request)


def _run(machine: Callable[[], ClinicMachine], profile: Profile, in_process: bool) -> None:
    run_state_machine_as_test(
        machine,  # type: ignore[arg-type]
        settings=settings(
            max_examples=profile.model_examples if in_process else 1,
            stateful_step_count=profile.model_steps if in_process else profile.model_steps * profile.model_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            # Shrinking costs many more runs (and writes): live, and in the quick profile, the first failure is
            # reported as found. The explain phase (it traces every line) would multiply a failing run's time.
            phases=(Phase.explicit, Phase.generate, Phase.shrink)
            if in_process and profile.shrink
            else (Phase.explicit, Phase.generate),
        ),
    )
