"""schemathesis, loaded from openapi.yaml and pointed at the target, tuned where the docs leave room.

Tuning, per operation, where the docs themselves allow a refusal of schema-valid data: `positive_data_acceptance`
also accepts the statuses its descriptor lists (`valid_refusals` in `vsee_contract.operations`, the reason beside).
- The auth probes of `ignored_auth` see the token because it is passed per call (never stored in a Case).
- Without --contract-allow-writes (a live target) the write operations are left out and the coverage phase sends no
  undeclared methods (its DELETE/PUT/... probes are writes).

Each failing check is then a violation or an advisory (`VERDICTS`, with the reason beside each).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest
import requests
import schemathesis
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import CheckFunction, negative_data_rejection
from schemathesis.config import OperationConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from vsee_contract import DEFAULT_SPEC_PATH, READ_METHODS, RESPONSE_SCHEMA, Violation, rules
from vsee_contract.operations import REGISTRY, Effect, descriptor

from .discovery import clinic_domain, own_room, unique_part, unique_slug
from .footprint import NO_SUCH_ROOM, SELF, UNKNOWN_USER
from .target import JSON_MEDIA, JSON_REFUSED, Target

ContractCase = Case[Any]  # a generated case, of any operation of the contract


def tuning(target: Target) -> list[dict[str, Any]]:
    """Per operation, what its descriptor says a schema-valid request may still get (`valid_refusals`, the reason
    beside it); against a live deployment, the writes generated from valid data only: a lenient server would keep
    an invalid room (a domain of 400, a control character in a name) forever, as rooms cannot be deleted through
    this API."""
    found: list[dict[str, Any]] = [
        {
            "include-operation-id": op,
            "checks": {"positive_data_acceptance": {"expected-statuses": list(d.valid_refusals)}},
        }
        for op, d in REGISTRY.items()
        if d.valid_refusals
    ]
    if not target.settings.in_process:
        writes = [op.operation_id for op in target.contract.spec.operations.values() if op.is_write]
        found += [{"include-operation-id": op, "generation": {"modes": ["positive"]}} for op in writes]
    return found


@dataclass(frozen=True)
class Verdict:
    """What a failing schemathesis check means: the rule reported, and why it is an advisory."""

    rule: str
    reason: str


# Checks whose failures are advisories on every operation; every other check's failure is a violation:
# not_a_server_error (any 5xx), status_code_conformance, content_type_conformance, response_headers_conformance,
# response_schema_conformance (the declared answers), ignored_auth (the docs make the writes admin-only),
# ensure_resource_availability (a created room is readable), use_after_free, and this suite's own rules.
VERDICTS: dict[str, Verdict] = {
    "negative_data_rejection": Verdict(
        "lenient-input",
        "accepted a request the contract calls invalid; the docs never say the server validates it (bounds of "
        "page/limit, the `default` flag's spelling, unknown fields are this contract's choices)",
    ),
    "positive_data_acceptance": Verdict(
        "strict-input",
        "refused a request the contract calls valid; the docs set no bounds, encodings or formats it would break",
    ),
    "unsupported_method": Verdict(
        "undeclared-method",
        "an undocumented method was not answered 405 with `Allow`; the docs list only the documented methods",
    ),
}
ADVISORY_CHECKS = [negative_data_rejection, positive_data_acceptance, unsupported_method]
CONTRACT_RULES_CHECK = "vsee_contract_rules"  # the name of the check `contract_rules` builds


def left_out(target: Target) -> list[str]:
    """The operations no generated test may call: the writes, when writes are not allowed (a live target without
    --contract-allow-writes)."""
    if target.settings.writes_enabled:
        return []
    return [op.operation_id for op in target.contract.spec.operations.values() if op.is_write]


def load_schema(target: Target) -> BaseSchema:
    """The contract as a schemathesis schema aimed at `target`, with the run's profile and seed.

    Operations are left out through the schema's own configuration (`enabled: false`), which every schema derived
    from it keeps: the lazy schema of `schemathesis.pytest.from_fixture` replaces filters set with `exclude()`.
    """
    current = target.settings
    schema = schemathesis.openapi.from_path(str(DEFAULT_SPEC_PATH))
    if target.app is not None:
        schema.app = target.app  # in-process, the app itself is guarded
    if target.session is not None:
        _send_through(schema, target, target.session)
    # In-process too, so failure reports show the URL really called, not the spec's production server.
    schema.config.update(base_url=target.v3_base, request_timeout=current.timeout)
    if current.account_code:
        schema.config.update(headers={target.account_header: current.account_code})
    schema.config.phases.update(phases=[*current.profile.phases, "stateful"])  # stateful: for as_state_machine()
    if not current.writes_enabled:
        schema.config.phases.coverage.unexpected_methods = set()
    schema.config.generation.update(
        max_examples=current.profile.schema_examples,
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        database="none",
    )
    schema.config.seed = current.seed
    disabled = [{"include-operation-id": op, "enabled": False} for op in left_out(target)]
    schema.config.operations.operations.extend(OperationConfig.from_dict(t) for t in [*tuning(target), *disabled])
    return schema


class GuardedTransport:
    """schemathesis' HTTP transport, but every request it sends without a session of its own — its cases, and the
    auth probes and replays its checks send on a fresh session on purpose — uses the target's guarded session.
    That session holds no credentials (headers go per call), so the probes stay credential-free."""

    def __init__(self, target: Target, session: requests.Session) -> None:
        self.target, self.guarded = target, session

    def send(self, case: ContractCase, *, session: requests.Session | None = None, **kwargs: Any) -> Response:
        """Sent only within the run's footprint (`Target.keep_within_footprint`)."""
        operation_id = case.operation.definition.raw.get("operationId")
        declared = case.method.upper() == case.operation.method.upper()
        self.target.keep_within_footprint(operation_id, case.method, declared, case.path_parameters or {}, case.body)
        return REQUESTS_TRANSPORT.send(case, session=session or self.guarded, **kwargs)

    def __getattr__(self, name: str) -> Any:  # serializers and the rest: schemathesis' own transport
        return getattr(REQUESTS_TRANSPORT, name)


def _send_through(schema: BaseSchema, target: Target, session: requests.Session) -> None:
    """Give `schema` (and the schemas it derives) the guarded transport: one way out for every request."""
    transport = GuardedTransport(target, session)
    schema.__class__ = type("GuardedSchema", (type(schema),), {"transport": property(lambda _: transport)})


def token_headers(target: Target, case: ContractCase) -> dict[str, str]:
    """The admin token, passed per call so no Case (and no failure repr) ever holds it.

    Only the operations that need it get it, and only with their own method: a probe of an undeclared method
    (DELETE /rooms, PUT /rooms/{code}, ...) never carries the admin token. A negative case that deliberately
    dropped the token header gets none, or the server would be blamed for accepting a request that did carry a
    valid token.
    """
    token = target.settings.api_token
    operation = target.contract.spec.operations[case.operation.definition.raw["operationId"]]
    dropped = (
        case.meta is not None
        and case.meta.is_negative_at(ParameterLocation.HEADER)
        and target.token_header.lower() not in {k.lower() for k in (case.headers or {})}
    )
    wanted = operation.needs_token and case.method.upper() == operation.method
    return {target.token_header: token} if token and wanted and not dropped else {}


def prepare(target: Target, case: ContractCase) -> None:
    """Before a generated write: keep what it may change recognisable, and on a live deployment the suite's own.

    A new room's slug and code are unique per call, so replaying an example against a deployment that keeps
    state gets the same answer (hypothesis' state machine fails as flaky otherwise), and prefixed, so people can
    find what the suite made. Against a live deployment (where the writes are generated from valid data only, see
    `live_tuning`) a new room also goes in the clinic's own domain with a printable name, and associations are made
    and removed only on rooms this run created: random domains, control characters and other people's rooms are
    for in-process targets. In-process, only values of the right type are replaced ("" stays ""), so a negative
    case stays negative.
    """
    operation_id = case.operation.definition.raw.get("operationId")
    # Copies, changed here: a case may share them with another (an example's body is one object), and another
    # layer beside this one (contract_tests.side_by_side) may be changing the other case meanwhile.
    if isinstance(case.body, dict):
        case.body = dict(case.body)
    if case.path_parameters is not None:
        case.path_parameters = dict(case.path_parameters)
    body = case.body if isinstance(case.body, dict) else {}
    live = not target.settings.in_process
    method = case.method.upper()
    if live and method not in READ_METHODS and method != case.operation.method.upper():
        _aim_probe(case)  # an undeclared method: at nothing that exists
        return
    effect = descriptor(operation_id).effect
    if effect is Effect.CREATES_ROOM:
        for key in ("slug", "code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                tail = "" if live else f"-{unique_part(target).sub('', value)}"  # a re-sent case: re-prefixed
                body[key] = f"{unique_slug(target)}{tail}"
        domain, name = body.get("domain"), body.get("name")
        if live and isinstance(domain, str) and domain:
            body["domain"] = clinic_domain(target)
        if live and isinstance(name, str) and name:
            body["name"] = f"Contract test room {''.join(c for c in name if c.isprintable())[:40]}".strip()
        if live:
            _within_footprint(target, body)
    elif live and effect is Effect.ADDS_PROVIDER:
        named = (case.path_parameters or {}).get("id") == target.settings.user_id
        if not named or not target.side_by_side.moves_defaults():
            body.pop("default", None)  # only a user named with --contract-user-id has their default room changed
        if "code" in body:
            body["code"] = own_room(target, str(body["code"]))
    elif live and effect is Effect.REMOVES_PROVIDER and case.path_parameters:
        room = case.path_parameters["room_code"] = own_room(target, str(case.path_parameters.get("room_code")))
        if isinstance(body.get("code"), str):
            body["code"] = room
        footprint, user = target.footprint, str(case.path_parameters.get("id"))
        if footprint is not None and footprint.earlier(room) and footprint.provider_before(user, room):
            case.path_parameters["id"] = UNKNOWN_USER  # an association this run did not make stays


def _aim_probe(case: ContractCase) -> None:
    """An undeclared method's probe (DELETE /rooms/{code}, PUT /users/{id}/rooms, ...) of a live deployment names a
    room and a user that do not exist: if the deployment implements the method after all, it changes nothing."""
    parameters = case.path_parameters or {}
    for key in parameters:
        parameters[key] = UNKNOWN_USER if key == "id" else NO_SUCH_ROOM


def _within_footprint(target: Target, body: dict[str, Any]) -> None:
    """A generated create on a live deployment: no `default` (it would move its creator's default room), and a
    fresh slug only while the room allowance lasts; after that, the slug of a room the suite already has, which the
    deployment must refuse (its answer is still judged)."""
    if target.settings.user_id != SELF or not target.side_by_side.moves_defaults():
        body.pop("default", None)
    slug = body.get("slug")
    if not isinstance(slug, str) or not slug or target.rooms.take(slug):
        return
    taken, footprint = target.rooms.any_slug(), target.footprint
    if taken is not None:
        body["slug"], body["domain"] = taken, clinic_domain(target)
        return
    earlier = footprint.before()[footprint.suite_rooms()[0]] if footprint and footprint.suite_rooms() else None
    if earlier is None:
        pytest.skip(f"--contract-max-rooms {target.rooms.limit} reached and the suite has no room here to reuse")
    body["slug"], body["domain"] = str(earlier["slug"]), str(earlier["domain"])


def judge(
    target: Target,
    case: ContractCase,
    response: Response,
    headers: dict[str, str],
    transport: Mapping[str, Any] | None = None,
    **validate: Any,
) -> None:
    """Fail on violations; list advisories (or fail on them too with --contract-strict).

    `transport` is how the request was sent (checks that send again must do the same); `validate` goes on to
    schemathesis' `validate_response` (the stateful layer's recorder and extra checks). The contract's own rules
    run beside schemathesis' checks as a check built for `target`.
    """
    extra = [*(validate.pop("additional_checks", None) or []), contract_rules(target)]
    common: dict[str, Any] = {"headers": headers, "transport_kwargs": dict(transport or {}) or None, **validate}
    try:
        case.validate_response(response, excluded_checks=ADVISORY_CHECKS, additional_checks=extra, **common)
    except FailureGroup as group:  # named by check, like the suite's own rules, so reports can count them
        names = list(dict.fromkeys(f.checks[0] for f in group.exceptions if f.checks))
        target.ledger.failed(names)
        if not names:
            raise
        tags = " ".join(f"[{name}]" for name in names)
        raise FailureGroup(list(group.exceptions), f"{tags} {group.message}") from None
    for check in ADVISORY_CHECKS:
        try:
            case.validate_response(response, checks=[check], **common)
        except FailureGroup as group:
            verdict = VERDICTS[check.__name__]
            rule, reason = verdict.rule, verdict.reason
            if check is positive_data_acceptance and response.status_code == 415 and case.media_type == JSON_MEDIA:
                target.json_refused = True
                rule, reason = JSON_REFUSED, "refused an application/json body; the docs show only form bodies"
            failures = "; ".join(f.title for f in group.exceptions)
            curl = case.as_curl_command(headers=dict(response.request.headers))
            target.advisories.add(
                rule, f"{case.method} {case.path} answered {response.status_code}: {failures} — {reason}", curl
            )


def record(target: Target, case: ContractCase, response: Response, checked: set[str]) -> None:
    """Ledger entry for a generated call, with the rooms and associations it made or undid."""
    operation_id = case.operation.definition.raw.get("operationId")
    target.ledger.saw(operation_id, response.status_code, checked)
    sent = case.body if isinstance(case.body, dict) else None
    target.ledger.wrote(operation_id, response.status_code, _json(response), case.path_parameters or {}, sent)


def _json(response: Response) -> Any:
    """The decoded body, or None when there is none or it is not JSON (the schema checks report that)."""
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def contract_rules(target: Target) -> CheckFunction:
    """A schemathesis check of the documented rules one exchange can show (error shape, queue arithmetic, the
    room/provider asked for), judged by `target`'s contract and counted in its ledger: built per target and passed
    to each validation, so no check reads run state from a global registry."""

    def vsee_contract_rules(ctx: CheckContext, response: Response, case: ContractCase) -> bool | None:
        path = {k: unquote(str(v)) for k, v in (case.path_parameters or {}).items()}  # some arrive percent-encoded
        query: Mapping[str, Any] = case.query or {}
        sent = case.body if isinstance(case.body, dict) else None
        operation_id = case.operation.definition.raw.get("operationId")
        content_type = response.headers.get("content-type", [None])[0]
        status, body = response.status_code, _json(response)
        problems = [
            v
            for v in target.contract.judge(operation_id, status, content_type, body, path, query, sent)
            if v.rule != RESPONSE_SCHEMA  # schemathesis' own checks report schema problems
        ]
        headers = [(name, value) for name, values in response.headers.items() for value in values]
        what = f"{case.method} {case.path}"
        leaks = rules.token_never_in_answers(target.settings.api_token, headers, response.content, body, what)
        problems += [Violation(rules.TOKEN_NEVER_IN_ANSWERS, p) for p in leaks]
        target.ledger.failed(v.rule for v in problems)
        assert not problems, "; ".join(str(v) for v in problems)
        return None

    return vsee_contract_rules
