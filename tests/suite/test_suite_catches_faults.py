"""Proof that the contract suite catches faults: its model-based layer fails, naming the rule and the steps that led
there, on every broken variant of the mock, and the whole suite passes on the correct mock, both in-process
(`--contract-app`) and over real HTTP on 127.0.0.1.

Every run goes through the suite's real command line (`python -m pytest --pyargs contract_tests ...`). In CI with
seed 1, and over HTTP for every variant from before issue 22 and one of each of its families; the full proof is
`BROKEN_SEEDS=1,2,3,4,5,6,7,8,9,10 BROKEN_HTTP=all pytest tests/suite/test_suite_catches_faults.py` (bench/results.md;
`BROKEN_ONLY=a,b` runs a part of the catalogue).
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
    # issue 22: each fault class with its neighbours. Data fidelity (the tour's names must round-trip):
    "names_html_escaped": "created-room-echoes-input",
    "names_whitespace_collapsed": "created-room-echoes-input",
    "names_truncated": "created-room-echoes-input",
    "names_backslash_escaped": "created-room-echoes-input",
    "slugs_ascii_folded": "created-room-echoes-input",
    "list_names_mojibake": "list-agrees-with-detail",
    "user_rooms_names_ascii": "list-agrees-with-detail",
    # pagination: pages of every size, with and without `page`
    "last_page_drops_last": "pages-partition-list",
    "limit_ignored_without_page": "page-within-limit",
    "last_page_padded": "pages-partition-list",
    "pages_skip_one": "pages-partition-list",
    # associations: a removed room stays gone, the default moves only when asked
    "removed_room_still_in_user_rooms": "association-listed-for-user",
    "association_steals_default": "default-moves-only-when-asked",
    "default_false_clears_default": "default-moves-only-when-asked",
    "removal_clears_default": "default-moves-only-when-asked",
    # authentication robustness (`test_exact_token.py`)
    "empty_token_accepted": "only-the-exact-token-writes",
    "token_prefix_accepted": "only-the-exact-token-writes",
    "token_case_insensitive": "only-the-exact-token-writes",
    "token_whitespace_ignored": "only-the-exact-token-writes",
    "token_in_query_accepted": "only-the-exact-token-writes",
    "bearer_token_accepted": "only-the-exact-token-writes",
    # secrets: judged on every exchange
    "token_in_created_room": "admin-token-never-in-answers",
    "token_in_list": "admin-token-never-in-answers",
    "token_in_header": "admin-token-never-in-answers",
    "token_in_refusal": "admin-token-never-in-answers",
    # concurrency (`test_concurrency.py`)
    "slug_check_then_insert": "concurrent-creates-one-wins",
    "association_check_then_append": "concurrent-associations-converge",
    # consistency: a lag no window forgives
    "lists_lag_past_window": "created-room-readable-and-listed",
}
# The layer that catches each variant: the model-based one, but for the checks of their own test modules.
LAYERS = {name: "exact_token" for name in EXPECTED if EXPECTED[name] == "only-the-exact-token-writes"} | {
    name: "concurrency" for name in EXPECTED if EXPECTED[name].startswith("concurrent-")
}
# Over HTTP in CI: every variant of before issue 22 and one of each of its families (BROKEN_HTTP=all: every one);
# every variant runs in-process. BROKEN_SEEDS=1,...,10 runs each seed (default 1).
OLD = list(EXPECTED)[: list(EXPECTED).index("names_html_escaped")]
HTTP_FAMILIES = [
    "names_html_escaped",
    "last_page_drops_last",
    "association_steals_default",
    "token_prefix_accepted",
    "token_in_header",
    "slug_check_then_insert",
    "lists_lag_past_window",
]
OVER_HTTP = sorted(EXPECTED) if os.environ.get("BROKEN_HTTP") == "all" else sorted([*OLD, *HTTP_FAMILIES])
SEEDS = tuple(int(seed) for seed in os.environ.get("BROKEN_SEEDS", "1").split(","))
ONLY = [name for name in os.environ.get("BROKEN_ONLY", "").split(",") if name]  # a part of the catalogue, by name
WINDOW = ("--contract-consistency-window", "0.5")  # a broken variant never shows the write: wait little for it


def test_every_variant_has_an_expectation() -> None:
    assert set(EXPECTED) == set(VARIANTS)


Run = tuple[str | None, int]  # a variant (None: the correct mock) and a seed


def _layer(variant: str) -> tuple[str, str]:
    return "-k", LAYERS.get(variant, "model_based")


def _in_process(run: Run) -> subprocess.CompletedProcess[str]:
    variant, seed = run
    if variant is None:  # the whole suite, which must also have checked every rule of the catalogue
        return run_suite("--contract-require-all", seed=seed)
    return run_suite("--contract-app", f"helpers.broken_mocks:{variant}", *_layer(variant), seed=seed)


def _over_http(run: Run) -> subprocess.CompletedProcess[str]:
    variant, seed = run
    with served(variant) as base:
        layer = (*_layer(variant), *WINDOW) if variant else ("--contract-require-all",)
        return run_suite(*http_args(base), *layer, seed=seed)


def _all(run: Callable[[Run], subprocess.CompletedProcess[str]], variants: list[str]) -> dict[Run, Any]:
    """Every variant and the correct mock for every seed, run on all cores at once (each run its own processes)."""
    runs: list[Run] = [(name, seed) for name in [None, *variants] for seed in SEEDS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(runs, pool.map(run, runs), strict=True))


@pytest.fixture(scope="module")
def in_process_runs() -> dict[Run, Any]:
    return _all(_in_process, sorted(ONLY or EXPECTED))


@pytest.fixture(scope="module")
def http_runs() -> dict[Run, Any]:
    return _all(_over_http, [name for name in OVER_HTTP if not ONLY or name in ONLY])


def _assert_passed(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout and " skipped" not in result.stdout
    assert "every rule was checked" in result.stdout, result.stdout[-3000:]
    assert ACCOUNT[1] not in result.stdout + result.stderr, "the token leaked into the output"


def _assert_caught(result: subprocess.CompletedProcess[str], variant: str, seed: int) -> None:
    rule = EXPECTED[variant]
    assert result.returncode == 1, f"{variant}: suite exited {result.returncode}\n{result.stdout[-3000:]}"
    assert f"[{rule}]" in result.stdout, f"{variant}: failure does not name [{rule}]\n{result.stdout[-3000:]}"
    if variant not in LAYERS:  # the model's failures list the steps; the other checks are one short sequence
        assert "steps that led here" in result.stdout, f"{variant}: no steps listed\n{result.stdout[-3000:]}"
    assert f"rerun with --contract-seed {seed}" in result.stdout
    assert ACCOUNT[1] not in result.stdout + result.stderr, "the token leaked into the output"


@pytest.mark.parametrize("seed", SEEDS)
def test_suite_passes_on_the_correct_mock_in_process(in_process_runs: dict[Run, Any], seed: int) -> None:
    _assert_passed(in_process_runs[(None, seed)])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", sorted(ONLY or EXPECTED))
def test_suite_catches_variant_in_process(in_process_runs: dict[Run, Any], variant: str, seed: int) -> None:
    _assert_caught(in_process_runs[(variant, seed)], variant, seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_suite_passes_on_the_correct_mock_over_http(http_runs: dict[Run, Any], seed: int) -> None:
    _assert_passed(http_runs[(None, seed)])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", [name for name in OVER_HTTP if not ONLY or name in ONLY])
def test_suite_catches_variant_over_http(http_runs: dict[Run, Any], variant: str, seed: int) -> None:
    _assert_caught(http_runs[(variant, seed)], variant, seed)
