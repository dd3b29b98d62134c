"""schemathesis, loaded from openapi.yaml and pointed at the target, tuned where the docs leave room.

Tuning, per operation, where a check cannot tell a fault from undocumented-but-legal behaviour:
- listRooms: `negative_data_rejection` off. Its bounds (page ≥ 1, limit ≤ 100, `sort`/`fields` patterns, q ≥ 3
  chars) are this contract's choices where the docs are silent; a server that ignores them is not wrong.
- createRoom: `positive_data_acceptance` also accepts 400 and 422. A schema-valid body is refused with 400 when
  its slug already exists in the domain (documented), and a real clinic may refuse a domain it does not own.
- removeUserRoom: `positive_data_acceptance` also accepts 400: the body's `code` must equal `room_code`, which
  JSON Schema cannot say.
- createRoom / addUserRoom: a negative case that only breaks the optional `default` boolean (or writes it as a
  form's `0`/`1`, which the contract's form convention accepts) is not held to `negative_data_rejection`: a
  lenient server may coerce `default=AAA`. Every other negation still is.
- The auth probes of `ignored_auth` see the token because it is passed per call (never stored in a Case).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import schemathesis
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.config import OperationConfig
from schemathesis.core.parameters import ParameterLocation

from vsee_contract import RESPONSE_SCHEMA, DEFAULT_SPEC_PATH

from . import state
from .discovery import UNIQUE_PART, unique_slug
from .target import FORM_MEDIA, Target

TUNING = [
    {"include-operation-id": "listRooms", "checks": {"negative_data_rejection": {"enabled": False}}},
    {
        "include-operation-id": "createRoom",
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429"]}
        },  # fmt: skip
    },
    {
        "include-operation-id": "removeUserRoom",
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}
        },  # fmt: skip
    },
]
LENIENT_OPERATIONS = {"createRoom", "addUserRoom"}
FORM_BOOLEANS = {"true", "false", "1", "0"}
WRITE_IDS = {"createRoom", "addUserRoom", "removeUserRoom"}


def load_schema(target: Target) -> Any:
    """The contract as a schemathesis schema aimed at `target`, with the active profile's settings."""
    current = target.settings
    schema = schemathesis.openapi.from_path(str(DEFAULT_SPEC_PATH))
    if target.app is not None:
        schema.app = target.app
    # In-process too, so failure reports show the URL really called, not the spec's production server.
    schema.config.update(base_url=target.v3_base)
    if current.account_code:
        schema.config.update(headers={"X-AccountCode": current.account_code})
    schema.config.phases.update(phases=[*current.profile.phases, "stateful"])  # stateful: for as_state_machine()
    schema.config.generation.update(
        max_examples=current.profile.schema_examples,
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        database="none",
    )
    schema.config.seed = current.seed
    schema.config.operations.operations.extend(OperationConfig.from_dict(t) for t in TUNING)
    return schema


def token_headers(target: Target, case: Case | None = None) -> dict[str, str]:
    """The admin token, passed per call so no Case (and no failure repr) ever holds it.

    A negative case that deliberately dropped the token header gets none, or the server would be blamed for
    accepting a request that did carry a valid token.
    """
    token = target.settings.api_token
    dropped = (
        case is not None
        and case.meta is not None
        and case.meta.is_negative_at(ParameterLocation.HEADER)
        and "x-apitoken" not in {k.lower() for k in (case.headers or {})}
    )
    return {"X-ApiToken": token} if token and not dropped else {}


def prepare(target: Target, case: Case) -> None:
    """Before a generated write: count it, and make new rooms' slug and code unique and recognisable.

    Unique per call, so replaying an example against a deployment that keeps state gets the same answer
    (hypothesis' state machine fails as flaky otherwise), and prefixed, so people can find what the suite made.
    """
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id not in WRITE_IDS:
        return
    target.count_write()
    if operation_id == "createRoom" and isinstance(case.body, dict):
        for key in ("slug", "code"):
            value = case.body.get(key)
            if isinstance(value, str) and value:  # "" stays "", so a negative case stays negative
                case.body[key] = f"{unique_slug()}-{UNIQUE_PART.sub('', value)}"  # a re-sent case: re-prefixed


def lenient_negation(case: Case) -> bool:
    """True when a negative case only breaks a field a lenient server may coerce (`default` of the writes).

    Either every mutation is at `default`, or the body is a form whose `default` is a documented form
    spelling of a boolean (`true`/`false`/`1`/`0`): schemathesis calls `0` an integer, the contract's
    form convention calls it false.
    """
    meta = case.meta
    operation_id = case.operation.definition.raw.get("operationId")
    if meta is None or not meta.generation.mode.is_negative or operation_id not in LENIENT_OPERATIONS:
        return False
    mutations = getattr(meta.phase.data, "mutations", ())
    if mutations and all(m.path[:1] == ("default",) for m in mutations):
        return True
    body = case.body if isinstance(case.body, dict) else {}
    spelled = str(body.get("default", "")).lower() in FORM_BOOLEANS
    return case.media_type in FORM_MEDIA and "default" in body and spelled


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
