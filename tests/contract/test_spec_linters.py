"""Outside linters of openapi.yaml, from npm (versions in package-lock.json): redocly's recommended rules and
Spectral's `spectral:oas` ruleset (.spectral.yaml) find nothing at all, not even a warning."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.npm import ROOT, run, said


def test_redocly_recommended_rules_find_nothing(npm_bin: Path) -> None:
    done = run([str(npm_bin / "redocly"), "lint", "openapi.yaml", "--format=json"])
    report = json.loads(done.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, json.dumps(report["problems"])[:4000]
    assert done.returncode == 0, said(done)


def test_spectral_oas_ruleset_finds_nothing(npm_bin: Path) -> None:
    assert (ROOT / ".spectral.yaml").read_text().strip() == 'extends: ["spectral:oas"]'
    done = run([str(npm_bin / "spectral"), "lint", "openapi.yaml", "--format=json", "--fail-severity=hint"])
    assert json.loads(done.stdout[: done.stdout.rindex("]") + 1]) == [], said(done)
    assert done.returncode == 0, said(done)
