"""`dev.py`: the signals it gets reach its child (`kill -TERM` on `dev.py mock` stops `vsee-mock` and frees the port),
it exits with the child's exit code, and installing says what it is doing without pip's every line."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
import requests

from helpers.servers import ROOT, ServerProcess, children, cli_process

VSEE_MOCK = ROOT / ".venv" / "bin" / "vsee-mock"


def _load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_py", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()

# A child that says where it is, then waits; a signal ends it with exit code 3 after saying which one it got.
CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    def stop(signum, frame):
        print("child got", signum, flush=True)
        sys.exit(3)
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), stop)
    print("child", os.getpid(), flush=True)
    time.sleep(60)
    sys.exit(0)
    """
)
PLAIN_CHILD = "import os, time; print('child', os.getpid(), flush=True); time.sleep(60)"


def _driver(child: str) -> list[str]:
    """python running dev.py's `run_forwarding` on a child script, exiting with what it returns."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import dev\n"
        f"code, received = dev.run_forwarding([sys.executable, '-c', {child!r}])\n"
        "print('dev.py received', received, flush=True)\n"
        "sys.exit(code)\n"
    )
    return [sys.executable, "-c", code]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "(Z)" not in _stat(pid)  # a zombie is gone but for its entry


def _stat(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


pytestmark = pytest.mark.skipif(not Path("/proc").is_dir() or os.name == "nt", reason="needs POSIX signals and /proc")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_to_dev_py_reaches_the_child_and_its_exit_code_comes_back(signum: int) -> None:
    """Without a terminal (a supervisor, a test, `kill`), SIGINT is forwarded too; dev.py waits and exits with the
    child's code."""
    process = subprocess.Popen(
        _driver(CHILD),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # no controlling terminal
    )
    try:
        assert process.stdout is not None
        child = int(process.stdout.readline().split()[1])
        process.send_signal(signum)
        assert process.wait(timeout=20) == 3
        said = process.stdout.read()
        assert f"child got {int(signum)}" in said
        assert f"dev.py received [{int(signum)}]" in said
        assert not _alive(child)
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: signal.Signals(s).name)
def test_a_signal_that_arrives_before_the_child_starts_reaches_it_once_it_does(signum: int) -> None:
    """The window between dev.py's handlers and the fork: the signal waits and goes to the child as soon as it
    exists; dev.py neither ignores it (SIGINT is ignored in a background job of a non-interactive shell, as CI runs
    it) nor dies of it leaving the child running."""
    code = (
        f"import os, signal, subprocess, sys; sys.path.insert(0, {str(ROOT)!r}); import dev\n"
        f"signal.signal({int(signum)}, signal.SIG_IGN)\n"
        "with dev.forward_signals() as forwarding:\n"
        f"    os.kill(os.getpid(), {int(signum)})\n"
        "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "    forwarding.attach(child)\n"
        "    code = child.wait()\n"
        "print('child exit', code, 'received', forwarding.received, flush=True)\n"
    )
    said = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, start_new_session=True
    ).stdout
    assert said.strip() == f"child exit {-int(signum)} received [{int(signum)}]"


def test_a_child_ended_by_the_signal_gives_128_plus_its_number() -> None:
    process = subprocess.Popen(_driver(PLAIN_CHILD), stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        child = int(process.stdout.readline().split()[1])
        process.terminate()
        assert process.wait(timeout=20) == 128 + signal.SIGTERM
        assert not _alive(child)
    finally:
        process.kill()
        process.wait()


def _stop_and_check_the_mock_is_gone(server: ServerProcess) -> None:
    """SIGTERM to dev.py: its vsee-mock child stops gracefully (exit 0, which dev.py passes on), every process of it
    ends and the port is free again."""
    assert requests.get(f"{server.url}/__mock__/state", timeout=10).status_code == 200
    family = children(server.process.pid, 1)
    assert family, "dev.py runs vsee-mock as its child"
    family += [worker for child in family for worker in children(child, 1)]  # granian's workers
    code = server.stop(signal.SIGTERM)
    assert code == 0, server.output_tail()
    assert [pid for pid in family if _alive(pid)] == []
    assert _port_is_free(server.port)


@pytest.mark.skipif(not VSEE_MOCK.exists(), reason=".venv/bin/vsee-mock is not installed")
def test_dev_py_mock_stops_vsee_mock_on_sigterm() -> None:
    """`dev.py mock` past its .venv set-up (stubbed: pyproject.toml may be newer than .venv while editing)."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import dev\n"
        "dev.ensure_venv = lambda: None\n"
        "sys.exit(dev.main(['mock', '--port', '0', '--quiet', '--no-watch']))\n"
    )
    with cli_process([sys.executable, "-c", code]) as server:
        _stop_and_check_the_mock_is_gone(server)


@pytest.mark.skipif(not dev.venv_is_current(), reason=".venv is older than pyproject.toml: dev.py would install")
def test_python3_dev_py_mock_stops_vsee_mock_on_sigterm() -> None:
    """The command as the README gives it (with .venv current, as after `python3 dev.py test`)."""
    with cli_process([sys.executable, "dev.py", "mock", "--port", "0", "--quiet", "--no-watch"]) as server:
        _stop_and_check_the_mock_is_gone(server)


FAKE_PIP = textwrap.dedent(
    """
    import sys, time
    for n in range(40):
        print(f"Collecting package{n}>=1.0")
        print(f"  Downloading package{n}-1.0-py3-none-any.whl (12 kB)")
    time.sleep(0.8)
    print("Installing collected packages: alpha, beta, gamma")
    print("Successfully installed alpha-1.0 beta-2.0 gamma-3.0")
    sys.exit(int(sys.argv[1]))
    """
)


def test_installing_says_what_it_does_without_flooding(capsys: pytest.CaptureFixture[str]) -> None:
    """A line per phase and a heartbeat while pip is quiet, instead of silence (or 80 lines of pip)."""
    assert dev.install_with_progress([sys.executable, "-c", FAKE_PIP, "0"], heartbeat=0.3) == 0
    said = capsys.readouterr().err.splitlines()
    assert any("resolving and downloading" in line for line in said), said
    assert any("still working (40 packages collected" in line for line in said), said
    assert any("installing 3 packages" in line for line in said), said
    assert any("Successfully installed alpha-1.0" in line for line in said), said
    assert len(said) <= 10, said
    assert all(line.startswith("dev.py: ") for line in said), said


def test_a_failing_install_shows_pips_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert dev.install_with_progress([sys.executable, "-c", FAKE_PIP, "1"], heartbeat=5) == 1
    err = capsys.readouterr().err
    assert "Collecting package39>=1.0" in err and "Successfully installed" in err


def test_setup_only_sets_up_the_venv_and_says_where_its_commands_are() -> None:
    """`python3 dev.py setup` (with .venv current, as after any dev.py command): nothing runs but the set-up."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), "setup"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"its commands are in {ROOT / '.venv' / 'bin'}" in result.stderr, result.stderr
