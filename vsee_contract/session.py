"""Rules a sequence of exchanges shows, judged by a tool that only watches traffic (the validation proxy).

The contract suite drives the deployment and checks these with its model; a watcher can only remember what
it saw acknowledged and notice when a later answer contradicts it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .contract import Violation
from .operations import SessionMemory, descriptor


class SessionRules:
    """What this session saw acknowledged, per account (thread-safe); each operation's rule is its descriptor's
    `session` (`vsee_contract.operations`)."""

    def __init__(self) -> None:
        self._memory = SessionMemory()
        self._lock = threading.Lock()

    def judge(
        self, operation_id: str, account: str, status: int, body: Any, path: Mapping[str, str]
    ) -> list[Violation]:
        """Remember what this exchange acknowledged; return what it contradicts of what was acknowledged before."""
        rule = descriptor(operation_id).session
        if rule is None:
            return []
        data = body.get("data") if isinstance(body, Mapping) else None
        with self._lock:
            return [Violation(rule.name, p) for p in rule.judge(self._memory, account, status, data, path)]
