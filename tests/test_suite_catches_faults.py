"""Proof that the contract suite catches faults: it fails, naming the rule, on every broken variant of the mock,
and passes on the correct mock, both in-process (`--contract-app`) and over real HTTP on 127.0.0.1.

Every run goes through the suite's real command line (`python -m pytest --pyargs contract_tests ...`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from broken_mocks import VARIANTS
from suite_runner import ACCOUNT, http_args, run_suite, served

# variant -> (what the output must name, the suite's tests that exercise it)
EXPECTED = {
    "wrong_room": ("room-is-the-requested-one", "get_room_returns"),
    "create_not_stored": ("created-room-readable-and-listed", "created_room_is_readable"),
    "create_ignores_name": ("created-room-echoes-input", "created_room_is_readable"),
    "duplicate_slug_accepted": ("duplicate-slug-refused", "same_slug"),
    "existing_code_overwritten": ("existing-code-refused", "existing_code"),
    "association_not_listed": ("association-listed-for-user", "association_makes"),
    "association_not_a_provider": ("association-makes-provider", "association_makes"),
    "delete_keeps_provider": ("association-makes-provider", "association_makes"),
    "default_not_exclusive": ("default-room-exclusive", "default_true"),
    "page_ignores_limit": ("page-within-limit", "pages_stay"),
    "pages_overlap": ("pages-partition-list", "pages_stay"),
    "page_past_end_not_empty": ("page-past-end-empty", "pages_stay"),
    "queue_overflow": ("queue-arithmetic", "queue_is"),
    "unknown_room_found": ("unknown-resource-is-4xx", "unknown_room_codes"),
    "token_not_checked": ("writes-need-admin-token", "wrong_token"),
    "reads_need_token": ("public-reads-need-no-token", "public_reads"),
    "crash_on_search": ("no-5xx", "no_read_input"),
    "queue_status_201": ("response-schema", "queue_is"),
    "list_item_without_code": ("response-schema", "pages_stay"),
    "provider_id_as_number": ("response-schema", "public_reads"),
    "queue_as_text": ("response-schema", "queue_is"),
    "error_without_message": ("error-shape", "unknown_room_codes"),
}


def test_every_variant_has_an_expectation() -> None:
    assert set(EXPECTED) == set(VARIANTS)


def _in_process(variant: str | None) -> subprocess.CompletedProcess[str]:
    if variant is None:
        return run_suite()
    return run_suite("--contract-app", f"broken_mocks:{variant}", "-k", EXPECTED[variant][1])


def _over_http(variant: str | None) -> subprocess.CompletedProcess[str]:
    with served(variant) as base:
        return run_suite(*http_args(base), *(["-k", EXPECTED[variant][1]] if variant else []))


def _all(run: Callable[[str | None], subprocess.CompletedProcess[str]]) -> dict[str | None, Any]:
    """Every variant and the correct mock, run on all cores at once (each run is its own processes)."""
    names: list[str | None] = [None, *sorted(EXPECTED)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(names, pool.map(run, names), strict=True))


@pytest.fixture(scope="module")
def in_process_runs() -> dict[str | None, Any]:
    return _all(_in_process)


@pytest.fixture(scope="module")
def http_runs() -> dict[str | None, Any]:
    return _all(_over_http)


def _assert_passed(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout and " skipped" not in result.stdout
    assert ACCOUNT[1] not in result.stdout + result.stderr, "the token leaked into the output"


def _assert_caught(result: subprocess.CompletedProcess[str], variant: str) -> None:
    rule, _ = EXPECTED[variant]
    assert result.returncode == 1, f"{variant}: suite exited {result.returncode}\n{result.stdout[-3000:]}"
    assert f"[{rule}]" in result.stdout, f"{variant}: failure does not name [{rule}]\n{result.stdout[-3000:]}"
    assert ACCOUNT[1] not in result.stdout + result.stderr, "the token leaked into the output"


def test_suite_passes_on_the_correct_mock_in_process(in_process_runs: dict[str | None, Any]) -> None:
    _assert_passed(in_process_runs[None])


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_suite_catches_variant_in_process(in_process_runs: dict[str | None, Any], variant: str) -> None:
    _assert_caught(in_process_runs[variant], variant)


def test_suite_passes_on_the_correct_mock_over_http(http_runs: dict[str | None, Any]) -> None:
    _assert_passed(http_runs[None])


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_suite_catches_variant_over_http(http_runs: dict[str | None, Any], variant: str) -> None:
    _assert_caught(http_runs[variant], variant)
