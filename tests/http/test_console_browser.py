"""The web console in a real headless browser (Debian's chromium through selenium) against a live `vsee-mock`:
the docs render every operation, a request made with curl shows up in the journal, reset removes what was created,
and a broken fixture edit is reported on the page. The journal filters by verdict, method, status and namespace, opens an entry
(request and response, token redacted, bodies as text), shows UTF-8 and very long paths, and the docs have a tab of
their own. A page served from another origin makes credentialed `fetch`es (with preflights) to the mock, as a
frontend in development does.

`.ci/run` installs chromium and chromium-driver. With VSEE_UPDATE_SCREENSHOT=1 the test also refreshes the
screenshot the README shows (docs/console.png)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from mock_server import default_credentials

from helpers.mock_api import AUTH, DOMAIN, ROOT, VCLINIC
from helpers.servers import mock_process

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)
OPERATIONS = 8


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[WebDriver]:
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


def _wait(condition: Callable[[], object], what: str, seconds: float = 20) -> None:
    """Until `condition()` holds; an element missing or replaced while the page redraws (every second) is "not yet"."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (NoSuchElementException, StaleElementReferenceException):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_console_shows_docs_journal_and_state_and_resets(browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    with mock_process("--quiet", "--fixtures", str(fixtures)) as server:
        base = server.url
        driver.get(base + "/")
        driver.find_element(By.ID, "tab-docs").click()
        _wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= OPERATIONS, "Swagger UI operations")
        ops = {
            e.text.split("\n")[0] + " " + e.text.split("\n")[1]
            for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary")
        }
        assert {"GET /rooms", "POST /rooms", "DELETE /users/{id}/rooms/{room_code}"} <= ops, ops
        driver.find_element(By.ID, "tab-requests").click()

        subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-H", f"X-AccountCode: {VCLINIC}", f"{base}/api_v3/rooms/ceproom1/queue"],
            check=True,
            timeout=30,
        )
        journal: Callable[[], str] = lambda: driver.find_element(By.ID, "journal").text
        _wait(lambda: "GET /api_v3/rooms/ceproom1/queue" in journal(), "the curl request in the journal")

        created = requests.post(
            f"{base}/api_v3/rooms",
            headers={**AUTH, "X-AccountCode": VCLINIC},
            timeout=10,
            data={"domain": DOMAIN, "slug": "console-room", "name": "Console room"},
        )
        assert created.status_code == 200
        state: Callable[[], str] = lambda: driver.find_element(By.ID, "state").text
        _wait(lambda: "console-room" in state(), "the new room in the state view")
        if os.environ.get("VSEE_UPDATE_SCREENSHOT") == "1":
            driver.save_screenshot(str(ROOT / "docs" / "console.png"))
        driver.find_element(By.ID, "reset").click()
        _wait(lambda: "console-room" not in state() and "ceproom1" in state(), "reset to empty the created room")
        assert requests.get(f"{base}/api_v3/rooms", params={"slug": "console-room"}, timeout=10).json()["data"] == []

        (fixtures / "accounts" / "vclinic.yaml").write_text("rooms: [unclosed")  # a broken hot-reload edit
        banner: Callable[[], WebElement] = lambda: driver.find_element(By.ID, "reload-error")
        _wait(lambda: banner().is_displayed() and "vclinic.yaml" in banner().text, "the reload error in the console")


LONG_PATH = "/api_v3/rooms/" + "x" * 500
NAME = "Grüße <b>aus</b> Köln"  # non-ASCII, and markup that must be shown as text, never made into an element
ROWS = """return [...document.querySelectorAll("#journal tbody tr")].map((tr) => ({
  id: Number(tr.dataset.id), selected: tr.classList.contains("selected"),
  method: tr.querySelector(".method").textContent, path: tr.querySelector(".path").textContent,
  title: tr.querySelector(".path").title, status: tr.querySelector(".status").textContent,
  verdict: tr.querySelector(".verdict").textContent, namespace: tr.querySelector(".namespace").textContent}));"""


def test_console_filters_opens_and_lays_out_journal_entries(browser: WebDriver) -> None:
    """The journal's filters (sent as query parameters, kept across refreshes), an entry opened with its request and
    response (the token redacted, JSON pretty-printed, markup as text), UTF-8 and 500-character paths, and the
    docs on a tab of their own."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    account, token = default_credentials()
    with mock_process("--quiet") as server:
        api, headers = server.url + "/api_v3", {"X-AccountCode": account}
        assert requests.get(f"{api}/rooms/räume", headers=headers, timeout=10).status_code == 404
        refused = requests.get(f"{api}/rooms", params={"limit": "abc"}, headers=headers, timeout=10)
        assert refused.status_code == 400
        admin = {"X-ApiToken": token, "X-AccountCode": account}
        body = {"domain": DOMAIN, "slug": "json-room", "name": NAME}
        assert requests.post(f"{api}/rooms", headers=admin, json=body, timeout=10).status_code == 200
        assert requests.get(server.url + LONG_PATH, headers=headers, timeout=10).status_code == 404
        journal = requests.get(f"{server.url}/__mock__/requests", timeout=10).json()["data"]
        ids = {(e["method"], e["path"], e["query"]): e["id"] for e in journal}
        utf8, long = ids["GET", "/api_v3/rooms/räume", ""], ids["GET", LONG_PATH, ""]
        invalid, posted = ids["GET", "/api_v3/rooms", "limit=abc"], ids["POST", "/api_v3/rooms", ""]
        assert [e["id"] for e in journal if not e["valid"]] == [invalid], journal

        driver.get(server.url + "/")
        rows: Callable[[], list[dict[str, Any]]] = lambda: driver.execute_script(ROWS)
        shown: Callable[[], set[int]] = lambda: {r["id"] for r in rows()}
        _wait(lambda: shown() == {utf8, invalid, posted, long}, "the four calls in the journal")

        # Filters: each one narrows the rows, through the journal's query parameters, and survives the refreshes.
        driver.execute_script("performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()")
        verdict = Select(driver.find_element(By.ID, "filter-valid"))
        verdict.select_by_visible_text("invalid")
        _wait(lambda: shown() == {invalid}, "only the refused call with the verdict filter 'invalid'")
        assert rows()[0]["verdict"].startswith("invalid: query parameter 'limit'"), rows()
        verdict.select_by_visible_text("valid")
        _wait(lambda: shown() == {utf8, posted, long}, "the valid calls with the verdict filter 'valid'")
        method = Select(driver.find_element(By.ID, "filter-method"))
        method.select_by_visible_text("POST")
        _wait(lambda: shown() == {posted}, "only the POST with the method filter")
        fetched = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
        journal_urls = {u.split("/__mock__/requests", 1)[1] for u in fetched if "/__mock__/requests" in u}
        assert {"?valid=false", "?valid=true", "?method=POST&valid=true"} <= journal_urls, journal_urls
        verdict.select_by_visible_text("all")
        method.select_by_visible_text("GET")
        driver.find_element(By.ID, "filter-status").send_keys("404")
        _wait(lambda: shown() == {utf8, long}, "the two 404 GETs with the status filter")
        time.sleep(2.5)  # two refreshes
        assert shown() == {utf8, long}, "a refresh must not drop the filters"
        assert method.first_selected_option.text == "GET"
        assert driver.find_element(By.ID, "filter-status").get_attribute("value") == "404"

        # UTF-8 and a 500-character path: shown decoded; the long one cut short, in full in the tooltip, and the
        # status and verdict columns stay on screen.
        by_id: Callable[[], dict[int, dict[str, Any]]] = lambda: {r["id"]: r for r in rows()}
        assert by_id()[utf8]["path"] == "/api_v3/rooms/räume", by_id()[utf8]
        assert by_id()[long]["title"] == LONG_PATH
        width = driver.execute_script("return window.innerWidth")
        for cls in ("path", "status", "verdict"):
            cell = driver.find_element(By.CSS_SELECTOR, f'#journal tr[data-id="{long}"] .{cls}')
            right = driver.execute_script("return arguments[0].getBoundingClientRect().right", cell)
            assert cell.is_displayed() and right <= width, (cls, right, width)
        path_cell = driver.find_element(By.CSS_SELECTOR, f'#journal tr[data-id="{long}"] .path')
        assert path_cell.size["width"] < width / 2, path_cell.size
        assert driver.find_element(By.CSS_SELECTOR, f'#journal tr[data-id="{long}"] .status').text == "404"
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width, "no sideways scroll"

        driver.find_element(By.CSS_SELECTOR, f'#journal tr[data-id="{utf8}"] .path').click()
        line: Callable[[], str] = lambda: driver.find_element(By.ID, "detail-request-line").text
        _wait(lambda: driver.find_elements(By.ID, "detail-request-line") and line().startswith("GET "), "UTF-8 entry")
        assert line() == "GET /api_v3/rooms/räume", line()

        # Open the POST: request headers with the token redacted, both bodies pretty-printed, markup as text.
        driver.find_element(By.ID, "filter-status").clear()
        method.select_by_visible_text("POST")
        _wait(lambda: shown() == {posted}, "the POST alone")
        driver.find_element(By.CSS_SELECTOR, f'#journal tr[data-id="{posted}"]').click()
        _wait(lambda: line().startswith("POST "), "the POST's detail")
        assert line() == "POST /api_v3/rooms"
        request_headers = {
            th.text.lower(): td.text
            for th, td in zip(
                driver.find_elements(By.CSS_SELECTOR, "#detail-request-headers th"),
                driver.find_elements(By.CSS_SELECTOR, "#detail-request-headers td"),
                strict=True,
            )
        }
        assert request_headers["x-apitoken"] == "[redacted]", request_headers
        assert request_headers["x-accountcode"] == account
        assert request_headers["content-type"] == "application/json"
        request_body = driver.find_element(By.ID, "detail-request-body").text
        assert request_body.startswith("{\n  ") and f'\n  "name": "{NAME}"' in request_body, request_body
        response_body = driver.find_element(By.ID, "detail-response-body").text
        assert '"slug": "json-room"' in response_body and f'"name": "{NAME}"' in response_body, response_body
        assert driver.find_element(By.ID, "detail-response-status").text == "200"
        assert driver.find_elements(By.CSS_SELECTOR, "#detail b") == [], "bodies must be text, not markup"
        assert token not in driver.page_source and token not in driver.find_element(By.TAG_NAME, "body").text

        # A new call redraws the journal: the open entry, its selected row and the filters stay.
        refused_post = requests.post(f"{api}/rooms", headers=admin, json={"domain": DOMAIN}, timeout=10)
        assert refused_post.status_code == 400
        _wait(lambda: len(shown()) == 2, "the second POST in the journal")
        time.sleep(1.5)
        assert [r["id"] for r in rows() if r["selected"]] == [posted], rows()
        assert line() == "POST /api_v3/rooms" and driver.find_element(By.ID, "detail-title").text == f"#{posted}"
        assert method.first_selected_option.text == "POST"

        # The docs on their own tab: Swagger UI's operations there, hidden on the requests tab and vice versa.
        operations: Callable[[], list[WebElement]] = lambda: [
            e for e in driver.find_elements(By.CSS_SELECTOR, ".opblock") if e.is_displayed()
        ]
        assert operations() == []
        driver.find_element(By.ID, "tab-docs").click()
        _wait(lambda: len(operations()) >= OPERATIONS, "Swagger UI's operations on the docs tab")
        assert not driver.find_element(By.ID, "journal").is_displayed()
        driver.find_element(By.ID, "tab-requests").click()
        _wait(lambda: driver.find_element(By.ID, "journal").is_displayed(), "the journal back on its tab")
        assert operations() == [], "Swagger UI must not show on the requests tab"
        assert driver.find_element(By.ID, "detail").is_displayed(), "switching tabs keeps the open entry"

        # Namespaces: each row shows its own; the filter offers those the entries carry (the default one apart from
        # "any") and keeps one, through ?namespace=.
        namespaced = {**admin, "X-Mock-Namespace": "console-ns"}
        body = {"domain": DOMAIN, "slug": "ns-room", "name": "In a namespace"}
        assert requests.post(f"{api}/rooms", headers=namespaced, json=body, timeout=10).status_code == 200
        _wait(lambda: len(shown()) == 3, "the POST in another namespace in the journal")
        assert sorted(r["namespace"] for r in rows()) == ["(default)", "(default)", "console-ns"], rows()
        namespace = Select(driver.find_element(By.ID, "filter-namespace"))
        assert [o.text for o in namespace.options] == ["any", "(default)", "console-ns"]
        state: Callable[[], str] = lambda: driver.find_element(By.ID, "state-section").text
        namespace.select_by_visible_text("console-ns")
        _wait(lambda: len(shown()) == 1 and rows()[0]["namespace"] == "console-ns", "the namespace filter")
        _wait(lambda: "namespace console-ns" in state() and "ns-room" in state(), "the state panel in console-ns")
        namespace.select_by_visible_text("(default)")
        _wait(lambda: len(shown()) == 2 and posted in shown(), "the default namespace's POSTs")
        _wait(lambda: "namespace (default)" in state() and "ns-room" not in state(), "the default namespace's state")
        assert "red" in state() and "closed room" in state(), "the state panel explains its red rows"
        assert "broke the contract" in driver.find_element(By.ID, "journal-section").text

        # At 1,280 px the state table fits its column: nothing cut off, no sideways scrolling.
        driver.set_window_size(1280, 900)
        fits = "const s = document.getElementById('state-section'); return s.scrollWidth <= s.clientWidth"
        _wait(lambda: driver.execute_script(fits), "the state table within its column at 1,280 px")
        fetched = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
        journal_urls = {u.split("/__mock__/requests", 1)[1] for u in fetched if "/__mock__/requests" in u}
        assert {"?method=POST&namespace=console-ns", "?method=POST&namespace="} <= journal_urls, journal_urls


# A frontend in development: its page on one origin, the mock on another. Every call below needs a preflight (a
# non-safelisted header, a JSON body, PUT) and sends credentials, so the mock must echo the origin, allow
# credentials and the requested headers, and advertise the path's methods. What each call got is written into
# the page as JSON, which the test reads.
FRONTEND = """<!doctype html><meta charset="utf-8"><title>frontend</title><pre id="result"></pre>
<script>
const MOCK = %(mock)s, ACCOUNT = %(account)s, TOKEN = %(token)s;
async function call(name, path, init) {
  try {
    const r = await fetch(MOCK + path, {credentials: "include", mode: "cors", ...init});
    return [name, {status: r.status, body: await r.json(), preference: r.headers.get("Preference-Applied")}];
  } catch (e) {
    return [name, {error: String(e)}];
  }
}
(async () => {
  const results = Object.fromEntries([
    await call("list", "/api_v3/rooms?limit=2", {headers: {"X-Request-Id": "abc", "X-AccountCode": ACCOUNT}}),
    await call("create", "/api_v3/rooms", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-ApiToken": TOKEN, "X-Request-Id": "def"},
      body: JSON.stringify({domain: %(domain)s, slug: "from-the-browser", name: "From the browser"}),
    }),
    await call("preferred", "/api_v3/rooms/ceproom1", {headers: {"Prefer": "code=404", "X-AccountCode": ACCOUNT}}),
    await call("undeclared", "/api_v3/rooms", {method: "PUT", headers: {"X-ApiToken": TOKEN}}),
  ]);
  document.getElementById("result").textContent = JSON.stringify(results);
})();
</script>"""


@contextmanager
def page_server(html: str) -> Iterator[str]:
    """`html` served at `/` by a thread on a port of its own: another origin than the mock's. Yields its URL."""
    page = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, name="frontend page", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_page_on_another_origin_makes_credentialed_calls(browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    account, token = default_credentials()
    with mock_process("--quiet") as server:
        values = {"mock": server.url, "account": account, "token": token, "domain": DOMAIN}
        html = FRONTEND % {k: json.dumps(v) for k, v in values.items()}
        with page_server(html) as page:
            assert page.split("/")[2] != server.url.split("/")[2], "the page must be on another origin"
            driver.get(page)
            result: Callable[[], str] = lambda: driver.find_element(By.ID, "result").text
            _wait(lambda: result() != "", "the page's fetches to finish")
        calls = json.loads(result())

        assert calls["list"].get("status") == 200, calls["list"]
        assert len(calls["list"]["body"]["data"]) == 2
        assert calls["create"].get("status") == 200, calls["create"]
        assert calls["create"]["body"]["data"]["slug"] == "from-the-browser"
        assert calls["preferred"].get("status") == 404, calls["preferred"]
        assert calls["preferred"]["preference"] == "code=404", "Preference-Applied must be readable by the page"
        assert "TypeError" in calls["undeclared"].get("error", ""), ("a PUT must be blocked by CORS", calls)

        made = requests.get(f"{server.url}/api_v3/rooms", params={"slug": "from-the-browser"}, timeout=10).json()
        assert [room["slug"] for room in made["data"]] == ["from-the-browser"]
        journal = requests.get(f"{server.url}/__mock__/requests", params={"method": "PUT"}, timeout=10).json()
        assert journal["data"] == [], "the blocked PUT never reached the mock"
