"""Two kinds of finding, so the suite never cries wolf.

A *violation* breaks what the docs or the response schema say: the test fails. An *advisory* is a deployment
choosing differently where the docs are silent — accepting data the contract calls invalid, refusing data it calls
valid, refusing JSON bodies, a 405 without `Allow`: it is listed (rule, count, one example with its curl) in the
terminal summary, the Markdown report and the JUnit XML, and fails the test only with `--contract-strict`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from vsee_contract import VseeError, redact

from .side_by_side import LAYER


class ContractViolation(VseeError, AssertionError):
    """A deployment broke a named rule of the contract."""


@dataclass
class Advisory:
    """One rule's advisories: how often, and the first example."""

    rule: str
    message: str
    curl: str
    count: int = 1


class Advisories:
    """The run's advisories by rule; each is also attached to the test that saw it (JUnit `<property>`)."""

    def __init__(self, strict: bool, secrets: tuple[str, ...]) -> None:
        self.strict = strict
        self.secrets = secrets
        self.by_rule: dict[str, Advisory] = {}
        self.current_item: Any = None  # the pytest item running now, set by the plugin
        self._lock = threading.Lock()  # concurrent requests report here at once

    def add(self, rule: str, message: str, curl: str) -> None:
        message, curl = redact(message, self.secrets), redact(curl, self.secrets)
        with self._lock:
            if rule in self.by_rule:
                self.by_rule[rule].count += 1
            else:
                self.by_rule[rule] = Advisory(rule, message, curl)
            layer = LAYER.get()  # a layer running beside the current test reports to its own (side_by_side.py)
            item = layer.item if layer is not None and layer.item is not None else self.current_item
            if item is not None:
                item.user_properties.append(("advisory", f"[{rule}] {message}"))
        if self.strict:
            raise ContractViolation(
                f"[{rule}] {message} (an advisory, failing because of --contract-strict)\n  reproduce: {curl}"
            )

    def wire(self) -> list[list[Any]]:
        """Each rule's advisories in plain values (rule, message, curl, count), for the xdist controller."""
        return [[a.rule, a.message, a.curl, a.count] for a in self.by_rule.values()]

    def absorb(self, wire: list[list[Any]]) -> None:
        """Another process's `wire()`: counts add up, the first example of a rule stays."""
        for rule, message, curl, count in wire:
            if rule in self.by_rule:
                self.by_rule[rule].count += count
            else:
                self.by_rule[rule] = Advisory(rule, message, curl, count)

    def lines(self) -> list[str]:
        """One line per rule (`advisory [rule] ×N: message`) and its example curl."""
        if not self.by_rule:
            return ["advisories: none"]
        total = sum(a.count for a in self.by_rule.values())
        lines = [f"advisories: {total} (listed, not failed; --contract-strict fails them)"]
        for advisory in sorted(self.by_rule.values(), key=lambda a: a.rule):
            lines.append(f"  advisory [{advisory.rule}] ×{advisory.count}: {advisory.message}")
            lines.append(f"    e.g. {advisory.curl}")
        return lines
