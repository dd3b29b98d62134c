"""Only the exact admin token, in its own header, writes: every near miss of it is refused and changes nothing.

Near misses are derived from the run's token: empty, split by whitespace, one character short, one character
altered, in another letter case, and the right token in the wrong place (`Authorization: Bearer`, `X-ApiKey`, the
query string, only against a deployment on this machine or in-process: a URL is kept in access logs and by every
proxy on the way). Padding *around* the token is not tried: HTTP strips whitespace around a header value (RFC 9110
§5.5), so " token " is the token itself on the wire. Every value is sent in a header the suite redacts, or is the
token itself (redacted wherever it shows).

Each write is a 401/403 in the error shape (any refusing 4xx for a misplaced token: a server may refuse an
undeclared query parameter first), and afterwards nothing it asked for happened: no room with its slug, no
association made, none undone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from vsee_contract import rules
from vsee_contract.operations import ADD_USER_ROOM, CREATE_ROOM, LIST_ROOM_PROVIDERS, LIST_ROOMS, REMOVE_USER_ROOM

from .consistency import settled
from .discovery import a_user_to_associate, clinic_domain, own_room, providers_of, unique_slug
from .footprint import NO_SUCH_ROOM
from .target import Exchange, Target

REFUSED = (401, 403)
Slugs = list[str]  # (a name, so that no `[str]` shows in a failure's source lines, where rules are `[name]`)


def near_misses(token: str, header: str, in_urls: bool) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(what it is, headers, query) for each credential that must not write; the token in the query string only
    where `in_urls` (a URL is kept in access logs and by every proxy on the way: only this machine may see it)."""
    middle = len(token) // 2
    altered = token[:-1] + ("1" if token[-1] == "0" else "0")
    found: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("an empty token", {header: ""}, {}),
        ("the token split by a space", {header: f"{token[:middle]} {token[middle:]}"}, {}),
        ("the token one character short", {header: token[:-1]}, {}),
        ("the token with its last character altered", {header: altered}, {}),
        ("the token in Authorization: Bearer", {"Authorization": f"Bearer {token}"}, {}),
        ("the token in X-ApiKey", {"X-ApiKey": token}, {}),
    ]
    if in_urls:
        found.append(("the token in the query string", {}, {header: token, "api_token": token, "token": token}))
    if token.swapcase() != token:
        found.insert(4, ("the token in another letter case", {header: token.swapcase()}, {}))
    return found


def _refused(target: Target, answer: Exchange, what: str, misplaced: bool) -> None:
    ok = 400 <= answer.status < 500 if misplaced else answer.status in REFUSED
    problems = [] if ok else [f"a write with {what} answered {answer.status}, expected 401 or 403"]
    target.expect(rules.ONLY_THE_EXACT_TOKEN, problems + rules.error_shape(answer.status, answer.body), answer)


def _near_misses(target: Target) -> None:
    token = target.settings.api_token
    if not token:
        pytest.skip("no admin token to derive near misses from: pass --contract-api-token")
    domain, code = clinic_domain(target), own_room(target, "")
    user = a_user_to_associate(target, code) if code != NO_SUCH_ROOM else None  # no room of its own: creates only
    if user is not None and user in providers_of(target, code):
        target.call(REMOVE_USER_ROOM, path={"id": user, "room_code": code})
    # one slug for every refused create: a deployment that lets one through has made the one room it was given
    sent: dict[str, Any] = {"domain": domain, "slug": unique_slug(target), "name": "Must not exist"}
    slugs: Slugs = [sent["slug"]] if target.rooms.take(sent["slug"]) else []
    misses = near_misses(token, target.token_header, in_urls=target.on_this_machine)
    for what, headers, query in misses:
        misplaced = bool(query) or target.token_header not in headers
        if slugs:
            create = target.call(CREATE_ROOM, body=sent, query=query, auth="none", credentials=headers)
            _refused(target, create, what, misplaced)
        if user is not None:
            add = target.call(
                ADD_USER_ROOM, path={"id": user}, body={"code": code}, query=query, auth="none", credentials=headers
            )
            _refused(target, add, what, misplaced)
    _nothing_changed(target, slugs, code, user, associated=False)
    if user is None:
        return
    target.call(ADD_USER_ROOM, path={"id": user}, body={"code": code})
    for what, headers, query in misses:
        misplaced = bool(query) or target.token_header not in headers
        path = {"id": user, "room_code": code}
        removal = target.call(REMOVE_USER_ROOM, path=path, query=query, auth="none", credentials=headers)
        _refused(target, removal, what, misplaced)
    _nothing_changed(target, [], code, user, associated=True)
    target.call(REMOVE_USER_ROOM, path={"id": user, "room_code": code})


@pytest.mark.contract_writes(rules.ONLY_THE_EXACT_TOKEN)
@pytest.mark.contract_side_by_side("tokens", _near_misses, rooms=2)  # a room to associate with, a slug
def test_only_the_exact_token_writes(target: Target, request: pytest.FixtureRequest) -> None:
    target.side_by_side.outcome(request)


def _nothing_changed(target: Target, slugs: Slugs, code: str, user: str | None, associated: bool) -> None:
    listing = target.call(LIST_ROOMS)
    made = [str(r.get("slug")) for r in listing.data if isinstance(r, Mapping) and r.get("slug") in slugs]
    target.expect(
        rules.REFUSED_WRITE_CHANGES_NOTHING,
        [f"rooms {made} exist though their creation was refused"] if made else [],
        listing,
    )
    if user is None:
        return

    def changed(providers: Exchange) -> rules.Problems:
        if (user in {str(p["id"]) for p in providers.data}) == associated:
            return []
        return [f"user {user} is {'no longer' if associated else 'now'} a provider of room {code!r}"]

    providers = settled(target, lambda: target.call(LIST_ROOM_PROVIDERS, path={"code": code}), changed, lambda e: e)
    target.expect(rules.REFUSED_WRITE_CHANGES_NOTHING, changed(providers), providers)
