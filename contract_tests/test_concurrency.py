"""The documented uniqueness and association rules hold under concurrent requests: a bounded race.

- RACERS parallel creates of one fresh slug: exactly one succeeds, the others are refused as duplicates (400 naming
  the slug), and the list then holds exactly one room with that slug.
- RACERS parallel associations of one user with one room of this run, then RACERS parallel removals, then a mix of
  both: each answer is one the model allows (a success, or a 4xx in the error shape for a removal of what is already
  gone), and the state they leave is one the model allows: the user listed once or not at all among the room's
  providers, the provider detail agreeing, the room once among the user's rooms.

Every request leaves through the guarded transport (one thread at a time through the gate: the write budget holds
for parallel writes too); the race creates one room; live it runs only with --contract-allow-writes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from vsee_contract import rules
from vsee_contract.operations import (
    ADD_USER_ROOM,
    CREATE_ROOM,
    GET_ROOM_PROVIDER,
    LIST_ROOM_PROVIDERS,
    LIST_ROOMS,
    REMOVE_USER_ROOM,
)

from .consistency import settled
from .discovery import a_user_to_associate, clinic_domain, own_room, providers_of, unique_slug
from .target import Exchange, Target

RACERS = 4  # parallel requests per race
START_TIMEOUT = 10.0  # seconds the racers wait for each other at the start line


def race(calls: Sequence[Callable[[], Exchange]]) -> list[Exchange]:
    """Start every call at once (a barrier), each on its own thread; their answers in order."""
    line = threading.Barrier(len(calls))

    def run(call: Callable[[], Exchange]) -> Exchange:
        with contextlib.suppress(threading.BrokenBarrierError):  # a racer that could not start: the others go on
            line.wait(START_TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.contract_writes(rules.CONCURRENT_CREATES_ONE_WINS)
def test_parallel_creates_of_one_slug_make_one_room(target: Target) -> None:
    sent = {"domain": clinic_domain(target), "slug": unique_slug(target), "name": "Contract test race"}
    if not target.rooms.take(sent["slug"]):  # the race makes one room, if the deployment is right
        pytest.skip(f"--contract-max-rooms {target.rooms.limit} reached: no room left for the race")
    answers = race([lambda: target.call(CREATE_ROOM, body=sent) for _ in range(RACERS)])
    won = [a for a in answers if a.status in (200, 201)]
    problems = [] if len(won) == 1 else [f"{len(won)} of {RACERS} parallel creates of slug {sent['slug']!r} succeeded"]
    for lost in (a for a in answers if a.status not in (200, 201)):
        problems += rules.duplicate_slug_refused(lost.status, lost.body, sent["slug"])

    def listed(listing: Exchange) -> rules.Problems:
        times = sum(1 for r in listing.data if _same_slug(r, sent))
        return [] if times == 1 else [f"slug {sent['slug']!r} is on {times} rooms of GET /rooms after the race"]

    listing = settled(target, lambda: target.call(LIST_ROOMS), listed, lambda e: e)
    target.expect(rules.CONCURRENT_CREATES_ONE_WINS, problems + listed(listing), *answers, listing)


def _same_slug(room: Any, sent: Mapping[str, Any]) -> bool:
    return isinstance(room, Mapping) and (room.get("domain"), room.get("slug")) == (sent["domain"], sent["slug"])


@pytest.mark.contract_writes(rules.CONCURRENT_ASSOCIATIONS_CONVERGE)
def test_parallel_associations_of_one_user_converge(target: Target) -> None:
    code = own_room(target, "")
    user = a_user_to_associate(target, code)
    if user is None:
        target.ledger.cannot_check([rules.CONCURRENT_ASSOCIATIONS_CONVERGE], "no provider discovered to associate")
        pytest.skip("no provider discovered to associate: pass --contract-user-id")
    path = {"id": user, "room_code": code}
    add: Callable[[], Exchange] = lambda: target.call(ADD_USER_ROOM, path={"id": user}, body={"code": code})
    remove: Callable[[], Exchange] = lambda: target.call(REMOVE_USER_ROOM, path=path)
    if user in providers_of(target, code):
        remove()
    rounds = ((add,) * RACERS, True), ((remove,) * RACERS, False), ((add, remove) * (RACERS // 2), None)
    for calls, associated in rounds:
        answers = race(calls)
        problems = _answers_allowed(answers, code, user, expect_one_success=associated is False)
        _converged(target, code, user, associated, problems)
    add(), remove()  # whatever the mix left: the same two requests, so a seed still fixes what is sent


def _answers_allowed(answers: Sequence[Exchange], code: str, user: str, expect_one_success: bool) -> rules.Problems:
    """Each association a success listing the room once; each removal a success or a 4xx (already gone)."""
    problems = []
    for answer in answers:
        if answer.operation_id == ADD_USER_ROOM:
            if answer.status not in (200, 201):
                problems.append(f"a parallel association answered {answer.status}")
            elif isinstance(answer.body, Mapping) and isinstance(answer.body.get("data"), list):
                times = sum(1 for r in answer.body["data"] if isinstance(r, Mapping) and r.get("code") == code)
                problems += [] if times == 1 else [f"room {code!r} is {times} times among user {user}'s rooms"]
        elif not 200 <= answer.status < 300:
            problems += rules.client_error(answer.status, answer.body, "a parallel removal")
    removed = [a for a in answers if a.operation_id == REMOVE_USER_ROOM and 200 <= a.status < 300]
    if expect_one_success and not removed:
        problems.append(f"none of {len(answers)} parallel removals of an association succeeded")
    return problems


def _converged(target: Target, code: str, user: str, associated: bool | None, problems: rules.Problems) -> None:
    """The state after a race: the user once or not at all among the providers (as `associated` says, when it
    says), and the provider detail agreeing (both read again within the consistency window while they disagree)."""
    View = tuple[Exchange, Exchange]

    def read() -> View:
        providers = target.call(LIST_ROOM_PROVIDERS, path={"code": code})
        return providers, target.call(GET_ROOM_PROVIDER, path={"code": code, "id": user})

    def state(view: View) -> rules.Problems:
        providers, detail = view
        times = sum(1 for p in providers.data if str(p.get("id")) == user)
        found = [] if times <= 1 else [f"user {user} is {times} times among the providers of room {code!r}"]
        if associated is not None and (times > 0) != associated:
            found.append(f"user {user} is {'not ' if associated else ''}a provider of room {code!r} after the race")
        if (detail.status == 200) != (times > 0):
            found.append(f"GET /rooms/{code}/providers/{user} answered {detail.status}; the list has the user {times}×")
        return found

    view = settled(target, read, state, lambda view: view[0])
    target.expect(rules.CONCURRENT_ASSOCIATIONS_CONVERGE, problems + state(view), *view)
