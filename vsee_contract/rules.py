"""The documented behaviour JSON Schema cannot express, each rule written once.

Every rule is a pure function over decoded response bodies that returns the problems it finds (an empty
list when the rule holds). The mock (strict mode), the contract suite and the proxy all call these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard

ERROR_SHAPE = "error-shape"
QUEUE_ARITHMETIC = "queue-arithmetic"
ROOM_IS_REQUESTED = "room-is-the-requested-one"
PROVIDER_IS_REQUESTED = "provider-is-the-requested-one"
CREATED_ROOM_ECHOES_INPUT = "created-room-echoes-input"
CREATED_ROOM_READABLE = "created-room-readable-and-listed"
EXISTING_CODE_REFUSED = "existing-code-refused"
SLUG_UNIQUE_PER_DOMAIN = "slug-unique-per-domain"
DUPLICATE_SLUG_REFUSED = "duplicate-slug-refused"
ASSOCIATION_LISTED = "association-listed-for-user"
PROVIDER_FOLLOWS_ASSOCIATION = "association-makes-provider"
DEFAULT_EXCLUSIVE = "default-room-exclusive"
PAGE_WITHIN_LIMIT = "page-within-limit"
PAGES_PARTITION_LIST = "pages-partition-list"
PAGE_PAST_END_EMPTY = "page-past-end-empty"
UNKNOWN_IS_CLIENT_ERROR = "unknown-resource-is-4xx"
WRITES_NEED_TOKEN = "writes-need-admin-token"
REFUSED_WRITE_CHANGES_NOTHING = "refused-write-changes-nothing"
PUBLIC_READS_OPEN = "public-reads-need-no-token"
NO_SERVER_ERROR = "no-5xx"
LIST_AGREES_WITH_DETAIL = "list-agrees-with-detail"
VALID_WRITE_ACCEPTED = "valid-write-accepted"
# Stated in openapi.yaml under `x-contract-rules`: what the schemas would say only in constructs generators cannot type.
USER_ROOM_IDENTIFIED = "user-room-identified"
DEFAULT_FLAG_GIVEN = "default-flag-given"
DEFAULT_MOVES_ONLY_WHEN_ASKED = "default-moves-only-when-asked"
TOKEN_NEVER_IN_ANSWERS = "admin-token-never-in-answers"
ONLY_THE_EXACT_TOKEN = "only-the-exact-token-writes"
CONCURRENT_CREATES_ONE_WINS = "concurrent-creates-one-wins"
CONCURRENT_ASSOCIATIONS_CONVERGE = "concurrent-associations-converge"

# Every rule a deployment is judged by (besides the response schema), for the coverage a CI gate can demand.
CATALOGUE = (
    ERROR_SHAPE,
    QUEUE_ARITHMETIC,
    ROOM_IS_REQUESTED,
    PROVIDER_IS_REQUESTED,
    CREATED_ROOM_ECHOES_INPUT,
    CREATED_ROOM_READABLE,
    EXISTING_CODE_REFUSED,
    SLUG_UNIQUE_PER_DOMAIN,
    DUPLICATE_SLUG_REFUSED,
    ASSOCIATION_LISTED,
    PROVIDER_FOLLOWS_ASSOCIATION,
    DEFAULT_EXCLUSIVE,
    PAGE_WITHIN_LIMIT,
    PAGES_PARTITION_LIST,
    PAGE_PAST_END_EMPTY,
    UNKNOWN_IS_CLIENT_ERROR,
    WRITES_NEED_TOKEN,
    REFUSED_WRITE_CHANGES_NOTHING,
    PUBLIC_READS_OPEN,
    NO_SERVER_ERROR,
    LIST_AGREES_WITH_DETAIL,
    VALID_WRITE_ACCEPTED,
    USER_ROOM_IDENTIFIED,
    DEFAULT_FLAG_GIVEN,
    DEFAULT_MOVES_ONLY_WHEN_ASKED,
    TOKEN_NEVER_IN_ANSWERS,
    ONLY_THE_EXACT_TOKEN,
    CONCURRENT_CREATES_ONE_WINS,
    CONCURRENT_ASSOCIATIONS_CONVERGE,
)

Problems = list[str]


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def error_shape(status: int, body: Any) -> Problems:
    """Every 4xx/5xx carries `{"code": <int>, "message": <str>}`."""
    if status < 400:
        return []
    if not isinstance(body, Mapping):
        return [f"{status} body is not a JSON object: {body!r:.80}"]
    problems = []
    if not _is_int(body.get("code")):
        problems.append(f"{status} body has no integer 'code'")
    if not isinstance(body.get("message"), str):
        problems.append(f"{status} body has no string 'message'")
    return problems


def queue_arithmetic(queue: Mapping[str, Any]) -> Problems:
    """`0 ≤ before_me ≤ length ≤ capacity` (the fields' types and minimum are the `Queue` schema's to judge)."""
    before_me, length, capacity = (queue.get(k) for k in ("before_me", "length", "capacity"))
    if not (_is_int(before_me) and _is_int(length) and _is_int(capacity)):
        return []
    if not before_me <= length <= capacity:
        return [f"queue breaks before_me <= length <= capacity: {before_me} <= {length} <= {capacity}"]
    return []


def room_is_requested(room: Mapping[str, Any], code: str) -> Problems:
    """GET /rooms/{code} returns that room (judged when the body names a code)."""
    if "code" in room and room["code"] != code:
        return [f"asked for room {code!r}, got room {room['code']!r}"]
    return []


def provider_is_requested(provider: Mapping[str, Any], provider_id: str) -> Problems:
    """GET /rooms/{code}/providers/{id} returns that provider."""
    if str(provider.get("id")) != str(provider_id):
        return [f"asked for provider {provider_id!r}, got {provider.get('id')!r}"]
    return []


def created_room_echoes_input(room: Mapping[str, Any], sent: Mapping[str, Any]) -> Problems:
    """A created room carries the name, slug and domain sent, and the code when one was sent."""
    keys = [k for k in ("name", "slug", "domain", "code") if isinstance(sent.get(k), str) and sent[k]]
    return [f"created room has {k}={room.get(k)!r}, sent {sent[k]!r}" for k in keys if room.get(k) != sent[k]]


def created_room_readable(detail_status: int, code: str, times_listed: int | None = None) -> Problems:
    """A created room can be read back at once and appears exactly once in GET /rooms (when the list was read)."""
    problems = [f"GET /rooms/{code} answered {detail_status} after creation"] if detail_status != 200 else []
    if times_listed is not None and times_listed != 1:
        problems.append(f"room {code!r} appears {times_listed} times in GET /rooms")
    return problems


def client_error(status: int, body: Any, what: str) -> Problems:
    """A refusal: some 4xx with the error body (the docs name no exact status)."""
    if not 400 <= status < 500:
        return [f"{what}: answered {status}, expected a 4xx"]
    return error_shape(status, body)


def slug_unique_per_domain(rooms: Iterable[Mapping[str, Any]]) -> Problems:
    """No slug appears twice within one domain."""
    counts = Counter((r.get("domain"), r.get("slug")) for r in rooms)
    return [f"slug {slug!r} appears {n} times in domain {domain!r}" for (domain, slug), n in counts.items() if n > 1]


def duplicate_slug_refused(status: int, body: Any, slug: str) -> Problems:
    """The same slug again in the same domain is refused with 400 and the error body naming the slug."""
    if status != 400:
        return [f"duplicate slug {slug!r} answered {status}, expected 400"]
    problems = error_shape(status, body)
    if not problems and slug not in body["message"]:
        problems.append(f"duplicate-slug message does not name the slug: {body['message']!r}")
    return problems


def association_listed(user_rooms: Sequence[Mapping[str, Any]], code: str) -> Problems:
    """POST /users/{id}/rooms lists the associated room among the user's rooms."""
    if not any(r.get("code") == code for r in user_rooms):
        return [f"room {code!r} missing from the user's rooms {[r.get('code') for r in user_rooms]}"]
    return []


def user_room_identified(user_rooms: Sequence[Any]) -> Problems:
    """Every one of a user's rooms carries its id as `_id` (current docs) or `id` (older revision), or both."""
    return [
        f"user room {i} ({room.get('code')!r}) has neither '_id' nor 'id'"
        for i, room in enumerate(user_rooms)
        if isinstance(room, Mapping) and "_id" not in room and "id" not in room
    ]


def default_flag_given(body: Mapping[str, Any]) -> Problems:
    """The user's rooms say which is the default: each room has its `default` flag, or one sits beside `data` (the
    docs' word-diff allows both readings)."""
    rooms = body.get("data")
    if "default" in body or not isinstance(rooms, list):
        return []
    unflagged = [i for i, room in enumerate(rooms) if isinstance(room, Mapping) and "default" not in room]
    return [f"user rooms {unflagged} have no 'default' flag, and none is beside 'data'"] if unflagged else []


def provider_follows_association(providers: Sequence[Mapping[str, Any]], user_id: str, associated: bool) -> Problems:
    """An associated user is one of the room's providers; after removal they are not."""
    listed = any(str(p.get("id")) == str(user_id) for p in providers)
    if listed == associated:
        return []
    state = "associated" if associated else "removed"
    return [f"user {user_id!r} is {state} but {'absent from' if associated else 'still in'} the providers list"]


def default_exclusive(user_rooms: Sequence[Mapping[str, Any]], code: str) -> Problems:
    """After default=true, exactly one of the user's rooms is default: the one just set.

    Judged when the rooms carry their `default` flag; one revision of the docs may put it beside `data` instead,
    which says nothing about which room is the default.
    """
    if not any("default" in r for r in user_rooms):
        return []
    defaults = [r.get("code") for r in user_rooms if r.get("default") is True]
    if defaults != [code]:
        return [f"default rooms are {defaults}, expected exactly [{code!r}]"]
    return []


def page_within_limit(items: Sequence[Any], limit: int) -> Problems:
    """No page holds more than `limit` items."""
    return [f"page has {len(items)} items, limit was {limit}"] if len(items) > limit else []


def pages_partition_list(pages: Sequence[Sequence[str]], whole: Sequence[str]) -> Problems:
    """Pages of one limit are disjoint and together are exactly the whole list."""
    flat = [key for page in pages for key in page]
    problems = []
    repeated = sorted(k for k, n in Counter(flat).items() if n > 1)
    if repeated:
        problems.append(f"items on more than one page: {repeated[:5]}")
    if sorted(set(flat)) != sorted(set(whole)):
        missing = sorted(set(whole) - set(flat))[:5]
        extra = sorted(set(flat) - set(whole))[:5]
        problems.append(f"pages differ from the whole list (missing {missing}, extra {extra})")
    return problems


def page_past_end_empty(items: Sequence[Any]) -> Problems:
    """A page past the end of the list is empty."""
    return [f"page past the end has {len(items)} items"] if items else []


def _places(value: Any, secret: str, where: str) -> list[str]:
    """The JSON paths (`data.rooms[0].name`) of the strings in `value` that hold `secret`."""
    if isinstance(value, str):
        return [where] if secret in value else []
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _places(v, secret, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _places(v, secret, f"{where}[{i}]")]
    return []


def token_never_in_answers(
    token: str | None, headers: Iterable[tuple[str, str]], raw: bytes, body: Any, what: str
) -> Problems:
    """The admin token never comes back in an answer, in a header or anywhere in the body; each problem says where
    (never the token itself)."""
    if not token:
        return []
    problems = [f"{what}: the admin token is in the answer's {name} header" for name, v in headers if token in v]
    if token.encode() in raw:
        places = ", ".join(_places(body, token, "body")[:5]) or "body (raw)"
        problems.append(f"{what}: the admin token is in the answer at {places}")
    return problems


def default_moves_only_when_asked(user_rooms: Sequence[Mapping[str, Any]], default: str, why: str) -> Problems:
    """The user's default room stays the default until another room is made default with `default=true` ("Set
    this room as default, other rooms will lose default status" is the only documented way to move it). Judged
    when the rooms carry their `default` flag."""
    if not any("default" in r for r in user_rooms) or not any(r.get("code") == default for r in user_rooms):
        return []
    defaults = [r.get("code") for r in user_rooms if r.get("default") is True]
    if defaults != [default]:
        return [f"default rooms are {defaults} after {why}; room {default!r} was the default and nobody moved it"]
    return []
