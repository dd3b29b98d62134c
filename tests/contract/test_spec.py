"""The contract itself: valid OpenAPI, holds every documented payload, rejects broken ones."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from openapi_spec_validator import validate

from vsee_contract import Contract, load_spec, rules

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "fixtures" / "docs"
SPEC = load_spec(ROOT / "openapi.yaml")
CONTRACT = Contract(SPEC)

# Documented Rooms payload -> (operationId, HTTP status, named example in the spec that embeds it).
DOCUMENTED = {
    "get_rooms_list_200.json": ("listRooms", 200, "docs_room1"),
    "post_rooms_200.json": ("createRoom", 200, "docs_provider00102"),
    "users_rooms_post_legacy_v2_side.json": ("createRoom", 200, "docs_uat2_legacy"),
    "error_400_slug_exists.json": ("createRoom", 400, "docs_slug_exists"),
    "error_400_slug_exists_legacy.json": ("createRoom", 400, "docs_slug_exists_legacy"),
    "error_doc_generic_example.json": ("getRoom", 404, "docs_generic"),
    "get_room_v3_partial.json": ("getRoom", 200, "docs_room1_completed"),
    "get_room_providers_200.json": ("listRoomProviders", 200, "docs_example_room_code"),
    "get_room_provider_200.json": ("getRoomProvider", 200, "docs_826"),
    "get_room_queue_200.json": ("getRoomQueue", 200, "docs_ceproom1"),
    "users_rooms_post_200.json": ("addUserRoom", 200, "docs_b4vjj"),
    "users_rooms_delete_200.json": ("removeUserRoom", 200, "docs_empty"),
}
# Documented payloads the docs cut short: their named example is the documented prefix, completed.
PARTIAL = {"get_room_v3_partial.json"}
REQUESTS = {
    "post_rooms_request_form.json": "createRoom",
    "users_rooms_post_request_form.json": "addUserRoom",
}
RELATED = {
    "intake_attachment_sec_usec_related.json",
    "users_list_datatable_200.json",
    "users_sso_200.json",
    "visit_add_walkin_200_related.json",
}
WRITES = {"createRoom", "addUserRoom", "removeUserRoom"}


def doc(name: str) -> Any:
    return json.loads((DOCS / name).read_text())


def payload(name: str) -> Any:
    """A documented payload whole: the file itself, or for a cut-short one the spec's completed example."""
    if name not in PARTIAL:
        return doc(name)
    operation_id, _, example = DOCUMENTED[name]
    return SPEC.examples(operation_id)[example][1]


def response_errors(operation_id: str, status: int, body: Any) -> list[str]:
    schema = SPEC.response_schema(operation_id, status)
    assert schema is not None, f"{operation_id} declares no JSON body for {status}"
    return [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(body)]


def judged(operation_id: str, status: int, body: Any) -> list[str]:
    """The contract's whole judgement of a JSON answer (schema, then the rules one exchange shows), as `[rule]`
    strings; the path parameters are taken from the answer, so the answer is the requested one."""
    data = body.get("data") if isinstance(body, dict) else None
    named = data if isinstance(data, dict) else {}
    path = {"code": str(named.get("code", "")), "id": str(named.get("id", ""))}
    return [str(v) for v in CONTRACT.judge(operation_id, status, "application/json", body, path, {})]


def request_content(operation_id: str) -> dict[str, Any]:
    """The operation's request body, by media type."""
    request_body = SPEC.operations[operation_id].request_body
    assert request_body is not None, f"{operation_id} takes no body"
    content: dict[str, Any] = request_body["content"]
    return content


def request_errors(operation_id: str, body: Any) -> list[str]:
    content = request_content(operation_id)
    return [
        f"{media}: {e.message}"
        for media, c in content.items()
        for e in jsonschema_rs.validator_for(SPEC.bundle(c["schema"])).iter_errors(body)
    ]


def test_spec_is_valid_openapi_3_1() -> None:
    validate(SPEC.document)
    assert SPEC.document["openapi"].startswith("3.1")


def test_every_documented_file_is_accounted_for() -> None:
    on_disk = {p.name for p in DOCS.glob("*.json")}
    assert on_disk == set(DOCUMENTED) | set(REQUESTS) | RELATED


def test_all_eight_operations_with_their_security() -> None:
    expected = {
        ("GET", "/rooms"): "listRooms",
        ("POST", "/rooms"): "createRoom",
        ("GET", "/rooms/{code}"): "getRoom",
        ("GET", "/rooms/{code}/providers"): "listRoomProviders",
        ("GET", "/rooms/{code}/providers/{id}"): "getRoomProvider",
        ("GET", "/rooms/{code}/queue"): "getRoomQueue",
        ("POST", "/users/{id}/rooms"): "addUserRoom",
        ("DELETE", "/users/{id}/rooms/{room_code}"): "removeUserRoom",
    }
    assert {(op.method, op.path): op.operation_id for op in SPEC.operations.values()} == expected
    assert {op.operation_id for op in SPEC.operations.values() if op.needs_token} == WRITES
    assert SPEC.security_header() == "X-ApiToken"
    assert SPEC.account_header() == "X-AccountCode"


def test_room_detail_is_served_on_v3_and_v4_everything_else_on_v3() -> None:
    for op in SPEC.operations.values():
        want = ("/api_v3", "/api_v4") if op.operation_id == "getRoom" else ("/api_v3",)
        assert op.local_base_paths() == want, op.operation_id


def test_writes_accept_all_three_encodings() -> None:
    for op_id in WRITES:
        assert set(SPEC.operations[op_id].media_types) == {
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "application/json",
        }


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_payload_matches_its_response_schema(name: str) -> None:
    operation_id, status, _ = DOCUMENTED[name]
    assert response_errors(operation_id, status, payload(name)) == []


@pytest.mark.parametrize("name", sorted(set(DOCUMENTED) - PARTIAL))
def test_documented_payload_is_embedded_verbatim_as_named_example(name: str) -> None:
    operation_id, status, example = DOCUMENTED[name]
    key, value = SPEC.examples(operation_id)[example]
    assert SPEC.operations[operation_id].response_key(status) == key
    assert value == doc(name)


def _required(schema_name: str) -> set[str]:
    return set(SPEC.components["schemas"][schema_name]["required"])


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_cut_short_payload_is_embedded_verbatim_then_completed_only_where_needed(name: str) -> None:
    """The docs' GET /rooms/room1 breaks off after `payment`: the named example is that text verbatim, followed
    by exactly the required fields it lacks; and those missing fields are all the schema holds against the text."""
    operation_id, status, example = DOCUMENTED[name]
    key, completed = SPEC.examples(operation_id)[example]
    assert SPEC.operations[operation_id].response_key(status) == key
    shown, whole = doc(name)["data"], completed["data"]
    assert list(whole.items())[: len(shown)] == list(shown.items()), "the documented part must come first, as is"
    added = set(whole) - set(shown)
    assert added == _required("RoomDetail") - set(shown), "completed with exactly the missing required fields"
    assert sorted(response_errors(operation_id, status, doc(name))) == sorted(
        f'"{field}" is a required property' for field in added
    )


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_documented_request_is_valid_in_every_encoding_and_embedded(name: str) -> None:
    operation_id = REQUESTS[name]
    assert request_errors(operation_id, doc(name)) == []
    content = request_content(operation_id)
    for media in content.values():
        assert [SPEC.resolve(e)["value"] for e in media["examples"].values()] == [doc(name)]


def _named_examples() -> list[tuple[str, str, str, Any]]:
    found = []
    for op in SPEC.operations.values():
        for key, response in op.responses.items():
            for media in response.get("content", {}).values():
                for name, example in media.get("examples", {}).items():
                    found.append((op.operation_id, key, name, SPEC.resolve(example)["value"]))
    return found


@pytest.mark.parametrize(("operation_id", "key", "name", "value"), _named_examples(), ids=lambda v: str(v)[:30])
def test_every_named_response_example_matches_its_schema(operation_id: str, key: str, name: str, value: Any) -> None:
    schema = SPEC.bundle(SPEC.operations[operation_id].responses[key]["content"]["application/json"]["schema"])
    assert [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(value)] == []


def test_links_point_at_real_operations_and_parameters() -> None:
    checked = 0
    for op in SPEC.operations.values():
        for response in op.responses.values():
            for name, link in response.get("links", {}).items():
                target = SPEC.operations[link["operationId"]]
                names = {p.name for p in target.parameters}
                assert set(link.get("parameters", {})) <= names, (op.operation_id, name)
                checked += 1
    assert checked >= 8


def _set(path: str, value: Any) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        target = body
        for p in parents:
            target = target[p]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return body

    return mutate


_DELETE = object()
BROKEN: list[tuple[str, str, str, int, Callable[[Any], Any]]] = [
    ("list item without code", "get_rooms_list_200.json", "listRooms", 200, _set("data/0/code", _DELETE)),
    ("list without data envelope", "get_rooms_list_200.json", "listRooms", 200, lambda b: b["data"]),
    ("list total negative", "get_rooms_list_200.json", "listRooms", 200, _set("total_count", -1)),
    ("room id as integer", "post_rooms_200.json", "createRoom", 200, _set("data/id", 171)),
    ("room without slug", "post_rooms_200.json", "createRoom", 200, _set("data/slug", _DELETE)),
    ("room provider_ids as string", "post_rooms_200.json", "createRoom", 200, _set("data/provider_ids", "85741")),
    ("room created as ISO string", "post_rooms_200.json", "createRoom", 200, _set("data/created", "2020-11-18")),
    ("room created negative", "post_rooms_200.json", "createRoom", 200, _set("data/created", -5)),
    ("room not enveloped", "post_rooms_200.json", "createRoom", 200, lambda b: b["data"]),
    (
        "consultation slots negative",
        "post_rooms_200.json",
        "createRoom",
        200,
        _set("data/payment/consultations/0/slots", -1),
    ),
    (
        "consultation without description",
        "post_rooms_200.json",
        "createRoom",
        200,
        _set("data/payment/consultations/0/description", _DELETE),
    ),
    (
        "closed flag as string",
        "post_rooms_200.json",
        "createRoom",
        200,
        _set("data/operation_settings/is_closed", "no"),
    ),
    ("error without message", "error_400_slug_exists.json", "createRoom", 400, _set("message", _DELETE)),
    ("error code as string", "error_400_slug_exists.json", "createRoom", 400, _set("code", "400")),
    ("error as plain string", "error_400_slug_exists.json", "createRoom", 400, lambda b: b["message"]),
    ("detail without payment", "get_room_v3_partial.json", "getRoom", 200, _set("data/payment", _DELETE)),
    ("detail without code", "get_room_v3_partial.json", "getRoom", 200, _set("data/code", _DELETE)),
    ("detail without id", "get_room_v3_partial.json", "getRoom", 200, _set("data/id", _DELETE)),
    ("detail without slug", "get_room_v3_partial.json", "getRoom", 200, _set("data/slug", _DELETE)),
    ("detail without provider_ids", "get_room_v3_partial.json", "getRoom", 200, _set("data/provider_ids", _DELETE)),
    ("detail code empty", "get_room_v3_partial.json", "getRoom", 200, _set("data/code", "")),
    (
        "specialty duration as string",
        "get_room_v3_partial.json",
        "getRoom",
        200,
        _set("data/specialties/0/duration", "15"),
    ),
    ("providers not a list", "get_room_providers_200.json", "listRoomProviders", 200, lambda b: {"data": b["data"][0]}),
    (
        "provider without vseeid",
        "get_room_providers_200.json",
        "listRoomProviders",
        200,
        _set("data/0/vseeid", _DELETE),
    ),
    ("provider id as integer", "get_room_provider_200.json", "getRoomProvider", 200, _set("data/id", 826)),
    ("provider active as string", "get_room_provider_200.json", "getRoomProvider", 200, _set("data/active", "yes")),
    ("queue length negative", "get_room_queue_200.json", "getRoomQueue", 200, _set("data/length", -1)),
    ("queue capacity as float", "get_room_queue_200.json", "getRoomQueue", 200, _set("data/capacity", 1.5)),
    ("queue without before_me", "get_room_queue_200.json", "getRoomQueue", 200, _set("data/before_me", _DELETE)),
    ("queue not enveloped", "get_room_queue_200.json", "getRoomQueue", 200, lambda b: b["data"]),
    ("user room id as integer", "users_rooms_post_200.json", "addUserRoom", 200, _set("data/0/id", 171)),
    (
        "default beside data not boolean",
        "users_rooms_post_200.json",
        "addUserRoom",
        200,
        lambda b: {"data": [{k: v for k, v in r.items() if k != "default"} for r in b["data"]], "default": "no"},
    ),
    (
        "user room usec too large",
        "users_rooms_post_200.json",
        "addUserRoom",
        200,
        _set("data/0/created/usec", 1_000_000),
    ),
    ("user rooms as object", "users_rooms_post_200.json", "addUserRoom", 200, lambda b: {"data": b["data"][0]}),
    ("delete answers a list", "users_rooms_delete_200.json", "removeUserRoom", 200, lambda b: []),
]


@pytest.mark.parametrize(("label", "name", "operation_id", "status", "mutate"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_payload_is_rejected(
    label: str, name: str, operation_id: str, status: int, mutate: Callable[[Any], Any]
) -> None:
    assert response_errors(operation_id, status, payload(name)) == [], "the unbroken payload must pass first"
    assert response_errors(operation_id, status, mutate(copy.deepcopy(payload(name)))) != [], label


# Broken in a way the schemas leave to a rule of `x-contract-rules` (a construct generators cannot type): the
# contract's judgement names that rule, and only it.
BROKEN_BY_RULE: list[tuple[str, str, str, int, Callable[[Any], Any], str]] = [
    (
        "user room without default, none beside data",
        "users_rooms_post_200.json",
        "addUserRoom",
        200,
        _set("data/0/default", _DELETE),
        rules.DEFAULT_FLAG_GIVEN,
    ),
    (
        "user room without _id or id",
        "users_rooms_post_200.json",
        "addUserRoom",
        200,
        _set("data/0/_id", _DELETE),
        rules.USER_ROOM_IDENTIFIED,
    ),
]


@pytest.mark.parametrize(
    ("label", "name", "operation_id", "status", "mutate", "rule"), BROKEN_BY_RULE, ids=[b[0] for b in BROKEN_BY_RULE]
)
def test_payload_broken_against_a_stated_rule_is_rejected_by_that_rule(
    label: str, name: str, operation_id: str, status: int, mutate: Callable[[Any], Any], rule: str
) -> None:
    assert judged(operation_id, status, payload(name)) == [], "the unbroken payload must pass first"
    found = judged(operation_id, status, mutate(copy.deepcopy(payload(name))))
    assert [f.split("]")[0] for f in found] == [f"[{rule}"], (label, found)


def _without(*keys: str) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        body["data"] = {k: v for k, v in body["data"].items() if k not in keys}
        return body

    return mutate


def _user_rooms(edit: Callable[[dict[str, Any]], None], **beside: Any) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        for room in body["data"]:
            edit(room)
        return {**body, **beside}

    return mutate


def _rename_id(room: dict[str, Any]) -> None:
    room["id"] = room.pop("_id")


# Answers a correct server may give where the docs' revisions disagree or leave room: each must validate.
# (documented payload, operationId, status) -> {what the answer does differently: how to make it from the payload}
ACCEPTED: dict[tuple[str, str, int], dict[str, Callable[[Any], Any]]] = {
    ("users_rooms_post_200.json", "addUserRoom", 200): {
        "user room with id, not _id (other revision)": _user_rooms(_rename_id),
        "user room with both _id and id": _user_rooms(lambda r: r.update(id=r["_id"])),
        "default beside data, not on each room": _user_rooms(lambda r: r.pop("default"), default=False),
        "user room with integer timestamps": _user_rooms(lambda r: r.update(created=1605728974, modified=1605728974)),
    },
    ("post_rooms_200.json", "addUserRoom", 200): {
        "user room in the full POST /rooms shape": lambda b: {"data": [{**b["data"], "default": True}]},
    },
    ("post_rooms_200.json", "createRoom", 200): {
        "created room with {sec, usec} timestamps": _set("data/created", {"sec": 1605728974, "usec": 177000}),
        "created room with legacy paymentCurrency too": _set("data/payment/paymentCurrency", "USD"),
        "created room with legacy consultations": _set(
            "data/payment/consultations", [{"description": "15-min Consultation", "amount": 0, "duration": 15}]
        ),
    },
    ("post_rooms_200.json", "getRoom", 200): {
        "detail as the full created room": lambda b: b,
        "detail in the old shape, without visits, auth, subtitle, operation_settings": _without(
            "visits", "auth", "subtitle", "operation_settings"
        ),
    },
    ("users_rooms_post_legacy_v2_side.json", "getRoom", 200): {
        "detail as the older revision's full room": lambda b: b,
    },
    ("get_room_v3_partial.json", "getRoom", 200): {
        "detail with {sec, usec} timestamps": _set("data/modified", {"sec": 1466796316, "usec": 0}),
    },
    ("get_rooms_list_200.json", "listRooms", 200): {
        "list with total (older DataTable docs)": _set("total", 1),
        "list with total_count (newer DataTable docs)": _set("total_count", 1),
        "list item with {sec, usec} timestamps": _set("data/0/created", {"sec": 1427922788, "usec": 0}),
    },
    ("error_400_slug_exists.json", "createRoom", 400): {
        "duplicate slug in double quotes (older docs)": _set(
            "message", 'In domain "vclinic.vsee.me" slug "uat2" already exists.'
        ),
    },
    ("get_room_providers_200.json", "listRoomProviders", 200): {
        "provider status as integer (as on user objects)": _set("data/0/status", 20),
    },
    ("users_rooms_delete_200.json", "removeUserRoom", 200): {
        "delete answers a data envelope": lambda b: {"data": {"code": "b4vjj"}},
    },
}
ACCEPTED_CASES = [(label, *source, mutate) for source, cases in ACCEPTED.items() for label, mutate in cases.items()]


@pytest.mark.parametrize(
    ("label", "name", "operation_id", "status", "mutate"), ACCEPTED_CASES, ids=[a[0] for a in ACCEPTED_CASES]
)
def test_other_documented_or_possible_shape_is_accepted(
    label: str, name: str, operation_id: str, status: int, mutate: Callable[[Any], Any]
) -> None:
    assert judged(operation_id, status, mutate(copy.deepcopy(payload(name)))) == [], label


def _refs_and_schemas(node: Any, seen: set[str]) -> list[dict[str, Any]]:
    """Every schema object reachable from `node`, following the spec's `$ref`s once each."""
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                stack.append(SPEC.resolve({"$ref": ref}))
            found.append(current)
            stack.extend(v for k, v in current.items() if k not in ("example", "examples", "enum", "const"))
    return found


def _response_schemas() -> list[tuple[str, str, Any]]:
    return [
        (op.operation_id, key, response["content"]["application/json"]["schema"])
        for op in SPEC.operations.values()
        for key, response in op.responses.items()
        if "application/json" in response.get("content", {})
    ]


@pytest.mark.parametrize(("operation_id", "key", "schema"), _response_schemas(), ids=lambda v: str(v)[:30])
def test_no_response_schema_forbids_new_fields(operation_id: str, key: str, schema: Any) -> None:
    """The live API adds fields over time: no object of any response may close itself, at any depth."""
    closing = [
        s for s in _refs_and_schemas(schema, set()) if "additionalProperties" in s or "unevaluatedProperties" in s
    ]
    assert closing == [], f"{operation_id} {key}: {closing}"


def test_request_bodies_stay_exact_and_alike_in_every_encoding() -> None:
    """Exact bodies; the form schemas name the same fields, required alike, as the JSON one (only spelling differs)."""
    for op in SPEC.operations.values():
        shapes = set()
        for media, content in (op.request_body or {}).get("content", {}).items():
            schema = SPEC.resolve(content["schema"])
            assert schema.get("additionalProperties") is False, (op.operation_id, media)
            shapes.add((tuple(schema["properties"]), tuple(schema.get("required", []))))
        assert len(shapes) <= 1, (op.operation_id, shapes)


def _with_new_field_everywhere(value: Any) -> Any:
    """`value` with an unknown member added to every object in it, at every depth."""
    if isinstance(value, dict):
        return {**{k: _with_new_field_everywhere(v) for k, v in value.items()}, "x_field_added_later": {"n": 1}}
    if isinstance(value, list):
        return [_with_new_field_everywhere(v) for v in value]
    return value


def _every_payload() -> list[tuple[str, str, str, Any]]:
    """Every documented payload (completed where cut short) and every named response example, with its response."""
    found = []
    for name, (operation_id, status, _) in sorted(DOCUMENTED.items()):
        key = SPEC.operations[operation_id].response_key(status)
        assert key is not None
        found.append((operation_id, key, name, payload(name)))
    return found + _named_examples()


@pytest.mark.parametrize(("operation_id", "key", "name", "value"), _every_payload(), ids=lambda v: str(v)[:30])
def test_new_fields_at_every_depth_are_accepted(operation_id: str, key: str, name: str, value: Any) -> None:
    """A correct server may add fields to any object of its answer: room, nested settings, consultations,
    timestamps, providers, queue, user rooms, list envelope, error body."""
    schema = SPEC.bundle(SPEC.operations[operation_id].responses[key]["content"]["application/json"]["schema"])
    extended = _with_new_field_everywhere(value)
    assert [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(extended)] == []


BROKEN_REQUESTS = [
    ("createRoom", {"domain": "d", "slug": "s"}),  # name missing
    ("createRoom", {"domain": "d", "slug": "s", "name": "n", "colour": "red"}),  # not in the contract
    ("createRoom", {"domain": "d", "slug": "", "name": "n"}),
    ("createRoom", {"domain": "d", "slug": "s", "name": "n", "default": "maybe"}),
    ("addUserRoom", {}),
    ("addUserRoom", {"code": "b4vjj", "default": 1}),
    ("removeUserRoom", {"code": 5}),
]


@pytest.mark.parametrize(("operation_id", "body"), BROKEN_REQUESTS)
def test_request_schemas_are_exact(operation_id: str, body: Any) -> None:
    content = request_content(operation_id)
    for media, c in content.items():
        errors = list(jsonschema_rs.validator_for(SPEC.bundle(c["schema"])).iter_errors(body))
        assert errors != [], f"{media} accepts {body}"


FORM_TRUE_OR_FALSE = ["true", "false", "TRUE", "False", "tRuE", "1", "0"]
NOT_A_FORM_BOOLEAN = ["yes", "no", "on", "off", "t", "f", "", " true", "true ", "true\n", "01", "2", "1.0", "null"]


@pytest.mark.parametrize("operation_id", ["createRoom", "addUserRoom"])
def test_form_bodies_spell_out_their_booleans(operation_id: str) -> None:
    """In a form every value is text: the form schemas say which texts are a boolean; JSON takes only booleans."""
    content = request_content(operation_id)
    base = {"domain": "d", "slug": "s", "name": "n"} if operation_id == "createRoom" else {"code": "b4vjj"}
    for media, c in content.items():
        validator = jsonschema_rs.validator_for(SPEC.bundle(c["schema"]))
        form = media != "application/json"
        for text in FORM_TRUE_OR_FALSE:
            assert validator.is_valid({**base, "default": text}) == form, (media, text)
        for text in NOT_A_FORM_BOOLEAN:
            assert not validator.is_valid({**base, "default": text}), (media, text)
        assert validator.is_valid({**base, "default": True}), media


def _component_schemas() -> list[tuple[str, dict[str, Any]]]:
    """Every schema object under components/schemas, named by the component it sits in."""
    return [
        (name, node) for name, schema in SPEC.components["schemas"].items() for node in _refs_and_schemas(schema, set())
    ]


def _named_or_whole(branch: dict[str, Any]) -> bool:
    return "$ref" in branch or "type" in branch


def test_schemas_use_only_constructs_code_generators_type() -> None:
    """openapi-typescript turns if/then/else, an allOf branch that only adds `required` and an anyOf of partial
    branches into `unknown`: alternatives are named or whole schemas, and a schema requires only what it (or a
    schema it extends) declares."""
    found = []
    for name, node in _component_schemas():
        found += [
            f"{name}: {key}" for key in ("if", "then", "else", "dependentRequired", "dependentSchemas") if key in node
        ]
        for key in ("anyOf", "oneOf", "allOf"):
            found += [f"{name}: {key} branch {b}" for b in node.get(key, []) if not _named_or_whole(b)]
        declared = set(node.get("properties", {}))
        for part in node.get("allOf", []):
            declared |= set(SPEC.resolve(part).get("properties", {}))
        found += [f"{name}: requires undeclared {f!r}" for f in node.get("required", []) if f not in declared]
    assert found == []


def test_each_media_type_of_a_body_has_a_schema_of_its_own() -> None:
    """A generator gives each schema one encoding (openapi-python-client sends a multipart body labelled urlencoded
    when two media types share one, its issue #1276)."""
    for op in SPEC.operations.values():
        refs = [c["schema"]["$ref"] for c in (op.request_body or {}).get("content", {}).values()]
        assert len(refs) == len(set(refs)), (op.operation_id, refs)


def _stated_rules() -> list[tuple[str, str]]:
    return [
        (name, rule)
        for name, schema in SPEC.components["schemas"].items()
        for rule in schema.get("x-contract-rules", {})
    ]


def _reached(node: Any) -> set[str]:
    seen: set[str] = set()
    _refs_and_schemas(node, seen)
    return seen


@pytest.mark.parametrize(("schema_name", "rule"), _stated_rules())
def test_every_stated_rule_is_judged_wherever_its_schema_answers(schema_name: str, rule: str) -> None:
    """A rule the spec states under `x-contract-rules` is in the core's catalogue, and every operation whose success
    answer holds that schema judges it (the suite, the mock's strict mode and the proxy all judge through it)."""
    assert rule in rules.CATALOGUE
    ref = f"#/components/schemas/{schema_name}"
    answering = [
        op.operation_id
        for op in SPEC.operations.values()
        for key, response in op.responses.items()
        if key.startswith("2") and ref in _reached(response)
    ]
    assert answering != []
    assert [op for op in answering if rule not in CONTRACT.rules_for(op)] == []
