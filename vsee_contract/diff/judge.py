"""Both methods over two versions of the contract: the structural comparison, then the generated instances for
what it cannot see; each structural break gets a concrete value drawn the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import jsonschema_rs

from ..spec import Spec
from ..validation import ContractValidator
from .generative import DEFAULT_EXAMPLES, DEFAULT_TIME_LIMIT, Budget, Judge, generative_changes, witness
from .model import Change, shown
from .structural import REQUEST, Finding, pair_operations, structural_changes

DEFAULT_SEED = 27


@dataclass
class Verdict:
    """Every change found, breaking first, and how the generated part of the judgement went."""

    changes: list[Change]
    examples: int
    seed: int
    searched: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def compatible(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]


def inlined(spec: Spec) -> Spec:
    """The spec with every `$ref` replaced by its target: schemas compare by content, whatever their components.
    Only local refs resolve (nothing is fetched); ValueError names the one that does not."""
    return Spec(jsonschema_rs.dereference(spec.document, offline=True), spec.path)


def judge(
    old: Spec,
    new: Spec,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = DEFAULT_SEED,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Verdict:
    """Whether every client of `old` keeps working with `new`: each change, breaking or compatible."""
    old, new = inlined(old), inlined(new)
    budget = Budget(time_limit)
    searches = Judge(ContractValidator(old), ContractValidator(new), examples, seed, budget)
    changes: list[Change] = []
    broken: set[tuple[str, str]] = set()  # (operation, part) a structural line already names a break of
    drawn: dict[str, str] = {}
    for finding in structural_changes(old, new):
        change = finding.change
        if change.breaking and finding.schemas is not None:
            key = json.dumps([finding.schemas, finding.part == REQUEST, finding.where], sort_keys=True, default=str)
            if key not in drawn:
                draws = 0 if budget.spent(f"an example for {change.pointer}") else examples
                drawn[key] = _example(finding, seed, draws)
            change = replace(change, example=drawn[key])
        if change.breaking:
            broken.add((change.operation, finding.part))
        changes.append(change)
    pairs, _, _ = pair_operations(old, new)
    changes.extend(generative_changes(searches, pairs, broken))
    changes.sort(key=lambda c: not c.breaking)
    return Verdict(changes, examples, seed, searches.searched, budget.skipped)


def _example(finding: Finding, seed: int, examples: int) -> str:
    """The value that differs, drawn from OLD's schema (a request) or NEW's (an answer) and refused by the other."""
    request = finding.part == REQUEST
    assert finding.schemas is not None
    found = witness(*finding.schemas, request=request, seed=seed, examples=examples)
    if found is None:
        return ""
    where = finding.where or ("the body" if request else "the answer body")
    return f"{'sent' if request else 'answered'}: {where} = {shown(found[0])}"


__all__ = ["DEFAULT_SEED", "Verdict", "inlined", "judge"]
