"""Find what a rule needs through the API itself (never from fixtures), and make what it may create.

A missing precondition is a skip with the reason and the option that supplies it, never a silent pass.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from vsee_contract.operations import CREATE_ROOM, LIST_ROOM_PROVIDERS, LIST_ROOMS

from .footprint import NO_SUCH_ROOM
from .settings import ROOM_PREFIX, SuiteSettings
from .side_by_side import current_layer
from .target import FORM_MEDIA, JSON_MEDIA, Exchange, Target

F = TypeVar("F", bound=Callable[..., Any])
MEDIA_TYPES = st.sampled_from((JSON_MEDIA, *FORM_MEDIA))
NAMES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s != "")


# Valid data that a server must keep as sent, whatever it stores or renders it with: the model's tour creates one room
# with each (one per request encoding), so every run, live included, sees each read give it back unchanged.
TRICKY_NAMES = (
    '  Zoë\'s <b>Room</b> & "Friends" \\o/ 🎉 日本語  clinic',
    "<script>alert('x')</script> &amp; &lt;tag&gt; 'single' \"double\" back\\slash C:\\path",
    "Ünïcödé ĉĥàŕš — " + "long name with emoji 🩺 " * 5 + "end",
)
TRICKY_SLUG_SUFFIX = "-zoë-ünï"  # the contract lets a slug be any non-empty text


def run_id(settings: SuiteSettings) -> str:
    """Six hex digits from the seed (and the xdist worker): one seed replays the same slugs (so a run can be
    reproduced), another seed gives others (so runs against one deployment do not clash), and so does each worker
    of one run (they share its seed)."""
    key = str(settings.seed) if settings.worker is None else f"{settings.seed}/{settings.worker}"
    return hashlib.sha256(key.encode()).hexdigest()[:6]


def unique_part(target: Target) -> re.Pattern[str]:
    """What `unique_slug` put in front of a value, to take it off again before a re-sent case is re-prefixed."""
    return re.compile(rf"^{re.escape(ROOM_PREFIX)}{run_id(target.settings)}-([a-z]+-)?[0-9]+-?")


def rule_examples(settings: SuiteSettings) -> Callable[[F], F]:
    """Hypothesis settings from the run's profile, for a test built inside a test function (the settings are known
    only once pytest is configured); `--contract-seed` makes the examples reproducible."""

    def apply(test: F) -> F:
        test = hypothesis.settings(
            max_examples=settings.profile.behaviour_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
            # Shrinking a failure costs many more writes; against a live deployment the first failure is reported.
            phases=tuple(Phase) if settings.in_process else (Phase.explicit, Phase.generate),
        )(test)
        return hypothesis.seed(settings.seed)(test)

    return apply


def unique_slug(target: Target) -> str:
    """A slug no earlier call (in this or any run) produced, with the suite's recognisable prefix; numbered per
    layer (`ct-<run>-model-3`), so layers side by side get the same slugs whichever asks first."""
    layer = current_layer()
    numbers = target.slug_numbers.setdefault(layer, itertools.count(1))
    return f"{ROOM_PREFIX}{run_id(target.settings)}-{f'{layer}-' if layer else ''}{next(numbers)}"


def list_all_rooms(target: Target) -> list[dict[str, Any]]:
    """The whole list: one unpaged call, which the contract says returns everything."""
    data = target.call(LIST_ROOMS).data
    return list(data)


def clinic_domain(target: Target) -> str:
    """The domain new rooms go in: --contract-domain, else the one the clinic's existing rooms use (learnt once)."""
    if target.domain is None:
        rooms = list_all_rooms(target)
        if not rooms:
            pytest.skip(
                "no room discovered through GET /rooms to learn the clinic's domain from; pass --contract-domain"
            )
        target.domain = str(rooms[0]["domain"])
    return target.domain


def own_room(target: Target, code: str) -> str:
    """`code` if the calling layer may associate users with that room, else one it may: a live deployment's
    associations are made and removed only on rooms this run created or the suite's own rooms from earlier runs
    (contract_tests.footprint), creating one only when there is none and the room allowance lasts.

    A layer (contract_tests.side_by_side) uses only rooms it made, or the earlier suite room it may claim (the n-th
    for the n-th selected layer), so a layer running beside it never sees a room it predicts change; the tests that
    are no layer share the rest. A layer left with none (its share of --contract-max-rooms spent) aims at a room that
    does not exist: a refusal, still judged."""
    layer, ledger, footprint = current_layer(), target.ledger, target.footprint
    with target.baton.acquired(target.creating):  # operations run at once make one room between them, not one each
        earlier = footprint.suite_rooms() if footprint is not None else []
        mine = [c for c in (*ledger.created_rooms, *earlier) if layer is None or ledger.made_by.get(c) == layer]
        if code in mine:
            return code
        if not mine:
            claimed = target.side_by_side.claim(earlier) if layer is not None else None
            if claimed is not None and claimed not in ledger.made_by:
                ledger.made_by[claimed] = layer  # claimed: no other layer associates with it
                mine = [claimed]
            elif layer is not None and target.rooms.left() == 0:
                return NO_SUCH_ROOM  # none to be had for this layer: aimed at no room, which must be refused
            else:
                mine = [str(create_room(target).data["code"])]
        return mine[0]


def create_room(target: Target, media_type: str = JSON_MEDIA, **fields: Any) -> Exchange:
    """POST /rooms with a fresh prefixed slug (unless given) in the clinic's domain; must succeed. Skipped when the
    room allowance (--contract-max-rooms) has no room left for it."""
    body = {"domain": clinic_domain(target), "slug": unique_slug(target), "name": "Contract test room", **fields}
    if not target.rooms.take(str(body["slug"])):
        pytest.skip(f"--contract-max-rooms {target.rooms.limit} reached and the suite has no room here to reuse")
    exchange = target.call(CREATE_ROOM, body=body, media_type=media_type)
    assert exchange.status in (200, 201), f"could not create a room to test with\n  {exchange.describe()}"
    return exchange


def providers_of(target: Target, code: str) -> set[str]:
    """The ids of a room's providers."""
    return {str(p["id"]) for p in target.call(LIST_ROOM_PROVIDERS, path={"code": code}).data}


def a_user_to_associate(target: Target, code: str) -> str | None:
    """--contract-user-id, else a provider of a listed room who is no provider of `code`."""
    if target.settings.user_id:
        return target.settings.user_id
    taken = providers_of(target, code)
    for room in target.call(LIST_ROOMS).data[: target.settings.profile.sample_rooms]:
        found = sorted(providers_of(target, str(room["code"])) - taken)
        if found:
            return found[0]
    return None
