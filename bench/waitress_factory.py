"""The mock as `waitress-serve --call bench.waitress_factory:create` serves it, for bench/run.py's comparison with
the server that replaced waitress. `--call` passes no arguments, so the configuration `vsee-mock` would give by
default (strict validation, the per-request log at INFO on stderr, no hot reload) is set here."""

from __future__ import annotations

import logging

from flask import Flask

from mock_server import MockConfig, create_app


def create() -> Flask:
    """The app with `vsee-mock`'s defaults: the same log line per request, strict responses."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return create_app(MockConfig(strict=True))
