"""A verdict as text lines (the terminal), Markdown (a CI job summary) and JUnit XML (a CI test report)."""

from __future__ import annotations

from xml.etree import ElementTree

from .judge import Verdict
from .model import Change


def summary(verdict: Verdict) -> str:
    breaking, compatible = len(verdict.breaking), len(verdict.compatible)
    judged = (
        f"{verdict.searched} schema pair(s) searched with generated instances "
        f"({verdict.examples} examples each, seed {verdict.seed})"
    )
    if breaking:
        head = f"{breaking} breaking change(s) for clients of OLD, {compatible} compatible"
    else:
        head = f"every client of OLD keeps working with NEW ({compatible} compatible change(s))"
    skipped = f"; not searched: {'; '.join(verdict.skipped)}" if verdict.skipped else ""
    return f"{head}; {judged}{skipped}"


def text(verdict: Verdict, verbose: bool) -> list[str]:
    shown = verdict.changes if verbose else verdict.breaking
    return [change.line() for change in shown]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(changes: list[Change]) -> list[str]:
    rows = ["| Operation | Where | Why | Example |", "|---|---|---|---|"]
    for change in changes:
        cells = (change.operation or "(document)", f"`{change.pointer}`", change.why, change.example)
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def markdown(verdict: Verdict, old: str, new: str) -> str:
    verdict_line = "❌ breaking changes" if verdict.breaking else "✅ compatible"
    lines = [f"## Contract change gate: {verdict_line}", "", f"`{old}` → `{new}`: {summary(verdict)}.", ""]
    if verdict.breaking:
        lines += ["### Breaking for clients of OLD", "", *_rows(verdict.breaking), ""]
    if verdict.compatible:
        lines += ["<details><summary>Compatible changes</summary>", "", *_rows(verdict.compatible), ""]
        lines += ["</details>", ""]
    return "\n".join(lines)


def junit(verdict: Verdict, old: str, new: str) -> bytes:
    """One test case per operation (and one for the document), failed by its breaking changes."""
    by_operation: dict[str, list[Change]] = {}
    for change in verdict.changes:
        by_operation.setdefault(change.operation or "(document)", []).append(change)
    if not by_operation:
        by_operation["(no change)"] = []
    suite = ElementTree.Element(
        "testsuite",
        name="vsee-contract diff",
        tests=str(len(by_operation)),
        failures=str(sum(any(c.breaking for c in cs) for cs in by_operation.values())),
    )
    ElementTree.SubElement(
        ElementTree.SubElement(suite, "properties"), "property", name="compared", value=f"{old} -> {new}"
    )
    for operation, changes in by_operation.items():
        case = ElementTree.SubElement(suite, "testcase", classname="contract-diff", name=operation)
        if broken := [c for c in changes if c.breaking]:
            failure = ElementTree.SubElement(case, "failure", message=broken[0].line()[:500])
            failure.text = "\n".join(c.line() for c in broken)
        if compatible := [c for c in changes if not c.breaking]:
            ElementTree.SubElement(case, "system-out").text = "\n".join(c.line() for c in compatible)
    document: bytes = ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)
    return document
