"""The suite's command-line options: all under `--contract-`, so that installing the package adds nothing generic to
an unrelated pytest session, and `--base-url` from pytest-base-url (the ecosystem's convention, shared with
pytest-playwright and pytest-selenium) instead of an option of our own that would clash with theirs.

The spellings of earlier versions (`--api-token`, `--allow-writes`, ...) keep working as aliases, registered only
when no other plugin or conftest has taken the name (checked once every plugin has added its options, as
pytest-playwright does for `--base-url`).
"""

from __future__ import annotations

import argparse
from collections.abc import Generator
from typing import Any

import pytest

from .settings import PROFILES

GROUP = "vsee-contract"
# (option, the earlier spelling or None, addoption keyword arguments)
OPTIONS: list[tuple[str, str | None, dict[str, Any]]] = [
    (
        "--contract-v4-base-url",
        "--v4-base-url",
        {"help": "v4 base (default: --base-url with api_v4); env VSEE_V4_BASE_URL"},
    ),
    (
        "--contract-account-code",
        "--account-code",
        {"help": "the clinic account code (its header is the spec's); env VSEE_ACCOUNT_CODE"},
    ),
    ("--contract-api-token", "--api-token", {"help": "the clinic admin token; env VSEE_API_TOKEN"}),
    (
        "--contract-allow-writes",
        "--allow-writes",
        {"action": "store_true", "help": "run write operations against --base-url (always on in-process)"},
    ),
    (
        "--contract-max-writes",
        "--max-writes",
        {
            "type": int,
            "default": 1000,
            "help": "most write requests the whole run sends to a live deployment, one budget shared by pytest-xdist "
            "workers (default 1000)",
        },
    ),
    (
        "--contract-max-rooms",
        None,
        {
            "type": int,
            "default": 10,
            "metavar": "N",
            "help": "most rooms the whole run creates on a live deployment, which cannot delete them (default 10); "
            "the suite's rooms from earlier runs are reused",
        },
    ),
    ("--contract-room-code", "--room-code", {"help": "a room to read when discovery finds none"}),
    (
        "--contract-user-id",
        "--user-id",
        {
            "help": "a user the run may associate and whose default room it may change (`-`: the token's own user); "
            "without it a live run changes no user's default room"
        },
    ),
    (
        "--contract-domain",
        "--domain",
        {"help": "the clinic's domain, for a deployment with no room to learn it from; env VSEE_DOMAIN"},
    ),
    (
        "--contract-namespace",
        None,
        {
            "metavar": "NAME",
            "help": "against a shared vsee-mock: send X-Mock-Namespace NAME (-gwN under pytest-xdist), so this run's "
            "rooms stay in a namespace of their own; env VSEE_NAMESPACE",
        },
    ),
    (
        "--contract-profile",
        None,
        {"choices": sorted(PROFILES), "default": "ci", "help": "example counts and bounds (default: ci)"},
    ),
    ("--contract-seed", None, {"type": int, "help": "seed that reproduces a run"}),
    (
        "--contract-report",
        None,
        {"metavar": "PATH", "help": "write the per-operation summary as Markdown (also to $GITHUB_STEP_SUMMARY)"},
    ),
    (
        "--contract-app",
        None,
        {"metavar": "MODULE:FACTORY", "help": "in-process WSGI app factory to test instead of mock_server:create_app"},
    ),
    (
        "--contract-timeout",
        None,
        {
            "type": float,
            "default": 30.0,
            "metavar": "SECONDS",
            "help": "how long one request may take before the test fails (default 30)",
        },
    ),
    (
        "--contract-concurrency",
        None,
        {
            "type": lambda value: _at_least_one("--contract-concurrency", value),
            "default": 8,
            "metavar": "N",
            "help": "most independent reads in flight at once against --base-url, the schema, links, model and token "
            "layers side by side (default 8; 1: everything one after another)",
        },
    ),
    (
        "--contract-consistency-window",
        None,
        {
            "type": float,
            "metavar": "SECONDS",
            "help": "how long a deployment may take to show a write: reads that disagree with a write are made again "
            "for this long (the lag is an advisory), a violation only past it (default 5; 0 in-process)",
        },
    ),
    (
        "--contract-strict",
        None,
        {
            "action": "store_true",
            "help": "fail on advisories too (legal choices where the docs are silent, e.g. lenient input)",
        },
    ),
    (
        "--contract-require-all",
        None,
        {
            "action": "store_true",
            "help": "fail the run when a rule could not be checked (no room, no provider, writes not allowed, ...)",
        },
    ),
]


def _at_least_one(option: str, value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{option} takes a whole number of at least 1, not {value!r}")
    return int(value)


def dest(option: str) -> str:
    """`--contract-api-token` -> `contract_api_token`: where pytest keeps its value."""
    return option.lstrip("-").replace("-", "_")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "VSee Rooms API contract suite (the deployment: pytest-base-url's --base-url)")
    for option, _, kwargs in OPTIONS:
        group.addoption(option, dest=dest(option), **kwargs)


def _taken(parser: pytest.Parser) -> set[str]:
    """Every option string some plugin or conftest has registered so far."""
    groups = [*parser._groups, parser._anonymous]
    return {name for group in groups for argument in group.options for name in argument.names()}


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    """After every plugin and the initial conftests added theirs, and before the command line is parsed."""
    yield
    taken = _taken(parser)
    group = parser.getgroup(GROUP)
    for option, earlier, kwargs in OPTIONS:
        if earlier is not None and earlier not in taken:
            alias = {k: v for k, v in kwargs.items() if k in ("action", "type")}
            group.addoption(earlier, dest=dest(option), help=f"the earlier spelling of {option}", **alias)


def base_url(config: pytest.Config) -> str | None:
    """`--base-url`, the `base_url` ini value or $PYTEST_BASE_URL (pytest-base-url); None when it is not loaded."""
    found = config.getoption("base_url", None)
    if found:
        return str(found)
    try:
        return str(config.getini("base_url")) or None
    except ValueError:  # no plugin registered the ini key
        return None
