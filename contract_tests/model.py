"""A model of what the docs promise about one clinic's rooms, users and their associations.

Pure Python, no HTTP. The state machine (`test_model_based.py`) tells the model each write it made and what came back,
and shows it every observation it makes afterwards; the model answers with `Check`s: a rule and the problems it
found (none when the rule holds). It predicts only what the docs fix. Where they leave a choice open (which 2xx or
which 4xx, field spellings, the order of the list, what a default becomes after other calls) it accepts every
legal answer. It predicts the rooms the run created in full, and other rooms only as far as a live clinic cannot
change them under it: they may appear, change or go at any time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vsee_contract import rules

Check = tuple[str, list[str]]  # a rule and the problems found (empty: the rule held)
IDENTITY = ("code", "slug", "domain", "name")
REFUSED_TOKEN = (401, 403)


@dataclass(frozen=True)
class Room:
    """A room this run created: what it sent, and the code the deployment gave it."""

    code: str
    slug: str
    domain: str
    name: str

    def field(self, key: str) -> str:
        return str(getattr(self, key))


def _code(item: Any) -> str | None:
    return str(item["code"]) if isinstance(item, Mapping) and "code" in item else None


def _is_4xx(status: int) -> bool:
    return 400 <= status < 500


@dataclass
class ClinicModel:
    """The documented state of one clinic, as far as this run made or saw it."""

    rooms: dict[str, Room] = field(default_factory=dict)  # code -> room, for the rooms this run created
    providers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # own room -> users added
    absent: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # own room -> users not providers
    refused: set[tuple[str, str]] = field(default_factory=set)  # (domain, slug) of refused creations
    untouched: set[tuple[str, str]] = field(default_factory=set)  # (user, room) a refused write must not have changed
    default_of: dict[str, str] = field(default_factory=dict)  # user -> the room this run made their default

    # ------------------------------------------------------------------ writes: predict the answer, then update

    def twin_of(self, domain: str, slug: str) -> Room | None:
        """The room of this run that already has `slug` in `domain`."""
        return next((r for r in self.rooms.values() if (r.domain, r.slug) == (domain, slug)), None)

    def create(self, sent: Mapping[str, Any], status: int, body: Any) -> list[Check]:
        """POST /rooms: a new slug creates the room (200 or 201); a slug taken in the domain is refused with 400
        naming it; a taken code is refused with some 4xx. A refusal changes nothing."""
        domain, slug, code = str(sent["domain"]), str(sent["slug"]), sent.get("code")
        if self.twin_of(domain, slug) is not None:
            return [(rules.DUPLICATE_SLUG_REFUSED, rules.duplicate_slug_refused(status, body, slug))]
        if code is not None and str(code) in self.rooms:
            return [(rules.EXISTING_CODE_REFUSED, rules.client_error(status, body, f"existing code {code!r}"))]
        if status not in (200, 201):
            return [(rules.VALID_WRITE_ACCEPTED, [f"a new room with a fresh slug was refused with {status}"])]
        room = Room(str(body["data"]["code"]), slug, domain, str(sent["name"]))
        if room.code in self.rooms:
            taken = f"the new room {slug!r} got code {room.code!r}, which room {self.rooms[room.code].slug!r} has"
            return [(rules.VALID_WRITE_ACCEPTED, []), (rules.EXISTING_CODE_REFUSED, [taken])]
        self.rooms[room.code] = room
        return [(rules.VALID_WRITE_ACCEPTED, [])]

    def refused_without_token(self, status: int, body: Any) -> list[Check]:
        """A write without the admin token (or with a wrong one) is refused with 401 or 403."""
        problems = [] if status in REFUSED_TOKEN else [f"a write without a valid token answered {status}"]
        return [(rules.WRITES_NEED_TOKEN, problems + rules.error_shape(status, body))]

    def unauthorised_create(self, sent: Mapping[str, Any]) -> None:
        """A creation refused for its token must never appear."""
        self.refused.add((str(sent["domain"]), str(sent["slug"])))

    def unauthorised_association(self, user: str, code: str) -> None:
        """An association refused for its token must not have been made."""
        if user not in self.providers[code]:
            self.absent[code].add(user)
            self.untouched.add((user, code))

    def unauthorised_removal(self, user: str, code: str) -> None:
        """A removal refused for its token must not have removed anything."""
        self.untouched.add((user, code))

    def associate(self, user: str, code: str, default: bool | None, status: int, body: Any) -> list[Check]:
        """POST /users/{id}/rooms: the user becomes a provider of the room, and the answer lists the user's rooms."""
        if status not in (200, 201):
            return [(rules.VALID_WRITE_ACCEPTED, [f"associating user {user} with room {code} answered {status}"])]
        self.providers[code].add(user)
        self.absent[code].discard(user)
        self.untouched.discard((user, code))
        kept = self.default_of.get(user)
        if default is True:
            self.default_of[user] = code
        elif kept == code and default is False:  # what default=false does to the default room itself: undocumented
            self.default_of.pop(user)
        checks = self.check_user_rooms(user, body["data"], code if default is True else None)
        if default is not True and kept is not None and self.default_of.get(user) == kept:
            why = f"associating room {code!r} with default={default}"
            checks.append(
                (rules.DEFAULT_MOVES_ONLY_WHEN_ASKED, rules.default_moves_only_when_asked(body["data"], kept, why))
            )
        return [(rules.VALID_WRITE_ACCEPTED, []), *checks]

    def remove(self, user: str, code: str, status: int) -> list[Check]:
        """DELETE /users/{id}/rooms/{room_code} of an association this run made: 200 or 204, and it is gone."""
        if status not in (200, 204):
            return [(rules.VALID_WRITE_ACCEPTED, [f"removing user {user} from room {code} answered {status}"])]
        self.providers[code].discard(user)
        self.absent[code].add(user)
        self.untouched.discard((user, code))
        if self.default_of.get(user) == code:  # what becomes of the default when its room goes: undocumented
            self.default_of.pop(user)
        return [(rules.VALID_WRITE_ACCEPTED, [])]

    def associations(self) -> list[tuple[str, str]]:
        """(user, room) pairs this run made and did not undo."""
        return sorted((user, code) for code, users in self.providers.items() for user in users)

    def rooms_of(self, user: str) -> set[str]:
        return {code for code, users in self.providers.items() if user in users}

    # ------------------------------------------------------------------ observations: what may be seen now

    def check_user_rooms(self, user: str, rooms: Sequence[Mapping[str, Any]], made_default: str | None) -> list[Check]:
        """The user's rooms list every room the user is associated with and none they were removed from. At most one
        is the default, and after `default=true` exactly the one just made default (judged when the rooms carry the
        flag: the docs' other reading puts it beside `data`). The default moves only with `default=true` (judged by
        `associate`); what default=false on the default room itself, or removing it, does is not documented."""
        listed = {_code(r) for r in rooms}
        missing = sorted(self.rooms_of(user) - listed)
        gone = sorted(code for code, users in self.absent.items() if user in users and code in listed)
        found: dict[str, list[str]] = {rules.ASSOCIATION_LISTED: [], rules.REFUSED_WRITE_CHANGES_NOTHING: []}
        for code in missing:
            found[self._rule_for(user, code, rules.ASSOCIATION_LISTED)].append(
                f"room {code!r} missing from user {user}'s rooms"
            )
        for code in gone:
            found[self._rule_for(user, code, rules.ASSOCIATION_LISTED)].append(
                f"room {code!r} among user {user}'s rooms, who is no provider of it"
            )
        checks = [*found.items(), (rules.LIST_AGREES_WITH_DETAIL, self._as_sent(rooms, f"user {user}'s rooms"))]
        if any("default" in r for r in rooms):
            defaults = [_code(r) for r in rooms if r.get("default") is True]
            many = [f"user {user} has {len(defaults)} default rooms: {defaults}"] if len(defaults) > 1 else []
            exact = rules.default_exclusive(rooms, made_default) if made_default is not None else many
            checks.append((rules.DEFAULT_EXCLUSIVE, exact))
        return checks

    def _as_sent(self, items: Sequence[Mapping[str, Any]], where: str) -> list[str]:
        """Each room of this run among `items` shows the name, slug, domain and code it was created with, unchanged
        (every character: non-ASCII, emoji, HTML-special, quotes, backslashes, spaces, length)."""
        return [
            f"{where} shows room {room.code!r} with {key}={item[key]!r}, sent {room.field(key)!r}"
            for item in items
            if (room := self.rooms.get(_code(item) or "")) is not None
            for key in IDENTITY
            if key in item and item[key] != room.field(key)
        ]

    def _rule_for(self, user: str, code: str, otherwise: str = rules.PROVIDER_FOLLOWS_ASSOCIATION) -> str:
        """A refused write that changed an association breaks its own rule, not the association's."""
        return rules.REFUSED_WRITE_CHANGES_NOTHING if (user, code) in self.untouched else otherwise

    def check_detail(self, code: str, status: int, data: Any) -> list[Check]:
        """GET /rooms/{code} (v3 or v4): a room of this run is there with what was sent; any room is public."""
        checks: list[Check] = [(rules.PUBLIC_READS_OPEN, _public(status, f"GET /rooms/{code}"))]
        room = self.rooms.get(code)
        if room is None:
            return checks
        if status != 200:
            return [*checks, (rules.CREATED_ROOM_READABLE, [f"GET /rooms/{code} answered {status}"])]
        changed = [
            f"room {code!r} has {key}={data.get(key)!r}, sent {room.field(key)!r}"
            for key in IDENTITY
            if isinstance(data, Mapping) and data.get(key) != room.field(key)
        ]
        return [*checks, (rules.CREATED_ROOM_READABLE, []), (rules.CREATED_ROOM_ECHOES_INPUT, changed)]

    def check_unknown(self, status: int, body: Any, what: str) -> list[Check]:
        """Something that does not exist is some 4xx with the error body."""
        return [(rules.UNKNOWN_IS_CLIENT_ERROR, rules.client_error(status, body, what))]

    def check_list(self, items: Sequence[Any]) -> list[Check]:
        """GET /rooms (unpaged): every room of this run once, as it was sent; no slug twice in a domain; nothing
        whose creation was refused."""
        counts = Counter(_code(item) for item in items)
        listed = [
            f"room {code!r} appears {counts[code]} times in GET /rooms" for code in self.rooms if counts[code] != 1
        ]
        rooms = [item for item in items if isinstance(item, Mapping)]
        disagree = self._as_sent(rooms, "GET /rooms")
        appeared = [
            f"room with slug {r.get('slug')!r} exists though its creation was refused"
            for r in rooms
            if (r.get("domain"), r.get("slug")) in self.refused
        ]
        checks = [
            (rules.CREATED_ROOM_READABLE, listed),
            (rules.LIST_AGREES_WITH_DETAIL, disagree),
            (rules.SLUG_UNIQUE_PER_DOMAIN, rules.slug_unique_per_domain(rooms)),
            (rules.REFUSED_WRITE_CHANGES_NOTHING, appeared),
        ]
        # only the rules something here could have broken count as checked: a list with none of this run's rooms
        # (a read-only run) judges no room it created and no refused creation
        judged = {rules.SLUG_UNIQUE_PER_DOMAIN: bool(rooms), rules.CREATED_ROOM_READABLE: bool(self.rooms)}
        judged[rules.LIST_AGREES_WITH_DETAIL] = any(_code(item) in self.rooms for item in rooms)
        judged[rules.REFUSED_WRITE_CHANGES_NOTHING] = bool(self.refused)
        return [(rule, problems) for rule, problems in checks if judged[rule] or problems]

    def check_page(
        self, items: Sequence[Any], page: int | None, limit: int | None, before: Sequence[str], after: Sequence[str]
    ) -> list[Check]:
        """One page of GET /rooms against the whole list read before and after it.

        Without `limit` the page is the whole list (a later page may be empty instead: the docs fix no default
        page size, and the contract says only that no limit means the whole list). With it, page p holds the p-th
        `limit` items of the whole list (in the deployment's own order, which the docs do not fix): as many as are
        left, and none past the end.
        When the whole list changed between the two reads (another client), only what both allow is judged.
        """
        codes = [c for c in (_code(item) for item in items) if c is not None]
        stable = sorted(before) == sorted(after)
        extra = sorted(set(codes) - set(before) - set(after))
        number = page or 1
        problems = [f"page {number} (limit {limit}) holds rooms not in the whole list: {extra[:5]}"] if extra else []
        repeated = sorted(c for c, n in Counter(codes).items() if n > 1)
        problems += [f"page {number} (limit {limit}) repeats rooms: {repeated[:5]}"] if repeated else []
        if limit is None:  # the whole list; a later page of it is past its end, or the page is ignored
            missing = sorted(set(before) & set(after) - set(codes))
            if missing and not (codes == [] and number > 1):
                problems.append(f"GET /rooms without limit (page {page}) leaves out {missing[:5]}")
            return [(rules.PAGES_PARTITION_LIST, problems)]
        checks = [(rules.PAGE_WITHIN_LIMIT, rules.page_within_limit(codes, limit))]
        expected = max(0, min(limit, len(before) - (number - 1) * limit))
        if stable and expected == 0:
            checks.append((rules.PAGE_PAST_END_EMPTY, rules.page_past_end_empty(codes)))
        elif stable and len(codes) != expected:
            problems.append(f"page {number} (limit {limit}) of {len(before)} rooms holds {len(codes)}, not {expected}")
        return [*checks, (rules.PAGES_PARTITION_LIST, problems)]

    def check_walk(
        self, pages: Sequence[Sequence[str]], limit: int, before: Sequence[str], after: Sequence[str]
    ) -> list[Check]:
        """Pages 1..n of one limit, then one past the end: each within the limit; disjoint, together the whole list,
        then empty (these judged only when the whole list did not change during the walk)."""
        within = [(rules.PAGE_WITHIN_LIMIT, [p for page in pages for p in rules.page_within_limit(page, limit)])]
        if sorted(before) != sorted(after):
            return within
        full = len(pages) - 2  # every page before the last one that holds items
        short = [
            f"page {n} holds {len(page)}, limit {limit}" for n, page in enumerate(pages[:full], 1) if len(page) != limit
        ]
        return [
            *within,
            (rules.PAGES_PARTITION_LIST, rules.pages_partition_list(pages[:-1], before) + short),
            (rules.PAGE_PAST_END_EMPTY, rules.page_past_end_empty(pages[-1])),
        ]

    def check_providers(self, code: str, status: int, providers: Any) -> list[Check]:
        """GET /rooms/{code}/providers: the users this run associated are there, those it removed are not (and a
        write refused for its token changed neither)."""
        checks: list[Check] = [(rules.PUBLIC_READS_OPEN, _public(status, f"GET /rooms/{code}/providers"))]
        if code not in self.rooms:
            return checks
        if status != 200 or not isinstance(providers, list):
            return [*checks, (rules.CREATED_ROOM_READABLE, [f"GET /rooms/{code}/providers answered {status}"])]
        expected = [(u, True) for u in sorted(self.providers[code])] + [(u, False) for u in sorted(self.absent[code])]
        found: dict[str, list[str]] = {rules.PROVIDER_FOLLOWS_ASSOCIATION: [], rules.REFUSED_WRITE_CHANGES_NOTHING: []}
        for user, associated in expected:
            found[self._rule_for(user, code)] += rules.provider_follows_association(providers, user, associated)
        return [*checks, *found.items()]

    def check_provider(self, code: str, user: str, status: int, body: Any) -> list[Check]:
        """GET /rooms/{code}/providers/{id}: 200 for a user this run associated, a 4xx for one it removed."""
        public = (rules.PUBLIC_READS_OPEN, _public(status, f"GET /rooms/{code}/providers/{user}"))
        if user in self.providers.get(code, ()):
            problems = [] if status == 200 else [f"provider {user} of room {code!r} answered {status}"]
            return [public, (self._rule_for(user, code), problems)]
        if user in self.absent.get(code, ()):
            problems = [] if _is_4xx(status) else [f"user {user} is no provider of room {code!r}, answered {status}"]
            return [public, (self._rule_for(user, code), problems)]
        return []

    def check_queue(self, code: str, status: int) -> list[Check]:
        """GET /rooms/{code}/queue of a known room: public (its arithmetic is judged with every answer)."""
        return [(rules.PUBLIC_READS_OPEN, _public(status, f"GET /rooms/{code}/queue"))]


def _public(status: int, what: str) -> list[str]:
    return [f"{what} answered {status} without a token"] if status in REFUSED_TOKEN else []
