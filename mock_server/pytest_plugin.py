"""pytest plugin (entry point `vsee_mock`): the mock as a fixture, the way pytest-httpserver works.

`vsee_mock` starts one mock per test session on a free loopback port and resets it (state and journal) before
each test that uses it. Other projects get it by installing this package; nothing to start by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import waitress
from flask import Flask

from .app import create_app, runtime


@dataclass
class LiveMock:
    """A running mock: where it listens, the fixture account to use, and its journal."""

    app: Flask = field(repr=False)
    url: str
    account_code: str
    api_token: str = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api_v3"

    @property
    def v4_base_url(self) -> str:
        return f"{self.url}/api_v4"

    @property
    def headers(self) -> dict[str, str]:
        """X-AccountCode and the admin token (in the contract's token header) of the default account."""
        return {"X-AccountCode": self.account_code, runtime(self.app).contract.spec.security_header(): self.api_token}

    def reset(self) -> None:
        """Back to the default scenario's fixtures, with an empty journal."""
        state = runtime(self.app)
        state.reset("default")
        state.journal.clear()

    def use_scenario(self, name: str) -> None:
        """Switch to a named scenario (empty, closed, busy, legacy, …) for the rest of this test."""
        runtime(self.app).reset(name)

    def requests(self, method: str | None = None, path: str | None = None, status: int | None = None) -> list[Any]:
        """What was sent to the mock, newest first (as GET /__mock__/requests returns it)."""
        return list(runtime(self.app).journal.entries(method, path, status))


@pytest.fixture(scope="session")
def vsee_mock_server() -> Iterator[LiveMock]:
    """One mock for the whole session, served by waitress on 127.0.0.1 in a background thread."""
    app = create_app({"seed": 0})
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="vsee-mock", daemon=True)
    thread.start()
    account = runtime(app).store.default_account
    try:
        yield LiveMock(app, f"http://127.0.0.1:{server.effective_port}", account.code, account.admin_token)
    finally:
        server.close()


@pytest.fixture
def vsee_mock(vsee_mock_server: LiveMock) -> LiveMock:
    """The session's mock, reset to its fixtures for this test."""
    vsee_mock_server.reset()
    return vsee_mock_server
