"""The mock's handlers: one per operation of the spec, passed to `create_app` (replaceable per app, the seam the
broken variants are built with), and an operation without one answers with its documented example."""

from __future__ import annotations

from pathlib import Path

import yaml

from mock_server import create_app
from mock_server.handlers import HANDLERS
from vsee_contract.operations import REGISTRY

from helpers.mock_api import ROOT, assert_error


def test_operation_without_handler_serves_its_documented_example(tmp_path: Path) -> None:
    """A spec operation the mock has no behaviour for still answers, with its first documented 2xx example."""
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    example = {"data": {"status": "alive", "source": "docs_ping example"}}
    document["paths"]["/ping"] = {
        "get": {
            "operationId": "getPing",
            "summary": "Health check (test-only operation)",
            "responses": {
                "200": {
                    "description": "Alive.",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "required": ["data"]},
                            "examples": {"docs_ping": {"value": example}},
                        }
                    },
                },
                "4XX": {"$ref": "#/components/responses/ClientError"},
            },
        }
    }
    spec_path = tmp_path / "openapi.yaml"
    spec_path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    assert "getPing" not in HANDLERS

    client = create_app({"spec_path": spec_path}).test_client()
    resp = client.get("/api_v3/ping")
    assert resp.status_code == 200
    assert resp.get_json() == example
    assert client.get("/api_v3/rooms").status_code == 200, "the spec copy still routes the real operations"
    assert_error(client.post("/api_v3/ping"), 405)


def test_handlers_passed_to_create_app_replace_the_mocks_own_in_that_app_only() -> None:
    """The seam broken variants are built with: no global is patched, so another app keeps the real handler."""
    replaced = {"getRoomQueue": lambda call: (200, {"data": {"length": 0}})}
    mine = create_app({"seed": 1, "strict": False}, handlers=replaced).test_client()
    other = create_app({"seed": 1}).test_client()
    headers = {"X-AccountCode": "vclinic"}
    assert mine.get("/api_v3/rooms/ceproom1/queue", headers=headers).get_json() == {"data": {"length": 0}}
    assert set(other.get("/api_v3/rooms/ceproom1/queue", headers=headers).get_json()["data"]) >= {"length", "capacity"}
    assert HANDLERS["getRoomQueue"] is REGISTRY["getRoomQueue"].handler  # the registry's, untouched
