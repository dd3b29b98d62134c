"""The layers of ARCHITECTURE.md hold: import-linter checks the contracts of `[tool.importlinter]` in
pyproject.toml (`dev.py lint` runs the same check), and a copy of the packages with one forbidden import per rule
is reported, import by import, so the check is proven to fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from helpers.mock_api import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]

# A module of the mock's own (not its public `__init__`), whichever there is.
INTERNAL = min(f"mock_server.{p.stem}" for p in (ROOT / "mock_server").glob("*.py") if not p.stem.startswith("_"))
# (package of the copy, the import added to its __init__.py, the line of import-linter's report that must name it)
FORBIDDEN = [
    ("vsee_contract", "import vsee_http", "vsee_contract -> vsee_http"),  # the core knows no HTTP
    ("vsee_http", "import mock_server", "vsee_http -> mock_server"),  # the HTTP layer knows no ending
    ("vsee_proxy", "import mock_server", "vsee_proxy -> mock_server"),  # mock | proxy: independent
    ("mock_server", "import vsee_proxy", "mock_server -> vsee_proxy"),
    ("mock_server", "import contract_tests", "mock_server -> contract_tests"),  # the suite is on top
    ("contract_tests", f"import {INTERNAL}", f"contract_tests -> {INTERNAL}"),  # the mock's public factory only
    ("contract_tests", "import vsee_http", "contract_tests -> vsee_http"),
]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter run on the packages under `root` (found there first: PYTHONPATH) with its config."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_packages_keep_their_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def broken_copy(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """import-linter's report on a copy of the packages holding every import of FORBIDDEN."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", root)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "_fixtures"))
    for package, statement, _ in FORBIDDEN:
        with (root / package / "__init__.py").open("a") as module:
            module.write(f"\n{statement}\n")
    return lint_imports(root)


@pytest.mark.parametrize("reported", [f[2] for f in FORBIDDEN])
def test_a_forbidden_import_breaks_the_check_naming_it(
    broken_copy: subprocess.CompletedProcess[str], reported: str
) -> None:
    assert broken_copy.returncode != 0, broken_copy.stdout + broken_copy.stderr
    report = " ".join(broken_copy.stdout.split())  # the forbidden modules' lines are padded
    assert f"- {reported} (l." in report, broken_copy.stdout + broken_copy.stderr
