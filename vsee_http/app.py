"""The Flask app every ending is served by: limits, hooks, error handlers, CORS, the journal and the console."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from vsee_contract import Contract, Refusal

from .console import console_blueprint
from .cors import enable_cors
from .errors import error_body
from .journal import Journal
from .responses import json_response
from .site import Site

MAX_BODY_BYTES = 1024 * 1024
MAX_QUERY_BYTES = 64 * 1024
CONVENIENCE_HEADERS = ["Prefer", "Content-Type"]  # what a browser client sends beyond the contract's headers


def api_prefixes(contract: Contract) -> tuple[str, ...]:
    """`/api_v3/`, `/api_v4/`: where the API is; faults, latency and the journal apply there only."""
    ops = contract.spec.operations.values()
    return tuple(sorted({base + "/" for op in ops for base in op.local_base_paths()}))


def base_app(site: Site, contract: Contract, journal: Journal) -> Flask:
    """A Flask app with the pipeline's common parts; the caller registers its routes, then calls `finish`."""
    app = Flask(site.app_name)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False  # no 308 redirects: an odd path is a JSON 404, never an undeclared 3xx
    app.json.sort_keys = False  # type: ignore[attr-defined]
    journal_routes = journal_blueprint(journal)
    for prefix in site.admin_prefixes:  # the same routes under an alias too, each registered under its own name
        app.register_blueprint(journal_routes, url_prefix=prefix, name=f"journal{prefix}")
    app.register_blueprint(console_blueprint(contract.spec, site))
    _add_timing_and_journal(app, journal, api_prefixes(contract), site.problem_key)
    _add_error_handlers(app, site.log)
    return app


def request_headers(contract: Contract) -> list[str]:
    """Every header a browser client of the contract may send: declared parameters, the token, conveniences."""
    declared = [p.name for op in contract.spec.operations.values() for p in op.params_in("header")]
    return list(dict.fromkeys([*declared, contract.spec.security_header(), *CONVENIENCE_HEADERS]))


def finish(app: Flask, contract: Contract, cors_origins: tuple[str, ...], expose_headers: list[str]) -> Flask:
    """CORS last, so it covers every route and hook the caller added (see `cors`)."""
    enable_cors(app, cors_origins, request_headers(contract), expose_headers)
    return app


def journal_blueprint(journal: Journal) -> Blueprint:
    admin = Blueprint("journal", __name__)

    @admin.get("/requests")
    def requests_made() -> Response:
        """The journal, newest first, filtered by ?method=, ?path= (substring), ?status=, ?valid=true|false and
        ?namespace= (the mock's)."""
        status, valid = request.args.get("status"), request.args.get("valid")
        if status is not None and not status.isdigit():
            return json_response(400, error_body(400, "query parameter 'status': must be an HTTP status"))
        if valid is not None and valid not in ("true", "false"):
            return json_response(400, error_body(400, "query parameter 'valid': must be true or false"))
        entries = journal.entries(
            request.args.get("method"),
            request.args.get("path"),
            int(status) if status else None,
            None if valid is None else valid == "true",
            request.args.get("namespace"),
        )
        return json_response(200, {"data": entries})

    @admin.get("/requests/<int:entry_id>")
    def request_made(entry_id: int) -> Response:
        """One call with its request and response (headers without the token, bodies cut short)."""
        entry = journal.entry(entry_id)
        if entry is None:
            return json_response(404, error_body(404, f"No journal entry {entry_id}: it never was, or was dropped"))
        return json_response(200, {"data": entry})

    @admin.delete("/requests")
    def clear_requests() -> Response:
        """Empty the journal."""
        journal.clear()
        return json_response(200, {"data": {"cleared": True}})

    return admin


def _add_timing_and_journal(app: Flask, journal: Journal, prefixes: tuple[str, ...], problem_key: str) -> None:
    @app.before_request
    def start() -> Response | None:
        g.started = time.perf_counter()
        if request.method == "OPTIONS" or not request.path.startswith(prefixes):
            return None
        if len(request.query_string) > MAX_QUERY_BYTES:
            return json_response(414, error_body(414, f"Query string longer than {MAX_QUERY_BYTES} bytes."))
        return None

    @app.after_request
    def record(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        if request.method != "OPTIONS" and request.path.startswith(prefixes):
            sent = request.content_length or 0
            body = request.get_data(cache=True) if 0 < sent <= MAX_BODY_BYTES else b""
            exchange = (list(response.headers.items()), response.get_data())
            journal.record(
                request.environ, response.status_code, elapsed, request.environ.get(problem_key), body, exchange
            )
        journal.log_call(request.environ, response.status_code, elapsed)
        return response


def _add_error_handlers(app: Flask, log: logging.Logger) -> None:
    @app.errorhandler(Refusal)
    def refused(exc: Refusal) -> Response:
        """A refusal raised outside the pipeline (an admin route): its status, in the error shape."""
        return json_response(exc.status, error_body(exc.status, exc.message), exc.headers)

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
        log.exception("unexpected error in %s", app.name)
        return json_response(500, error_body(500, f"Internal error in {app.name}: {type(exc).__name__}"))
