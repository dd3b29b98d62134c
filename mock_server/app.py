"""The app factory: contract + fixtures + state + routes + the conveniences frontend developers expect."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from vsee_contract import Contract

from .console import console_blueprint
from .errors import error_body
from .fast_reads import FastReads
from .fixtures import FixtureError, load_fixtures
from .handlers import HANDLERS, Handler
from .journal import PROBLEM_KEY, Journal, log_call
from .routing import Router, json_response
from .scenarios import SCENARIOS
from .store import Store

log = logging.getLogger("vsee_mock")
ADMIN_PREFIX = "/__mock__"
MAX_BODY_BYTES = 1024 * 1024
MAX_QUERY_BYTES = 64 * 1024
CORS_HEADERS = ["X-AccountCode", "X-ApiToken", "X-ApiKey", "Prefer", "Content-Type"]


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


@dataclass
class MockRuntime:
    """What the app keeps between requests, reachable as `app.extensions["vsee_mock"]`."""

    config: MockConfig
    contract: Contract
    store: Store
    faults: random.Random
    journal: Journal
    scenario: str = "default"

    @functools.cached_property
    def api_prefixes(self) -> tuple[str, ...]:
        """`/api_v3/`, `/api_v4/`: where the API is; faults, latency and the journal apply there only."""
        ops = self.contract.spec.operations.values()
        return tuple(sorted({base + "/" for op in ops for base in op.local_base_paths()}))

    def switch_scenario(self, name: str) -> None:
        """Load the fixtures in scenario `name` (validated first) and reset to them; unknown names raise KeyError."""
        fixtures = load_fixtures(self.config.fixtures_dir, self.contract.spec, SCENARIOS[name])
        self.store.load(fixtures)
        self.scenario = name


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
    state_file = Path(cfg.state_file) if cfg.state_file else None
    store = Store(fixtures, seed=cfg.seed, state_file=state_file)
    runtime = MockRuntime(cfg, contract, store, random.Random(cfg.seed), Journal(), cfg.scenario)

    app = Flask("mock_server")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False  # no 308 redirects: an odd path is a JSON 404, never an undeclared 3xx
    app.extensions["vsee_mock"] = runtime
    app.json.sort_keys = False  # type: ignore[attr-defined]
    Router(contract, store, cfg.strict, {**HANDLERS, **(handlers or {})}).register(app)
    _add_admin_routes(app, runtime)
    app.register_blueprint(console_blueprint(contract.spec))
    _add_faults_and_log(app, runtime)
    _add_error_handlers(app)
    if not cfg.latency and not cfg.error_rate:  # replays would skip the injected delay or fault
        app.wsgi_app = FastReads(app.wsgi_app, store, runtime.journal, runtime.api_prefixes)  # type: ignore[method-assign]
    CORS(
        app,
        origins=list(cfg.cors_origins),
        allow_headers=CORS_HEADERS,
        expose_headers=["Preference-Applied"],
        max_age=600,
    )
    return app


def _add_admin_routes(app: Flask, runtime: MockRuntime) -> None:
    @app.post(f"{ADMIN_PREFIX}/reset")
    def reset() -> Response:
        runtime.store.reset()
        return json_response(200, {"data": {"reset": True}})

    @app.get(f"{ADMIN_PREFIX}/state")
    def state() -> Response:
        return json_response(200, {"data": runtime.store.snapshot()})

    @app.get(f"{ADMIN_PREFIX}/scenario")
    def scenario() -> Response:
        available = [{"name": s.name, "description": s.description} for s in SCENARIOS.values()]
        return json_response(200, {"data": {"current": runtime.scenario, "available": available}})

    @app.post(f"{ADMIN_PREFIX}/scenario")
    def switch_scenario() -> Response:
        """Switch with `{"name": "closed"}` (JSON) or `?name=closed`; the state resets to that scenario."""
        body = request.get_json(silent=True)
        name = body.get("name") if isinstance(body, dict) else request.args.get("name")
        if name not in SCENARIOS:
            return json_response(404, error_body(404, f"Unknown scenario {name!r}; known: {', '.join(SCENARIOS)}"))
        runtime.switch_scenario(name)
        return scenario()

    @app.get(f"{ADMIN_PREFIX}/requests")
    def requests_made() -> Response:
        """The journal, newest first, filtered by ?method=, ?path= (substring) and ?status=."""
        status = request.args.get("status")
        if status is not None and not status.isdigit():
            return json_response(400, error_body(400, "query parameter 'status': must be an HTTP status"))
        entries = runtime.journal.entries(
            request.args.get("method"), request.args.get("path"), int(status) if status else None
        )
        return json_response(200, {"data": entries})

    @app.delete(f"{ADMIN_PREFIX}/requests")
    def clear_requests() -> Response:
        runtime.journal.clear()
        return json_response(200, {"data": {"cleared": True}})


def _add_faults_and_log(app: Flask, runtime: MockRuntime) -> None:
    cfg = runtime.config

    @app.before_request
    def inject() -> Response | None:
        g.started = time.perf_counter()
        if request.method == "OPTIONS" or not request.path.startswith(runtime.api_prefixes):
            return None
        if len(request.query_string) > MAX_QUERY_BYTES:
            return json_response(414, error_body(414, f"Query string longer than {MAX_QUERY_BYTES} bytes."))
        if cfg.latency:
            low, high = cfg.latency
            time.sleep(low if low == high else runtime.faults.uniform(low, high))
        if cfg.error_rate and runtime.faults.random() < cfg.error_rate:
            return json_response(503, error_body(503, "Injected fault (--error-rate): service unavailable."))
        return None

    @app.after_request
    def log_line(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        if request.method != "OPTIONS" and request.path.startswith(runtime.api_prefixes):
            runtime.journal.record(request.environ, response.status_code, elapsed, request.environ.get(PROBLEM_KEY))
        log_call(request.environ, response.status_code, elapsed)
        return response


def _add_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 404:
            message = f"No such endpoint: {request.method} {request.path}"
        keep = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        return json_response(status, error_body(status, message), keep)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error in the mock")
        return json_response(500, error_body(500, f"Internal mock error: {type(exc).__name__}"))
