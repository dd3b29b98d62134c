"""The code stays typed, linted and formatted: mypy and ruff over the packages, the tests and the tools."""

from __future__ import annotations

import subprocess
import sys

from mock_helpers import ROOT

PACKAGES = ["vsee_contract", "mock_server", "contract_tests"]
SOURCES = [*PACKAGES, "tests", "bench", "dev.py"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_mypy_finds_no_type_errors_in_the_packages() -> None:
    result = _run("mypy", *PACKAGES)
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_finds_no_lint_errors_and_nothing_to_reformat() -> None:
    lint = _run("ruff", "check", *SOURCES)
    assert lint.returncode == 0, lint.stdout[-3000:]
    formatting = _run("ruff", "format", "--check", *SOURCES)
    assert formatting.returncode == 0, formatting.stdout[-3000:]
