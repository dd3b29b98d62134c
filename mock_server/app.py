"""The app factory: contract + fixtures + state + the pipeline with the mock's ending + developer conveniences."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from vsee_contract import Contract
from vsee_http import (
    Journal,
    Pipeline,
    api_prefixes,
    base_app,
    error_body,
    finish,
    json_response,
    shown,
)

from .database import Database
from .fast_reads import FastReads, WSGIApp
from .fixtures import AccountFixture, FixtureError, load_fixtures
from .handlers import HANDLERS, Handler
from .mocking import MockEnding
from .namespaces import DEFAULT, NAMESPACE_HEADER, Namespaces, namespace_of
from .scenarios import SCENARIOS
from .shared_journal import SharedJournal
from .site import SITE
from .state_db import StateDatabase, StateNotSaved
from .store import Store

RUNTIME_KEY = "vsee_mock"


@dataclass(frozen=True)
class MockConfig:
    """How to build the mock. `latency` is a (min, max) delay in seconds; `error_rate` a 0..1 probability."""

    spec_path: str | Path | None = None
    fixtures_dir: str | Path | None = None
    seed: int | None = None
    strict: bool = True
    latency: tuple[float, float] | None = None
    error_rate: float = 0.0
    cors_origins: tuple[str, ...] = ("*",)
    scenario: str = "default"
    state_file: str | Path | None = None
    state_url: str | None = None  # a PostgreSQL database (postgresql://...) instead of SQLite


@dataclass
class MockRuntime:
    """What the app keeps between requests; `runtime(app)` reaches it."""

    config: MockConfig
    contract: Contract
    namespaces: Namespaces
    faults: random.Random
    journal: Journal
    fixtures: list[AccountFixture]  # the accounts the mock starts with (the banner lists them)

    @property
    def store(self) -> Store:
        """The default namespace's state."""
        return self.namespaces.get(DEFAULT)

    @property
    def scenario(self) -> str:
        return self.store.scenario

    def close(self) -> None:
        """At a clean stop: the journal's waiting calls written, the state database complete on its own and closed."""
        if isinstance(self.journal, SharedJournal):
            self.journal.close()
        self.namespaces.database.close()

    def reset(self, scenario: str | None = None, namespace: str = DEFAULT) -> None:
        """A namespace back to the fixtures of `scenario` (validated first; unknown names raise KeyError), or of its
        current one."""
        self.namespaces.reset(namespace, scenario)


def runtime(app: Flask) -> MockRuntime:
    """The running mock behind an app made by `create_app` (TypeError for any other app)."""
    found = app.extensions.get(RUNTIME_KEY)
    if not isinstance(found, MockRuntime):
        raise TypeError(f"{app!r} was not made by mock_server.create_app")
    return found


def _config(config: MockConfig | Mapping[str, Any] | None) -> MockConfig:
    if config is None:
        return MockConfig()
    if isinstance(config, MockConfig):
        return config
    return replace(MockConfig(), **dict(config))


def create_app(
    config: MockConfig | Mapping[str, Any] | None = None, handlers: Mapping[str, Handler] | None = None
) -> Flask:
    """Build the mock: loads and validates the spec and fixtures (FixtureError on a bad one), then wires routes.

    `handlers` replace the mock's own, per operation id, in this app only (e.g. a deliberately broken variant)."""
    cfg = _config(config)
    if cfg.scenario not in SCENARIOS:
        raise FixtureError(f"unknown scenario {cfg.scenario!r}; known: {', '.join(SCENARIOS)}")
    contract = Contract.load(cfg.spec_path)
    fixtures = load_fixtures(cfg.fixtures_dir, contract.spec, SCENARIOS[cfg.scenario])
    database = _database(cfg)  # opened on first use, in each process
    headers = (contract.spec.security_header(), contract.spec.account_header())
    # workers sharing a database share the journal too (through a connection of its own)
    journal = SharedJournal(database.sibling(), SITE, *headers) if database.shared else Journal(SITE, *headers)

    def scenario_fixtures(name: str) -> list[AccountFixture]:
        return fixtures if name == cfg.scenario else load_fixtures(cfg.fixtures_dir, contract.spec, SCENARIOS[name])

    namespaces = Namespaces(database, cfg.scenario, scenario_fixtures, cfg.seed)
    state = MockRuntime(cfg, contract, namespaces, random.Random(cfg.seed), journal, fixtures)

    app = base_app(SITE, contract, journal)
    app.extensions[RUNTIME_KEY] = state
    ending = MockEnding(contract, namespaces, cfg.strict, {**HANDLERS, **(handlers or {})})
    Pipeline(contract, ending, SITE).register(app)
    _add_admin_routes(app, state)
    _add_faults(app, state)
    app.register_error_handler(StateNotSaved, _unavailable)
    if not cfg.latency and not cfg.error_rate:  # replays would skip the injected delay or fault
        replays = FastReads(app.wsgi_app, namespaces, journal, api_prefixes(contract), contract.spec.account_header())
        app.wsgi_app = replays  # type: ignore[method-assign]
    app.wsgi_app = _fenced(app.wsgi_app, database)  # type: ignore[method-assign,assignment]
    return finish(app, contract, cfg.cors_origins, ["Preference-Applied"])


def _fenced(app: WSGIApp, database: StateDatabase) -> WSGIApp:
    """Each answer leaves once the writes it acknowledges may be read anywhere (`StateDatabase.answering()`): the
    fence waits at the end of the answer, not of the write, so the other instances' confirmations come in while the
    answer is rendered, validated and journalled."""

    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with database.answering():
            return app(environ, start_response)

    return answer


def _database(cfg: MockConfig) -> StateDatabase:
    if cfg.state_url:
        from .postgres import PostgresDatabase  # psycopg is imported only by a mock that uses it

        return PostgresDatabase(cfg.state_url)
    return Database(Path(cfg.state_file) if cfg.state_file else None)


def _unavailable(exc: StateNotSaved) -> Response:
    """The state database failed under an admin route or a read (a write answers its own 503 in the pipeline)."""
    return json_response(503, error_body(503, f"{exc}; try again once the state database is back"))


def _add_admin_routes(app: Flask, state: MockRuntime) -> None:
    """Each acts on the namespace the request names (`X-Mock-Namespace` or `?__namespace=`), the default without."""

    def namespace() -> str:
        return namespace_of(request.environ)

    @app.get(SITE.admin_prefix)
    @app.get(f"{SITE.admin_prefix}/")
    def index() -> Response:
        """This index of the admin API (made from the routes themselves)."""
        return json_response(200, {"data": {**_admin_index(app), "state": state.namespaces.database.status()}})

    @app.post(f"{SITE.admin_prefix}/reset")
    def reset() -> Response:
        """The namespace back to its scenario's fixtures."""
        state.reset(namespace=namespace())
        return json_response(200, {"data": {"reset": True}})

    @app.get(f"{SITE.admin_prefix}/state")
    def snapshot() -> Response:
        """The namespace's accounts with their rooms, users, queues and default rooms (no tokens)."""
        return json_response(200, {"data": state.namespaces.get(namespace()).snapshot()})

    @app.get(f"{SITE.admin_prefix}/scenario")
    def scenario() -> Response:
        """The namespace's scenario and the scenarios there are."""
        available = [{"name": s.name, "description": s.description} for s in SCENARIOS.values()]
        store = state.namespaces.get(namespace())
        store.sync()
        current = store.scenario
        return json_response(200, {"data": {"current": current, "available": available}})

    @app.post(f"{SITE.admin_prefix}/scenario")
    def switch_scenario() -> Response:
        """Switch with `{"name": "closed"}` (JSON) or `?name=closed`; the namespace resets to that scenario."""
        known = ", ".join(SCENARIOS)
        name: object = request.args.get("name")
        if request.get_data(cache=True):
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return json_response(400, error_body(400, 'body: expected a JSON object like {"name": "closed"}'))
            name = body.get("name")
        if not isinstance(name, str):
            return json_response(400, error_body(400, f"name: expected one of {known} as a string"))
        if name not in SCENARIOS:
            return json_response(404, error_body(404, f"Unknown scenario '{shown(name)}'; known: {known}"))
        state.reset(name, namespace())
        return scenario()

    @app.get(f"{SITE.admin_prefix}/namespaces")
    def namespaces() -> Response:
        """Every namespace (shared by every worker and instance on the same state)."""
        return json_response(200, {"data": state.namespaces.names()})

    @app.delete(f"{SITE.admin_prefix}/namespace")
    def drop_namespace() -> Response:
        """Forget the named namespace (the default one is reset instead)."""
        name = namespace()
        return json_response(200, {"data": {"namespace": name, "dropped": state.namespaces.drop(name)}})


def _admin_index(app: Flask) -> dict[str, Any]:
    """Each admin route with its methods and the first line of its docstring, as the app has them."""
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(f"{SITE.admin_prefix}/") or "<path:" in rule.rule:
            continue
        doc = " ".join((app.view_functions[rule.endpoint].__doc__ or "").split("\n\n")[0].split())
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append({"method": method, "path": rule.rule, "description": doc})
    return {
        "routes": routes,
        "namespace": f"{NAMESPACE_HEADER}: NAME (or ?__namespace=NAME) picks the namespace an admin call acts on",
        "console": "/",
    }


def _add_faults(app: Flask, state: MockRuntime) -> None:
    """--latency and --error-rate, on API calls only (after the pipeline's own checks)."""
    cfg = state.config
    prefixes = api_prefixes(state.contract)

    @app.before_request
    def inject() -> Response | None:
        if request.method == "OPTIONS" or not request.path.startswith(prefixes):
            return None
        if cfg.latency:
            low, high = cfg.latency
            time.sleep(low if low == high else state.faults.uniform(low, high))
        if cfg.error_rate and state.faults.random() < cfg.error_rate:
            return json_response(503, error_body(503, "Injected fault (--error-rate): service unavailable."))
        return None
