"""The web console in a real headless browser (Debian's chromium through selenium) against a live `vsee-mock`:
the docs render every operation, a request made with curl shows up in the journal, reset removes what was created,
and a broken fixture edit is reported on the page.

`.ci/run` installs chromium and chromium-driver. With VSEE_UPDATE_SCREENSHOT=1 the test also refreshes the
screenshot the README shows (docs/console.png)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from helpers.mock_api import AUTH, DOMAIN, ROOT, VCLINIC
from helpers.servers import mock_process

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)
OPERATIONS = 8


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1100",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(condition: object, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_console_shows_docs_journal_and_state_and_resets(browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser  # type: ignore[assignment]
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    with mock_process("--quiet", "--fixtures", str(fixtures)) as server:
        base = server.url
        driver.get(base + "/")  # type: ignore[attr-defined]
        _wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= OPERATIONS, "Swagger UI operations")
        ops = {
            e.text.split("\n")[0] + " " + e.text.split("\n")[1]
            for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary")
        }
        assert {"GET /rooms", "POST /rooms", "DELETE /users/{id}/rooms/{room_code}"} <= ops, ops

        subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-H", f"X-AccountCode: {VCLINIC}", f"{base}/api_v3/rooms/ceproom1/queue"],
            check=True,
            timeout=30,
        )
        journal = lambda: driver.find_element(By.ID, "journal").text
        _wait(lambda: "GET /api_v3/rooms/ceproom1/queue" in journal(), "the curl request in the journal")

        created = requests.post(
            f"{base}/api_v3/rooms",
            headers={**AUTH, "X-AccountCode": VCLINIC},
            timeout=10,
            data={"domain": DOMAIN, "slug": "console-room", "name": "Console room"},
        )
        assert created.status_code == 200
        state = lambda: driver.find_element(By.ID, "state").text
        _wait(lambda: "console-room" in state(), "the new room in the state view")
        if os.environ.get("VSEE_UPDATE_SCREENSHOT") == "1":
            driver.save_screenshot(str(ROOT / "docs" / "console.png"))
        driver.find_element(By.ID, "reset").click()
        _wait(lambda: "console-room" not in state() and "ceproom1" in state(), "reset to empty the created room")
        assert requests.get(f"{base}/api_v3/rooms", params={"slug": "console-room"}, timeout=10).json()["data"] == []

        (fixtures / "accounts" / "vclinic.yaml").write_text("rooms: [unclosed")  # a broken hot-reload edit
        banner = lambda: driver.find_element(By.ID, "reload-error")
        _wait(lambda: banner().is_displayed() and "vclinic.yaml" in banner().text, "the reload error in the console")
