"""The validation proxy: a clean upstream gives no violations, each injected fault is reported with its rule,
secrets never reach the violation log, and a recording is served back by the mock and passes the contract suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from flask.testing import FlaskClient

from vsee_proxy import ProxyConfig, create_proxy_app

from helpers.mock_api import TOKEN, VCLINIC
from helpers.servers import mock_process, proxy_process
from helpers.suite_runner import run_suite, served

HEADERS = {"X-AccountCode": VCLINIC}


def _proxy(upstream: str, tmp_path: Path, fail: bool = False) -> FlaskClient:
    config = ProxyConfig(upstream, violations_path=tmp_path / "violations.jsonl", fail_on_violation=fail)
    return create_proxy_app(config).test_client()


def _browse(get: Callable[[str], Any]) -> None:
    """What a frontend does: list rooms, open each, its providers (and each provider), its queue.
    `get(path)` returns the decoded JSON body."""
    for room in get("/api_v3/rooms")["data"]:
        code = room["code"]
        get(f"/api_v3/rooms/{code}")
        get(f"/api_v4/rooms/{code}")
        for provider in get(f"/api_v3/rooms/{code}/providers")["data"]:
            get(f"/api_v3/rooms/{code}/providers/{provider['id']}")
        get(f"/api_v3/rooms/{code}/queue")


FAULTS = [
    ("list_item_without_code", "/api_v3/rooms", "response-schema"),  # dropped field
    ("provider_id_as_number", "/api_v3/rooms/ceproom1/providers/826", "response-schema"),  # wrong type
    ("queue_status_201", "/api_v3/rooms/ceproom1/queue", "response-schema"),  # wrong status
    ("wrong_room", "/api_v3/rooms/ceproom1", "room-is-the-requested-one"),  # wrong room returned
    ("queue_overflow", "/api_v3/rooms/ceproom1/queue", "queue-arithmetic"),
    ("error_without_message", "/api_v3/rooms/no-such-room", "response-schema"),
    ("queue_as_text", "/api_v3/rooms/ceproom1/queue", "response-schema"),
]


@pytest.mark.parametrize(("variant", "path", "rule"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_injected_fault_is_reported_with_its_rule(tmp_path: Path, variant: str, path: str, rule: str) -> None:
    with served(variant) as upstream:
        proxy = _proxy(upstream, tmp_path)
        reply = proxy.get(path, headers={**HEADERS, "X-ApiToken": TOKEN})
        (tmp_path / "failing").mkdir()
        refused = _proxy(upstream, tmp_path / "failing", fail=True).get(path, headers=HEADERS)
    assert int(reply.headers["X-Contract-Violations"]) >= 1
    lines = [json.loads(line) for line in (tmp_path / "violations.jsonl").read_text().splitlines()]
    assert rule in {line["rule"] for line in lines}, lines
    line = next(line for line in lines if line["rule"] == rule)
    assert line["request"]["method"] == "GET" and line["request"]["url"].endswith(path.split("/api_v3")[-1])
    assert line["response"]["status"] and line["curl"].startswith("curl -X GET")
    assert TOKEN not in (tmp_path / "violations.jsonl").read_text(), "the token must be redacted"
    assert refused.status_code == 502 and refused.get_json()["code"] == 502
    assert f"[{rule}]" in refused.get_json()["message"]


def test_a_clean_upstream_gives_no_violation_and_the_answers_pass_through_unchanged(tmp_path: Path) -> None:
    with served(None) as upstream:
        proxy = _proxy(upstream, tmp_path)
        seen: list[int] = []

        def get(path: str) -> Any:
            reply = proxy.get(path, headers=HEADERS)
            direct = requests.get(upstream.removesuffix("/api_v3") + path, headers=HEADERS, timeout=10)
            assert (reply.status_code, reply.data) == (direct.status_code, direct.content), path
            assert "X-Contract-Violations" not in reply.headers, (path, reply.data[:300])
            seen.append(reply.status_code)
            return reply.get_json()

        _browse(get)
        created = proxy.post(
            "/api_v3/rooms",
            headers={**HEADERS, "X-ApiToken": TOKEN},
            data={"domain": "vclinic.vsee.me", "slug": "via-proxy", "name": "Via proxy"},
        )
        assert created.status_code == 200 and "X-Contract-Violations" not in created.headers
        assert get(f"/api_v3/rooms/{created.get_json()['data']['code']}")["data"]["slug"] == "via-proxy"
        summary = proxy.get("/__proxy__/violations").get_json()["data"]
        shipped = proxy.get("/__mock__/violations").get_json()["data"]  # where it shipped: an alias now
    assert len(seen) > 30 and summary["violations"] == [] and summary["exchanges"]["getRoom"] > 10
    assert shipped == summary
    assert not (tmp_path / "violations.jsonl").exists()
    journal = proxy.get("/__proxy__/requests").get_json()["data"]
    assert journal and proxy.get("/__mock__/requests").get_json()["data"] == journal, "the journal in proxy mode"
    console = proxy.get("/").get_data(as_text=True)
    assert "/__proxy__/requests" in console and "__mock__" not in console, "the console calls the proxy's routes"
    assert proxy.get("/__proxy__/swagger/swagger-ui.css").status_code == 200
    preflight = proxy.options(
        "/api_v3/rooms", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"


def test_a_room_created_in_the_session_must_stay_readable(tmp_path: Path) -> None:
    with served("create_not_stored") as upstream:
        proxy = _proxy(upstream, tmp_path)
        created = proxy.post(
            "/api_v3/rooms",
            headers={**HEADERS, "X-ApiToken": TOKEN},
            json={"domain": "vclinic.vsee.me", "slug": "vanishing", "name": "Gone"},
        )
        reply = proxy.get(f"/api_v3/rooms/{created.get_json()['data']['code']}", headers=HEADERS)
    assert reply.status_code == 404 and reply.headers["X-Contract-Violations"] == "1"
    rules = [json.loads(line)["rule"] for line in (tmp_path / "violations.jsonl").read_text().splitlines()]
    assert rules == ["created-room-readable-and-listed"]


def test_the_proxy_command_records_fixtures_the_mock_serves_and_the_suite_accepts(tmp_path: Path) -> None:
    record = tmp_path / "recorded"
    with (
        served(None) as upstream,
        proxy_process(upstream, "--record", str(record), "--violations", str(tmp_path / "v.jsonl")) as proxy,
    ):
        _browse(lambda path: requests.get(proxy.url + path, headers=HEADERS, timeout=10).json())
        proxy.stop()
        out, err = proxy.stdout(), proxy.stderr()
    assert "contract summary per operation and rule" in out and "getRoom: " in out, out + err
    assert not (tmp_path / "v.jsonl").exists()
    fixture = yaml.safe_load((record / "accounts" / f"{VCLINIC}.yaml").read_text())
    recorded = json.dumps(fixture)
    for personal in ("avery.admin@example.com", "John", "334 2222211", "conciergedev+user826", TOKEN):
        assert personal not in recorded, f"{personal!r} was not masked"
    names = {u["id"]: u["first_name"] for u in fixture["users"]}
    assert len(set(names.values())) == len(names), "stand-ins are distinct per person"
    # the recording, served back by the mock, passes the contract suite
    with mock_process("--fixtures", str(record), "--quiet", "--no-watch") as mock:
        result = run_suite(
            "--base-url",
            mock.api_v3,
            "--allow-writes",
            "--account-code",
            VCLINIC,
            "--api-token",
            fixture["account"]["admin_token"],
        )
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_recording_proxy_is_told_the_fixture_format_or_refuses_to_start(tmp_path: Path) -> None:
    """The proxy imports no mock: what a recording must be comes in from the CLI; without it, a recording is refused
    at once, not at the end of a session."""
    with pytest.raises(TypeError, match="fixtures=FixtureFormat"):
        create_proxy_app(ProxyConfig("http://127.0.0.1:9/api_v3", record_dir=tmp_path))
