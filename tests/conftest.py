"""Fixtures shared by the mock-server tests: one app per module, reset to the fixtures before each test."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture(scope="module")
def shared_app() -> Flask:
    """One app per module: building one costs ~60 ms (YAML fixtures, compiled validators)."""
    from mock_server import create_app  # imported here so that tests not using the mock never import it

    return create_app()


@pytest.fixture
def app(shared_app: Flask) -> Flask:
    """The shared app, back in the default scenario and reset to its fixtures: every test starts the same."""
    from mock_server import runtime

    runtime(shared_app).reset("default")
    return shared_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client of the freshly reset shared app."""
    return app.test_client()
