"""The web console at `/`: the mock's own API docs (Swagger UI, shipped in a Python package, no internet needed),
its state per account, the request journal, and buttons for reset and scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from flask import Blueprint, Response, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from vsee_contract import Spec

PAGE = Path(__file__).with_name("console.html")


def console_blueprint(spec: Spec) -> Blueprint:
    """Routes outside the API base paths: `/`, `/openapi.yaml`, `/openapi.json` and the Swagger UI assets."""
    console = Blueprint("console", __name__)

    @console.get("/")
    def page() -> Response:
        return Response(PAGE.read_bytes(), mimetype="text/html")

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

    @console.get("/__mock__/swagger/<path:name>")
    def swagger_asset(name: str) -> Response:
        return send_from_directory(swagger_ui_path, name)

    return console
