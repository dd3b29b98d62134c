"""The spec-to-Flask wiring: one route per operation and base path, and the pipeline every API call goes through.

Pipeline: Prefer → account → token → request validation → handler (under the store lock) → strict check → JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, request

from vsee_contract import Contract, Operation, RequestInvalid

from .errors import ApiError, error_body
from .handlers import HANDLERS, Call, Handler, Reply
from .journal import PROBLEM_KEY
from .prefer import Preference, preferred_reply, read_preference, with_status
from .store import AccountState, Store

JSON = "application/json"
_TEMPLATE = re.compile(r"\{([^}]+)\}")


def flask_rule(base: str, template: str) -> str:
    """`/api_v3` + `/rooms/{code}` -> `/api_v3/rooms/<code>`."""
    return base + _TEMPLATE.sub(r"<\1>", template)


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, encoded: bytes | None = None
) -> Response:
    """A JSON response (none for 204); `encoded` is `body` already serialised, when the caller has it."""
    payload = b"" if status == 204 else (encoded if encoded is not None else encode(body))
    return Response(payload, status=status, mimetype=None if status == 204 else JSON, headers=headers)


def _decoded_body(operation: Operation) -> tuple[str | None, Any]:
    """(media type, decoded body) of the request, or (None, None) when it has no body."""
    if operation.request_body is None or not (request.content_length or request.headers.get("Transfer-Encoding")):
        return None, None
    media_type = request.mimetype or None
    if media_type == JSON:
        raw = request.get_data(cache=True)
        try:
            return media_type, json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ApiError(400, f"body: not valid UTF-8 JSON ({exc})") from exc
    if media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        if media_type == "multipart/form-data" and not request.mimetype_params.get("boundary"):
            raise ApiError(400, "body: multipart/form-data without a boundary")
        fields: dict[str, Any] = {}
        parts = [*request.form.lists(), *((n, [u.read(1024).decode("utf-8", "replace") for u in uploads])
                                          for n, uploads in request.files.lists())]  # fmt: skip
        for name, values in parts:
            if not isinstance(name, str) or not name:
                raise ApiError(400, "body: a form field has no name")
            if name in fields or len(values) != 1:
                raise ApiError(400, f"body field '{name}': given {len(values)} times, expected once")
            fields[name] = values[0]
        return media_type, fields
    return media_type, request.get_data(cache=True)


def _account(store: Store) -> AccountState:
    code = request.headers.get("X-AccountCode", "").strip()
    account = store.account(code)
    if account is None:
        raise ApiError(403, f"Unknown account code '{code}'.")
    return account


def _token_user(operation: Operation, account: AccountState, header: str) -> str | None:
    if not operation.needs_token:
        return None
    token = request.headers.get(header)
    if not token:
        raise ApiError(401, f"Missing {header} header: this operation needs the clinic admin token.")
    if token != account.admin_token:
        raise ApiError(403, f"Invalid {header}: not an admin token of account '{account.code}'.")
    return account.admin_user_id


class Router:
    """Registers every operation of the contract on a Flask app and runs the call pipeline."""

    def __init__(
        self, contract: Contract, store: Store, strict: bool, handlers: Mapping[str, Handler] = HANDLERS
    ) -> None:
        self.contract = contract
        self.store = store
        self.strict = strict
        self.handlers = handlers
        self.token_header = contract.spec.security_header()

    def register(self, app: Flask) -> None:
        for operation in self.contract.spec.operations.values():
            for base in operation.local_base_paths():
                app.add_url_rule(
                    flask_rule(base, operation.path),
                    endpoint=f"{operation.operation_id}@{base}",
                    view_func=self._view(operation),
                    methods=[operation.method],
                )

    def _view(self, operation: Operation) -> Callable[..., Response]:
        def view(**path: str) -> Response:
            return self.dispatch(operation, path)

        view.__name__ = operation.operation_id
        return view

    def dispatch(self, operation: Operation, path: dict[str, str]) -> Response:
        headers: dict[str, str] = {}
        sent: Any = None
        query: dict[str, Any] = {}
        encoded: bytes | None = None  # the handler's answer, serialised once, under the store lock
        canned = False  # a documented example chosen with Prefer: served as is, not re-judged
        try:
            pref = read_preference(request.headers.get("Prefer", ""), request.args)
            reply = preferred_reply(self.contract.spec, operation.operation_id, pref) if pref else None
            if pref:
                headers["Preference-Applied"] = pref.applied
            canned = reply is not None
            if reply is None:
                status, encoded, sent, query = self._run(operation, path, pref)
                reply = (status, None)
        except ApiError as exc:
            reply = (exc.status, error_body(exc.status, exc.message))
            headers.update(exc.headers)
        except RequestInvalid as exc:
            reply = (exc.status, error_body(exc.status, exc.message))
        status, body = reply
        if self.strict and status != 204 and not canned:
            if encoded is not None:
                body = json.loads(encoded)  # judge exactly what will be sent
            violations = self.contract.judge(operation.operation_id, status, JSON, body, path, query, sent)
            if violations:
                message = "; ".join(str(v) for v in violations)
                status, body = 500, error_body(500, f"Strict mode: the mock broke the contract: {message}")
                encoded = None
        return json_response(status, body, headers, encoded)

    def _run(
        self, operation: Operation, path: dict[str, str], pref: Preference | None
    ) -> tuple[int, bytes, Any, dict[str, Any]]:
        """Run the operation under the store lock: (status, serialised body, decoded request body, query)."""
        with self.store.lock:
            try:
                account = _account(self.store)
                token_user = _token_user(operation, account, self.token_header)
                media_type, body = _decoded_body(operation)
                query = {k: v for k, v in request.args.items() if not k.startswith("__")}
                parsed = self.contract.validator[operation.operation_id].parse_request(
                    path, query, request.headers, media_type, body
                )
            except (ApiError, RequestInvalid) as exc:  # refused before the operation ran: the journal says why
                request.environ[PROBLEM_KEY] = exc.message
                raise
            handler = self.handlers.get(operation.operation_id)
            call = Call(account, parsed, token_user)
            if operation.method != "GET":
                self.store.changed()
            reply = handler(call) if handler else self._example(operation)
            if operation.method != "GET":
                self.store.persist()
            # Serialise inside the lock, so no other request changes the body under us.
            status, payload = with_status(reply, pref)
            return status, encode(payload), parsed.body, parsed.query

    def _example(self, operation: Operation) -> Reply:
        """An operation without a handler yet serves its first documented success example."""
        for key, value in self.contract.spec.examples(operation.operation_id).values():
            if key.startswith("2"):
                return (int(key) if key.isdigit() else 200), value
        raise ApiError(501, f"{operation.operation_id} has no handler and no success example.")
