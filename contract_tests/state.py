"""Run-wide state of the suite: its settings, its one target, notes for the summary, and the summary itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .settings import SuiteSettings

if TYPE_CHECKING:
    from .target import Target

_settings: SuiteSettings | None = None
_target: Target | None = None
_notes: list[str] = []


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


def summary_lines(target: Target) -> list[str]:
    ledger = target.ledger
    where = "in-process mock" if target.settings.in_process else target.settings.base_url
    lines = [f"target: {where}; profile: {target.settings.profile.name}; seed: {target.settings.seed}"]
    for op_id in sorted(ledger.statuses):
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(ledger.statuses[op_id].items()))
        lines.append(f"  {op_id:<18} statuses {statuses}; rules {', '.join(sorted(ledger.rules[op_id]))}")
    if ledger.failures:
        lines.append("rules broken: " + ", ".join(f"{r}×{n}" for r, n in ledger.failures.most_common()))
    lines += target.advisories.lines()
    lines.append(f"requests sent: {target.traffic.sent}; writes sent: {target.traffic.writes}")
    lines.append(target.traffic.summary())
    if ledger.created_rooms:
        lines.append(f"rooms created ({len(ledger.created_rooms)}): {', '.join(ledger.created_rooms[:50])}")
    return lines


def summary_markdown(target: Target, extra: list[str]) -> str:
    ledger = target.ledger
    rows = [
        "## VSee Rooms API contract",
        "",
        *[f"- {line}" for line in extra],
        f"- target: {'in-process mock' if target.settings.in_process else target.settings.base_url}, "
        f"profile `{target.settings.profile.name}`, seed `{target.settings.seed}`",
        "",
        "| operation | statuses seen | rules checked |",
        "|---|---|---|",
    ]
    for op_id in sorted(ledger.statuses):
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(ledger.statuses[op_id].items()))
        rows.append(f"| `{op_id}` | {statuses} | {', '.join(sorted(ledger.rules[op_id]))} |")
    if ledger.failures:
        rows += ["", "Rules broken: " + ", ".join(f"`{r}`×{n}" for r, n in ledger.failures.most_common())]
    rows += ["", "| advisory | count | first example |", "|---|---|---|"]
    for advisory in sorted(target.advisories.by_rule.values(), key=lambda a: a.rule):
        rows.append(f"| `{advisory.rule}` | {advisory.count} | {advisory.message}<br>`{advisory.curl}` |")
    if not target.advisories.by_rule:
        rows.append("| none | 0 | |")
    rows += ["", f"Requests sent: {target.traffic.sent}; writes sent: {target.traffic.writes}; "
             f"{target.traffic.summary()}"]  # fmt: skip
    if ledger.created_rooms:
        rows += ["", f"Rooms created: {', '.join(ledger.created_rooms)}"]
    return "\n".join(rows)
