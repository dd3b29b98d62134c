"""The proxy's ending of the pipeline: send the call upstream unchanged, pass the answer back, judge the exchange.

Judged beyond the contract's response checks: the request itself (the client's side of the contract), a body
that is not JSON, and what this session saw acknowledged before (`SessionRules`). Violations are counted,
written, marked with `X-Contract-Violations: N` — or, with `fail_on_violation`, answered as a 502.
"""

from __future__ import annotations

from typing import Any

import requests
from flask import request

from vsee_contract import Contract, SessionRules, Violation
from vsee_http import Answer, Incoming, error_body

from .recorder import Recorder
from .violations import ViolationLog

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)
REQUEST_SCHEMA = "request-schema"
CONTENT_TYPE_JSON = "json-content-type"
VIOLATIONS_HEADER = "X-Contract-Violations"


class ProxyEnding:
    """Forwards to `upstreams` (local base path -> upstream base; None when it cannot be derived)."""

    def __init__(
        self,
        contract: Contract,
        upstreams: dict[str, str | None],
        log: ViolationLog,
        recorder: Recorder | None,
        fail_on_violation: bool,
        timeout: float,
    ) -> None:
        self.contract = contract
        self.upstreams = upstreams
        self.log = log
        self.recorder = recorder
        self.fail_on_violation = fail_on_violation
        self.timeout = timeout
        self.session = requests.Session()
        self.session_rules = SessionRules()
        self.account_header = contract.spec.account_header()

    def answer(self, incoming: Incoming) -> Answer:
        return self.forward(incoming.base)

    def forward(self, base: str) -> Answer:
        """The upstream's answer to this request, passed through; a 502 in the error shape when there is none."""
        upstream = self.upstreams.get(base)
        if upstream is None:
            message = f"no upstream for {base}: --upstream does not end in api_v3, pass --upstream-v4"
            return Answer(502, error_body(502, message), judge=False)
        sent = self._sent(upstream, base)
        try:
            reply = self.session.request(
                sent["method"],
                sent["url"],
                data=sent["body"] or None,
                headers=sent["headers"],
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return Answer(502, error_body(502, f"Upstream unreachable: {type(exc).__name__}"), judge=False)
        headers = [(k, v) for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP]
        content_type = reply.headers.get("Content-Type")
        return Answer(reply.status_code, None, headers, reply.content, content_type, raw=True)

    def _sent(self, upstream: str, base: str) -> dict[str, Any]:
        query = request.query_string.decode("latin-1")
        return {
            "method": request.method,
            "url": upstream + request.path[len(base) :] + (f"?{query}" if query else ""),
            "headers": {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP},
            "body": request.get_data(cache=True),
        }

    def judged(self, incoming: Incoming, answer: Answer, violations: list[Violation]) -> Answer:
        operation_id = incoming.operation.operation_id
        body = answer.decoded()
        found = [Violation(REQUEST_SCHEMA, incoming.problem.message)] if incoming.problem else []
        if answer.encoded and body is None:
            found.append(Violation(CONTENT_TYPE_JSON, f"response body is not JSON ({answer.content_type})"))
        found += violations
        account = request.headers.get(self.account_header, "")
        found += self.session_rules.judge(operation_id, account, answer.status, body, incoming.path)
        self.log.count(operation_id, found)
        if not found:
            if self.recorder is not None and answer.status == 200 and isinstance(body, dict):
                self.recorder.observe(operation_id, incoming.path, account, body)
            return answer
        upstream = self.upstreams[incoming.base]
        assert upstream is not None  # judged answers came from upstream
        self.log.write(operation_id, found, self._sent(upstream, incoming.base), answer.status, answer.encoded or b"")
        problem = "; ".join(str(v) for v in found)
        marker = (VIOLATIONS_HEADER, str(len(found)))
        if self.fail_on_violation:
            return Answer(
                502, error_body(502, f"Contract violation: {problem}"), [marker], judge=False, problem=problem
            )
        answer.headers.append(marker)
        answer.problem = problem
        return answer
