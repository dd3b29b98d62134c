"""The validation proxy's app: the shared pipeline ending upstream, plus a pass-through for undocumented paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, request

from vsee_contract import Contract, v4_base
from vsee_http import Journal, Pipeline, api_prefixes, base_app, finish, json_response

from .forwarding import VIOLATIONS_HEADER, ProxyEnding
from .recorder import FixtureFormat, Recorder
from .site import SITE
from .violations import ViolationLog

RUNTIME_KEY = "vsee_proxy"


@dataclass(frozen=True)
class ProxyConfig:
    upstream: str  # the v3 base, e.g. https://api.vsee.me/api_v3
    violations_path: str | Path | None = None
    fail_on_violation: bool = False
    record_dir: str | Path | None = None
    spec_path: str | Path | None = None
    cors_origins: tuple[str, ...] = ("*",)
    timeout: float = 30.0
    upstream_v4: str | None = None  # default: the v3 base with api_v3 -> api_v4


@dataclass
class ProxyRuntime:
    """What the proxy keeps between requests; `proxy_runtime(app)` reaches it."""

    config: ProxyConfig
    contract: Contract
    journal: Journal
    violations: ViolationLog
    recorder: Recorder | None


def proxy_runtime(app: Flask) -> ProxyRuntime:
    found = app.extensions.get(RUNTIME_KEY)
    if not isinstance(found, ProxyRuntime):
        raise TypeError(f"{app!r} was not made by vsee_proxy.create_proxy_app")
    return found


def upstreams(config: ProxyConfig) -> dict[str, str | None]:
    """Each local base path's upstream base: /api_v3 -> --upstream, /api_v4 -> --upstream-v4 or derived."""
    v3 = config.upstream.rstrip("/")
    return {"/api_v3": v3, "/api_v4": (config.upstream_v4 or "").rstrip("/") or v4_base(v3)}


def create_proxy_app(config: ProxyConfig, fixtures: FixtureFormat | None = None) -> Flask:
    """The proxy; with `config.record_dir`, `fixtures` says what the recording must be (the mock's fixture format,
    handed in by the CLI: the proxy imports no mock)."""
    if config.record_dir and fixtures is None:
        raise TypeError("create_proxy_app: a recording (record_dir) needs fixtures=FixtureFormat(...)")
    contract = Contract.load(config.spec_path)
    token_header = contract.spec.security_header()
    journal = Journal(SITE, token_header, contract.spec.account_header())
    recorder = Recorder(Path(config.record_dir), contract.spec, fixtures) if config.record_dir and fixtures else None
    violations = ViolationLog(config.violations_path, token_header)
    state = ProxyRuntime(config, contract, journal, violations, recorder)
    ending = ProxyEnding(contract, upstreams(config), violations, recorder, config.fail_on_violation, config.timeout)

    app = base_app(SITE, contract, journal)
    app.extensions[RUNTIME_KEY] = state
    Pipeline(contract, ending, SITE).register(app)

    versions = ", ".join(prefix.strip("/") for prefix in api_prefixes(contract))

    @app.route(f"/<any({versions}):version>/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def undocumented(version: str, rest: str) -> Response:
        """What the contract does not describe is forwarded too, counted, and not judged."""
        violations.count(f"{request.method} {request.path}", [])
        return ending.forward(f"/{version}").response()

    def violations_summary() -> Response:
        """Exchanges and violations per operation and rule, as the exit summary gives them."""
        return json_response(200, {"data": violations.summary()})

    for prefix in SITE.admin_prefixes:
        app.add_url_rule(f"{prefix}/violations", f"violations{prefix}", violations_summary, methods=["GET"])

    return finish(app, contract, config.cors_origins, [VIOLATIONS_HEADER])
