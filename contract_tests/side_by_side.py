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
it created itself (`discovery.own_room`), so no layer changes a room another one predicts; and only one layer moves
users' default rooms (`moves_defaults`): the first of `PRIORITY` the run selected, the others leave `default` out,
so no layer sees a default move it did not ask for. Lists may show another layer's rooms, as they may show another
client's on a live clinic, which every rule already allows. The other tests (the races of test_concurrency.py,
the no-5xx probes) run alone, before or after.

Only with `--contract-side-by-side` (experimental: the layers still draw on --contract-max-rooms in whatever order
they reach it, so one can be left without a room). Never in-process (one interpreter and one app: the target's
concurrency is 1), at `--contract-concurrency 1` (today's order, the anchor), or under pytest-xdist (its workers
already run the test files side by side, each in its own process). The bodies run with their layer set in every
mode (rooms owned and slugs numbered per layer); side by side, what depends on the others' writes meanwhile (which
creates the room allowance still covers, how many pages a walk takes) may differ between two runs of one seed."""

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
PRIORITY = ("model", "schema", "links", "tokens")  # of those selected, the first moves users' default rooms
Body = Callable[..., Any]


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
    return PRIORITY.index(name) if (name := current_layer()) in PRIORITY else len(PRIORITY)


def submit_here(pool: Any, function: Callable[..., Any], *args: Any) -> Future[Any]:
    """`pool.submit`, the new thread inside the caller's layer (a thread starts with an empty context)."""
    context = contextvars.copy_context()
    return pool.submit(context.run, function, *args)  # type: ignore[no-any-return]


class SideBySide:
    """The run's side-by-side layers: which are selected, which were started, and their outcomes."""

    def __init__(self, overlap: bool) -> None:
        self.overlap = overlap  # False: each body runs when its own test is reached
        self._started: dict[str, Future[Any]] = {}
        self._selected: set[str] = set()  # the layers of this run's selected (and not skipped) tests
        self._lock = threading.Lock()

    def outcome(self, request: pytest.FixtureRequest) -> Any:
        """The result of the running test's body (raising what it raised): waited for when it was started beside
        the others, else run now, in this thread."""
        name, body = _marked_or_fail(request.node)
        with self._lock:
            if not self._selected:
                self._selected = {marked[0] for item in request.session.items if (marked := _marked(item))}
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

    def moves_defaults(self) -> bool:
        """Whether the calling layer may move users' default rooms: any, one after another; side by side the first
        of PRIORITY among the run's selected layers (decided by the selection, not by timing; the tests that are no
        layer run alone, and may)."""
        if not self.overlap:
            return True
        name = current_layer()
        first = next((layer for layer in PRIORITY if layer in self._selected), name)
        return name is None or name == first

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

    def _run(self, body: Body, target: Target, fixtures: dict[str, Any], done: Future[Any]) -> None:
        try:
            with target.baton.held():
                result = body(**fixtures)
        except BaseException as exc:  # a failure, a skip or an exit alike: raised again in the layer's own test
            done.set_exception(exc)
        else:
            done.set_result(result)


def _fixtures(body: Body, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The session fixtures `body` names, by its parameters."""
    return {name: request.getfixturevalue(name) for name in inspect.signature(body).parameters}


def _marked_or_fail(item: pytest.Item) -> tuple[str, Body]:
    marked = _marked(item)
    if marked is None:
        raise RuntimeError(f"{item.nodeid} is not marked {MARK}(name, body)")
    return marked


def _marked(item: pytest.Item) -> tuple[str, Body] | None:
    marker = item.get_closest_marker(MARK)
    if marker is None or item.get_closest_marker("skip") is not None:
        return None
    name, body = marker.args
    return str(name), body
