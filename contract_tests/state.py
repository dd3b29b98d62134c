"""Run-wide state of the suite: its settings, its one target, notes and failed tests for the summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .settings import SuiteSettings

if TYPE_CHECKING:
    from .target import Target

_settings: SuiteSettings | None = None
_target: Target | None = None
_notes: list[str] = []
_failed: dict[str, list[str]] = {}  # failed test -> the rules its failure names


def configure(settings: SuiteSettings) -> SuiteSettings:
    global _settings
    _settings = settings
    return settings


def settings() -> SuiteSettings:
    if _settings is None:
        raise RuntimeError("the vsee_contract pytest plugin is not loaded")
    return _settings


def target(build: Callable[[], Target]) -> Target:
    """The one target of this run, built on first use (collection may need it before any fixture runs)."""
    global _target
    if _target is None:
        _target = build()
    return _target


def current_target() -> Target | None:
    return _target


def note(line: str) -> None:
    _notes.append(line)


def notes() -> list[str]:
    return list(_notes)


def failed(nodeid: str, rules: list[str]) -> None:
    _failed[nodeid] = rules


def failed_tests() -> dict[str, list[str]]:
    return dict(_failed)
