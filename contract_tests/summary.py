"""The end-of-run summary: a verdict, the failed tests and their rules, what was seen per operation, the
advisories, the traffic and the rooms created — as terminal lines and as a Markdown report."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from schemathesis.checks import CHECKS

from vsee_contract import RESPONSE_SCHEMA, Contract, redact, rules
from vsee_contract.operations import descriptor

from . import budget
from .findings import Advisories
from .footprint import summary_line
from .generated import CONTRACT_RULES_CHECK, VERDICTS
from .settings import SuiteSettings
from .state import Run
from .target import JSON_REFUSED, Ledger, Target
from .transport import Traffic

RULE = re.compile(r"\[([a-z][a-z0-9_-]+)\]")
TERMINAL_ROOMS = 50  # the terminal lists this many created rooms; the Markdown report lists them all


def known_rules() -> set[str]:
    """What a failure may be blamed on: the catalogue's rules, the response schema, schemathesis' checks (and this
    suite's check of the catalogue among them), and the advisories --contract-strict fails."""
    advisories = {verdict.rule for verdict in VERDICTS.values()} | {JSON_REFUSED}
    return {RESPONSE_SCHEMA, *rules.CATALOGUE, *CHECKS.get_all_names(), CONTRACT_RULES_CHECK, *advisories}


def rules_named(text: str) -> list[str]:
    """The rules a failure's text names (`[rule]`), in order, once each: only known ones, never a bracketed word a
    traceback happens to quote (`# type: ignore[override]`, a list's repr)."""
    known = known_rules()
    return list(dict.fromkeys(m for m in RULE.findall(text) if m in known))


@dataclass
class Observations:
    """What a run saw, the part of its summary that adds up across processes: one target's in a single process, and
    on pytest-xdist's controller every worker's together (each worker sends its `wire()`)."""

    ledger: Ledger = field(default_factory=Ledger)
    advisories: Advisories = field(default_factory=lambda: Advisories(strict=False, secrets=()))
    traffic: Traffic = field(default_factory=Traffic)
    failed: dict[str, list[str]] = field(default_factory=dict)  # failed test -> the rules it names

    @classmethod
    def of(cls, target: Target, failed: Mapping[str, list[str]]) -> Observations:
        return cls(target.ledger, target.advisories, target.traffic, dict(failed))

    def wire(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger.wire(),
            "advisories": self.advisories.wire(),
            "traffic": asdict(self.traffic),
            "failed": dict(self.failed),
        }

    def absorb(self, wire: Mapping[str, Any]) -> None:
        self.ledger.absorb(wire["ledger"])
        self.advisories.absorb(wire["advisories"])
        self.traffic.absorb(Traffic(**wire["traffic"]))
        self.failed.update(wire["failed"])


def observed(run: Run) -> Observations | None:
    """What this process's target saw, or on pytest-xdist's controller what every worker that reported saw; None when
    nothing was (no test reached a target)."""
    if run.target is not None:
        return Observations.of(run.target, run.failed)
    wires = [worker["observations"] for worker in run.workers.values() if worker.get("observations")]
    if not wires:
        return None
    seen = Observations()
    for wire in wires:
        seen.absorb(wire)
    return seen


def _statuses(ledger: Ledger, op_id: str) -> str:
    return ", ".join(f"{s}×{n}" for s, n in sorted(ledger.statuses[op_id].items()))


def unchecked_rules(ledger: Ledger) -> dict[str, str]:
    """Every rule of the catalogue no exchange of this run was judged by, with the reason when one is known."""
    checked = set().union(*ledger.rules.values()) if ledger.rules else set()
    missing = [rule for rule in (RESPONSE_SCHEMA, *rules.CATALOGUE) if rule not in checked]
    default = "no test that checks it ran to the point of checking it (deselected, skipped or failed before)"
    return {rule: ledger.unchecked.get(rule, default) for rule in missing}


def response_coverage(contract: Contract, ledger: Ledger) -> list[tuple[str, str]]:
    """Per operation, each documented response and how often it was observed (a 5XX only when it was)."""
    lines = []
    for op in contract.spec.operations.values():
        seen = ledger.statuses.get(op.operation_id, Counter())
        for key, response in op.responses.items():
            statuses = {s: n for s, n in seen.items() if op.response_key(s) == key}
            if key == "5XX" and not statuses:
                continue
            what = re.split(r"[.(]", str((response or {}).get("description") or ""))[0].strip()
            label = f"{op.method} {op.path} {key}" + (f" ({what})" if what else "")
            if not statuses:
                # the rule whose checks would have shown it says why not, when the run knows (e.g. no provider
                # discovered, writes not allowed)
                why = ledger.unchecked.get(descriptor(op.operation_id).shown_by.get(key, ""))
                lines.append((label, "never observed" + (f" ({why})" if why else "")))
            elif key.endswith("XX"):
                lines.append((label, "observed " + ", ".join(f"{s}×{n}" for s, n in sorted(statuses.items()))))
            else:
                lines.append((label, f"observed ×{sum(statuses.values())}"))
    return lines


def verdict(failed: dict[str, list[str]], unchecked: int, skipped: int, exit_status: int, advisories: int) -> str:
    """One line: FAILED naming the broken rules (or the rules not checked under --contract-require-all), NOT
    COMPLETED, or PASSED with what deserves a look."""
    if failed:
        broken = Counter(rule for named in failed.values() for rule in named)
        named = ", ".join(f"{rule}×{n}" for rule, n in broken.most_common()) or "no rule named"
        return f"verdict: FAILED — {len(failed)} test(s) failed ({named})"
    if unchecked:
        return f"verdict: FAILED — {unchecked} rule(s) could not be checked (--contract-require-all)"
    if exit_status != 0:
        return f"verdict: NOT COMPLETED (pytest exit status {exit_status})"
    notes = []
    if skipped:
        notes.append(f"{skipped} skipped: see the reasons")
    if advisories:
        notes.append(f"{advisories} advisories")
    return f"verdict: PASSED ({'; '.join(notes)})" if notes else "verdict: PASSED"


@dataclass(frozen=True)
class Summary:
    """Everything the end of a run reports, worked out once by `build`; the terminal and the Markdown report only
    render it, each in its own form."""

    target: str  # "in-process mock" or the base URL
    profile: str
    seed: int
    notes: list[str]
    failed: dict[str, list[str]]  # failed test -> the rules it names
    violations: list[tuple[str, int]]  # rule -> how often it was broken, most often first
    advisories: Advisories
    operations: list[tuple[str, str, str]]  # operation, statuses seen, rules checked
    responses: list[tuple[str, str]]  # documented response, what was observed
    unchecked: dict[str, str]  # rule not checked -> why
    traffic: str
    retries: str
    rooms: list[str]
    verdict: str
    footprint: str = ""  # a live run with writes: the rooms it created, the suite's rooms the deployment holds

    def terminal_lines(self) -> list[str]:
        lines = [*self.notes, f"target: {self.target}; profile: {self.profile}; seed: {self.seed}"]
        lines += [f"  {op_id:<18} statuses {seen}; rules {checked}" for op_id, seen, checked in self.operations]
        lines.append("documented responses:")
        lines += [f"  {label}: {seen}" for label, seen in self.responses]
        lines += [f"rules not checked ({len(self.unchecked)}):"] if self.unchecked else ["every rule was checked"]
        lines += [f"  {rule}: {why}" for rule, why in self.unchecked.items()]
        lines += [f"  FAILED {test} [{', '.join(named) or 'no rule named'}]" for test, named in self.failed.items()]
        lines += self.advisories.lines()
        lines += [self.traffic, self.retries]
        if self.rooms:
            more = len(self.rooms) - TERMINAL_ROOMS
            tail = f", and {more} more (all in --contract-report)" if more > 0 else ""
            lines.append(f"rooms created ({len(self.rooms)}): {', '.join(self.rooms[:TERMINAL_ROOMS])}{tail}")
        lines += [self.footprint] if self.footprint else []
        lines.append(self.verdict)
        return lines

    def markdown(self) -> str:
        rows = [
            "## VSee Rooms API contract",
            "",
            f"**{self.verdict}**",
            "",
            f"- target: {self.target}, profile `{self.profile}`, seed `{self.seed}`",
            *[f"- {line}" for line in self.notes],
            f"- {self.traffic}; {self.retries}",
            *([f"- {self.footprint}"] if self.footprint else []),
        ]
        if self.failed:
            rows += ["", "| failed test | rules |", "|---|---|"]
            for test, named in self.failed.items():
                rows.append(f"| `{test}` | {', '.join(f'`{r}`' for r in named) or '—'} |")
        if self.violations:
            rows += ["", "| violation (rule) | count |", "|---|---|"]
            rows += [f"| `{rule}` | {n} |" for rule, n in self.violations]
        advisories = sorted(self.advisories.by_rule.values(), key=lambda a: a.rule)
        rows += ["", "| advisory | count | first example |", "|---|---|---|"]
        rows += [f"| `{a.rule}` | {a.count} | {a.message}<br>`{a.curl}` |" for a in advisories] or ["| none | 0 | |"]
        rows += ["", "| operation | statuses seen | rules checked |", "|---|---|---|"]
        rows += [f"| `{op_id}` | {seen} | {checked} |" for op_id, seen, checked in self.operations]
        rows += ["", "| documented response | observed |", "|---|---|"]
        rows += [f"| {label} | {seen} |" for label, seen in self.responses]
        rows += ["", "| rule not checked | why |", "|---|---|"]
        unchecked = [f"| `{rule}` | {why} |" for rule, why in self.unchecked.items()]
        rows += unchecked or ["| none | every rule was checked |"]
        if self.rooms:
            rows += ["", f"Rooms created ({len(self.rooms)}): {', '.join(self.rooms)}"]
        return "\n".join(rows)


def build(
    contract: Contract,
    settings: SuiteSettings,
    seen: Observations,
    notes: list[str],
    skipped: int,
    exit_status: int,
    suite_rooms: int | None = None,
) -> Summary:
    """The run's summary from what it saw (its ledger, traffic, advisories and failed tests) and pytest's outcome."""
    ledger, failed = seen.ledger, seen.failed
    unchecked = unchecked_rules(ledger)
    named = Counter(rule for rules_of_test in failed.values() for rule in rules_of_test if rule not in ledger.failures)
    advisories = sum(a.count for a in seen.advisories.by_rule.values())
    return Summary(
        target="in-process mock" if settings.in_process else str(settings.base_url),
        profile=settings.profile.name,
        seed=settings.seed,
        notes=notes,
        failed=failed,
        violations=(ledger.failures + named).most_common(),
        advisories=seen.advisories,
        operations=[(op, _statuses(ledger, op), ", ".join(sorted(ledger.rules[op]))) for op in sorted(ledger.statuses)],
        responses=response_coverage(contract, ledger),
        unchecked=unchecked,
        traffic=f"requests sent: {seen.traffic.sent}; writes sent: {seen.traffic.writes}",
        retries=seen.traffic.summary(),
        rooms=list(ledger.created_rooms),
        verdict=verdict(failed, len(unchecked) if settings.require_all else 0, skipped, exit_status, advisories),
        footprint=summary_line(len(ledger.created_rooms), settings.max_rooms, suite_rooms)
        if settings.allow_writes and not settings.in_process
        else "",
    )


def suite_rooms(run: Run) -> int | None:
    """The suite's rooms the deployment holds at the end: this process's count, or the last any xdist worker saw."""
    counts = [w["suite_rooms"] for w in run.workers.values() if w.get("suite_rooms") is not None]
    return run.suite_rooms if run.suite_rooms is not None else max(counts, default=None)


def worker_output(run: Run) -> dict[str, Any]:
    """What an xdist worker tells the controller at its end (`workeroutput`): what it saw (for the one summary of the
    run), whether it shared the run's write budget, and its notes (the budget's, a clean-up that failed), redacted."""
    seen = observed(run)  # a worker's own: it got no other worker's
    return {
        "observations": seen.wire() if seen is not None else None,
        "shared": run.shared_budget is not None,
        "notes": [redact(note, run.settings.secrets) for note in run.notes],
        "suite_rooms": run.suite_rooms,
    }


def xdist_lines(given: dict[str, Any] | None, workers: dict[str, dict[str, Any]], count: int) -> list[str]:
    """The xdist controller's lines about the workers: their notes, the write budget they shared and how much of it
    they used together (the clean-up included), and which of them did not report."""
    reported = list(workers.values())
    lines = list(dict.fromkeys(note for worker in reported for note in worker.get("notes", [])))
    if given is not None and all(worker.get("shared") for worker in reported):
        limit, usage = int(given["limit"]), budget.used(given)
        spent = "unknown (the budget file could not be read)" if usage is None else str(usage.sent)
        lines.append(
            f"write budget shared by the run's {count} xdist workers: {spent} of {limit} writes used "
            f"(--contract-max-writes {limit}, the clean-up included)"
        )
    if len(reported) < count:
        lines.append(f"only {len(reported)} of {count} xdist workers reported: this summary is theirs alone")
    return lines
