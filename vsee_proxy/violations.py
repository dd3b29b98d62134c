"""What the proxy found: counts per operation and rule, and each violation as a JSON line, secrets redacted."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vsee_contract import Violation, curl_command, is_secret_header, redact, redact_headers

from .site import SITE

log = SITE.log
EXCERPT_BYTES = 500


class ViolationLog:
    """Thread-safe tallies for the exit summary and `/__proxy__/violations`, plus the optional JSON-lines file."""

    def __init__(self, path: str | Path | None, token_header: str) -> None:
        self.path = Path(path) if path else None
        self.token_header = token_header
        self.exchanges: Counter[str] = Counter()
        self.by_rule: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def count(self, operation: str, violations: list[Violation]) -> None:
        with self._lock:
            self.exchanges[operation] += 1
            for violation in violations:
                self.by_rule[(operation, violation.rule)] += 1

    def write(
        self,
        operation: str,
        violations: list[Violation],
        request: Mapping[str, Any],
        status: int,
        response_body: bytes,
    ) -> None:
        """`request`: method, url, headers and the raw body as sent upstream."""
        headers: Mapping[str, str] = request["headers"]
        secrets = [v for k, v in headers.items() if is_secret_header(k, (self.token_header,))]
        curl = curl_command(request["method"], request["url"], headers, request["body"], None, (self.token_header,))
        shown = {
            "method": request["method"],
            "url": request["url"],
            "headers": redact_headers(headers, [self.token_header]),
        }
        excerpt = response_body[:EXCERPT_BYTES].decode("utf-8", "replace")
        for violation in violations:
            log.warning("contract violation %s [%s] %s", operation, violation.rule, violation.message)
            line = {
                "rule": violation.rule,
                "message": violation.message,
                "operation": operation,
                "request": shown,
                "response": {"status": status, "excerpt": excerpt},
                "curl": curl,
            }
            if self.path is not None:
                with self._lock, self.path.open("a", encoding="utf-8") as fh:
                    fh.write(redact(json.dumps(line), secrets) + "\n")

    def summary(self) -> dict[str, Any]:
        with self._lock:
            counts = [{"operation": op, "rule": rule, "count": n} for (op, rule), n in sorted(self.by_rule.items())]
            return {"exchanges": dict(self.exchanges), "violations": counts}

    def summary_lines(self) -> list[str]:
        with self._lock:
            lines = [f"{op}: {n} exchanges" for op, n in sorted(self.exchanges.items())]
            lines += [f"  {op} [{rule}] ×{n}" for (op, rule), n in sorted(self.by_rule.items())]
        return lines or ["no traffic"]
