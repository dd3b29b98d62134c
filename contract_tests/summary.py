"""The end-of-run summary: a verdict, the failed tests and their rules, what was seen per operation, the
advisories, the traffic and the rooms created — as terminal lines and as a Markdown report."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .target import Target

RULE = re.compile(r"\[([a-z][a-z0-9_-]+)\]")
TERMINAL_ROOMS = 50  # the terminal lists this many created rooms; the Markdown report lists them all


def rules_named(text: str) -> list[str]:
    """The rules a failure's text names (`[rule]`), in order, once each."""
    return list(dict.fromkeys(m for m in RULE.findall(text) if m != "redacted"))


@dataclass(frozen=True)
class Outcome:
    """How the run ended: the failed tests with the rules they name, how many were skipped, pytest's exit status."""

    failed: dict[str, list[str]]
    skipped: int
    exit_status: int


def verdict(outcome: Outcome, advisories: int) -> str:
    if outcome.failed:
        broken = Counter(rule for rules in outcome.failed.values() for rule in rules)
        named = ", ".join(f"{rule}×{n}" for rule, n in broken.most_common()) or "no rule named"
        return f"verdict: FAILED — {len(outcome.failed)} test(s) failed ({named})"
    if outcome.exit_status != 0:
        return f"verdict: NOT COMPLETED (pytest exit status {outcome.exit_status})"
    notes = []
    if outcome.skipped:
        notes.append(f"{outcome.skipped} skipped: see the reasons")
    if advisories:
        notes.append(f"{advisories} advisories")
    return f"verdict: PASSED ({'; '.join(notes)})" if notes else "verdict: PASSED"


def _statuses(target: Target, op_id: str) -> str:
    return ", ".join(f"{s}×{n}" for s, n in sorted(target.ledger.statuses[op_id].items()))


def terminal_lines(target: Target, outcome: Outcome) -> list[str]:
    ledger, settings = target.ledger, target.settings
    where = "in-process mock" if settings.in_process else settings.base_url
    lines = [f"target: {where}; profile: {settings.profile.name}; seed: {settings.seed}"]
    for op_id in sorted(ledger.statuses):
        lines.append(
            f"  {op_id:<18} statuses {_statuses(target, op_id)}; rules {', '.join(sorted(ledger.rules[op_id]))}"
        )
    lines += [f"  FAILED {test} [{', '.join(rules) or 'no rule named'}]" for test, rules in outcome.failed.items()]
    lines += target.advisories.lines()
    lines.append(f"requests sent: {target.traffic.sent}; writes sent: {target.traffic.writes}")
    lines.append(target.traffic.summary())
    rooms = ledger.created_rooms
    if rooms:
        more = (
            f", and {len(rooms) - TERMINAL_ROOMS} more (all in --contract-report)"
            if len(rooms) > TERMINAL_ROOMS
            else ""
        )
        lines.append(f"rooms created ({len(rooms)}): {', '.join(rooms[:TERMINAL_ROOMS])}{more}")
    lines.append(verdict(outcome, sum(a.count for a in target.advisories.by_rule.values())))
    return lines


def markdown(target: Target, outcome: Outcome, notes: list[str]) -> str:
    ledger, settings = target.ledger, target.settings
    advisories = sorted(target.advisories.by_rule.values(), key=lambda a: a.rule)
    rows = [
        "## VSee Rooms API contract",
        "",
        f"**{verdict(outcome, sum(a.count for a in advisories))}**",
        "",
        f"- target: {'in-process mock' if settings.in_process else settings.base_url}, "
        f"profile `{settings.profile.name}`, seed `{settings.seed}`",
        *[f"- {line}" for line in notes],
        f"- requests sent: {target.traffic.sent}; writes sent: {target.traffic.writes}; {target.traffic.summary()}",
    ]
    failed = outcome.failed
    if failed:
        rows += ["", "| failed test | rules |", "|---|---|"]
        rows += [f"| `{nodeid}` | {', '.join(f'`{r}`' for r in rules) or '—'} |" for nodeid, rules in failed.items()]
    broken = ledger.failures + Counter(r for rules in failed.values() for r in rules if r not in ledger.failures)
    if broken:
        rows += ["", "| violation (rule) | count |", "|---|---|"]
        rows += [f"| `{rule}` | {n} |" for rule, n in broken.most_common()]
    rows += ["", "| advisory | count | first example |", "|---|---|---|"]
    rows += [f"| `{a.rule}` | {a.count} | {a.message}<br>`{a.curl}` |" for a in advisories] or ["| none | 0 | |"]
    rows += ["", "| operation | statuses seen | rules checked |", "|---|---|---|"]
    for op_id in sorted(ledger.statuses):
        rows.append(f"| `{op_id}` | {_statuses(target, op_id)} | {', '.join(sorted(ledger.rules[op_id]))} |")
    if ledger.created_rooms:
        rows += ["", f"Rooms created ({len(ledger.created_rooms)}): {', '.join(ledger.created_rooms)}"]
    return "\n".join(rows)
