"""Rules a sequence of exchanges shows, judged by a tool that only watches traffic (the validation proxy).

The contract suite drives the deployment and checks these with its model; a watcher can only remember what
it saw acknowledged and notice when a later answer contradicts it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from . import rules
from .contract import Violation


class SessionRules:
    """What this session saw acknowledged, per account: the rooms created (thread-safe)."""

    def __init__(self) -> None:
        self._created: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def judge(
        self, operation_id: str, account: str, status: int, body: Any, path: Mapping[str, str]
    ) -> list[Violation]:
        """Remember what this exchange acknowledged; return what it contradicts of what was acknowledged before."""
        data = body.get("data") if isinstance(body, Mapping) else None
        with self._lock:
            if operation_id == "createRoom" and status < 300 and isinstance(data, Mapping) and data.get("code"):
                self._created.add((account, str(data["code"])))
                return []
            code = str(path.get("code"))
            if operation_id == "getRoom" and (account, code) in self._created:
                return [Violation(rules.CREATED_ROOM_READABLE, p) for p in rules.created_room_readable(status, code)]
        return []
