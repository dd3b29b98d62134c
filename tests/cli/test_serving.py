"""`vsee-mock` under granian (vsee_cli/serving.py), over real HTTP to a `vsee-mock --port 0` child.

Pinned here: every worker serves the one port the main process bound; a stop (SIGTERM, SIGINT) lets in-flight
requests finish and exits 0 without a traceback; forked and spawned workers alike serve and log; the worker's
environment does not leak into requests; and, byte for byte, what granian itself answers to requests it refuses
before the app runs (an empty body: no JSON error shape there), next to what it lets through to the app.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from helpers.mock_api import TOKEN, VCLINIC
from helpers.servers import ServerProcess, child_env, children, cli_process, mock_process

HEADERS = {"X-AccountCode": VCLINIC}
WRITE = f"X-AccountCode: {VCLINIC}\r\nX-ApiToken: {TOKEN}\r\nContent-Type: application/json\r\n"
LIMIT = 1024 * 1024  # the app's request body limit (vsee_http.MAX_BODY_BYTES)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """One mock for the wire-level cases: each must leave it serving the next."""
    with mock_process("--no-watch") as running:
        yield running


# ------------------------------------------------------------------ raw HTTP/1.1


def exchange(port: int, request: bytes, seconds: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send `request` on a new connection; (status, headers with lower-case names, body) of the answer. A server
    that answers before reading everything may reset the connection while the rest is sent: the answer counts."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as conn:
        with contextlib.suppress(OSError):
            conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            assert chunk, f"connection closed without an answer: {data[:200]!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        while len(body) < int(headers.get("content-length", "0")):
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(status_line.split()[1]), headers, body


def get(target: str, extra: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: mock\r\nX-AccountCode: {VCLINIC}\r\n{extra}\r\n".encode("latin-1")


def chunked(body: bytes, size: int = 64 * 1024) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def post_rooms(framing: str, body: bytes = b"") -> bytes:
    return f"POST /api_v3/rooms HTTP/1.1\r\nHost: mock\r\n{WRITE}{framing}\r\n\r\n".encode() + body


def assert_refused_by_granian(answer: tuple[int, dict[str, str], bytes], status: int) -> None:
    """granian's own refusal: `status`, an empty body, no Content-Type, and the connection closed."""
    got, headers, body = answer
    assert (got, body, headers.get("content-length"), headers.get("connection")) == (status, b"", "0", "close")
    assert "content-type" not in headers, headers


def assert_json_error(answer: tuple[int, dict[str, str], bytes], status: int) -> None:
    """The app's own refusal: `status` in the contract's error shape."""
    got, headers, body = answer
    assert got == status, (got, body[:300])
    assert headers["content-type"].startswith("application/json"), headers
    assert set(json.loads(body)) == {"code", "message"}


# ------------------------------------------------------------------ what granian refuses itself, what reaches the app


def test_a_header_up_to_1_mb_reaches_the_app(server: ServerProcess) -> None:
    """granian's head buffer is raised to 1.06 MiB (HTTP1Settings.max_buffer_size; its default 408 KiB), as
    waitress's header limit was 1 MiB: a big cookie or token header is the app's to judge."""
    for size in (300_000, 1_000_000):
        status, headers, _ = exchange(server.port, get("/api_v3/rooms", f"X-Big: {'a' * size}\r\n"))
        assert status == 200 and headers["content-type"].startswith("application/json"), size


def test_a_request_head_far_over_the_buffer_is_refused_431_by_granian(server: ServerProcess) -> None:
    """hyper checks the limit between reads, so a head of 1.5-3 MB may still get through; 4 MB never does. The
    connection closes with the rest unread: the client may see a reset instead of the answer."""
    try:
        answer = exchange(server.port, get("/api_v3/rooms", f"X-Big: {'a' * 4_000_000}\r\n"))
    except ConnectionResetError:
        return
    assert_refused_by_granian(answer, 431)


def test_more_than_100_header_fields_are_refused_431_by_granian(server: ServerProcess) -> None:
    """hyper's fixed maximum of 100 header fields (Host included); waitress had none."""
    fields = "".join(f"X-Field-{i}: v\r\n" for i in range(98))  # + Host + X-AccountCode = 100
    assert exchange(server.port, get("/api_v3/rooms", fields))[0] == 200
    assert_refused_by_granian(exchange(server.port, get("/api_v3/rooms", fields + "X-One-More: v\r\n")), 431)


def test_a_request_target_of_65535_bytes_or_more_is_refused_414_by_granian(server: ServerProcess) -> None:
    """hyper's fixed URI limit (65,534 bytes) is below the app's own 64 KiB query limit, so a long query never
    reaches the app's JSON 414: granian answers a bare 414. One byte shorter is served."""
    prefix = "/api_v3/rooms?q="
    assert exchange(server.port, get(prefix + "a" * (65_534 - len(prefix))))[0] == 200
    assert_refused_by_granian(exchange(server.port, get(prefix + "a" * (65_535 - len(prefix)))), 414)
    assert_refused_by_granian(exchange(server.port, get(prefix + "a" * 1_000_000)), 414)


def test_a_header_line_without_a_colon_is_refused_400_by_granian(server: ServerProcess) -> None:
    assert_refused_by_granian(exchange(server.port, get("/api_v3/rooms", "NoColonHere\r\n")), 400)
    assert_refused_by_granian(exchange(server.port, b"HELLO\r\n\r\n"), 400)


def test_a_body_over_the_limit_gets_the_apps_json_413_before_it_is_read(server: ServerProcess) -> None:
    """Content-Length over the limit: the app answers at once, from the header (granian does not buffer the body)."""
    big = b'{"slug": "' + b"x" * LIMIT + b'"}'
    assert_json_error(exchange(server.port, post_rooms(f"Content-Length: {len(big)}", big)), 413)
    started = time.monotonic()
    announced = exchange(server.port, post_rooms("Content-Length: 50000000", b"0123456789"), seconds=10)
    assert_json_error(announced, 413)
    assert time.monotonic() - started < 5, "the app waited for a body that never came"


def test_chunked_bodies_reach_the_app_with_their_length(server: ServerProcess) -> None:
    """granian passes a chunked body without CONTENT_LENGTH, and werkzeug would then cut it at the limit silently;
    serving.adapted reads it (up to one byte over the limit) and passes its length, as waitress did."""
    small = b'{"domain": "vclinic.vsee.me", "slug": "chunked-body", "name": "Chunked"}'
    status, _, body = exchange(server.port, post_rooms("Transfer-Encoding: chunked", chunked(small)))
    assert status == 200 and b'"slug":"chunked-body"' in body.replace(b" ", b""), body[:300]
    over = b'{"slug": "' + b"x" * LIMIT + b'"}'
    assert_json_error(exchange(server.port, post_rooms("Transfer-Encoding: chunked", chunked(over))), 413)


def test_a_malformed_chunk_ends_the_body_and_the_app_answers_400(server: ServerProcess) -> None:
    """granian does not refuse a bad chunk size: the body the app sees ends there (empty here), and the app
    refuses that in its error shape."""
    assert_json_error(exchange(server.port, post_rooms("Transfer-Encoding: chunked", b"zz\r\nabc\r\n0\r\n\r\n")), 400)


def test_keep_alive_serves_many_requests_on_one_connection(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        reader = conn.makefile("rb")
        for _ in range(5):
            conn.sendall(get("/api_v3/rooms/ceproom1"))
            status_line = reader.readline()
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                assert not line.lower().startswith(b"connection: close"), line
            reader.read(length)
            assert status_line.startswith(b"HTTP/1.1 200"), status_line


# ------------------------------------------------------------------ logging, environment


def test_request_log_lines_without_granians_own(server: ServerProcess) -> None:
    """The mock's line per request on stderr, as under waitress; granian's info lines and access log stay off."""
    requests.get(f"{server.url}/api_v3/rooms/room1_code", headers=HEADERS, timeout=10)
    server.wait_for("GET /api_v3/rooms/room1_code 200")
    for noise in ("Starting granian", "Spawning worker", "Listening at", "Configuration allows"):
        assert noise not in server.stderr() + server.stdout(), noise
    assert server.stdout().startswith("VSee Rooms API mock on http://127.0.0.1:")


def test_the_servers_environment_is_no_request_header() -> None:
    """granian starts each WSGI environ from os.environ: HTTP_X_ACCOUNTCODE in the server's environment would be an
    `X-AccountCode` header on every request. It is dropped; a header sent still counts."""
    with mock_process("--no-watch", "--quiet", env={"HTTP_X_ACCOUNTCODE": "wellclinic"}) as running:
        rooms = requests.get(f"{running.api_v3}/rooms", timeout=10).json()["data"]
        assert {room["domain"] for room in rooms} == {"vclinic.vsee.me"}  # the default account
        sent = requests.get(f"{running.api_v3}/rooms", headers={"X-AccountCode": "wellclinic"}, timeout=10)
        assert {room["domain"] for room in sent.json()["data"]} == {"wellclinic.vsee.me"}


# ------------------------------------------------------------------ workers, stopping


def _sockets(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` holds."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink()
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", str(target)):
            found.add(match[1])
    return found


def _tcp(port: int, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets on local `port` in `state` (0A: listening, 01: established)."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {row[9] for row in rows if int(row[1].rsplit(":", 1)[1], 16) == port and row[3] == state}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_two_workers_serve_the_one_socket_the_main_process_bound(tmp_path: Path) -> None:
    with mock_process("--workers", "2", "--no-watch", "--quiet") as running:
        running.wait_for("state is shared by the 2 workers in the temporary database", "stdout")
        shared = Path(re.search(r"temporary database (\S+)", running.stdout())[1]).parent  # type: ignore[index]
        assert shared.is_dir()
        workers = children(running.process.pid, 2)
        assert len(workers) == 2, workers
        (listening,) = _tcp(running.port, "0A")  # one listening socket: not one per worker (SO_REUSEPORT)
        assert all(listening in _sockets(worker) for worker in workers)

        # both accept on it: hold connections open until each worker has some
        held: list[socket.socket] = []
        try:
            accepted: dict[int, int] = {}
            while len(held) < 200 and not (len(accepted) == 2 and min(accepted.values()) > 0):
                conn = socket.create_connection(("127.0.0.1", running.port), timeout=10)
                held.append(conn)
                conn.sendall(get("/api_v3/rooms/ceproom1"))
                assert conn.recv(12) == b"HTTP/1.1 200"
                established = _tcp(running.port, "01")
                accepted = {worker: len(_sockets(worker) & established) for worker in workers}
            assert len(accepted) == 2 and min(accepted.values()) > 0, accepted
        finally:
            for conn in held:
                conn.close()

        answers = _load(running.url, clients=8, each=25)
        assert answers == {200: 200}, answers
        assert running.stop() == 0
    assert not shared.exists(), "the temporary database outlived the server"


def _load(url: str, clients: int, each: int) -> dict[int, int]:
    statuses: list[int] = []

    def client() -> None:
        with requests.Session() as session:
            for _ in range(each):
                statuses.append(session.get(f"{url}/api_v3/rooms/ceproom1", headers=HEADERS, timeout=30).status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return {status: statuses.count(status) for status in set(statuses)}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_lets_the_request_in_flight_finish_and_exits_0(sig: signal.Signals) -> None:
    """SIGINT goes to the whole process group from a terminal's Ctrl-C: here to the main process and its worker."""
    with mock_process("--latency", "1500", "--no-watch") as running:
        assert requests.get(f"{running.url}/__mock__/state", timeout=30).ok  # the worker is up (no latency there)
        answers: list[int] = []
        slow = threading.Thread(
            target=lambda: answers.append(
                requests.get(f"{running.api_v3}/rooms/ceproom1", headers=HEADERS, timeout=30).status_code
            )
        )
        slow.start()
        time.sleep(0.5)  # well inside its 1.5 s
        if sig == signal.SIGINT:
            for worker in children(running.process.pid, 1):
                os.kill(worker, sig)
        assert running.stop(sig) == 0
        slow.join(30)
        assert answers == [200]
        assert "Traceback" not in running.stderr(), running.stderr()[-2000:]
        assert "KeyboardInterrupt" not in running.stderr()


SPAWN = (
    "import multiprocessing, sys\n"
    "multiprocessing.set_start_method('spawn')\n"
    "from vsee_cli.vsee_mock import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_spawned_workers_rebuild_the_app_and_serve_and_log_as_forked_ones_do() -> None:
    """Where the start method is not fork, a worker gets the configuration pickled and builds the app itself, and
    starts its own hot-reload watcher; logging is configured in it by granian with our settings."""
    with cli_process([sys.executable, "-c", SPAWN, "--port", "0", "--seed", "5"]) as running:
        resp = requests.get(f"{running.api_v3}/rooms/ceproom1", headers=HEADERS, timeout=30)
        assert resp.status_code == 200 and resp.json()["data"]["code"] == "ceproom1"
        running.wait_for("GET /api_v3/rooms/ceproom1 200")
        reload = requests.get(f"{running.url}/__mock__/reload", timeout=10).json()["data"]
        assert reload["error"] is None and reload["watching"]
        assert running.stop() == 0
    assert "Traceback" not in running.stderr(), running.stderr()[-2000:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc")
def test_the_workers_stop_when_the_main_process_is_killed(tmp_path: Path) -> None:
    """kill -9 of `vsee-mock` must not leave orphaned workers serving its port (and its state file)."""
    state = str(tmp_path / "state.sqlite3")  # a temporary one would outlive the killed process
    with mock_process("--workers", "2", "--state-file", state, "--no-watch", "--quiet") as running:
        workers = children(running.process.pid, 2)
        assert len(workers) == 2, workers
        running.kill()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{worker}").exists() for worker in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [worker for worker in workers if Path(f"/proc/{worker}").exists()], "orphaned workers"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", running.port), timeout=5).close()


ORPHAN = """
import multiprocessing, os, signal, sys, time
from vsee_cli import serving

def worker(marker):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as a stop granian lost: the graceful way never ends
    serving.at_worker_exit(lambda: open(marker, "w").write("exit hooks ran"))
    serving._stop_with_the_main_process(grace=0.5)
    print(os.getpid(), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    multiprocessing.get_context("fork").Process(target=worker, args=(sys.argv[1],)).start()
    time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_an_orphaned_worker_whose_graceful_stop_is_lost_runs_its_exit_hooks_and_ends(tmp_path: Path) -> None:
    """The way out when granian lost the stop: nobody is left to send it again once the main process is gone."""
    marker = tmp_path / "marker"
    main = subprocess.Popen(
        [sys.executable, "-c", ORPHAN, str(marker)], stdout=subprocess.PIPE, text=True, env=child_env()
    )
    try:
        assert main.stdout is not None
        worker = int(main.stdout.readline())
        main.kill()
        deadline = time.monotonic() + 15
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{worker}").exists(), "the orphaned worker is still running"
        assert marker.read_text() == "exit hooks ran"
    finally:
        main.kill()
        main.wait()


def test_a_stop_right_after_the_banner_exits_0_and_removes_the_temporary_database() -> None:
    """SIGTERM before granian has put its handlers in place (it does so as it starts the workers)."""
    with mock_process("--workers", "2", "--no-watch", "--quiet") as running:
        assert running.stop() == 0
    shared = Path(re.search(r"temporary database (\S+)", running.stdout())[1]).parent  # type: ignore[index]
    assert not shared.exists()
    assert "Traceback" not in running.stderr(), running.stderr()[-2000:]
