"""Run the contract suite through its real command line, against the in-process mock or a server on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from schemathesis import Case

from contract_tests.settings import PROFILES, SuiteSettings

from helpers.servers import child_env, wsgi_process

TESTS = Path(__file__).resolve().parents[1]
ACCOUNT = ("vclinic", "83ec6843c3af534c551ab609d869dd82")
ACCOUNT_ARGS = ("--account-code", ACCOUNT[0], "--api-token", ACCOUNT[1])  # the earlier spellings: still accepted
# the settings of a live run with writes against a port nothing listens on, for tests that send nothing
LIVE = SuiteSettings(
    base_url="http://127.0.0.1:9/api_v3",
    v4_base_url=None,
    account_code=ACCOUNT[0],
    api_token=ACCOUNT[1],
    allow_writes=True,
    max_writes=5,
    room_code=None,
    user_id=None,
    profile=PROFILES["quick"],
    seed=1,
    report_path=None,
    app_factory=None,
    domain="vclinic.vsee.me",
)


def json_object(case: Case[Any]) -> dict[str, Any]:
    """The JSON object a generated case sends (its `body` may be any JSON value, bytes or NOT_SET)."""
    assert isinstance(case.body, dict), case.body
    return case.body


def suite_env() -> dict[str, str]:
    """A server's environment (`child_env`), and no GitHub step summary for the inner run to append to."""
    env = {k: v for k, v in child_env().items() if not k.startswith("GITHUB_STEP")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let the suite's processes reuse compiled asserts
    return env


def run_suite(*args: str, env: dict[str, str] | None = None, seed: int | None = 1) -> subprocess.CompletedProcess[str]:
    """`python -m pytest --pyargs contract_tests` (quick profile, seed 1; `seed=None`: the suite picks one) with
    `args`, as a user would run it."""
    seeded = ["--contract-seed", str(seed)] if seed is not None else []
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "contract_tests",
        "-q",
        "-p",
        "no:cacheprovider",
        "--contract-profile",
        "quick",
        *seeded,
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env={**suite_env(), **(env or {})}, cwd=TESTS.parent, timeout=300
    )


def served(variant: str | None) -> AbstractContextManager[str]:
    """A broken variant (or the correct mock) under waitress on 127.0.0.1, for the duration of the block."""
    return served_app(f"helpers.broken_mocks.{variant}()" if variant else "mock_server.create_app()")


def http_args(base: str) -> list[str]:
    """A live run with writes, as a tester would start it: the account, its token and a test user (826), without
    which the rules that change a user's default room are skipped on a live deployment."""
    return ["--base-url", base, "--contract-allow-writes", *ACCOUNT_ARGS, "--contract-user-id", "826"]


@contextmanager
def served_app(factory_expression: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Any WSGI app under waitress in a process of its own on 127.0.0.1 for the duration of the block; yields the v3
    base URL. `factory_expression` and `env` as for `helpers.servers.wsgi_process`, e.g.
    `helpers.benign_variants.VARIANTS['slow']()` and the knobs the app reads."""
    with wsgi_process(factory_expression, env=env) as server:
        yield server.api_v3
