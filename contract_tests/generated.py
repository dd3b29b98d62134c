"""schemathesis, loaded from openapi.yaml and pointed at the target, tuned where the docs leave room.

Tuning, per operation, where the docs themselves allow a refusal of schema-valid data:
- createRoom: `positive_data_acceptance` also accepts 400 and 422. A schema-valid body is refused with 400 when
  its slug already exists in the domain (documented), and a real clinic may refuse a domain it does not own.
- removeUserRoom: `positive_data_acceptance` also accepts 400: the body's `code` must equal `room_code`, which
  JSON Schema cannot say.
- The auth probes of `ignored_auth` see the token because it is passed per call (never stored in a Case).
- Without --allow-writes the coverage phase sends no undeclared methods (its DELETE/PUT/... probes are writes).

Each failing check is then a violation or an advisory (`VERDICTS`, with the reason beside each).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import requests
import schemathesis
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.config import OperationConfig
from schemathesis.checks import negative_data_rejection
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from vsee_contract import RESPONSE_SCHEMA, DEFAULT_SPEC_PATH

from . import state
from .discovery import clinic_domain, own_room, unique_part, unique_slug
from .target import JSON_MEDIA, JSON_REFUSED, Target

TUNING: list[dict[str, Any]] = [
    {
        "include-operation-id": "createRoom",
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429"]}
        },
    },
    {
        "include-operation-id": "removeUserRoom",
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}
        },
    },
]

# Against a live deployment the writes are generated from valid data only: a lenient server would keep an invalid
# room (a domain of 400, a control character in a name) forever, as rooms cannot be deleted through this API.
LIVE_TUNING: list[dict[str, Any]] = [
    {"include-operation-id": op, "generation": {"modes": ["positive"]}}
    for op in ("createRoom", "addUserRoom", "removeUserRoom")
]


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
WRITE_IDS = {"createRoom", "addUserRoom", "removeUserRoom"}


def load_schema(target: Target) -> Any:
    """The contract as a schemathesis schema aimed at `target`, with the active profile's settings."""
    current = target.settings
    schema = schemathesis.openapi.from_path(str(DEFAULT_SPEC_PATH))
    if target.app is not None:
        schema.app = target.app  # in-process, the app itself is guarded
    if target.session is not None:
        _send_through(schema, target.session)
    # In-process too, so failure reports show the URL really called, not the spec's production server.
    schema.config.update(base_url=target.v3_base, request_timeout=current.timeout)
    if current.account_code:
        schema.config.update(headers={"X-AccountCode": current.account_code})
    schema.config.phases.update(phases=[*current.profile.phases, "stateful"])  # stateful: for as_state_machine()
    if not current.writes_enabled:
        schema.config.phases.coverage.unexpected_methods = set()
    schema.config.generation.update(
        max_examples=current.profile.schema_examples,
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        database="none",
    )
    schema.config.seed = current.seed
    tuning = TUNING if current.in_process else [*TUNING, *LIVE_TUNING]
    schema.config.operations.operations.extend(OperationConfig.from_dict(t) for t in tuning)
    return schema


class GuardedTransport:
    """schemathesis' HTTP transport, but every request it sends without a session of its own — its cases, and the
    auth probes and replays its checks send on a fresh session on purpose — uses the target's guarded session.
    That session holds no credentials (headers go per call), so the probes stay credential-free."""

    def __init__(self, session: requests.Session) -> None:
        self.guarded = session

    def send(self, case: Case, *, session: requests.Session | None = None, **kwargs: Any) -> Response:
        return REQUESTS_TRANSPORT.send(case, session=session or self.guarded, **kwargs)

    def __getattr__(self, name: str) -> Any:  # serializers and the rest: schemathesis' own transport
        return getattr(REQUESTS_TRANSPORT, name)


def _send_through(schema: Any, session: requests.Session) -> None:
    """Give `schema` (and the schemas it derives) the guarded transport: one way out for every request."""
    transport = GuardedTransport(session)
    schema.__class__ = type("GuardedSchema", (type(schema),), {"transport": property(lambda _: transport)})


def token_headers(target: Target, case: Case) -> dict[str, str]:
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


def prepare(target: Target, case: Case) -> None:
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
    body = case.body if isinstance(case.body, dict) else {}
    live = not target.settings.in_process
    if operation_id == "createRoom":
        for key in ("slug", "code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                tail = "" if live else f"-{unique_part().sub('', value)}"  # a re-sent case: re-prefixed
                body[key] = f"{unique_slug()}{tail}"
        domain, name = body.get("domain"), body.get("name")
        if live and isinstance(domain, str) and domain:
            body["domain"] = clinic_domain(target)
        if live and isinstance(name, str) and name:
            body["name"] = f"Contract test room {''.join(c for c in name if c.isprintable())[:40]}".strip()
    elif live and operation_id == "addUserRoom" and "code" in body:
        body["code"] = own_room(target, str(body["code"]))
    elif live and operation_id == "removeUserRoom" and case.path_parameters:
        case.path_parameters["room_code"] = own_room(target, str(case.path_parameters.get("room_code")))
        if isinstance(body.get("code"), str):
            body["code"] = case.path_parameters["room_code"]


def judge(
    target: Target,
    case: Case,
    response: Response,
    headers: dict[str, str],
    transport: Mapping[str, Any] | None = None,
    **validate: Any,
) -> None:
    """Fail on violations; list advisories (or fail on them too with --contract-strict).

    `transport` is how the request was sent (checks that send again must do the same); `validate` goes on to
    schemathesis' `validate_response` (the stateful layer's recorder and extra checks).
    """
    common: dict[str, Any] = {"headers": headers, "transport_kwargs": dict(transport or {}) or None, **validate}
    try:
        case.validate_response(response, excluded_checks=ADVISORY_CHECKS, **common)
    except FailureGroup as group:  # named by check, like the suite's own rules, so reports can count them
        names = list(dict.fromkeys(f.checks[0] for f in group.exceptions if f.checks))
        target.ledger.failures.update(names)
        if not names:
            raise
        tags = " ".join(f"[{name}]" for name in names)
        raise FailureGroup(list(group.exceptions), f"{tags} {group.message}") from None
    for check in ADVISORY_CHECKS:
        try:
            case.validate_response(response, checks=[check], **{**common, "additional_checks": None})
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


def record(target: Target, case: Case, response: Response, checked: set[str]) -> None:
    """Ledger entry for a generated call; rooms and associations it made are remembered for the summary/cleanup."""
    operation_id = case.operation.definition.raw.get("operationId")
    target.ledger.saw(operation_id, response.status_code, checked)
    if not 200 <= response.status_code < 300:
        return
    if operation_id == "createRoom":
        try:
            target.ledger.created_rooms.append(str(response.json()["data"]["code"]))
        except (ValueError, KeyError, TypeError):
            pass  # the schema checks report a malformed body
    elif operation_id == "addUserRoom" and isinstance(case.body, dict) and isinstance(case.body.get("code"), str):
        target.ledger.associations.append((str((case.path_parameters or {})["id"]), str(case.body["code"])))


@schemathesis.check
def vsee_contract_rules(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The documented rules one exchange can show (error shape, queue arithmetic, the room/provider asked for)."""
    current = state.current_target()
    if current is None:
        return True
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    path = {k: unquote(str(v)) for k, v in (case.path_parameters or {}).items()}  # some arrive percent-encoded
    query: Mapping[str, Any] = case.query or {}
    sent = case.body if isinstance(case.body, dict) else None
    operation_id = case.operation.definition.raw.get("operationId")
    content_type = response.headers.get("content-type", [None])[0]
    problems = [
        v
        for v in current.contract.judge(operation_id, response.status_code, content_type, body, path, query, sent)
        if v.rule != RESPONSE_SCHEMA  # schemathesis' own checks report schema problems
    ]
    for violation in problems:
        current.ledger.failures[violation.rule] += 1
    assert not problems, "; ".join(str(v) for v in problems)
    return None
