"""The web console at `/`: the mock's own API docs (Swagger UI, shipped in a Python package, no internet needed),
its state per account, the request journal, and buttons for reset and scenarios. The page calls the admin routes of
the site serving it (`%ADMIN%` in console.html is its admin prefix)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from flask import Blueprint, Response, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from vsee_contract import Spec

from .site import Site

PAGE = Path(__file__).with_name("console.html")


def console_blueprint(spec: Spec, site: Site) -> Blueprint:
    """Routes outside the API base paths: `/`, `/openapi.yaml`, `/openapi.json` and the Swagger UI assets (under each
    admin prefix of the site)."""
    console = Blueprint("console", __name__)

    @console.get("/")
    def page() -> Response:
        return Response(PAGE.read_text(encoding="utf-8").replace("%ADMIN%", site.admin_prefix), mimetype="text/html")

    @console.get("/openapi.yaml")
    def spec_yaml() -> Response:
        source = spec.path.read_bytes() if spec.path else yaml.safe_dump(spec.document).encode()
        return Response(source, mimetype="application/yaml")

    @console.get("/openapi.json")
    def spec_json() -> Response:
        """The contract, with this mock's own origin as the first server so "Try it out" calls it."""
        document = dict(spec.document)
        here = request.host_url.rstrip("/")
        document["servers"] = [{"url": f"{here}/api_v3", "description": "This mock"}, *spec.document["servers"]]
        return Response(json.dumps(document), mimetype="application/json")

    def swagger_asset(name: str) -> Response:
        return send_from_directory(swagger_ui_path, name)

    for prefix in site.admin_prefixes:
        console.add_url_rule(f"{prefix}/swagger/<path:name>", f"swagger_asset{prefix}", swagger_asset)

    return console
