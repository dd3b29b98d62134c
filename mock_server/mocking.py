"""The mock's ending of the pipeline: Prefer → account → token → the contract's refusal → handler → strict mode.

Everything before (routing, decoding, validation) and after (judging, JSON, journal) is `vsee_http`'s.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import request

from vsee_contract import Contract, Operation, Refusal, Violation
from vsee_contract.operations import REGISTRY, View
from vsee_http import Answer, Incoming, encode, error_body, header_text, shown

from .account import AccountState
from .fast_reads import ROOM_READ_KEY
from .handlers import Call, Handler, Reply
from .namespaces import Namespaces, namespace_of
from .prefer import (
    Preference,
    check_preference,
    forced_failure,
    preferred_example,
    read_preference,
    with_status,
)
from .site import SITE
from .store import StateNotSaved, Store


def _account(store: Store, header: str) -> AccountState:
    code = header_text(request.headers.get(header, "")).strip()
    account = store.account(code)
    if account is None:
        raise Refusal(403, f"Unknown account code '{shown(code)}'.")
    return account


def _token_user(operation: Operation, account: AccountState, header: str) -> str | None:
    if not operation.needs_token:
        return None
    token = request.headers.get(header)
    if not token:
        raise Refusal(401, f"Missing {header} header: this operation needs the clinic admin token.")
    if token != account.admin_token:
        raise Refusal(403, f"Invalid {header}: not an admin token of account '{account.code}'.")
    return account.admin_user_id


class MockEnding:
    """Answers from the store through the handlers; in strict mode a broken contract becomes a 500."""

    def __init__(
        self, contract: Contract, namespaces: Namespaces, strict: bool, handlers: Mapping[str, Handler]
    ) -> None:
        self.contract = contract
        self.namespaces = namespaces
        self.strict = strict
        self.handlers = handlers
        self.token_header = contract.spec.security_header()
        self.account_header = contract.spec.account_header()

    def answer(self, incoming: Incoming) -> Answer:
        headers: list[tuple[str, str]] = []
        operation = incoming.operation
        spec = self.contract.spec
        try:
            pref = read_preference(request.headers.get("Prefer", ""), request.args)
            if pref:
                check_preference(spec, operation.operation_id, pref)  # refused: nothing applied, no header
                headers.append(("Preference-Applied", pref.applied))
            namespace = namespace_of(request.environ)
            request.environ[SITE.namespace_key] = namespace
            store = self.namespaces.get(namespace)
        except Refusal as exc:
            return self._error(exc, headers)
        forced = forced_failure(spec, operation.operation_id, pref) if pref else None
        if forced is not None:  # a documented failure chosen with Prefer: served as is, not re-judged
            return Answer(forced[0], forced[1], headers, judge=False)
        try:  # a write is one transaction from the account check to the saved answer; a read sees every commit
            with store.write() if operation.is_write else store.reading():
                try:
                    account = _account(store, self.account_header)
                    token_user = _token_user(operation, account, self.token_header)
                    parsed = incoming.valid()
                except Refusal as exc:  # refused before the operation ran: the journal says why
                    return self._error(exc, headers, refused=True)
                example = preferred_example(spec, operation.operation_id, pref) if pref else None
                if example is not None:  # a documented example chosen with Prefer, after the checks a call passes
                    return Answer(example[0], example[1], headers, judge=False)
                status, encoded = self._run(operation, Call(account, parsed, token_user), pref)
                if status == 200 and self._shows_one_room(operation):
                    request.environ[ROOM_READ_KEY] = (account.code, str(parsed.path["code"]))
        except Refusal as exc:
            return self._error(exc, headers)
        except StateNotSaved as exc:  # the mock's own environment failed, not the contract: not judged
            if operation.is_write:
                message = f"{exc}; nothing was changed, try again once the state can be written"
            else:
                message = f"{exc}; try again once the state database is back"
            return Answer(503, error_body(503, message), headers, judge=False, problem=str(exc))
        return Answer(status, None, headers, encoded, judge=self.strict and status != 204)

    def judged(self, incoming: Incoming, answer: Answer, violations: list[Violation]) -> Answer:
        if not violations:
            return answer
        message = "; ".join(str(v) for v in violations)
        body = error_body(500, f"Strict mode: the mock broke the contract: {message}")
        return Answer(500, body, answer.headers, judge=False, problem=answer.problem)

    def _error(self, exc: Refusal, headers: list[tuple[str, str]], refused: bool = False) -> Answer:
        answer = Answer.error(exc, headers)
        answer.judge, answer.problem = self.strict, exc.message if refused else None
        return answer

    def _shows_one_room(self, operation: Operation) -> bool:
        """The answer is the room and nothing else (the registry's own handler of a room view): another room's
        change cannot change it, so a replay of it stays right while that room is unchanged."""
        descriptor = REGISTRY.get(operation.operation_id)
        return (
            descriptor is not None
            and descriptor.shows is View.ROOM
            and self.handlers.get(operation.operation_id) is descriptor.handler
        )

    def _run(self, operation: Operation, call: Call, pref: Preference | None) -> tuple[int, bytes]:
        """The handler's reply, serialised (under the store's lock, so no other request changes it meanwhile)."""
        handler = self.handlers.get(operation.operation_id)
        reply = handler(call) if handler else self._example(operation)
        status, payload = with_status(reply, pref)
        return status, encode(payload)

    def _example(self, operation: Operation) -> Reply:
        """An operation without a handler yet serves its first documented success example."""
        for key, value in self.contract.spec.examples(operation.operation_id).values():
            if key.startswith("2"):
                return (int(key) if key.isdigit() else 200), value
        raise Refusal(501, f"{operation.operation_id} has no handler and no success example.")
