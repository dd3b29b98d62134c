"""Proof that the contract suite catches faults: its model-based layer fails, naming the rule and the steps that led
there, on every broken variant of the mock, and the whole suite passes on the correct mock, both in-process
(`--contract-app`) and over real HTTP on 127.0.0.1.

Every run goes through the suite's real command line (`python -m pytest --pyargs contract_tests ...`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from helpers.broken_mocks import VARIANTS
from helpers.suite_runner import ACCOUNT, http_args, run_suite, served

# variant -> the rule its failure must name. Every fault, the old one-rule ones and the ones only a cross-side check
# sees, is caught by the model-based layer alone (`-k model_based`).
EXPECTED = {
    "wrong_room": "room-is-the-requested-one",
    "create_not_stored": "created-room-readable-and-listed",
    "create_ignores_name": "created-room-echoes-input",
    "duplicate_slug_accepted": "duplicate-slug-refused",
    "existing_code_overwritten": "existing-code-refused",
    "association_not_listed": "association-listed-for-user",
    "association_not_a_provider": "association-makes-provider",
    "delete_keeps_provider": "association-makes-provider",
    "default_not_exclusive": "default-room-exclusive",
    "page_ignores_limit": "page-within-limit",
    "pages_overlap": "pages-partition-list",
    "page_past_end_not_empty": "page-past-end-empty",
    "queue_overflow": "queue-arithmetic",
    "unknown_room_found": "unknown-resource-is-4xx",
    "token_not_checked": "writes-need-admin-token",
    "reads_need_token": "public-reads-need-no-token",
    "crash_on_search": "no-5xx",
    "queue_status_201": "response-schema",
    "list_item_without_code": "response-schema",
    "provider_id_as_number": "response-schema",
    "queue_as_text": "response-schema",
    "error_without_message": "response-schema",  # every 4XX declares the Error schema: the schema says it
    # faults visible from one side only, or only after a particular sequence
    "v4_misses_new_rooms": "created-room-readable-and-listed",
    "list_shows_slug_as_name": "list-agrees-with-detail",
    "provider_detail_outlives_removal": "association-makes-provider",
    "user_rooms_only_latest": "association-listed-for-user",
    "pages_miss_new_rooms": "pages-partition-list",
    "form_slugs_not_unique": "duplicate-slug-refused",
    "refused_association_applied": "refused-write-changes-nothing",
    "removal_forgets_other_rooms": "association-makes-provider",
}
MODEL_LAYER = ("-k", "model_based")


def test_every_variant_has_an_expectation() -> None:
    assert set(EXPECTED) == set(VARIANTS)


def _in_process(variant: str | None) -> subprocess.CompletedProcess[str]:
    if variant is None:  # the whole suite, which must also have checked every rule of the catalogue
        return run_suite("--contract-require-all")
    return run_suite("--contract-app", f"helpers.broken_mocks:{variant}", *MODEL_LAYER)


def _over_http(variant: str | None) -> subprocess.CompletedProcess[str]:
    with served(variant) as base:
        return run_suite(*http_args(base), *(MODEL_LAYER if variant else ("--contract-require-all",)))


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
    assert "every rule was checked" in result.stdout, result.stdout[-3000:]
    assert ACCOUNT[1] not in result.stdout + result.stderr, "the token leaked into the output"


def _assert_caught(result: subprocess.CompletedProcess[str], variant: str) -> None:
    rule = EXPECTED[variant]
    assert result.returncode == 1, f"{variant}: suite exited {result.returncode}\n{result.stdout[-3000:]}"
    assert f"[{rule}]" in result.stdout, f"{variant}: failure does not name [{rule}]\n{result.stdout[-3000:]}"
    assert "steps that led here" in result.stdout, f"{variant}: the failure lists no steps\n{result.stdout[-3000:]}"
    assert "rerun with --contract-seed 1" in result.stdout
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
