"""Hot reload of a running `vsee-mock`: fixture and spec edits take effect without a restart; a broken edit keeps
the last good version serving and is reported in the log and at /__mock__/reload. (Deadlines, not timings.)"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

from helpers.mock_api import ROOT, VCLINIC
from helpers.servers import mock_process

HEADERS = {"X-AccountCode": VCLINIC}


def _eventually(check: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not reloaded: {what}"
        time.sleep(0.05)


def _status(base: str) -> dict[str, Any]:
    status: dict[str, Any] = requests.get(f"{base}/__mock__/reload", timeout=5).json()["data"]
    return status


def test_fixture_and_spec_edits_apply_live_and_broken_edits_keep_the_last_good_version(tmp_path: Path) -> None:
    fixtures, spec = tmp_path / "fixtures", tmp_path / "openapi.yaml"
    shutil.copytree(ROOT / "fixtures", fixtures)
    shutil.copy(ROOT / "openapi.yaml", spec)
    account_file = fixtures / "accounts" / "vclinic.yaml"
    with mock_process("--fixtures", str(fixtures), "--spec", str(spec), "--quiet") as server:
        base = server.url
        room: Callable[[], requests.Response] = lambda: requests.get(
            f"{base}/api_v3/rooms/b4vjj", headers=HEADERS, timeout=5
        )
        assert room().json()["data"]["name"] == "provider00102 room"
        assert str(account_file) in _status(base)["watching"]

        data = yaml.safe_load(account_file.read_text())
        data["rooms"][0]["name"] = "Renamed while running"
        account_file.write_text(yaml.safe_dump(data))
        _eventually(lambda: room().json()["data"]["name"] == "Renamed while running", "the fixture edit")

        account_file.write_text("rooms: [unclosed")
        _eventually(lambda: _status(base)["error"] is not None, "the broken fixture to be reported")
        assert "vclinic.yaml" in _status(base)["error"]
        assert room().json()["data"]["name"] == "Renamed while running", "the last good version keeps serving"
        server.wait_for("reload failed")

        account_file.write_text(yaml.safe_dump(data))
        _eventually(lambda: _status(base)["error"] is None, "the repaired fixture")

        limit: Callable[[], int] = lambda: (
            requests.get(f"{base}/api_v3/rooms", params={"limit": 60}, timeout=5).status_code
        )
        assert limit() == 200
        spec.write_text(
            spec.read_text().replace(
                "schema: {type: integer, minimum: 1, maximum: 100}", "schema: {type: integer, minimum: 1, maximum: 50}"
            )
        )
        _eventually(lambda: limit() == 400, "the spec edit (limit maximum 100 -> 50)")

        good_spec = spec.read_text()
        spec.write_text(good_spec.replace("openapi: 3.1.0", "openapi: banana", 1))
        _eventually(lambda: _status(base)["error"] is not None, "the broken spec to be reported")
        assert limit() == 400 and room().status_code == 200, "the last good spec keeps serving"
