"""The layers side by side against a live deployment across the network.

The schema layer's operations, the links-driven workflow, the model-based layer and the near-miss token probes
spend nearly all their time waiting for answers; one after another they cost the sum of those waits (150 ms away,
`ci` took 117 s, 103 s of it in these four). A test marked `@pytest.mark.contract_side_by_side(name, body)` has its
`body` run (its parameters are session fixtures, by name, as a test's are) in a thread of its own, and when the
first such test is reached, every selected one is started at once; each test then waits for its own body and
reports its outcome (a failure, a skip, a result) as if it had run alone. A body holds the target's baton while it
runs Python (Hypothesis and schemathesis are not thread-safe; the transport gives the baton up while a request is
out: `transport.Baton`), so only the waits overlap; the model, whose steps are one after another, gets it first.

What keeps each layer's verdict what it would be alone is ownership: a layer associates users only with the rooms
it created itself (`discovery.own_room`), so no layer changes a room another one predicts; each creates rooms only
from its own share of --contract-max-rooms, divided before any test runs (`select`, from the mark's `rooms=`, the
least the layer needs, and `more=`, whether it uses a share of the spare: `footprint.RoomAllowance.divide`), so none
is left without a room because another got there first; and only one layer moves users' default rooms
(`moves_defaults`): the first of `PRIORITY` the run selected, the others leave `default` out, so no layer sees a
default move it did not ask for. Lists may show another layer's rooms, as they may show another client's on a live
clinic, which every rule already allows. The other tests (the races of test_concurrency.py, the no-5xx probes) run
on pytest's main thread, before, between or after.

Never in-process (one interpreter and one app: the target's concurrency is 1), at `--contract-concurrency 1`
(today's order, the anchor), or under pytest-xdist (its workers already run the test files side by side, each in its
own process). The bodies run with their layer set and their share in every mode (rooms owned and slugs numbered per
layer). Side by side, what depends on the others' writes meanwhile may differ between two runs of one seed: the codes
a deployment gives new rooms (so a layer picks rooms by the order it made them, never by code, and the model's
sample of the clinic leaves this run's rooms out) and how many pages a walk takes."""

from __future__ import annotations

import contextvars
import inspect
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .target import Target

MARK = "contract_side_by_side"
STOP_WAIT = 30.0  # seconds the end of the run waits for each layer still running to unwind
PRIORITY = ("model", "schema", "links", "tokens")  # of those selected, the first moves users' default rooms
Body = Callable[..., Any]


@dataclass(frozen=True)
class Need:
    """What a layer needs of the room allowance (`footprint.RoomAllowance.divide`): `least` to check every rule it
    checks, and whether it uses `more` (more random creates) when the allowance has rooms to spare."""

    layer: str
    least: int
    more: bool = False


@dataclass(frozen=True)
class Layer:
    """A layer as its requests know it: its name, and the test it reports to (advisories are attached there)."""

    name: str
    item: pytest.Item | None = None


LAYER: contextvars.ContextVar[Layer | None] = contextvars.ContextVar("vsee_contract_layer", default=None)


def current_layer() -> str | None:
    """The layer the calling code runs in (None: a test of its own, never side by side with a layer)."""
    layer = LAYER.get()
    return layer.name if layer is not None else None


def layer_rank() -> int:
    """Who is handed the baton first when several wait (`transport.Baton`): the model, whose steps are one after
    another, the longest chain of waits; then the other layers; then the tests that are no layer."""
    return _rank(current_layer())


def _rank(name: str | None) -> int:
    return PRIORITY.index(name) if name in PRIORITY else len(PRIORITY)


def submit_here(pool: Any, function: Callable[..., Any], *args: Any) -> Future[Any]:
    """`pool.submit`, the new thread inside the caller's layer (a thread starts with an empty context)."""
    context = contextvars.copy_context()
    return pool.submit(context.run, function, *args)  # type: ignore[no-any-return]


class SideBySide:
    """The run's side-by-side layers: which are selected, which were started, and their outcomes."""

    def __init__(self, overlap: bool) -> None:
        self.overlap = overlap  # False: each body runs when its own test is reached
        self.stopped = False  # the run has ended: a layer still running sends nothing more (`Target.gate`)
        self._started: dict[str, Future[Any]] = {}
        self._threads: list[threading.Thread] = []
        self._selected: list[str] = []  # the layers of this run's selected (and not skipped) tests, in PRIORITY
        self._lock = threading.Lock()

    def outcome(self, request: pytest.FixtureRequest) -> Any:
        """The result of the running test's body (raising what it raised): waited for when it was started beside
        the others, else run now, in this thread."""
        name, body = _marked_or_fail(request.node)
        if not self.overlap:
            context = contextvars.copy_context()
            context.run(LAYER.set, Layer(name, request.node))
            return context.run(body, **_fixtures(body, request))
        target = request.getfixturevalue("target")
        target.baton.keep()  # pytest's own Python (a failure's report parses source) no longer runs beside theirs
        for item in request.session.items:
            if (marked := _marked(item)) is not None:
                self._start(item, *marked, request)
        with self._lock:
            done = self._started[name]
        with target.baton.released():
            return done.result()

    def select(self, items: list[pytest.Item]) -> list[Need]:
        """The run's selected layers (from its items, before any runs), each with what it needs of the room
        allowance, in PRIORITY (the first is served first; unknown names after them, in the order collected)."""
        needs: dict[str, Need] = {}
        for item in items:
            marker = _marker(item)
            if marker is not None:
                name = str(marker.args[0])
                needs[name] = Need(name, int(marker.kwargs.get("rooms", 0)), bool(marker.kwargs.get("more", False)))
        ordered = sorted(needs.values(), key=lambda need: _rank(need.layer))
        self._selected = [need.layer for need in ordered]
        return ordered

    def claim(self, rooms: list[str]) -> str | None:
        """Of the suite's rooms from earlier runs, the one the calling layer may claim (None: no such room for it):
        the n-th of them for the n-th selected layer, so which layer uses which does not depend on timing."""
        name = current_layer()
        position = self._selected.index(name) if name in self._selected else len(rooms)
        return rooms[position] if position < len(rooms) else None

    def moves_defaults(self) -> bool:
        """Whether the calling layer may move users' default rooms: any, one after another; side by side the first
        of PRIORITY among the run's selected layers (decided by the selection, not by timing; the tests that are no
        layer run alone, and may)."""
        if not self.overlap:
            return True
        name = current_layer()
        return name is None or name == (self._selected[0] if self._selected else name)

    def _start(self, item: pytest.Item, name: str, body: Body, request: pytest.FixtureRequest) -> None:
        with self._lock:
            if name in self._started:
                return
            done: Future[Any] = Future()
            self._started[name] = done
        fixtures = _fixtures(body, request)  # here: pytest's fixtures are not for other threads
        context = contextvars.copy_context()
        context.run(LAYER.set, Layer(name, item))
        thread = threading.Thread(
            target=context.run,
            args=(self._run, body, request.getfixturevalue("target"), fixtures, done),
            name=f"vsee-contract-{name}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)

    def stop(self, target: Target) -> None:
        """The run has ended, maybe early (an outage, a stop at the first failure, Ctrl-C) with layers still running:
        from now on they send nothing (`Target.gate` refuses), pytest's thread gives the baton up for good, and each
        layer is waited for (bounded), so the clean-up that follows writes last and the interpreter can exit."""
        self.stopped = True
        target.baton.drop()
        for thread in self._threads:
            thread.join(STOP_WAIT)

    def _run(self, body: Body, target: Target, fixtures: dict[str, Any], done: Future[Any]) -> None:
        try:
            with target.baton.held():
                result = body(**fixtures)
        except BaseException as exc:  # a failure, a skip or an exit alike: raised again in the layer's own test
            done.set_exception(exc)
        else:
            done.set_result(result)


def selected(items: list[pytest.Item]) -> bool:
    """Whether any of `items` is a layer that will run."""
    return any(_marker(item) is not None for item in items)


def _fixtures(body: Body, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The session fixtures `body` names, by its parameters."""
    return {name: request.getfixturevalue(name) for name in inspect.signature(body).parameters}


def _marked_or_fail(item: pytest.Item) -> tuple[str, Body]:
    marked = _marked(item)
    if marked is None:
        raise RuntimeError(f"{item.nodeid} is not marked {MARK}(name, body)")
    return marked


def _marked(item: pytest.Item) -> tuple[str, Body] | None:
    marker = _marker(item)
    if marker is None:
        return None
    name, body = marker.args
    return str(name), body


def _marker(item: pytest.Item) -> pytest.Mark | None:
    """The item's layer mark, unless it is skipped (e.g. a write without --contract-allow-writes)."""
    marker = item.get_closest_marker(MARK)
    return None if marker is None or item.get_closest_marker("skip") is not None else marker
