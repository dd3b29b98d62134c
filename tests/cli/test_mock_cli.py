"""`vsee-mock` as users run it: a real process, real HTTP (granian), the docs' curl calls, and its failure modes.

The server is started as `python -m mock_server --port 0` (what the `vsee-mock` script runs): it binds a free
loopback port and announces it, and is always terminated in the fixture's teardown. Start-up refusals that need no
server run `vsee_cli.vsee_mock.main` in this process (a child each cost ~1 s); a few stay real processes, end to end.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from vsee_cli import options, vsee_mock
from vsee_cli.mock import PROG, mock_threads
from vsee_cli.serving import DEFAULT_THREADS

from helpers.mock_api import CONTRACT, ROOT, TOKEN, VCLINIC, WELL_TOKEN
from helpers.servers import ServerProcess, child_env, cli_process, mock_process

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
    assert f"console: http://127.0.0.1:{server.port}/\n" in banner


def test_banner_names_addresses_one_can_open_and_the_faults_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    """Bound to every interface, the banner names addresses a browser can open (never 0.0.0.0); --latency and
    --error-rate, which change every answer, are said."""
    # start-up defers the stop signals to the server it would run; this process keeps its own
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        argv = ["--host", "0.0.0.0", "--port", "0", "--latency", "100-300", "--error-rate", "0.25", "--no-watch"]
        assert vsee_mock.main(argv, {}, serve=lambda *args, **kwargs: 0) == 0
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    first, console, settings, *_ = capsys.readouterr().out.splitlines()
    assert "0.0.0.0" not in first and re.search(r"on http://127\.0\.0\.1:\d+/api_v3", first), first
    assert console.startswith("console: http://127.0.0.1:") and "every interface" in console, console
    assert "latency=100-300 ms" in settings and "error-rate=0.25" in settings, settings


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
    """Through granian, too, refusals are JSON errors: 401, 403, 404, 405, 413."""
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


def test_a_query_string_just_under_granians_uri_limit_reaches_the_app(fresh: ServerProcess) -> None:
    """granian (hyper) refuses a request target of 65,535 bytes or more itself (tests/mock/test_serving.py); one
    byte shorter reaches the app, which answers in its own way (the unknown parameter is ignored)."""
    target = "/api_v3/rooms?q="
    resp = requests.get(f"{fresh.url}{target}{'a' * (65_534 - len(target))}", headers=AUTH, timeout=30)
    assert resp.status_code == 200, resp.text[:200]
    assert resp.headers["Content-Type"].startswith("application/json")


def test_request_log_goes_to_stderr_without_the_token(fresh: ServerProcess) -> None:
    """The CLI logs each call; the token sent on writes is never written out."""
    requests.post(f"{fresh.url}/api_v3/users/1002/rooms", files=_form({"code": "ceproom1"}), headers=AUTH, timeout=10)
    fresh.wait_for("/api_v3/users/1002/rooms")
    assert TOKEN not in fresh.stderr()


# ------------------------------------------------------------------ failure modes


@dataclass
class Done:
    """How `vsee-mock ARGS` ended: exit code and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


Main = Callable[..., Done]


@pytest.fixture
def main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Main:
    """`vsee-mock ARGS` (or `vsee-mock proxy ...`) run by `vsee_cli.vsee_mock.main` in this process, expected to stop at
    start-up: a command that gets as far as serving fails the test instead. `env` is the environment it reads its
    VSEE_MOCK_* settings from (none of this run's)."""
    monkeypatch.delenv(options.DEBUG_VARIABLE, raising=False)

    def no_serving(*args: object, **kwargs: object) -> int:
        pytest.fail("it started serving")

    def run(*args: str, env: dict[str, str] | None = None) -> Done:
        capsys.readouterr()
        try:
            code = vsee_mock.main(list(args), env or {}, serve=no_serving)
        except SystemExit as exc:  # argparse: a usage error, --help, --version
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


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
def test_bad_fixture_folder_exits_non_zero_naming_the_file(
    tmp_path: Path, breaker: Callable[[Path], str], main: Main
) -> None:
    """A broken seed must stop start-up with a message that says which file to fix (not a bare traceback)."""
    root = _copy_fixtures(tmp_path)
    named = breaker(root)
    refusal(main("--fixtures", str(root), "--port", "0"), USAGE, "bad fixture", named)


# ------------------------------------------------------------------ start-up errors: one line, the fix, an exit code

USAGE, ENVIRONMENT = 2, 1
VARIABLES = [
    "VSEE_MOCK_HOST",
    "VSEE_MOCK_PORT",
    "VSEE_MOCK_SPEC",
    "VSEE_MOCK_FIXTURES",
    "VSEE_MOCK_SEED",
    "VSEE_MOCK_STATE_FILE",
    "VSEE_MOCK_SCENARIO",
    "VSEE_MOCK_THREADS",
    "VSEE_MOCK_WORKERS",
    "VSEE_MOCK_STRICT",
    "VSEE_MOCK_QUIET",
    "VSEE_MOCK_WATCH",
    "VSEE_MOCK_CORS_ORIGIN",
    "VSEE_MOCK_LATENCY",
    "VSEE_MOCK_ERROR_RATE",
]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`vsee-mock ARGS` (or `vsee-mock proxy ...`) as a real process, expected to stop at start-up; a server that
    starts fails the test by the timeout instead of hanging it."""
    return subprocess.run(mock_command(*args), cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=45)


def refusal(done: Done | subprocess.CompletedProcess[str], code: int, *mentions: str, prog: str = "vsee-mock") -> str:
    """The start-up refusal: `code`, nothing on stdout, exactly one stderr line `PROG: <problem>; <fix>` that names
    each of `mentions`, and no traceback. Returns the line."""
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    line = lines[0]
    assert (done.returncode, done.stdout) == (code, ""), (done.returncode, line, done.stdout[-500:])
    assert line.startswith(f"{prog}: "), line
    problem, _, fix = line.removeprefix(f"{prog}: ").partition("; ")
    assert problem and fix, f"no `<problem>; <fix>` in {line!r}"
    for mention in mentions:
        assert mention in line, (mention, line)
    return line


def _spec_file(tmp_path: Path, text: str) -> str:
    file = tmp_path / "spec.yaml"
    file.write_text(text, encoding="utf-8")
    return str(file)


# (arguments, extra environment, exit code, what the line must name: the bad value and a word of the fix)
MOCK_USAGE_ERRORS: dict[str, tuple[list[str], dict[str, str], list[str]]] = {
    "port -1": (["--port", "-1"], {}, ["--port", "-1", "0-65535"]),
    "port 99999": (["--port", "99999"], {}, ["--port", "99999", "0-65535"]),
    "port 65536": (["--port", "65536"], {}, ["65536", "0-65535"]),
    "port http": (["--port", "http"], {}, ["--port", "'http'", "0-65535"]),
    "host 256.1.1.1": (["--host", "256.1.1.1"], {}, ["--host", "256.1.1.1", "127.0.0.1"]),
    "host unresolvable": (["--host", "no-such-host.invalid"], {}, ["no-such-host.invalid", "0.0.0.0"]),
    "threads 0": (["--threads", "0"], {}, ["--threads", "'0'", ">= 1"]),
    "threads -3": (["--threads", "-3"], {}, ["'-3'", ">= 1"]),
    "threads many": (["--threads", "many"], {}, ["'many'", ">= 1"]),
    "workers 0": (["--workers", "0"], {}, ["--workers", "'0'", ">= 1"]),
    "workers two": (["--workers", "two"], {}, ["--workers", "'two'", "whole number"]),
    "seed x": (["--seed", "x"], {}, ["--seed", "'x'", "whole number"]),
    "latency abc": (["--latency", "abc"], {}, ["--latency", "abc", "100-300"]),
    "latency 300-100": (["--latency", "300-100"], {}, ["300-100", "MIN-MAX"]),
    "latency -5": (["--latency", "-5"], {}, ["latency", "-5"]),
    "error-rate 1.5": (["--error-rate", "1.5"], {}, ["error rate", "1.5", "between 0 and 1"]),
    "error-rate often": (["--error-rate", "often"], {}, ["often", "between 0 and 1"]),
    "scenario nope": (["--scenario", "nope"], {}, ["nope", "default", "empty"]),
    "unknown option": (["--bogus"], {}, ["--bogus", "vsee-mock --help"]),
    "abbreviated option": (["--worker", "2"], {}, ["--worker", "vsee-mock --help"]),  # not taken as --workers
    "state-url not postgresql": (
        ["--state-url", "mysql://m@db/x"],
        {},
        ["--state-url", "mysql://m@db/x", "postgresql://"],
    ),
    "state-url password": (["--state-url", "pg://u:s3cret@db/x"], {}, ["pg://u:***@db/x"]),
    "state-url and state-file": (
        ["--state-url", "postgresql://m@db/x", "--state-file", "s.sqlite3"],
        {},
        ["--state-file", "--state-url", "give one"],
    ),
    "missing spec": (["--spec", "/missing.yaml"], {}, ["--spec", "/missing.yaml", "leave it out"]),
    "spec is a folder": (["--spec", str(ROOT / "fixtures")], {}, ["is a directory", "OpenAPI"]),
    "missing fixtures": (["--fixtures", "/missing-fixtures"], {}, ["/missing-fixtures", "accounts/*.yaml"]),
    # the environment, for containers: the same checks, naming the variable
    "VSEE_MOCK_PORT": ([], {"VSEE_MOCK_PORT": "99999"}, ["VSEE_MOCK_PORT", "99999", "0-65535"]),
    "VSEE_MOCK_HOST": ([], {"VSEE_MOCK_HOST": "256.1.1.1"}, ["VSEE_MOCK_HOST", "256.1.1.1"]),
    "VSEE_MOCK_THREADS": ([], {"VSEE_MOCK_THREADS": "0"}, ["VSEE_MOCK_THREADS", "'0'", ">= 1"]),
    "VSEE_MOCK_WORKERS": ([], {"VSEE_MOCK_WORKERS": "-1"}, ["VSEE_MOCK_WORKERS", "'-1'", ">= 1"]),
    "VSEE_MOCK_SEED": ([], {"VSEE_MOCK_SEED": "x"}, ["VSEE_MOCK_SEED", "'x'"]),
    "VSEE_MOCK_STRICT": ([], {"VSEE_MOCK_STRICT": "maybe"}, ["VSEE_MOCK_STRICT", "'maybe'", "true/false"]),
    "VSEE_MOCK_QUIET": ([], {"VSEE_MOCK_QUIET": "2"}, ["VSEE_MOCK_QUIET", "'2'", "true/false"]),
    "VSEE_MOCK_WATCH": ([], {"VSEE_MOCK_WATCH": "sometimes"}, ["VSEE_MOCK_WATCH", "true/false"]),
    "VSEE_MOCK_SCENARIO": ([], {"VSEE_MOCK_SCENARIO": "nope"}, ["VSEE_MOCK_SCENARIO", "'nope'", "default"]),
    "VSEE_MOCK_LATENCY": ([], {"VSEE_MOCK_LATENCY": "abc"}, ["VSEE_MOCK_LATENCY", "abc", "100-300"]),
    "VSEE_MOCK_ERROR_RATE": ([], {"VSEE_MOCK_ERROR_RATE": "2"}, ["VSEE_MOCK_ERROR_RATE", "between 0 and 1"]),
    "VSEE_MOCK_SPEC": ([], {"VSEE_MOCK_SPEC": "/missing.yaml"}, ["VSEE_MOCK_SPEC", "/missing.yaml"]),
    "VSEE_MOCK_FIXTURES": ([], {"VSEE_MOCK_FIXTURES": "/missing-fixtures"}, ["VSEE_MOCK_FIXTURES"]),
    "VSEE_MOCK_STATE_URL": ([], {"VSEE_MOCK_STATE_URL": "state.db"}, ["VSEE_MOCK_STATE_URL", "'state.db'"]),
}


@pytest.mark.parametrize(("args", "env", "mentions"), MOCK_USAGE_ERRORS.values(), ids=MOCK_USAGE_ERRORS.keys())
def test_a_bad_option_or_variable_is_one_line_and_exit_code_2(
    args: list[str], env: dict[str, str], mentions: list[str], main: Main
) -> None:
    """argparse's two-line usage blurb and every later check alike: one line naming the value and the fix."""
    port = [] if "VSEE_MOCK_PORT" in env or "--port" in args else ["--port", "0"]  # it must never serve
    refusal(main(*args, *port, env=env), USAGE, *mentions)


def test_a_bad_option_in_a_real_process_is_one_line_and_exit_code_2() -> None:
    """End to end, as a shell runs it: the exit code of the process, its stderr, nothing on stdout."""
    refusal(run_cli("--port", "-1"), USAGE, "--port", "-1", "0-65535")
    refusal(run_cli("--port", "0", env={"VSEE_MOCK_WORKERS": "0"}), USAGE, "VSEE_MOCK_WORKERS", ">= 1")


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("openapi: 3.1.0\ninfo: [unclosed\n", ["not valid YAML", "line 3"]),
        ("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", ["not a valid OpenAPI document", "version", "/info"]),
        ("- just\n- a list\n", ["not an OpenAPI document"]),
        ("", ["not an OpenAPI document"]),
    ],
    ids=["broken YAML", "invalid OpenAPI", "a list", "empty"],
)
def test_a_bad_spec_file_is_one_line_and_exit_code_2(
    tmp_path: Path, text: str, mentions: list[str], main: Main
) -> None:
    """Checked like the hot reloader checks an edit (openapi-spec-validator), before anything is built."""
    spec = _spec_file(tmp_path, text)
    refusal(main("--spec", spec, "--port", "0"), USAGE, spec, *mentions)
    refusal(main("proxy", "--upstream", "http://127.0.0.1:9/api_v3", "--spec", spec), USAGE, spec, prog=PROXY)


def test_a_port_in_use_is_one_line_and_exit_code_1() -> None:
    """Real processes: the port is taken by a listening socket of this one. (granian's own per-worker sockets use
    SO_REUSEPORT and would share a port another SO_REUSEPORT server holds; vsee-mock's one socket does not.)"""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        refusal(run_cli("--port", port), ENVIRONMENT, port, "in use", "another --port")
        line = refusal(run_cli("proxy", "--upstream", "http://127.0.0.1:9", "--port", port), ENVIRONMENT, prog=PROXY)
        assert port in line and "in use" in line


def test_an_address_of_another_machine_is_one_line_and_exit_code_1(main: Main) -> None:
    """192.0.2.1 (TEST-NET-1, documentation only) resolves but is no interface here: the machine refuses it."""
    refusal(main("--host", "192.0.2.1", "--port", "0"), ENVIRONMENT, "192.0.2.1", "not an address of this machine")


def _unwritable_directory(tmp_path: Path) -> Path:
    """A directory this user cannot create files in: a read-only one, or /sys for root (who may write anywhere
    else)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return locked
    sysfs = Path("/sys")
    try:
        probe = sysfs / "vsee-mock-probe"
        probe.write_text("x")
    except OSError:
        return sysfs
    probe.unlink()
    pytest.skip("running as root with a writable /sys: no directory here refuses a file")


def test_a_state_file_in_a_missing_directory_is_refused_at_start(tmp_path: Path, main: Main) -> None:
    """Refused before serving (exit code 1), not at the first write (which answered 500 and still kept the room)."""
    missing = tmp_path / "nonexistent" / "dir" / "state.sqlite3"
    refusal(main("--state-file", str(missing), "--port", "0"), ENVIRONMENT, str(missing), "does not exist", "mkdir")
    env = {"VSEE_MOCK_STATE_FILE": str(missing)}
    refusal(main("--port", "0", env=env), ENVIRONMENT, "VSEE_MOCK_STATE_FILE", "mkdir")


def test_a_state_file_in_an_unwritable_directory_is_refused_at_start(tmp_path: Path, main: Main) -> None:
    directory = _unwritable_directory(tmp_path)
    state = directory / "state.sqlite3"
    refusal(main("--state-file", str(state), "--port", "0"), ENVIRONMENT, str(state), "cannot write", "writable")


def test_a_state_file_that_is_a_directory_or_not_a_state_file_is_refused(tmp_path: Path, main: Main) -> None:
    refusal(main("--state-file", str(tmp_path), "--port", "0"), ENVIRONMENT, "is a directory", "state.sqlite3")
    corrupt = tmp_path / "state.json"
    corrupt.write_text("{not json")  # a bad input file, like a bad fixture: usage
    refusal(main("--state-file", str(corrupt), "--port", "0"), USAGE, str(corrupt), "move it away")
    if os.geteuid() != 0:
        corrupt.write_text("{}")
        corrupt.chmod(0)
        refusal(main("--state-file", str(corrupt), "--port", "0"), ENVIRONMENT, "cannot be read", "readable")


PROXY = "vsee-mock proxy"
PROXY_USAGE_ERRORS: dict[str, tuple[list[str], list[str]]] = {
    "upstream notaurl": (["--upstream", "notaurl"], ["--upstream", "'notaurl'", "http(s) URL", "https://"]),
    "upstream ftp": (["--upstream", "ftp://example.com/api_v3"], ["ftp://example.com/api_v3", "http(s) URL"]),
    "upstream no host": (["--upstream", "http://"], ["'http://'", "http(s) URL"]),
    "upstream-v4 nope": (
        ["--upstream", "http://127.0.0.1:9/api_v3", "--upstream-v4", "nope"],
        ["--upstream-v4", "'nope'", "http(s) URL"],
    ),
    "no upstream": ([], ["--upstream", "vsee-mock proxy --help"]),
    "port 99999": (["--upstream", "http://127.0.0.1:9", "--port", "99999"], ["--port", "99999", "0-65535"]),
    "host 256.1.1.1": (["--upstream", "http://127.0.0.1:9", "--host", "256.1.1.1"], ["256.1.1.1"]),
    "missing spec": (["--upstream", "http://127.0.0.1:9", "--spec", "/missing.yaml"], ["/missing.yaml"]),
}


@pytest.mark.parametrize(("args", "mentions"), PROXY_USAGE_ERRORS.values(), ids=PROXY_USAGE_ERRORS.keys())
def test_a_bad_proxy_option_is_one_line_and_exit_code_2(args: list[str], mentions: list[str], main: Main) -> None:
    """`--upstream notaurl` used to start and answer 502 to everything."""
    port = [] if "--port" in args else ["--port", "0"]
    refusal(main("proxy", *args, *port), USAGE, *mentions, prog=PROXY)


def test_proxy_output_paths_are_checked_at_start(tmp_path: Path, main: Main) -> None:
    upstream = ["proxy", "--upstream", "http://127.0.0.1:9/api_v3", "--port", "0"]
    violations = tmp_path / "missing" / "violations.jsonl"
    line = refusal(main(*upstream, "--violations", str(violations)), ENVIRONMENT, prog=PROXY)
    assert str(violations) in line and "mkdir" in line
    record = _unwritable_directory(tmp_path) / "recorded"
    line = refusal(main(*upstream, "--record", str(record)), ENVIRONMENT, prog=PROXY)
    assert str(record) in line and "cannot write" in line


def test_an_unexpected_start_up_error_is_one_line_and_exit_code_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while starting (any exception out of the checks and the build) is still one line, with how to get the
    traceback; with VSEE_MOCK_DEBUG set, the traceback itself."""

    def start() -> Callable[[], int]:
        raise RuntimeError("boom at start-up")

    monkeypatch.delenv(options.DEBUG_VARIABLE, raising=False)
    capsys.readouterr()
    code = options.run(PROG, start)
    refusal(Done(code, *capsys.readouterr()), ENVIRONMENT, "RuntimeError", "boom at start-up", "VSEE_MOCK_DEBUG=1")
    monkeypatch.setenv(options.DEBUG_VARIABLE, "1")
    with pytest.raises(RuntimeError, match="boom at start-up"):
        options.run(PROG, start)


def test_a_temporary_state_directory_is_removed_when_start_up_fails(main: Main, tmp_path: Path) -> None:
    """--workers 2 without --state-file makes a temporary directory for the shared database; a refusal after that
    (here: an address of another machine) leaves nothing behind."""
    refusal(
        main("--workers", "2", "--host", "192.0.2.1", "--port", "0", "--no-watch", env={"TMPDIR": str(tmp_path)}),
        ENVIRONMENT,
        "192.0.2.1",
    )
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ --version, --help, the environment


def test_version_is_the_distributions(main: Main) -> None:
    done = main("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"vsee-mock {metadata.version('vsee-rooms-contract')}")


def test_help_mentions_the_proxy_every_variable_and_the_exit_codes(main: Main) -> None:
    done = main("--help")
    assert done.returncode == 0, done.stderr
    assert "vsee-mock proxy --upstream URL" in done.stdout and "vsee-mock proxy --help" in done.stdout
    for variable in VARIABLES:
        assert variable in done.stdout, variable
    assert "exit code" in done.stdout and "granian" in done.stdout and "waitress" not in done.stdout
    assert "--workers" in done.stdout
    proxy = main("proxy", "--help")
    assert proxy.returncode == 0 and "--upstream" in proxy.stdout and "exit code" in proxy.stdout


def test_configuration_from_the_environment_and_the_command_line_wins() -> None:
    """A container sets VSEE_MOCK_*; an option on the command line overrides its variable."""
    env = {
        "VSEE_MOCK_PORT": "0",
        "VSEE_MOCK_SCENARIO": "empty",
        "VSEE_MOCK_STRICT": "false",  # overridden by --strict
        "VSEE_MOCK_SEED": "5",
        "VSEE_MOCK_QUIET": "true",
        "VSEE_MOCK_WATCH": "off",
        "VSEE_MOCK_THREADS": "2",
        "VSEE_MOCK_LATENCY": "0",
        "VSEE_MOCK_ERROR_RATE": "0",
        "VSEE_MOCK_CORS_ORIGIN": "http://a.example, http://b.example",
    }
    with cli_process(mock_command("--strict"), env=env) as running:  # no --port: VSEE_MOCK_PORT=0 picks one
        running.wait_for("scenario=", "stdout")
        assert "strict=on; scenario=empty" in running.stdout()
        rooms = requests.get(f"{running.api_v3}/rooms", headers={"X-AccountCode": VCLINIC}, timeout=10)
        assert rooms.json()["data"] == []  # the scenario from VSEE_MOCK_SCENARIO
        allowed = requests.get(f"{running.api_v3}/rooms", headers={"Origin": "http://b.example"}, timeout=10)
        assert allowed.headers.get("Access-Control-Allow-Origin") == "http://b.example"
        other = requests.get(f"{running.api_v3}/rooms", headers={"Origin": "http://c.example"}, timeout=10)
        assert other.headers.get("Access-Control-Allow-Origin") != "http://c.example"
        assert running.stop() == 0  # SIGTERM: a graceful stop
        assert "/api_v3/rooms" not in running.stderr()  # VSEE_MOCK_QUIET: no request log
    # --port 0 (from mock_process) wins over the variable, which is then not even consulted
    with mock_process("--no-watch", env={"VSEE_MOCK_PORT": "99999"}) as running:
        assert requests.get(f"{running.url}/__mock__/state", timeout=10).status_code == 200


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


@pytest.mark.parametrize(
    ("given", "latency", "expected"),
    [(None, None, 1), (None, (0.1, 0.3), DEFAULT_THREADS), (3, None, 3), (2, (0.1, 0.1), 2)],
)
def test_one_thread_per_worker_unless_latency_or_asked(
    given: int | None, latency: tuple[float, float] | None, expected: int
) -> None:
    """The replayed reads are CPU under one GIL (more threads: p99 of tens of ms); --latency calls sleep, so they
    get DEFAULT_THREADS to overlap; --threads always wins."""
    assert mock_threads(given, latency) == expected
