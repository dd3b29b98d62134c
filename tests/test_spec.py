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

from vsee_contract import load_spec

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "fixtures" / "docs"
SPEC = load_spec(ROOT / "openapi.yaml")

# Documented Rooms payload -> (operationId, HTTP status, named example in the spec that embeds it).
DOCUMENTED = {
    "get_rooms_list_200.json": ("listRooms", 200, "docs_room1"),
    "post_rooms_200.json": ("createRoom", 200, "docs_provider00102"),
    "users_rooms_post_legacy_v2_side.json": ("createRoom", 200, "docs_uat2_legacy"),
    "error_400_slug_exists.json": ("createRoom", 400, "docs_slug_exists"),
    "error_400_slug_exists_legacy.json": ("createRoom", 400, "docs_slug_exists_legacy"),
    "error_doc_generic_example.json": ("getRoom", 404, "docs_generic"),
    "get_room_v3_partial.json": ("getRoom", 200, "docs_room1_partial"),
    "get_room_providers_200.json": ("listRoomProviders", 200, "docs_example_room_code"),
    "get_room_provider_200.json": ("getRoomProvider", 200, "docs_826"),
    "get_room_queue_200.json": ("getRoomQueue", 200, "docs_ceproom1"),
    "users_rooms_post_200.json": ("addUserRoom", 200, "docs_b4vjj"),
    "users_rooms_delete_200.json": ("removeUserRoom", 200, "docs_empty"),
}
REQUESTS = {
    "post_rooms_request_form.json": "createRoom",
    "users_rooms_post_request_form.json": "addUserRoom",
}
RELATED = {"intake_attachment_sec_usec_related.json", "users_list_datatable_200.json", "users_sso_200.json",
           "visit_add_walkin_200_related.json"}  # fmt: skip
WRITES = {"createRoom", "addUserRoom", "removeUserRoom"}


def doc(name: str) -> Any:
    return json.loads((DOCS / name).read_text())


def response_errors(operation_id: str, status: int, body: Any) -> list[str]:
    schema = SPEC.response_schema(operation_id, status)
    assert schema is not None, f"{operation_id} declares no JSON body for {status}"
    return [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(body)]


def request_errors(operation_id: str, body: Any) -> list[str]:
    content = SPEC.operations[operation_id].request_body["content"]
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
        ("GET", "/rooms"): "listRooms", ("POST", "/rooms"): "createRoom", ("GET", "/rooms/{code}"): "getRoom",
        ("GET", "/rooms/{code}/providers"): "listRoomProviders",
        ("GET", "/rooms/{code}/providers/{id}"): "getRoomProvider", ("GET", "/rooms/{code}/queue"): "getRoomQueue",
        ("POST", "/users/{id}/rooms"): "addUserRoom", ("DELETE", "/users/{id}/rooms/{room_code}"): "removeUserRoom",
    }  # fmt: skip
    assert {(op.method, op.path): op.operation_id for op in SPEC.operations.values()} == expected
    assert {op.operation_id for op in SPEC.operations.values() if op.needs_token} == WRITES
    assert SPEC.security_header() == "X-ApiToken"


def test_room_detail_is_served_on_v3_and_v4_everything_else_on_v3() -> None:
    for op in SPEC.operations.values():
        want = ("/api_v3", "/api_v4") if op.operation_id == "getRoom" else ("/api_v3",)
        assert op.local_base_paths() == want, op.operation_id


def test_writes_accept_all_three_encodings() -> None:
    for op_id in WRITES:
        assert set(SPEC.operations[op_id].media_types) == {
            "multipart/form-data", "application/x-www-form-urlencoded", "application/json"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_payload_matches_its_response_schema(name: str) -> None:
    operation_id, status, _ = DOCUMENTED[name]
    assert response_errors(operation_id, status, doc(name)) == []


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_payload_is_embedded_verbatim_as_named_example(name: str) -> None:
    operation_id, status, example = DOCUMENTED[name]
    key, value = SPEC.examples(operation_id)[example]
    assert SPEC.operations[operation_id].response_key(status) == key
    assert value == doc(name)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_documented_request_is_valid_in_every_encoding_and_embedded(name: str) -> None:
    operation_id = REQUESTS[name]
    assert request_errors(operation_id, doc(name)) == []
    content = SPEC.operations[operation_id].request_body["content"]
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
    ("consultation slots negative", "post_rooms_200.json", "createRoom", 200,
     _set("data/payment/consultations/0/slots", -1)),
    ("consultation without description", "post_rooms_200.json", "createRoom", 200,
     _set("data/payment/consultations/0/description", _DELETE)),
    ("closed flag as string", "post_rooms_200.json", "createRoom", 200, _set("data/operation_settings/is_closed", "no")),
    ("error without message", "error_400_slug_exists.json", "createRoom", 400, _set("message", _DELETE)),
    ("error code as string", "error_400_slug_exists.json", "createRoom", 400, _set("code", "400")),
    ("error as plain string", "error_400_slug_exists.json", "createRoom", 400, lambda b: b["message"]),
    ("detail without payment", "get_room_v3_partial.json", "getRoom", 200, _set("data/payment", _DELETE)),
    ("specialty duration as string", "get_room_v3_partial.json", "getRoom", 200,
     _set("data/specialties/0/duration", "15")),
    ("providers not a list", "get_room_providers_200.json", "listRoomProviders", 200, lambda b: {"data": b["data"][0]}),
    ("provider without vseeid", "get_room_providers_200.json", "listRoomProviders", 200,
     _set("data/0/vseeid", _DELETE)),
    ("provider id as integer", "get_room_provider_200.json", "getRoomProvider", 200, _set("data/id", 826)),
    ("provider active as string", "get_room_provider_200.json", "getRoomProvider", 200, _set("data/active", "yes")),
    ("queue length negative", "get_room_queue_200.json", "getRoomQueue", 200, _set("data/length", -1)),
    ("queue capacity as float", "get_room_queue_200.json", "getRoomQueue", 200, _set("data/capacity", 1.5)),
    ("queue without before_me", "get_room_queue_200.json", "getRoomQueue", 200, _set("data/before_me", _DELETE)),
    ("queue not enveloped", "get_room_queue_200.json", "getRoomQueue", 200, lambda b: b["data"]),
    ("user room without default", "users_rooms_post_200.json", "addUserRoom", 200, _set("data/0/default", _DELETE)),
    ("user room usec too large", "users_rooms_post_200.json", "addUserRoom", 200,
     _set("data/0/created/usec", 1_000_000)),
    ("user rooms as object", "users_rooms_post_200.json", "addUserRoom", 200, lambda b: {"data": b["data"][0]}),
    ("delete answers a list", "users_rooms_delete_200.json", "removeUserRoom", 200, lambda b: []),
]  # fmt: skip


@pytest.mark.parametrize(("label", "name", "operation_id", "status", "mutate"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_payload_is_rejected(
    label: str, name: str, operation_id: str, status: int, mutate: Callable[[Any], Any]
) -> None:
    assert response_errors(operation_id, status, doc(name)) == [], "the unbroken payload must pass first"
    assert response_errors(operation_id, status, mutate(copy.deepcopy(doc(name)))) != [], label


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
    assert request_errors(operation_id, body) != []
