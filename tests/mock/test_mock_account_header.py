"""The account header's name is the contract's (`Spec.account_header()`), as the token header's is: a spec that
renames it renames what the mock reads, the journal records, CORS allows and the proxy's session rules key on."""

from __future__ import annotations

from pathlib import Path

import yaml

from mock_server import create_app
from vsee_contract import DEFAULT_SPEC_PATH, load_spec

from helpers.mock_api import WELL, assert_error

RENAMED = "X-Clinic"


def test_a_spec_that_renames_the_account_header_renames_it_everywhere(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    document["components"]["parameters"]["AccountCode"]["name"] = RENAMED
    spec_path = tmp_path / "openapi.yaml"
    spec_path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    assert load_spec(spec_path).account_header() == RENAMED
    client = create_app({"spec_path": spec_path}).test_client()

    well = client.get("/api_v3/rooms", headers={RENAMED: WELL})
    assert well.status_code == 200
    assert {room["domain"] for room in well.get_json()["data"]} == {"wellclinic.vsee.me"}
    ignored = client.get("/api_v3/rooms", headers={"X-AccountCode": WELL})  # no longer the contract's header
    assert {room["domain"] for room in ignored.get_json()["data"]} == {"vclinic.vsee.me"}
    assert_error(client.get("/api_v3/rooms", headers={RENAMED: "nosuchclinic"}), 403)

    entries = client.get("/__mock__/requests?status=200").get_json()["data"]
    assert [entry["account"] for entry in entries] == ["", WELL]
    preflight = client.options(
        "/api_v3/rooms", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    )
    assert RENAMED.lower() in preflight.headers["Access-Control-Allow-Headers"].lower()
