#!/usr/bin/env python3
"""One entry point that needs only Python >= 3.11 and pip: `python3 dev.py setup|mock|test|lint|bench [args]`.

It creates .venv on first use (and again when pyproject.toml changes), installs the project with its test
extra, then starts the mock server or runs the whole test suite. Installing prints a line per phase (and a
heartbeat while pip is busy), not pip's every line; if pip fails, its output is shown. The command runs as a child
that gets the signals dev.py gets (SIGTERM, SIGHUP, and SIGINT when it was not already sent to the child by the
terminal), so `kill -TERM` on dev.py stops `vsee-mock` too; dev.py then exits with the child's exit code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import venv
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
PACKAGES = ["vsee_contract", "vsee_http", "mock_server", "vsee_proxy", "vsee_cli", "contract_tests"]
SOURCES = [*PACKAGES, "tests", "bench", "examples", "dev.py"]
# The test files run on every core, a file per worker (each file's module fixtures stay in one process).
COMMANDS = {
    "setup": [],  # only set up .venv: its commands are then in .venv/bin
    "mock": [["vsee-mock"]],
    "test": [["pytest", "-n", "auto", "--dist", "loadfile"]],
    "lint": [
        ["ruff", "check", *SOURCES],
        ["ruff", "format", "--check", *SOURCES],
        ["mypy", *PACKAGES, "tests"],  # strict: pyproject.toml
        ["lint-imports", "--no-logo"],  # the layers: [tool.importlinter] in pyproject.toml
    ],
    "bench": [["python", "bench/run.py"]],
}
HEARTBEAT_SECONDS = 10.0
FORWARDED = [getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)]


def say(message: str) -> None:
    print(f"dev.py: {message}", file=sys.stderr, flush=True)


def _wanted_stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def venv_is_current() -> bool:
    """Whether .venv holds an install of this pyproject.toml (then `ensure_venv` installs nothing)."""
    return STAMP.exists() and STAMP.read_text() == _wanted_stamp()


def ensure_venv() -> None:
    if venv_is_current():
        return
    wanted = _wanted_stamp()
    say("setting up .venv (the first time takes about a minute)...")
    if not (BIN / "python").exists():
        say(f"creating the virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    say("installing the project with its test extra into .venv (pip)...")
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
    code = install_with_progress([*pip, "-e", f"{ROOT}[test]"])
    if code != 0:
        say(f"pip failed (exit code {code}); .venv is left as it is and set up again on the next run")
        raise SystemExit(code)
    STAMP.write_text(wanted)
    say(".venv ready")


def install_with_progress(command: Sequence[str], heartbeat: float = HEARTBEAT_SECONDS) -> int:
    """Run pip: say when it moves on to the next phase, and every `heartbeat` seconds that it still works and how
    far it got; its full output only when it fails. Returns pip's exit code."""
    lines: queue.Queue[str | None] = queue.Queue()

    def drain(pipe: Iterator[str]) -> None:
        for line in pipe:
            lines.put(line)
        lines.put(None)

    output: list[str] = []
    collected, phase, started = 0, "", time.monotonic()
    with forward_signals() as forwarding:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        forwarding.attach(process)
        assert process.stdout is not None
        threading.Thread(target=drain, args=(process.stdout,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=heartbeat)
            except queue.Empty:
                elapsed = time.monotonic() - started
                say(f"pip is still working ({collected} packages collected, {elapsed:.0f} s)...")
                continue
            if line is None:
                break
            output.append(line)
            if line.startswith("Collecting ") or line.startswith("Requirement already satisfied"):
                collected += 1
                if phase != "collect":
                    phase = "collect"
                    say("pip: resolving and downloading the dependencies...")
            elif line.startswith("Installing collected packages"):
                phase = "install"
                count = len(line.partition(":")[2].split(","))
                say(f"pip: installing {count} packages...")
            elif line.startswith("Successfully installed"):
                say(f"pip: {line.strip()[:200]}{'...' if len(line.strip()) > 200 else ''}")
        code = process.wait()
    if code != 0:
        sys.stderr.write("".join(output[-80:]))
        sys.stderr.flush()
    return code


def _came_from_the_terminal(signum: int) -> bool:
    """A Ctrl-C in a terminal reaches the whole foreground process group, the child included: forwarding it too
    would interrupt the child twice (its clean shutdown included)."""
    if signum != getattr(signal, "SIGINT", None):
        return False
    try:
        with open("/dev/tty", "rb") as tty:
            return os.tcgetpgrp(tty.fileno()) == os.getpgrp()
    except OSError:
        return False  # no controlling terminal: a supervisor or a test sent it to dev.py alone


class Forwarding:
    """The signals dev.py got while its child runs, and the child they go to. A signal that arrives before the
    child exists (between installing the handlers and the fork) waits here and is sent once the child is attached,
    so it is never lost nor ends dev.py with the child left running."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._process: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None
        self._pending: list[int] = []

    def attach(self, process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
        self._process = process
        pending, self._pending = self._pending, []
        for signum in pending:
            self._send(signum)

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        if _came_from_the_terminal(signum):
            return
        if self._process is None:
            self._pending.append(signum)
        else:
            self._send(signum)

    def _send(self, signum: int) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signum)


@contextlib.contextmanager
def forward_signals() -> Iterator[Forwarding]:
    """While inside, the signals dev.py gets go to the attached child (and are recorded) instead of ending dev.py;
    the previous handlers come back afterwards. Enter it before starting the child."""
    forwarding = Forwarding()
    previous = {signum: signal.signal(signum, forwarding.handle) for signum in FORWARDED}
    try:
        yield forwarding
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_forwarding(command: Sequence[str], cwd: Path = ROOT) -> tuple[int, list[int]]:
    """Run `command` as a child that gets dev.py's signals; wait for it. Returns its exit code (128 + N when signal N
    ended it, as a shell reports it) and the signals dev.py received meanwhile."""
    with forward_signals() as forwarding:
        process = subprocess.Popen(list(command), cwd=cwd)
        forwarding.attach(process)
        code = process.wait()
    return (128 - code if code < 0 else code), forwarding.received


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args...]", file=sys.stderr)
        return 2
    ensure_venv()
    steps = COMMANDS[argv[0]]
    if not steps:
        say(f".venv is set up; its commands are in {BIN} (e.g. {BIN / 'pytest'} --pyargs contract_tests --help)")
    codes = []
    for n, (program, *args) in enumerate(steps):  # every step runs, so lint shows all its findings at once
        extra = argv[1:] if n == len(steps) - 1 else []  # extra arguments go to the last step
        code, received = run_forwarding([str(BIN / program), *args, *extra])
        codes.append(code)
        if received:  # stopped from outside: run no further step
            break
    return next((code for code in codes if code != 0), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
