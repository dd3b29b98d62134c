"""pytest plugin (entry point `vsee_mock`): the mock as a fixture, the way pytest-httpserver works.

`vsee_mock` starts one mock per test session on a free loopback port and gives each test that uses it a namespace
of its own (an isolated copy of the fixtures), so tests may run in parallel against it. Other projects get it by
installing this package; nothing to start by hand.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import waitress
from flask import Flask

from .app import create_app, runtime
from .namespaces import NAMESPACE_HEADER


@dataclass
class LiveMock:
    """A running mock seen from one test: where it listens, the fixture account, and the test's own namespace.

    Send `headers` (or at least `namespace_headers`) with every call: they select the test's namespace, an isolated
    copy of the fixtures, so tests never see each other's rooms, even in parallel against one mock."""

    app: Flask = field(repr=False)
    url: str
    account_code: str
    api_token: str = field(repr=False)
    namespace: str = ""  # "" is the mock's default namespace

    @property
    def base_url(self) -> str:
        return f"{self.url}/api_v3"

    @property
    def v4_base_url(self) -> str:
        return f"{self.url}/api_v4"

    @property
    def namespace_headers(self) -> dict[str, str]:
        return {NAMESPACE_HEADER: self.namespace} if self.namespace else {}

    @property
    def headers(self) -> dict[str, str]:
        """The namespace, the account code and the admin token (in the contract's headers) of the default account."""
        spec = runtime(self.app).contract.spec
        return {
            **self.namespace_headers,
            spec.account_header(): self.account_code,
            spec.security_header(): self.api_token,
        }

    def reset(self) -> None:
        """This namespace back to the default scenario's fixtures."""
        runtime(self.app).reset("default", self.namespace)

    def use_scenario(self, name: str) -> None:
        """Switch this namespace to a named scenario (empty, closed, busy, legacy, …) for the rest of the test."""
        runtime(self.app).reset(name, self.namespace)

    def requests(self, method: str | None = None, path: str | None = None, status: int | None = None) -> list[Any]:
        """What this test sent to the mock, newest first (as GET /__mock__/requests?namespace= returns it)."""
        return list(runtime(self.app).journal.entries(method, path, status, namespace=self.namespace))


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
def vsee_mock(vsee_mock_server: LiveMock) -> Iterator[LiveMock]:
    """The session's mock in a namespace of this test's own, made from the fixtures and dropped afterwards."""
    mock = replace(vsee_mock_server, namespace=f"test-{uuid.uuid4().hex}")
    try:
        yield mock
    finally:
        runtime(mock.app).namespaces.drop(mock.namespace)
