"""The contract's outside judges that come from npm."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import npm


@pytest.fixture(scope="session")
def npm_bin() -> Path:
    """`node_modules/.bin` with the tools package-lock.json pins, installed once per lock file."""
    return npm.installed()
