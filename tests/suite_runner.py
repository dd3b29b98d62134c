"""Run the contract suite through its real command line, against the in-process mock or a server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import requests

TESTS = Path(__file__).resolve().parent
ACCOUNT = ("vclinic", "83ec6843c3af534c551ab609d869dd82")
ACCOUNT_ARGS = ("--account-code", ACCOUNT[0], "--api-token", ACCOUNT[1])


def suite_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VSEE_", "PYTEST_", "GITHUB_STEP"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let the suite's processes reuse compiled asserts
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return env


def run_suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m pytest --pyargs contract_tests` (quick profile, seed 1) with `args`, as a user would run it."""
    command = [sys.executable, "-m", "pytest", "--pyargs", "contract_tests", "-q", "-p", "no:cacheprovider",
               "--contract-profile", "quick", "--contract-seed", "1", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env={**suite_env(), **(env or {})},
                          cwd=TESTS.parent, timeout=300)  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, process: subprocess.Popen[Any], seconds: float = 30) -> None:
    """Poll `url` until the server in `process` answers at all; fail if it exits or the deadline passes."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{url} did not come up (exit code {process.poll()})") from None
            time.sleep(0.05)


def served(variant: str | None) -> AbstractContextManager[str]:
    """A broken variant (or the correct mock) under waitress on 127.0.0.1, for the duration of the block."""
    return served_app(f"broken_mocks.{variant}()" if variant else "mock_server.create_app()")


def http_args(base: str) -> list[str]:
    """A live run with writes, as a tester would start it: the account, its token and a test user (826), without
    which the rules that change a user's default room are skipped on a live deployment."""
    return ["--base-url", base, "--allow-writes", *ACCOUNT_ARGS, "--user-id", "826"]


@contextmanager
def served_app(factory_expression: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Any WSGI app under waitress on 127.0.0.1 for the duration of the block; yields the v3 base URL.

    `factory_expression` is evaluated in the server process after importing the module it starts with, e.g.
    `benign_variants.VARIANTS['slow']()`; `env` adds to the server's environment (knobs of the app).
    """
    module = factory_expression.split(".", 1)[0].split("(", 1)[0]
    # The server binds port 0 itself and says which port it got: no other run can take it in between.
    code = (
        f"import waitress, {module}\n"
        f"server = waitress.create_server({factory_expression}, host='127.0.0.1', port=0)\n"
        "print(server.effective_port, flush=True)\n"
        "server.run()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**suite_env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    try:
        base = f"http://127.0.0.1:{port}/api_v3"
        wait_until_serving(f"{base}/rooms", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
