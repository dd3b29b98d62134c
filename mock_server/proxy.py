"""The validation proxy: forward live traffic to a real deployment and judge every exchange against the contract.

Each request goes upstream unchanged; the answer comes back unchanged, plus `X-Contract-Violations: N` when the
exchange broke the contract (request schema, response schema, and the rules one exchange or this session can
show). Violations are appended as JSON lines (tokens redacted) and summed up per operation and rule on exit;
with `fail_on_violation` the client gets a 502 in the error shape instead.
"""

from __future__ import annotations

import json
import logging
import shlex
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from flask import Flask, Response, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule

from vsee_contract import Contract, RequestInvalid, Violation, rules

from .app import CORS_HEADERS, MAX_BODY_BYTES
from .console import console_blueprint
from .errors import error_body
from .journal import Journal
from .recorder import Recorder
from .routing import JSON, flask_rule, json_response

log = logging.getLogger("vsee_mock")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"}  # fmt: skip
SECRET_HEADERS = {"x-apitoken", "x-apikey", "x-apisecret", "authorization", "cookie"}
REQUEST_SCHEMA = "request-schema"
CONTENT_TYPE_JSON = "json-content-type"


@dataclass
class ProxyConfig:
    upstream: str  # the v3 base, e.g. https://api.vsee.me/api_v3
    violations_path: str | Path | None = None
    fail_on_violation: bool = False
    record_dir: str | Path | None = None
    spec_path: str | Path | None = None
    cors_origins: tuple[str, ...] = ("*",)
    timeout: float = 30.0


@dataclass
class ProxyRuntime:
    config: ProxyConfig
    contract: Contract
    journal: Journal
    recorder: Recorder | None
    summary: Counter[tuple[str, str]] = field(default_factory=Counter)
    exchanges: Counter[str] = field(default_factory=Counter)
    created: set[tuple[str, str]] = field(default_factory=set)  # (account, code) acknowledged by POST /rooms
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary_lines(self) -> list[str]:
        lines = [f"{op}: {n} exchanges" for op, n in sorted(self.exchanges.items())]
        lines += [f"  {op} [{rule}] ×{n}" for (op, rule), n in sorted(self.summary.items())]
        return lines or ["no traffic"]


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("[redacted]" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def _curl(method: str, url: str, headers: Mapping[str, str], body: bytes) -> str:
    parts = ["curl", "-X", method]
    for name, value in _redacted(headers).items():
        parts += ["-H", f"{name}: {value}"]
    if body:
        parts += ["--data-binary", body.decode("utf-8", "replace")[:2000]]
    return " ".join(shlex.quote(p) for p in [*parts, url])


def _versions(upstream: str) -> dict[str, str]:
    """The upstream base for each local base path: /api_v3 -> upstream, /api_v4 -> upstream with api_v4."""
    base = upstream.rstrip("/")
    v4 = base[: -len("api_v3")] + "api_v4" if base.endswith("api_v3") else base
    return {"/api_v3": base, "/api_v4": v4}


def create_proxy_app(config: ProxyConfig) -> Flask:
    contract = Contract.load(config.spec_path)
    recorder = Recorder(Path(config.record_dir), contract.spec) if config.record_dir else None
    runtime = ProxyRuntime(config, contract, Journal(), recorder)
    routes = Map([Rule(flask_rule(base, op.path), endpoint=op.operation_id, methods=[op.method])
                  for op in contract.spec.operations.values() for base in op.local_base_paths()])  # fmt: skip
    upstreams = _versions(config.upstream)
    session = requests.Session()
    app = Flask("vsee_proxy")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["vsee_proxy"] = runtime

    @app.route("/<any(api_v3, api_v4):version>/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def forward(version: str, rest: str) -> Response:
        started = time.perf_counter()
        raw_body = request.get_data(cache=True)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        url = f"{upstreams['/' + version]}/{rest}"
        try:
            reply = session.request(request.method, url, params=request.query_string or None, data=raw_body or None,
                                    headers=headers, timeout=config.timeout, allow_redirects=False)  # fmt: skip
        except requests.RequestException as exc:
            return json_response(502, error_body(502, f"Upstream unreachable: {type(exc).__name__}"))
        try:
            operation_id, path = routes.bind("proxy").match(request.path, method=request.method)
        except HTTPException:
            operation_id, path = None, {}
        violations = judge(runtime, operation_id, dict(path), reply) if operation_id else []
        full_url = url + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
        report(runtime, operation_id or f"{request.method} {request.path}", violations, reply, full_url, headers,
               raw_body)  # fmt: skip
        problem = "; ".join(str(v) for v in violations) or None
        runtime.journal.record(request.environ, reply.status_code, (time.perf_counter() - started) * 1000, problem)
        if violations and config.fail_on_violation:
            return json_response(502, error_body(502, f"Contract violation: {problem}"),
                                 {"X-Contract-Violations": str(len(violations))})  # fmt: skip
        out_headers = [(k, v) for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP]
        if violations:
            out_headers.append(("X-Contract-Violations", str(len(violations))))
        return Response(reply.content, status=reply.status_code, headers=out_headers)

    @app.get("/__mock__/violations")
    def violations_summary() -> Response:
        counts = [{"operation": op, "rule": rule, "count": n} for (op, rule), n in sorted(runtime.summary.items())]
        return json_response(200, {"data": {"exchanges": dict(runtime.exchanges), "violations": counts}})

    @app.get("/__mock__/requests")
    def requests_made() -> Response:
        return json_response(200, {"data": runtime.journal.entries(request.args.get("method"),
                                                                   request.args.get("path"))})  # fmt: skip

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = f"No such endpoint: {request.path}" if isinstance(exc, NotFound) else exc.description or exc.name
        return json_response(status, error_body(status, message))

    app.register_blueprint(console_blueprint(contract.spec))
    CORS(app, origins=list(config.cors_origins), allow_headers=CORS_HEADERS,
         expose_headers=["X-Contract-Violations"], max_age=600)  # fmt: skip
    return app


def judge(runtime: ProxyRuntime, operation_id: str, path: dict[str, str], reply: requests.Response) -> list[Violation]:
    """Everything this exchange (and what this session saw before) shows about the upstream."""
    validator = runtime.contract.validator[operation_id]
    sent: Any = None
    query = {k: v for k, v in request.args.items()}
    found: list[Violation] = []
    try:
        media_type = request.mimetype or None
        body: Any = None
        if request.content_length:
            body = json.loads(request.get_data()) if media_type == JSON else request.form.to_dict()
        parsed = validator.parse_request(path, query, request.headers, media_type, body)
        sent, query = parsed.body, parsed.query
    except (RequestInvalid, ValueError) as exc:
        found.append(Violation(REQUEST_SCHEMA, getattr(exc, "message", str(exc))))
    content_type = reply.headers.get("Content-Type")
    try:
        decoded = reply.json() if reply.content else None
    except ValueError:
        decoded = None
        if reply.content:
            found.append(Violation(CONTENT_TYPE_JSON, f"response body is not JSON ({content_type})"))
    found += runtime.contract.judge(operation_id, reply.status_code, content_type, decoded, path, query, sent)
    account = request.headers.get("X-AccountCode", "")
    with runtime.lock:
        if operation_id == "createRoom" and reply.status_code < 300 and isinstance(decoded, dict):
            code = (decoded.get("data") or {}).get("code") if isinstance(decoded.get("data"), dict) else None
            if code:
                runtime.created.add((account, str(code)))
        if operation_id == "getRoom" and reply.status_code >= 400 and (account, path.get("code")) in runtime.created:
            found.append(Violation(rules.CREATED_ROOM_READABLE,
                                   f"room {path.get('code')!r} was created in this session but answers {reply.status_code}"))  # fmt: skip
    if runtime.recorder is not None and not found and reply.status_code == 200 and isinstance(decoded, dict):
        runtime.recorder.observe(operation_id, path, account, decoded)
    return found


def report(runtime: ProxyRuntime, operation: str, violations: list[Violation], reply: requests.Response, url: str,
           headers: Mapping[str, str], body: bytes) -> None:  # fmt: skip
    with runtime.lock:
        runtime.exchanges[operation] += 1
        for violation in violations:
            runtime.summary[(operation, violation.rule)] += 1
    if not violations:
        return
    excerpt = reply.content[:500].decode("utf-8", "replace")
    for violation in violations:
        line = {"rule": violation.rule, "message": violation.message, "operation": operation,
                "request": {"method": request.method, "url": url, "headers": _redacted(headers)},
                "response": {"status": reply.status_code, "excerpt": excerpt},
                "curl": _curl(request.method, url, headers, body)}  # fmt: skip
        text = json.dumps(line)
        for secret in (v for k, v in headers.items() if k.lower() in SECRET_HEADERS):
            text = text.replace(secret, "[redacted]")
        log.warning("contract violation %s [%s] %s", operation, violation.rule, violation.message)
        if runtime.config.violations_path:
            with runtime.lock, Path(runtime.config.violations_path).open("a", encoding="utf-8") as fh:
                fh.write(text + "\n")
