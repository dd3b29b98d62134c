"""The catalogue of contract edits: each a small transformation of the project's own openapi.yaml, with the verdict a
client of the unedited contract deserves and why. Targets are found by operationId, parameter, status and property
name (never by a component's name), so the edits still apply when the components are restructured."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vsee_contract import Spec, load_spec
from vsee_contract.diff import judge

Doc = dict[str, Any]
EXAMPLES = 10  # per schema pair: the catalogue's edits show at the edges the structural method names


def operation(doc: Doc, operation_id: str) -> Doc:
    for item in doc["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise LookupError(operation_id)


def path_of(doc: Doc, operation_id: str) -> str:
    path: str = next(p for p, item in doc["paths"].items() if operation(doc, operation_id) in item.values())
    return path


def deref(doc: Doc, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def holder(doc: Doc, schema: Any, key: str, name: str) -> Doc:
    """The schema (behind $refs, in allOf/anyOf parts) whose `key` (properties, required) names `name`."""
    schema = deref(doc, schema)
    if isinstance(schema, dict):
        if name in schema.get(key, ()):
            return schema
        for part in (*schema.get("allOf", ()), *schema.get("anyOf", ()), *schema.get("oneOf", ())):
            try:
                return holder(doc, part, key, name)
            except LookupError:
                pass
    raise LookupError(f"{key} {name}")


def field(doc: Doc, schema: Any, *names: str) -> Doc:
    """The (resolved) schema of the property at `names` below `schema`."""
    for name in names:
        schema = deref(doc, schema)
        if schema.get("type") == "array" or "items" in schema:
            schema = schema["items"]
        schema = deref(doc, holder(doc, schema, "properties", name)["properties"][name])
    if isinstance(schema, dict) and ("items" in schema):
        return schema
    resolved: Doc = deref(doc, schema)
    return resolved


def body(doc: Doc, operation_id: str, media: str = "application/json") -> Doc:
    schema: Doc = deref(doc, deref(doc, operation(doc, operation_id)["requestBody"])["content"][media]["schema"])
    return schema


def answer(doc: Doc, operation_id: str, status: str = "200") -> Doc:
    response = deref(doc, operation(doc, operation_id)["responses"][status])
    schema: Doc = deref(doc, response["content"]["application/json"]["schema"])
    return schema


def param(doc: Doc, operation_id: str, name: str) -> Doc:
    """The operation's own copy of parameter `name` (a shared component is copied in first)."""
    params = operation(doc, operation_id)["parameters"]
    for index, given in enumerate(params):
        if deref(doc, given)["name"] == name:
            own: Doc = copy.deepcopy(deref(doc, given))
            params[index] = own
            return own
    raise LookupError(name)


def query_enum(values: list[str]) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        param(doc, "listRooms", "sort")["schema"] = {"type": "string", "enum": values}

    return edit


def answer_enum(values: list[str]) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        field(doc, answer(doc, "getRoomQueue"), "data")["properties"]["state"] = {"type": "string", "enum": values}

    return edit


# ------------------------------------------------------------------ the edits


def remove_operation(doc: Doc) -> None:
    del doc["paths"][path_of(doc, "getRoomQueue")]["get"]


def move_operation(doc: Doc) -> None:
    old = path_of(doc, "getRoomProvider")
    doc["paths"][old.replace("/providers/", "/provider/")] = doc["paths"].pop(old)


def remove_request_media_type(doc: Doc) -> None:
    del deref(doc, operation(doc, "createRoom")["requestBody"])["content"]["multipart/form-data"]


def require_query_param(doc: Doc) -> None:
    param(doc, "listRooms", "limit")["required"] = True


def add_required_header(doc: Doc) -> None:
    header = {"name": "X-Client-Version", "in": "header", "required": True, "schema": {"type": "string"}}
    operation(doc, "getRoom")["parameters"].append(header)


def move_param_to_header(doc: Doc) -> None:
    param(doc, "listRooms", "q")["in"] = "header"


def change_body_field_type(doc: Doc) -> None:
    body(doc, "createRoom")["properties"]["default"] = {"type": "string"}


def lower_maximum(doc: Doc) -> None:
    param(doc, "listRooms", "limit")["schema"] = {"type": "integer", "minimum": 1, "maximum": 50}


def text_param_to_integer(doc: Doc) -> None:
    """Only the generated instances see it on the wire: `domain=vclinic.vsee.me` is no integer."""
    param(doc, "listRooms", "domain")["schema"] = {"type": "integer"}


def integer_param_to_text(doc: Doc) -> None:
    param(doc, "listRooms", "page")["schema"] = {"type": "string"}


def raise_min_length(doc: Doc) -> None:
    param(doc, "listRooms", "q")["schema"] = {"type": "string", "minLength": 5}


def lower_max_length(doc: Doc) -> None:
    field(doc, body(doc, "createRoom"), "name")["maxLength"] = 10


def add_pattern(doc: Doc) -> None:
    body(doc, "addUserRoom")["properties"]["code"] = {"type": "string", "minLength": 1, "pattern": "^[a-z0-9]+$"}


def require_body_field(doc: Doc) -> None:
    holder(doc, body(doc, "createRoom"), "required", "slug")["required"].append("code")


def remove_exact_body_field(doc: Doc) -> None:
    del holder(doc, body(doc, "addUserRoom"), "properties", "default")["properties"]["default"]


def require_optional_body(doc: Doc) -> None:
    deref(doc, operation(doc, "removeUserRoom")["requestBody"])["required"] = True


def drop_form_boolean_spelling(doc: Doc) -> None:
    """Only the generated instances see it: a branch of an anyOf gone (`1`/`0` no longer a form boolean)."""
    form = body(doc, "addUserRoom", "application/x-www-form-urlencoded")
    holder(doc, form, "properties", "default")["properties"]["default"] = {
        "anyOf": [
            {"type": "string", "pattern": "^[Tt][Rr][Uu][Ee]$", "maxLength": 4},
            {"type": "string", "pattern": "^[Ff][Aa][Ll][Ss][Ee]$", "maxLength": 5},
            {"type": "boolean"},
        ]
    }


def add_security(doc: Doc) -> None:
    operation(doc, "getRoom")["security"] = [{"AdminToken": []}]


def remove_server(doc: Doc) -> None:
    room = operation(doc, "getRoom")
    room["servers"] = [s for s in room["servers"] if "api_v4" not in s["url"]]


def unrequire_answer_field(doc: Doc) -> None:
    holder(doc, field(doc, answer(doc, "getRoom"), "data"), "required", "slug")["required"].remove("slug")


def add_nullable(doc: Doc) -> None:
    field(doc, answer(doc, "getRoomQueue"), "data", "length")["type"] = ["integer", "null"]


def widen_answer_type(doc: Doc) -> None:
    field(doc, answer(doc, "getRoomProvider"), "data", "status")["type"] = ["boolean", "integer", "string"]


def drop_answer_minimum(doc: Doc) -> None:
    del field(doc, answer(doc, "getRoomQueue"), "data", "before_me")["minimum"]


def add_undocumented_status(doc: Doc) -> None:
    operation(doc, "getRoom")["responses"]["302"] = {"description": "Moved to api_v4."}


def add_answer_media_type(doc: Doc) -> None:
    response = deref(doc, operation(doc, "getRoomQueue")["responses"]["200"])
    response["content"]["text/html"] = {"schema": {"type": "string"}}


def drop_answer_body(doc: Doc) -> None:
    del deref(doc, operation(doc, "getRoomQueue")["responses"]["200"])["content"]


def open_answer_consultation(doc: Doc) -> None:
    """Inside a branch (if/then today, an anyOf part elsewhere): a current consultation's `slots` no longer required."""
    room = field(doc, answer(doc, "createRoom"), "data")
    consultation = deref(doc, field(doc, room, "payment", "consultations")["items"])
    branches = [deref(doc, consultation.get(k)) for k in ("then", "else") if k in consultation]
    branches += [deref(doc, b) for b in (*consultation.get("anyOf", ()), *consultation.get("oneOf", ()))]
    current = next(b for b in branches if "slots" in b.get("required", ()))
    current["required"] = [name for name in current["required"] if name != "slots"]


def user_room(doc: Doc) -> Doc:
    room: Doc = deref(doc, field(doc, answer(doc, "addUserRoom"), "data")["items"])
    return room


def id_alternatives(doc: Doc) -> list[Doc]:
    """The parts of a user room's schema holding an anyOf of required lists (e.g. `_id` or `id`)."""
    room = user_room(doc)
    parts = [room, *(deref(doc, part) for part in room.get("allOf", []))]
    return [p for p in parts if any("required" in branch for branch in p.get("anyOf", []))]


def require_an_id(doc: Doc) -> None:
    """OLD: each of a user's rooms names its id as `_id` or `id` (added where the spec states it as a rule instead)."""
    if not id_alternatives(doc):
        user_room(doc)["anyOf"] = [{"required": ["_id"]}, {"required": ["id"]}]


def drop_the_id_alternatives(doc: Doc) -> None:
    for part in id_alternatives(doc):
        del part["anyOf"]


def drop_stated_rules(doc: Doc) -> None:
    """Every rule the spec states under `x-contract-rules` (what its schemas leave to the core) taken away."""
    for schema in doc["components"]["schemas"].values():
        schema.pop("x-contract-rules", None)


def ids_by_schema_only(doc: Doc) -> None:
    """OLD: `_id` or `id` said by the schema alone (as before the spec stated it as a rule for generators' sake)."""
    require_an_id(doc)
    drop_stated_rules(doc)


def ids_by_stated_rule(doc: Doc) -> None:
    drop_the_id_alternatives(doc)
    user_room(doc).setdefault("x-contract-rules", {})["user-room-identified"] = "a user room has `_id` or `id`"


def rename_path_param(doc: Doc) -> None:
    old = path_of(doc, "getRoom")
    param(doc, "getRoom", "code")["name"] = "room_code"
    doc["paths"][old.replace("{code}", "{room_code}")] = doc["paths"].pop(old)


def reword_descriptions(doc: Doc) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("description", "summary") and isinstance(value, str):
                    node[key] = value.upper()
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)


def add_optional_body_field(doc: Doc) -> None:
    body(doc, "createRoom")["properties"]["subtitle"] = {"type": "string"}


def add_answer_field(doc: Doc) -> None:
    field(doc, answer(doc, "getRoomQueue"), "data")["properties"]["estimated_wait"] = {"type": "integer"}


def raise_maximum(doc: Doc) -> None:
    param(doc, "listRooms", "limit")["schema"] = {"type": "integer", "minimum": 1, "maximum": 500}


def narrow_answer_bound(doc: Doc) -> None:
    field(doc, answer(doc, "getRoomQueue"), "data", "capacity")["maximum"] = 100000


def add_optional_query_param(doc: Doc) -> None:
    operation(doc, "listRooms")["parameters"].append({"name": "active", "in": "query", "schema": {"type": "boolean"}})


def add_operation(doc: Doc) -> None:
    doc["paths"][path_of(doc, "getRoom")]["delete"] = {
        "operationId": "deleteRoom",
        "security": [{"AdminToken": []}],
        "responses": {"204": {"description": "Deleted."}},
    }


def drop_201(doc: Doc) -> None:
    del operation(doc, "createRoom")["responses"]["201"]


def rename_components(doc: Doc) -> None:
    """Every schema component renamed (refs follow): what a client sees is unchanged."""
    text = json.dumps(doc)
    for name in list(doc["components"]["schemas"]):
        text = text.replace(f'"#/components/schemas/{name}"', f'"#/components/schemas/Renamed{name}"')
    renamed = json.loads(text)
    renamed["components"]["schemas"] = {f"Renamed{k}": v for k, v in renamed["components"]["schemas"].items()}
    doc.clear()
    doc.update(renamed)


def exact_by_unevaluated(doc: Doc) -> None:
    """The exact JSON body restructured: its fields in an allOf part, exactness by unevaluatedProperties."""
    schema = body(doc, "createRoom")
    parts = {k: schema.pop(k) for k in ("properties", "required", "type")}
    schema.pop("additionalProperties")
    schema["allOf"] = [{"type": "object", **parts}]
    schema["unevaluatedProperties"] = False


def require_answer_field(doc: Doc) -> None:
    listed = field(doc, answer(doc, "listRooms"), "data")
    deref(doc, listed["items"]).setdefault("allOf", []).append({"required": ["active"]})


def unrequire_body_field(doc: Doc) -> None:
    holder(doc, body(doc, "createRoom"), "required", "name")["required"].remove("name")


@dataclass(frozen=True)
class Edit:
    edit: Callable[[Doc], None]
    breaking: bool
    why: str
    before: Callable[[Doc], None] | None = None  # an edit of OLD too, where the working spec lacks the feature
    seen: bool = True  # a compatible edit shows as a compatible line (not one that only respells the same schemas)


CATALOGUE = {
    # ------------------------------------------------------------- requests OLD accepts that NEW refuses
    "operation removed": Edit(remove_operation, True, "OLD's clients call GET /rooms/{code}/queue"),
    "operation moved": Edit(move_operation, True, "the old path of getRoomProvider no longer exists"),
    "request media type removed": Edit(remove_request_media_type, True, "multipart bodies are what VSee's curl sends"),
    "optional query parameter now required": Edit(require_query_param, True, "a call without `limit` is refused"),
    "new required header": Edit(add_required_header, True, "OLD's clients never send X-Client-Version"),
    "parameter moved to another location": Edit(move_param_to_header, True, "`q` sent in the query is not read"),
    "body field type changed": Edit(change_body_field_type, True, "JSON `default: true` is no longer a string"),
    "request maximum lowered": Edit(lower_maximum, True, "limit=100 was valid"),
    "query parameter text → integer": Edit(text_param_to_integer, True, "domain=a was valid"),
    "request minLength raised": Edit(raise_min_length, True, "q=abc was valid"),
    "request maxLength added": Edit(lower_max_length, True, "a room name of 11 characters was valid"),
    "request pattern added": Edit(add_pattern, True, "code `B4VJJ` was valid"),
    "request enum value removed": Edit(
        query_enum(["name.asc"]), True, "sort=name.desc was valid", before=query_enum(["name.asc", "name.desc"])
    ),
    "body field now required": Edit(require_body_field, True, "a room created without `code` is refused"),
    "field removed from an exact body": Edit(remove_exact_body_field, True, "`default` is refused as unknown"),
    "optional body now required": Edit(require_optional_body, True, "the DELETE without a body is refused"),
    "anyOf branch removed (generative only)": Edit(drop_form_boolean_spelling, True, "default=1 in a form was valid"),
    "security added": Edit(add_security, True, "a public read now needs X-ApiToken"),
    "server removed": Edit(remove_server, True, "the room detail on api_v4 goes away"),
    # ------------------------------------------------------------- answers NEW may send that OLD's clients refuse
    "required answer field no longer required": Edit(unrequire_answer_field, True, "a room without `slug`"),
    "nullable added to an answer field": Edit(add_nullable, True, "queue length null"),
    "answer type widened": Edit(widen_answer_type, True, "provider status as a string"),
    "answer minimum removed": Edit(drop_answer_minimum, True, "before_me -1"),
    "answer enum value added": Edit(
        answer_enum(["open", "closed", "paused"]), True, "queue state `paused`", before=answer_enum(["open", "closed"])
    ),
    "undocumented status added": Edit(add_undocumented_status, True, "no 3XX or default in OLD covers 302"),
    "answer media type added": Edit(add_answer_media_type, True, "an HTML queue page OLD cannot parse"),
    "answer body removed": Edit(drop_answer_body, True, "a 200 queue without its JSON"),
    "required field dropped inside a branch": Edit(open_answer_consultation, True, "a consultation without `slots`"),
    "anyOf of required ids dropped (generative, minimal answer)": Edit(
        drop_the_id_alternatives, True, "a user room with neither `_id` nor `id`", before=ids_by_schema_only
    ),
    "stated rule dropped (x-contract-rules)": Edit(
        drop_stated_rules, True, "a user room with neither `_id` nor `id`", before=ids_by_stated_rule
    ),
    # ------------------------------------------------------------- compatible
    "path parameter renamed": Edit(rename_path_param, False, "the URLs are the same"),
    "descriptions reworded": Edit(reword_descriptions, False, "text only"),
    "optional request field added": Edit(add_optional_body_field, False, "OLD's requests never send it"),
    "answer field added": Edit(add_answer_field, False, "answer objects are open: OLD's clients ignore it"),
    "request maximum raised": Edit(raise_maximum, False, "NEW accepts more"),
    "query parameter integer → text": Edit(integer_param_to_text, False, "page=2 is text on the wire either way"),
    "answer bound narrowed": Edit(narrow_answer_bound, False, "NEW answers within what OLD allowed"),
    "optional query parameter added": Edit(add_optional_query_param, False, "OLD's clients never send it"),
    "operation added": Edit(add_operation, False, "OLD's clients never call it"),
    "request enum value added": Edit(
        query_enum(["name.asc", "name.desc", "code.asc"]),
        False,
        "NEW accepts more",
        before=query_enum(["name.asc", "name.desc"]),
    ),
    "answer enum value removed": Edit(
        answer_enum(["open"]), False, "NEW answers within what OLD allowed", before=answer_enum(["open", "closed"])
    ),
    "success status 201 removed": Edit(drop_201, False, "OLD's clients handle the 200 that remains"),
    "components renamed": Edit(rename_components, False, "the same schemas under other names", seen=False),
    "exact body restructured to allOf + unevaluatedProperties": Edit(
        exact_by_unevaluated, False, "the same bodies", seen=False
    ),
    "answer field now required": Edit(require_answer_field, False, "NEW answers within what OLD allowed"),
    "schema constraint moved into a stated rule": Edit(
        ids_by_stated_rule,
        False,
        "the core judges `x-contract-rules` like the schemas: the same answers",
        before=ids_by_schema_only,
    ),
    "body field no longer required": Edit(unrequire_body_field, False, "NEW accepts more"),
}


# the operation a breaking edit must be reported on (an edit of a shared component may break others too)
BROKEN = {
    "operation removed": "getRoomQueue",
    "operation moved": "getRoomProvider",
    "request media type removed": "createRoom",
    "optional query parameter now required": "listRooms",
    "new required header": "getRoom",
    "parameter moved to another location": "listRooms",
    "body field type changed": "createRoom",
    "request maximum lowered": "listRooms",
    "query parameter text → integer": "listRooms",
    "request minLength raised": "listRooms",
    "request maxLength added": "createRoom",
    "request pattern added": "addUserRoom",
    "request enum value removed": "listRooms",
    "body field now required": "createRoom",
    "field removed from an exact body": "addUserRoom",
    "optional body now required": "removeUserRoom",
    "anyOf branch removed (generative only)": "addUserRoom",
    "security added": "getRoom",
    "server removed": "getRoom",
    "required answer field no longer required": "getRoom",
    "nullable added to an answer field": "getRoomQueue",
    "answer type widened": "getRoomProvider",
    "answer minimum removed": "getRoomQueue",
    "answer enum value added": "getRoomQueue",
    "undocumented status added": "getRoom",
    "answer media type added": "getRoomQueue",
    "answer body removed": "getRoomQueue",
    "required field dropped inside a branch": "createRoom",
    "anyOf of required ids dropped (generative, minimal answer)": "addUserRoom",
    "stated rule dropped (x-contract-rules)": "addUserRoom",
}


def edited(edit: Callable[[Doc], None] | None) -> Spec:
    document = json.loads(json.dumps(load_spec().document))  # no YAML anchors shared between copies
    if edit is not None:
        edit(document)
    return Spec(document)


@pytest.mark.parametrize("name", CATALOGUE)
def test_each_edit_is_judged_as_expected(name: str) -> None:
    entry = CATALOGUE[name]

    def both(doc: Doc) -> None:
        if entry.before is not None:
            entry.before(doc)
        entry.edit(doc)

    verdict = judge(edited(entry.before), edited(both), examples=EXAMPLES)
    lines = "\n".join(change.line() for change in verdict.changes)
    assert bool(verdict.breaking) is entry.breaking, f"{name} ({entry.why}):\n{lines}"
    if entry.breaking:
        assert all(change.example for change in verdict.breaking), f"a breaking line without an example:\n{lines}"
        assert any(change.operation.startswith(f"{BROKEN[name]} ") for change in verdict.breaking), lines
    else:
        assert bool(verdict.compatible) is entry.seen, f"{name}: {lines or 'the edit was not seen at all'}"


def test_the_identical_spec_has_no_change() -> None:
    verdict = judge(load_spec(), edited(None))
    assert verdict.changes == [] and verdict.searched == 0
