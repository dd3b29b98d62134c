"""`vsee_contract.validation` on its own: `coerce`, `parse_request` (path, query and header parameters; bodies in
JSON and both form encodings, `FormBoolean` spellings included) and `response_problems`, against openapi.yaml.

Messages are pinned as far as this module writes them (`query parameter 'limit': ...`); the words after that are
the JSON Schema library's, so a test looks only for the value or field they must name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from vsee_contract import ContractValidator, OperationValidator, ParsedRequest, Refusal, Spec, load_spec
from vsee_contract.validation import coerce

SPEC = load_spec()
VALIDATOR = ContractValidator(SPEC)
FORMS = ["multipart/form-data", "application/x-www-form-urlencoded"]
JSON = "application/json"
ROOM_FIELDS = {"domain": "vclinic.vsee.me", "slug": "new-room", "name": "New room"}
QUEUE = {"length": 10, "capacity": 100, "average_visit_time": 3600, "before_me": 3}


def parse(
    operation_id: str,
    path: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
    media_type: str | None = None,
    body: Any = None,
) -> ParsedRequest:
    return VALIDATOR[operation_id].parse_request(path or {}, query or {}, headers or {}, media_type, body)


def refusal(operation_id: str, **request: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        parse(operation_id, **request)
    return caught.value


# ------------------------------------------------------------------ coerce


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("42", {"type": "integer"}, 42),
        ("+7", {"type": "integer"}, 7),
        ("-3", {"type": "integer"}, -3),
        (" 5 ", {"type": "integer"}, 5),
        ("4.0", {"type": "integer"}, "4.0"),
        ("0x1f", {"type": "integer"}, "0x1f"),
        ("", {"type": "integer"}, ""),
        ("1.5", {"type": "number"}, 1.5),
        ("1e3", {"type": "number"}, 1000.0),
        (".5", {"type": "number"}, 0.5),
        ("5.", {"type": "number"}, 5.0),
        ("1e", {"type": "number"}, "1e"),
        ("nan", {"type": "number"}, "nan"),
        ("3", {"type": ["integer", "number"]}, 3),
        ("true", {"type": "boolean"}, True),
        ("TRUE", {"type": "boolean"}, True),
        ("False", {"type": "boolean"}, False),
        ("1", {"type": "boolean"}, True),
        ("0", {"type": "boolean"}, False),
        ("yes", {"type": "boolean"}, "yes"),
        (" true", {"type": "boolean"}, " true"),
        ("1", {"type": ["boolean", "integer"]}, True),
        ("2", {"type": ["boolean", "integer"]}, 2),
        ("42", {"type": "string"}, "42"),
        ("true", {}, "true"),
        ("7", {"anyOf": [{"type": "string"}, {"type": "integer"}]}, 7),
        ("7", {"oneOf": [{"type": "number"}]}, 7.0),
    ],
)
def test_coerce_turns_text_into_the_declared_scalar(value: str, schema: dict[str, Any], expected: Any) -> None:
    got = coerce(value, schema)
    assert (got, type(got)) == (expected, type(expected))


def test_coerce_follows_a_ref_branch_only_with_the_spec() -> None:
    schema = {"anyOf": [{"$ref": "#/components/schemas/SecUsec/properties/sec"}]}  # {type: integer, minimum: 0}
    assert coerce("7", schema) == "7"
    assert coerce("7", schema, SPEC) == 7


FORM_BOOLEANS = [
    ("true", True),
    ("TRUE", True),
    ("tRuE", True),
    ("1", True),
    ("false", False),
    ("FALSE", False),
    ("False", False),
    ("0", False),
]


@pytest.mark.parametrize(("spelling", "value"), FORM_BOOLEANS)
def test_coerce_reads_every_form_boolean_spelling(spelling: str, value: bool) -> None:
    form_boolean = SPEC.resolve({"$ref": "#/components/schemas/FormBoolean"})
    assert coerce(spelling, form_boolean, SPEC) is value


def test_coerce_leaves_an_integer_beyond_pythons_digit_limit_as_text() -> None:
    digits = "9" * 5000
    assert coerce(digits, {"type": "integer"}) == digits


# ------------------------------------------------------------------ parameters


def test_path_parameters_are_validated_and_kept_as_declared() -> None:
    parsed = parse("getRoomProvider", path={"code": "ceproom1", "id": "826"})
    assert parsed == ParsedRequest({"code": "ceproom1", "id": "826"}, {}, {}, None, None)
    assert parse("addUserRoom", path={"id": "-"}, media_type=JSON, body={"code": "b4vjj"}).path == {"id": "-"}


@pytest.mark.parametrize(
    ("operation_id", "path", "where", "named"),
    [
        ("getRoomProvider", {"code": "ceproom1", "id": "dr-who"}, "path parameter 'id': ", '"dr-who"'),
        ("getRoom", {"code": ""}, "path parameter 'code': ", '""'),
        ("getRoom", {}, "path parameter: ", '"code"'),
        ("removeUserRoom", {"id": "85741"}, "path parameter: ", '"room_code"'),
    ],
)
def test_a_bad_or_missing_path_parameter_is_a_400_naming_it(
    operation_id: str, path: dict[str, str], where: str, named: str
) -> None:
    refused = refusal(operation_id, path=path)
    assert refused.status == 400 and refused.message.startswith(where) and named in refused.message, refused.message
    assert str(refused) == refused.message


def test_query_parameters_are_coerced_and_unknown_ones_dropped() -> None:
    query = {"page": "2", "limit": "10", "start": "0", "sort": "name.asc", "q": "room", "fields": "id,active"}
    query["utm_source"] = "mail"
    parsed = parse("listRooms", query=query)
    assert parsed.query == {"page": 2, "limit": 10, "start": 0, "sort": "name.asc", "q": "room", "fields": "id,active"}
    assert [type(parsed.query[k]) for k in ("page", "limit", "start")] == [int, int, int]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"limit": "ten"}, '"ten"'),
        ({"limit": "101"}, "101"),
        ({"limit": "0"}, "0"),
        ({"limit": "2.5"}, '"2.5"'),
        ({"page": "0"}, "0"),
        ({"start": "-1"}, "-1"),
        ({"sort": "name"}, '"name"'),
        ({"q": "ab"}, '"ab"'),
    ],
)
def test_a_query_parameter_outside_its_schema_is_a_400_naming_it(query: dict[str, str], named: str) -> None:
    refused = refusal("listRooms", query=query)
    [name] = query
    assert refused.status == 400 and refused.message.startswith(f"query parameter '{name}': "), refused.message
    assert named in refused.message, refused.message


def test_a_long_message_is_cut_at_300_characters() -> None:
    refused = refusal("listRooms", query={"limit": "1" * 5000})  # beyond int(): left as text, refused as such
    prefix = "query parameter 'limit': "
    assert refused.message.startswith(prefix + '"111') and refused.message.endswith("…"), refused.message[:80]
    assert len(refused.message) == len(prefix) + 300 + 1


@pytest.mark.parametrize(
    "headers",
    [
        {"X-AccountCode": "vclinic", "User-Agent": "curl/8"},
        [("x-accountcode", "vclinic"), ("Accept", "*/*")],
        [("X-ACCOUNTCODE", "vclinic")],
    ],
    ids=["mapping", "pairs", "upper-case"],
)
def test_header_names_match_in_any_case_and_undeclared_headers_are_dropped(
    headers: Mapping[str, str] | list[tuple[str, str]],
) -> None:
    assert parse("getRoom", path={"code": "ceproom1"}, headers=headers).headers == {"x-accountcode": "vclinic"}


def test_the_admin_token_is_security_not_a_parameter() -> None:
    headers = {"X-AccountCode": "vclinic", "X-ApiKey": "k", "X-ApiToken": "secret"}
    parsed = parse("createRoom", headers=headers, media_type=JSON, body=ROOM_FIELDS)
    assert parsed.headers == {"x-accountcode": "vclinic", "x-apikey": "k"}


# ------------------------------------------------------------------ bodies


def test_a_json_body_is_validated_and_kept_as_sent() -> None:
    body = {**ROOM_FIELDS, "code": "room1_code", "default": True}
    parsed = parse("createRoom", media_type=JSON, body=body)
    assert (parsed.body, parsed.media_type) == (body, JSON)
    assert parse("addUserRoom", path={"id": "85741"}, media_type=JSON, body={"code": "b4vjj"}).body == {"code": "b4vjj"}


@pytest.mark.parametrize("media_type", FORMS)
@pytest.mark.parametrize(("spelling", "value"), FORM_BOOLEANS)
def test_a_form_body_spells_default_as_a_form_boolean(media_type: str, spelling: str, value: bool) -> None:
    parsed = parse("createRoom", media_type=media_type, body={**ROOM_FIELDS, "default": spelling})
    assert parsed.body == {**ROOM_FIELDS, "default": value} and parsed.body["default"] is value
    assert parsed.media_type == media_type
    added = parse("addUserRoom", path={"id": "85741"}, media_type=media_type, body={"code": "1", "default": spelling})
    assert added.body == {"code": "1", "default": value}, "a string field that looks like a boolean stays text"


@pytest.mark.parametrize("media_type", FORMS)
@pytest.mark.parametrize("spelling", ["yes", "on", "t", "", " true", "true ", "true\n", "2", "01", "truee"])
def test_a_form_boolean_in_no_documented_spelling_is_a_400(media_type: str, spelling: str) -> None:
    refused = refusal("createRoom", media_type=media_type, body={**ROOM_FIELDS, "default": spelling})
    assert refused.status == 400 and refused.message.startswith("body field 'default': "), refused.message


@pytest.mark.parametrize("spelling", ["true", "1"])
def test_a_json_body_takes_json_booleans_only(spelling: str) -> None:
    refused = refusal("createRoom", media_type=JSON, body={**ROOM_FIELDS, "default": spelling})
    assert refused.status == 400 and refused.message.startswith("body field 'default': "), refused.message
    assert f'"{spelling}"' in refused.message


@pytest.mark.parametrize("media_type", [*FORMS, JSON])
@pytest.mark.parametrize(
    ("body", "where", "named"),
    [
        ({"domain": "vclinic.vsee.me", "slug": "s"}, "body field: ", '"name"'),
        ({**ROOM_FIELDS, "colour": "red"}, "body field: ", "'colour'"),
        ({**ROOM_FIELDS, "code": "has space"}, "body field 'code': ", '"has space"'),
        ({**ROOM_FIELDS, "slug": ""}, "body field 'slug': ", '""'),
    ],
    ids=["missing-name", "unknown-field", "code-pattern", "empty-slug"],
)
def test_a_body_outside_its_schema_is_a_400_naming_the_field(
    media_type: str, body: dict[str, str], where: str, named: str
) -> None:
    refused = refusal("createRoom", media_type=media_type, body=body)
    assert refused.status == 400 and refused.message.startswith(where) and named in refused.message, refused.message


def test_a_body_that_cannot_be_checked_is_a_400() -> None:
    refused = refusal("createRoom", media_type=JSON, body={1: "not a JSON key"})
    assert refused.status == 400
    assert refused.message.startswith("body field: cannot be checked against the contract ("), refused.message


def test_a_required_body_may_not_be_missing_and_an_optional_one_may() -> None:
    refused = refusal("createRoom")
    assert (refused.status, refused.message) == (400, "body: a request body is required")
    parsed = parse("removeUserRoom", path={"id": "85741", "room_code": "b4vjj"})
    assert (parsed.body, parsed.media_type) == (None, None)
    form = parse("removeUserRoom", path={"id": "85741", "room_code": "b4vjj"}, media_type=FORMS[0], body={"code": "b"})
    assert form.body == {"code": "b"}


@pytest.mark.parametrize(
    ("operation_id", "media_type", "accepted"),
    [
        ("createRoom", "text/plain", "multipart/form-data, application/x-www-form-urlencoded, application/json"),
        ("createRoom", None, "multipart/form-data, application/x-www-form-urlencoded, application/json"),
        ("listRooms", JSON, "no body"),
    ],
)
def test_a_body_in_an_undeclared_media_type_is_a_415_listing_the_accepted_ones(
    operation_id: str, media_type: str | None, accepted: str
) -> None:
    refused = refusal(operation_id, media_type=media_type, body={"domain": "d"})
    assert refused.status == 415
    sent = f"Content-Type '{media_type}' is not accepted here" if media_type else "the body has no Content-Type"
    assert refused.message == f"{sent}; use {accepted}"


# ------------------------------------------------------------------ responses


def _problems(operation_id: str, status: int, content_type: str | None, body: Any) -> list[str]:
    return VALIDATOR[operation_id].response_problems(status, content_type, body)


@pytest.mark.parametrize(
    ("operation_id", "status", "content_type", "body"),
    [
        ("getRoomQueue", 200, JSON, {"data": QUEUE}),
        ("getRoomQueue", 200, "application/json; charset=utf-8", {"data": {**QUEUE, "added_later": 1}}),
        ("getRoomQueue", 404, JSON, {"code": 404, "message": "Sorry, this page is not available."}),
        ("getRoomQueue", 418, JSON, {"code": 418, "message": "a 4XX range"}),
        ("getRoomQueue", 503, JSON, {"code": 503, "message": "a 5XX range"}),
        ("removeUserRoom", 200, JSON, {}),
        ("removeUserRoom", 204, None, None),
        ("removeUserRoom", 204, "text/html", b"no content is declared, so nothing is judged"),
    ],
)
def test_a_response_within_the_contract_has_no_problems(
    operation_id: str, status: int, content_type: str | None, body: Any
) -> None:
    assert _problems(operation_id, status, content_type, body) == []


@pytest.mark.parametrize("status", [201, 302, 100])
def test_an_undeclared_status_is_the_only_problem(status: int) -> None:
    assert _problems("getRoomQueue", status, JSON, {"data": QUEUE}) == [
        f"status {status} is not declared for getRoomQueue"
    ]


@pytest.mark.parametrize("content_type", [None, "", "text/html", "application/problem+json"])
def test_a_declared_json_body_in_another_content_type_is_a_problem(content_type: str | None) -> None:
    assert _problems("getRoomQueue", 200, content_type, {"data": QUEUE}) == [
        f"content type {content_type!r} is not application/json"
    ]


def test_every_schema_problem_of_a_body_is_reported_where_it_is() -> None:
    problems = _problems("getRoomQueue", 200, JSON, {"data": {"length": "10", "capacity": 100, "before_me": 3}})
    where = {p.split(": ", 1)[0]: p.split(": ", 1)[1] for p in problems}
    assert len(problems) == 2 and set(where) == {"response body 'data'", "response body 'data/length'"}, problems
    assert '"average_visit_time"' in where["response body 'data'"]
    assert '"10"' in where["response body 'data/length'"]


def test_an_error_body_is_judged_by_the_error_schema() -> None:
    problems = _problems("getRoomQueue", 418, JSON, {"code": "418"})
    assert sorted(p.split(": ", 1)[0] for p in problems) == ["response body", "response body 'code'"], problems


def test_the_contract_validator_has_one_operation_validator_per_operation() -> None:
    assert set(VALIDATOR.operations) == set(SPEC.operations)
    assert isinstance(VALIDATOR["getRoom"], OperationValidator)
    assert VALIDATOR.spec is SPEC and isinstance(SPEC, Spec)
