"""The one way the tests start a server and learn where it listens: on port 0, never a guessed "free" port.

A server process (`vsee-mock` or its validation proxy under granian, or any WSGI app under waitress in a child)
binds port 0 and names the URL it got in the first line of its stdout (`... on http://HOST:PORT/...`).
`cli_process` reads that line within a deadline, failing with what the process wrote to stderr. The socket listens
before the line is printed, so nothing polls (under granian the main process listens; a connection made before its
workers are up waits in the backlog).

Every server is stopped when its block ends, whatever happens inside.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
# e.g. "VSee Rooms API mock on http://127.0.0.1:40123/api_v3 (room detail also on ...)"
ANNOUNCEMENT = re.compile(r"\bon (?P<url>https?://[^\s/]+)")


def children(pid: int, count: int = 0, seconds: float = 15) -> list[int]:
    """The child processes of `pid` (Linux /proc), once there are at least `count` of them (granian's workers start
    after the banner); what there is after `seconds` otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = [int(child) for task in tasks for child in (task / "children").read_text().split()]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a server process: this checkout and the tests folder importable, output unbuffered, and
    none of the VSEE_/PYTEST_ variables of the run that starts it; `extra` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VSEE_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(TESTS), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **(extra or {})}


class _Output:
    """What one pipe of a child said so far, drained by a thread of its own so that the child never blocks on a full
    pipe (a busy server logs a line per request)."""

    def __init__(self, pipe: IO[str], name: str) -> None:
        self._lines: list[str] = []
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._drain, args=(pipe,), name=name, daemon=True)
        self._thread.start()

    def _drain(self, pipe: IO[str]) -> None:
        with pipe:
            for line in pipe:
                with self._changed:
                    self._lines.append(line)
                    self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def text(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def first_line(self, seconds: float) -> str | None:
        """The first line, once written; None when the pipe closed first or `seconds` passed."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._lines) or self._closed, timeout=seconds)
            return self._lines[0] if self._lines else None

    def wait_for(self, text: str, seconds: float) -> bool:
        """Whether `text` shows up before the pipe closes and within `seconds`."""
        with self._changed:
            self._changed.wait_for(lambda: text in "".join(self._lines) or self._closed, timeout=seconds)
            return text in "".join(self._lines)

    def join(self, seconds: float) -> None:
        self._thread.join(seconds)


@dataclass
class ServerProcess:
    """A server in a child process. `url` is where it listens, `http://HOST:PORT` without a path."""

    url: str
    command: tuple[str, ...] = field(repr=False)
    process: subprocess.Popen[str] = field(repr=False)
    _stdout: _Output = field(repr=False)
    _stderr: _Output = field(repr=False)

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    @property
    def api_v3(self) -> str:
        return f"{self.url}/api_v3"

    def stdout(self) -> str:
        """Its stdout so far (all of it once stopped); the first line is the announcement."""
        return self._stdout.text()

    def stderr(self) -> str:
        """Its stderr so far (all of it once stopped): the request log and any error."""
        return self._stderr.text()

    def wait_for(self, text: str, stream: str = "stderr", seconds: float = 10.0) -> None:
        """Return once `text` is in `stream` (a log line may follow the response it logs, the banner its first
        line); fail after `seconds`."""
        if not (self._stdout if stream == "stdout" else self._stderr).wait_for(text, seconds):
            raise AssertionError(f"{text!r} not in the {stream} of {self.describe()} after {seconds} s")

    def stop(self, sig: int = signal.SIGTERM, seconds: float = STOP_SECONDS) -> int:
        """Send `sig` unless it has ended, wait for it (SIGKILL when it outlives `seconds`) and for the rest of its
        output; return its exit code. Stopping a stopped server does nothing more."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=seconds)
        self._stdout.join(seconds)
        self._stderr.join(seconds)
        return self.process.returncode

    def kill(self) -> int:
        """`kill -9`: no chance to clean up or flush anything."""
        return self.stop(signal.SIGKILL)

    def describe(self) -> str:
        return f"`{shlex.join(self.command)}` (exit code {self.process.poll()})"

    def output_tail(self) -> str:
        return f"--- stderr ---\n{self.stderr()[-3000:]}\n--- stdout ---\n{self.stdout()[-1000:]}"


@contextmanager
def cli_process(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    startup_seconds: float = STARTUP_SECONDS,
) -> Iterator[ServerProcess]:
    """Start `command` (a server that binds port 0 and announces its URL in its first stdout line), and yield it
    once it has; fail, showing its stderr, when it exits or stays silent for `startup_seconds`. Stopped at the end."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=child_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = _Output(process.stdout, "stdout of a server"), _Output(process.stderr, "stderr of a server")
    server = ServerProcess("", tuple(command), process, out, err)
    try:
        line = out.first_line(startup_seconds)
        found = ANNOUNCEMENT.search(line or "")
        if found is None:
            exit_code = process.poll()
            server.stop()
            if exit_code is not None:
                what = f"exited with code {exit_code} before announcing its URL"
            elif line is None:
                what = f"wrote nothing to stdout within {startup_seconds} s"
            else:
                what = f"announced no URL in its first stdout line {line!r}"
            raise AssertionError(f"`{shlex.join(command)}` {what}\n{server.output_tail()}")
        server.url = found["url"]
        yield server
    finally:
        server.stop()


def mock_process(*args: str, env: Mapping[str, str] | None = None) -> AbstractContextManager[ServerProcess]:
    """`vsee-mock --port 0 ARGS` (as `python -m mock_server`, what the script runs)."""
    return cli_process([sys.executable, "-m", "mock_server", "--port", "0", *args], env=env)


def proxy_process(
    upstream: str, *args: str, env: Mapping[str, str] | None = None
) -> AbstractContextManager[ServerProcess]:
    """`vsee-mock proxy --upstream UPSTREAM --port 0 ARGS`."""
    command = [sys.executable, "-m", "mock_server", "proxy", "--upstream", upstream, "--port", "0", *args]
    return cli_process(command, env=env)


def wsgi_process(expression: str, env: Mapping[str, str] | None = None) -> AbstractContextManager[ServerProcess]:
    """A WSGI app under waitress in a child process, e.g. `helpers.broken_mocks.wrong_room()` or `mock_server.create_app()`:
    the child imports the module `expression` starts with (from this checkout or the tests folder) and evaluates it.
    `env` adds to the child's environment (knobs the app reads). A process of its own, so runs in parallel threads
    each get their own interpreter and environment."""
    module = expression.split("(", 1)[0].split("[", 1)[0].rsplit(".", 1)[0]  # helpers.broken_mocks.x() -> its module
    code = (
        f"import waitress, {module}\n"
        f"server = waitress.create_server({expression}, host='127.0.0.1', port=0)\n"
        "print('WSGI app under waitress on http://127.0.0.1:%s' % server.effective_port, flush=True)\n"
        "server.run()\n"
    )
    return cli_process([sys.executable, "-c", code], env=env)
