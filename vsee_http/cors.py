"""CORS for browser apps on another origin, with credentials (`fetch(url, {credentials: 'include'})`).

flask-cors decides whether an `Origin` is allowed and, for an allowed one, echoes it (never `*`) with
`Access-Control-Allow-Credentials: true` and the exposed headers. What it lacks is added here:

- A preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`) is answered before any view, with
  `204 No Content`: no body and no Content-Type. It advertises the methods this server routes at that path
  (from the Flask url_map: on the mock, the methods the contract declares there; on the proxy, also those its
  pass-through forwards) plus OPTIONS, and allows the contract's headers plus every header the browser asks
  for (`Access-Control-Request-Headers`, echoed as Prism does). Cached for `MAX_AGE` seconds.
- A preflight the actual call would fail gets the refusal in the error shape and no `Access-Control-*`
  header, so the browser blocks the call and its network tab shows why: 404 for a path nothing answers,
  405 (with `Allow`) for a method not routed there, 403 for an origin not allowed.
- Every answer carries `Vary: Origin` (a preflight also varies on its two request headers), since what it
  says about CORS depends on the caller's origin.

A request without `Origin` (curl, a test client) gets no CORS header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, Response, g, request
from flask_cors import CORS

from .errors import error_body, shown
from .responses import json_response

MAX_AGE = 600
REQUEST_METHOD = "Access-Control-Request-Method"
REQUEST_HEADERS = "Access-Control-Request-Headers"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"
PREFLIGHT_VARY = ("Origin", REQUEST_METHOD, REQUEST_HEADERS)
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)


def enable_cors(app: Flask, origins: Iterable[str], allow_headers: list[str], expose_headers: list[str]) -> None:
    """CORS on every route of `app` (call it after the last route and hook): `origins` are the allowed ones
    (`*`: any), `allow_headers` what a preflight always allows, `expose_headers` what scripts may read."""
    allowed_origins = list(origins)

    @app.after_request  # registered before flask-cors's hook, so it runs after it: Flask runs them in reverse
    def complete(response: Response) -> Response:
        methods: list[str] | None = g.pop("cors_preflight", None)  # what an accepted preflight advertises
        if not _is_preflight():
            _add_vary(response, ["Origin"])
            return response
        if methods is None:  # refused before any view: no CORS header may say otherwise
            _drop_cors_headers(response)
        elif ALLOW_ORIGIN not in response.headers:
            origin = shown(request.headers["Origin"])
            response = _refusal(403, f"CORS: origin {origin} is not allowed; {_listed(allowed_origins)}")
        else:
            response.headers["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
            response.headers["Access-Control-Allow-Headers"] = ", ".join(_allowed_headers(allow_headers))
            response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
            response.headers.pop("Access-Control-Expose-Headers", None)  # meaningless on a preflight
        _add_vary(response, PREFLIGHT_VARY)
        return response

    CORS(
        app,
        origins=allowed_origins,
        supports_credentials=True,  # with `*`, flask-cors echoes the caller's origin instead
        expose_headers=expose_headers,
        always_send=False,  # no Origin, no CORS headers
        vary_header=False,  # `complete` sets Vary, once, on every answer
        max_age=MAX_AGE,
    )

    @app.before_request  # registered last: the app's own hooks (timing, faults) skip OPTIONS and run first
    def preflight() -> Response | None:
        if not _is_preflight():
            return None
        routed = routed_methods(app)
        wanted = request.headers[REQUEST_METHOD].strip().upper()
        if not routed:
            return _refusal(404, f"No such endpoint: {shown(wanted)} {shown(request.path)}")
        methods = _advertised(routed)
        if wanted not in routed:
            allow = {"Allow": ", ".join([*methods, "OPTIONS"])}
            where = f"{shown(request.path)}; allowed: {', '.join(methods)}"
            return _refusal(405, f"CORS: method {shown(wanted)} is not allowed on {where}", allow)
        g.cors_preflight = methods
        answer = Response(status=204)
        answer.headers.remove("Content-Type")
        return answer


def routed_methods(app: Flask) -> set[str]:
    """The methods the app routes at the request's path (HEAD with GET); empty when no route matches."""
    adapter = app.create_url_adapter(request)
    assert adapter is not None  # there is always one inside a request
    return set(adapter.allowed_methods()) - {"OPTIONS"}


def _is_preflight() -> bool:
    return request.method == "OPTIONS" and "Origin" in request.headers and REQUEST_METHOD in request.headers


def _advertised(methods: set[str]) -> list[str]:
    """In the usual order; HEAD goes without saying (browsers never need it listed)."""
    known = [m for m in METHOD_ORDER if m in methods]
    return known + sorted(methods - {*METHOD_ORDER, "HEAD"})


def _allowed_headers(always: list[str]) -> list[str]:
    """`always`, then every well-formed header name the browser asked for (once, whatever its case)."""
    asked = [h.strip() for h in request.headers.get(REQUEST_HEADERS, "").split(",")]
    names: dict[str, str] = {}
    for name in [*always, *asked]:
        if _TOKEN.match(name):
            names.setdefault(name.lower(), name)
    return list(names.values())


def _add_vary(response: Response, fields: Iterable[str]) -> None:
    """One Vary header with what was there and `fields`, each once."""
    values = [v.strip() for line in response.headers.getlist("Vary") for v in line.split(",") if v.strip()]
    merged: dict[str, str] = {}
    for value in [*values, *fields]:
        merged.setdefault(value.lower(), value)
    response.headers["Vary"] = ", ".join(merged.values())


def _drop_cors_headers(response: Response) -> None:
    for name in {k for k, _ in response.headers if k.lower().startswith("access-control-")}:
        del response.headers[name]


def _refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, error_body(status, message), headers)


def _listed(origins: list[str]) -> str:
    return "any origin is" if "*" in origins else f"allowed (--cors-origin): {', '.join(origins)}"
