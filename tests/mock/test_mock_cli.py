"""`vsee-mock` as users run it: a real process, real HTTP (waitress), the docs' curl calls, and its failure modes.

The server is started as `python -m mock_server --port 0` (what the `vsee-mock` script runs): it binds a free
loopback port and announces it, and is always terminated in the fixture's teardown.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from helpers.mock_api import CONTRACT, ROOT, TOKEN, VCLINIC, WELL_TOKEN
from helpers.servers import ServerProcess, child_env, mock_process

FIXTURES = ROOT / "fixtures"
AUTH = {"X-ApiToken": TOKEN, "X-AccountCode": VCLINIC}


def mock_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mock_server", *args]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """The mock on port 0 (seed 5), once it has announced its URL; always stopped."""
    with mock_process("--seed", "5") as running:
        yield running


@pytest.fixture
def fresh(server: ServerProcess) -> ServerProcess:
    """The running server, back at its fixtures."""
    assert requests.post(f"{server.url}/__mock__/reset", timeout=5).status_code == 200
    return server


def judged(
    resp: requests.Response,
    operation_id: str,
    path: dict[str, str],
    query: dict[str, Any] | None = None,
    sent: dict[str, Any] | None = None,
) -> list[Any]:
    """The contract core's verdict on a real HTTP exchange."""
    body = resp.json() if resp.content else None
    content_type = resp.headers.get("Content-Type")
    return CONTRACT.judge(operation_id, resp.status_code, content_type, body, path, query or {}, sent)


# ------------------------------------------------------------------ start-up


def test_banner_prints_the_url_and_the_accounts(server: ServerProcess) -> None:
    """The banner is how a developer learns the base URL, the accounts and their tokens."""
    server.wait_for("wellclinic", "stdout")  # the lines after the first may still be on their way
    banner = server.stdout()
    assert f"http://127.0.0.1:{server.port}/api_v3" in banner
    assert f"http://127.0.0.1:{server.port}/api_v4" in banner
    assert "vclinic" in banner and "wellclinic" in banner
    assert any("vclinic" in line and "default" in line for line in banner.splitlines()), banner


# ------------------------------------------------------------------ the docs' curl calls over real HTTP

READS = [
    ("listRooms", "/api_v3/rooms", {}),
    ("getRoom", "/api_v3/rooms/ceproom1", {"code": "ceproom1"}),
    ("getRoom", "/api_v4/rooms/ceproom1", {"code": "ceproom1"}),
    ("getRoom", "/api_v3/rooms/room1_code", {"code": "room1_code"}),
    ("listRoomProviders", "/api_v3/rooms/example-room-code/providers", {"code": "example-room-code"}),
    ("listRoomProviders", "/api_v3/rooms/ceproom1/providers", {"code": "ceproom1"}),
    ("getRoomProvider", "/api_v3/rooms/ceproom1/providers/826", {"code": "ceproom1", "id": "826"}),
    ("getRoomQueue", "/api_v3/rooms/ceproom1/queue", {"code": "ceproom1"}),
]


@pytest.mark.parametrize(("operation_id", "path", "params"), READS, ids=[r[1] for r in READS])
def test_documented_reads_over_http(fresh: ServerProcess, operation_id: str, path: str, params: dict[str, str]) -> None:
    """`curl -H "X-AccountCode: vclinic" .../rooms...`: 200, and the exchange satisfies the contract."""
    resp = requests.get(fresh.url + path, headers={"X-AccountCode": "vclinic"}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert judged(resp, operation_id, params) == []


def test_documented_queue_and_provider_values(fresh: ServerProcess) -> None:
    """The fixture data answer the docs' queue example, and provider 826 is who the docs show."""
    queue = requests.get(f"{fresh.url}/api_v3/rooms/ceproom1/queue", timeout=10).json()
    assert queue == {"data": {"length": 10, "capacity": 100, "average_visit_time": 3600, "before_me": 3}}
    provider = requests.get(f"{fresh.url}/api_v3/rooms/ceproom1/providers/826", timeout=10).json()["data"]
    assert (provider["id"], provider["first_name"], provider["last_name"]) == ("826", "John", "Will")


def _form(fields: dict[str, str]) -> dict[str, tuple[None, str]]:
    """curl `-F name=value` fields: multipart parts without a file name."""
    return {name: (None, value) for name, value in fields.items()}


def test_documented_writes_over_http(fresh: ServerProcess) -> None:
    """POST /rooms (multipart), read it on v3/v4, POST /users/85741/rooms, DELETE with the form body, as in the docs."""
    sent = {"domain": "vclinic.vsee.me", "slug": "provider00103", "name": "provider00103 room"}
    created = requests.post(f"{fresh.url}/api_v3/rooms", files=_form(sent), headers=AUTH, timeout=10)
    assert created.status_code == 200, created.text
    assert judged(created, "createRoom", {}, {}, sent) == []
    code = created.json()["data"]["code"]

    for base in ("/api_v3", "/api_v4"):
        got = requests.get(f"{fresh.url}{base}/rooms/{code}", headers={"X-AccountCode": "vclinic"}, timeout=10)
        assert got.status_code == 200
        assert judged(got, "getRoom", {"code": code}) == []
        assert got.json()["data"]["slug"] == "provider00103"

    documented = {"domain": "vclinic.vsee.me", "slug": "provider00102", "name": "provider00102 room"}
    duplicate = requests.post(f"{fresh.url}/api_v3/rooms", files=_form(documented), headers=AUTH, timeout=10)
    message = "In domain 'vclinic.vsee.me' slug 'provider00102' already exists."
    assert duplicate.json() == {"code": 400, "message": message}
    assert judged(duplicate, "createRoom", {}, {}, documented) == []

    for room in ("b4vjj", code):
        added = requests.post(
            f"{fresh.url}/api_v3/users/85741/rooms", files=_form({"code": room}), headers=AUTH, timeout=10
        )
        assert added.status_code == 200, added.text
        assert judged(added, "addUserRoom", {"id": "85741"}, {}, {"code": room}) == []

    removed = requests.delete(
        f"{fresh.url}/api_v3/users/85741/rooms/b4vjj", files=_form({"code": "b4vjj"}), headers=AUTH, timeout=10
    )
    assert removed.status_code == 200, removed.text
    assert removed.json() == {}
    assert judged(removed, "removeUserRoom", {"id": "85741", "room_code": "b4vjj"}, {}, {"code": "b4vjj"}) == []
    providers = requests.get(f"{fresh.url}/api_v3/rooms/b4vjj/providers", timeout=10).json()["data"]
    assert "85741" not in [p["id"] for p in providers]


def test_urlencoded_and_json_writes_over_http(fresh: ServerProcess) -> None:
    """The two other encodings work over real HTTP too."""
    form = {"domain": "vclinic.vsee.me", "slug": "via-form", "name": "Via form", "default": "1"}
    resp = requests.post(f"{fresh.url}/api_v3/rooms", data=form, headers=AUTH, timeout=10)
    assert resp.status_code == 200 and judged(resp, "createRoom", {}, {}, form) == []
    body = {"domain": "vclinic.vsee.me", "slug": "via-json", "name": "Via JSON", "default": True}
    resp = requests.post(f"{fresh.url}/api_v3/rooms", json=body, headers=AUTH, timeout=10)
    assert resp.status_code == 200 and judged(resp, "createRoom", {}, {}, body) == []


def test_errors_over_http_keep_the_shape(fresh: ServerProcess) -> None:
    """Through waitress, too, refusals are JSON errors: 401, 403, 404, 405, 413."""
    too_big, json_auth = b"x" * (1024 * 1024 + 1), {**AUTH, "Content-Type": "application/json"}
    cases = [
        (requests.post(f"{fresh.url}/api_v3/rooms", json={"domain": "d", "slug": "s", "name": "n"}, timeout=10), 401),
        (requests.post(f"{fresh.url}/api_v3/rooms", json={}, headers={"X-ApiToken": WELL_TOKEN}, timeout=10), 403),
        (requests.get(f"{fresh.url}/api_v3/rooms/nope", timeout=10), 404),
        (requests.get(f"{fresh.url}/nowhere", timeout=10), 404),
        (requests.put(f"{fresh.url}/api_v3/rooms", timeout=10), 405),
        (requests.post(f"{fresh.url}/api_v3/rooms", data=too_big, headers=json_auth, timeout=30), 413),
    ]
    for resp, status in cases:
        assert resp.status_code == status, (status, resp.status_code, resp.text[:200])
        assert resp.headers["Content-Type"].startswith("application/json"), resp.headers["Content-Type"]
        body = resp.json()
        assert body["code"] == status and isinstance(body["message"], str)


def test_oversized_query_over_http_is_a_4xx_in_the_error_shape(fresh: ServerProcess) -> None:
    """A huge query string is the client's fault: some 4xx, and like every error, `{"code", "message"}` JSON.

    300 KB exceeds waitress's default request-header limit (256 KB), so this checks the server as deployed.
    """
    resp = requests.get(f"{fresh.url}/api_v3/rooms", params={"q": "a" * 300_000}, timeout=30)
    assert 400 <= resp.status_code < 500, resp.status_code
    assert resp.headers.get("Content-Type", "").startswith("application/json"), (
        resp.status_code,
        resp.headers.get("Content-Type"),
        resp.text[:120],
    )
    body = resp.json()
    assert isinstance(body.get("code"), int) and isinstance(body.get("message"), str)


def test_request_log_goes_to_stderr_without_the_token(fresh: ServerProcess) -> None:
    """The CLI logs each call; the token sent on writes is never written out."""
    requests.post(f"{fresh.url}/api_v3/users/1002/rooms", files=_form({"code": "ceproom1"}), headers=AUTH, timeout=10)
    fresh.wait_for("/api_v3/users/1002/rooms")
    assert TOKEN not in fresh.stderr()


# ------------------------------------------------------------------ failure modes


def _copy_fixtures(tmp_path: Path) -> Path:
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    return root


def _edit_yaml(file: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    edit(data)
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _room_id_as_number(root: Path) -> str:
    _edit_yaml(root / "accounts" / "vclinic.yaml", lambda d: d["rooms"][0].__setitem__("id", 171))
    return "vclinic.yaml"


def _queue_breaking_arithmetic(root: Path) -> str:
    _edit_yaml(root / "accounts" / "wellclinic.yaml", lambda d: d["queues"]["uc7k2"].update(before_me=9, length=2))
    return "wellclinic.yaml"


def _invalid_yaml(root: Path) -> str:
    (root / "accounts" / "wellclinic.yaml").write_text("account: [unclosed\n", encoding="utf-8")
    return "wellclinic.yaml"


def _invalid_utf8(root: Path) -> str:
    file = root / "accounts" / "wellclinic.yaml"
    file.write_bytes(file.read_bytes() + b"\n# caf\xe9 (latin-1)\n")
    return "wellclinic.yaml"


def _user_not_a_mapping(root: Path) -> str:
    _edit_yaml(root / "accounts" / "vclinic.yaml", lambda d: d["users"].append("85742"))
    return "vclinic.yaml"


def _no_accounts(root: Path) -> str:
    shutil.rmtree(root / "accounts")
    return str(root)


BAD_FIXTURES = [
    _room_id_as_number,
    _queue_breaking_arithmetic,
    _invalid_yaml,
    _invalid_utf8,
    _user_not_a_mapping,
    _no_accounts,
]


@pytest.mark.parametrize("breaker", BAD_FIXTURES, ids=[b.__name__.lstrip("_") for b in BAD_FIXTURES])
def test_bad_fixture_folder_exits_non_zero_naming_the_file(tmp_path: Path, breaker: Callable[[Path], str]) -> None:
    """A broken seed must stop start-up with a message that says which file to fix (not a bare traceback)."""
    root = _copy_fixtures(tmp_path)
    named = breaker(root)
    done = subprocess.run(
        mock_command("--fixtures", str(root), "--port", "0"),
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    assert named in output, output[-800:]


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--latency", "abc"], "abc"),
        (["--latency", "300-100"], "300-100"),
        (["--latency", "-5"], "latency"),
        (["--error-rate", "1.5"], "error"),
        (["--error-rate", "often"], "often"),
        (["--port", "http"], "port"),
    ],
)
def test_bad_arguments_are_rejected_by_argparse(args: list[str], mentions: str) -> None:
    """Bad option values fail fast with argparse's usage error (exit 2), before anything is served."""
    done = subprocess.run(mock_command(*args), cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "usage: vsee-mock" in done.stderr
    assert mentions in done.stderr, done.stderr


# ------------------------------------------------------------------ the README's curl block, line by line


def _readme_curls() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("The docs' own calls", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("curl ")]


def _operation_for(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation (and path parameters) a URL path belongs to, matched against the spec's templates."""
    for op in CONTRACT.spec.operations.values():
        for base in op.local_base_paths():
            pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(base + op.path)) + "$"
            match = re.match(pattern, path)
            if match and op.method == method:
                return op.operation_id, match.groupdict()
    return None


def test_readme_has_the_documented_curl_calls() -> None:
    curls = _readme_curls()
    assert len(curls) >= 10
    assert {"GET", "POST", "DELETE"} <= {shlex.split(c)[2] for c in curls}


def _send_curl(line: str, port: int) -> tuple[str, str, requests.Response, dict[str, str] | None]:
    """Send one README curl line the way curl would, to the mock on `port`."""
    words = shlex.split(line)[1:]
    method, headers, form, url = "GET", {}, {}, ""
    while words:
        word = words.pop(0)
        if word == "-X":
            method = words.pop(0)
        elif word == "-H":
            name, _, value = words.pop(0).partition(": ")
            headers[name] = value
        elif word == "--form":
            key, _, value = words.pop(0).partition("=")
            form[key] = (None, value)
        else:
            url = word.replace("127.0.0.1:4010", f"127.0.0.1:{port}")
    resp = requests.request(method, url, headers=headers, files=form or None, timeout=10)
    return method, urlsplit(url).path, resp, ({k: v for k, (_, v) in form.items()} or None)


def test_readme_curl_examples_answer_within_the_contract_in_order(fresh: ServerProcess) -> None:
    """The README's curl block, run top to bottom against a live vsee-mock; every exchange must satisfy the spec."""
    for line in _readme_curls():
        method, path, resp, sent = _send_curl(line, fresh.port)
        if path.startswith("/__mock__"):
            assert resp.status_code == 200, (line, resp.text)
            continue
        found = _operation_for(method, path)
        assert found is not None, f"{method} {path} is no operation of the contract"
        operation_id, params = found
        expected = 404 if "Prefer: code=404" in line else 200
        assert resp.status_code == expected, (line, resp.text)
        assert judged(resp, operation_id, params, sent=sent) == [], line
