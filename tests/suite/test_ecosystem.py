"""The package coexists with the pytest plugins QA teams install: an unrelated project's session is unchanged
(pytest-base-url's `--base-url` and fixture work, its own `--user-id` option wins over our earlier spelling),
with pytest-playwright's plugins loaded too; and the suite takes its deployment from pytest-base-url."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.suite_runner import ACCOUNT_ARGS, run_suite, served

# pytest-playwright's plugin set (pytest-base-url comes with this package), installed beside the project's venv
PLAYWRIGHT = ["pytest-playwright", "playwright", "python-slugify", "text-unidecode", "greenlet"]
UNRELATED_TESTS = """
def test_the_base_url_is_the_ecosystems(base_url):
    assert base_url == "http://shop.example.test"


def test_its_own_option_is_its_own(pytestconfig):
    assert pytestconfig.getoption("user_id") == "7"


def test_every_plugin_is_loaded(pytestconfig):
    manager = pytestconfig.pluginmanager
    assert manager.has_plugin("vsee_contract") and manager.has_plugin("base_url")
    assert manager.has_plugin("playwright") == PLAYWRIGHT_EXPECTED
"""
UNRELATED_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--user-id", dest="user_id", help="this project's own option, named like our earlier one")
"""


@pytest.fixture(scope="module")
def playwright_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("playwright")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    subprocess.run([*pip, "--target", str(target), *PLAYWRIGHT], check=True, capture_output=True, timeout=300)
    return target


def _unrelated_project(tmp_path: Path, with_playwright: bool) -> Path:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "conftest.py").write_text(UNRELATED_CONFTEST)
    (project / "test_shop.py").write_text(f"PLAYWRIGHT_EXPECTED = {with_playwright}\n{UNRELATED_TESTS}")
    return project


@pytest.mark.parametrize("with_playwright", [True, False], ids=["with-pytest-playwright", "pytest-base-url-only"])
def test_an_unrelated_project_runs_unchanged(
    tmp_path: Path, request: pytest.FixtureRequest, with_playwright: bool
) -> None:
    project = _unrelated_project(tmp_path, with_playwright)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VSEE_", "PYTEST_"))}
    if with_playwright:
        env["PYTHONPATH"] = str(request.getfixturevalue("playwright_plugins"))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--base-url", "http://shop.example.test"]
    result = subprocess.run(
        [*command, "--user-id", "7"], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "3 passed" in result.stdout, output[-3000:]
    assert "VSee Rooms API contract" not in output, "the suite's summary appeared in another project's run"


def test_the_suite_takes_its_deployment_from_pytest_base_urls_environment_variable() -> None:
    with served(None) as base:
        result = run_suite("-k", "model_based", "--allow-writes", *ACCOUNT_ARGS, env={"PYTEST_BASE_URL": base})
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"target: {base}" in result.stdout, result.stdout[-3000:]
