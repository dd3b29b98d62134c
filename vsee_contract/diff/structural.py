"""The structural method: operations, parameters, media types, statuses, security and schemas compared one by one.

Judged from a client of OLD: a request OLD accepts must still be accepted (NEW may not narrow it), an answer NEW may
send must still be understood (NEW may not widen it). Schemas come with their `$ref`s inlined (`judge.inlined`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..spec import Operation, Parameter, Spec
from ..validation import FORM_MEDIA_TYPES
from .model import Change, escape, operation_label, operation_pointer
from .schemas import Effect, compare

REQUEST, RESPONSE = "request", "response"
_TEMPLATE_PARAM = re.compile(r"\{[^}/]*\}")
JSON = "application/json"


def route(operation: Operation) -> tuple[str, str]:
    """What a client calls: the method and the path with its parameters' names left out (renaming one is free)."""
    return operation.method, _TEMPLATE_PARAM.sub("{}", operation.path)


def path_names(operation: Operation) -> list[str]:
    return [name[1:-1] for name in _TEMPLATE_PARAM.findall(operation.path)]


@dataclass(frozen=True)
class Finding:
    """A structural change before it is worded for a report: `schemas` is what an example is drawn from."""

    change: Change
    schemas: tuple[Any, Any] | None = None  # (OLD's, NEW's) schema where a value differs
    part: str = ""  # REQUEST, or the responses key of an answer
    where: str = ""  # the instance path of the value that differs


def pair_operations(old: Spec, new: Spec) -> tuple[list[tuple[Operation, Operation]], list[Operation], list[Operation]]:
    """(OLD, NEW) pairs of one route, then the operations only OLD has, then those only NEW has."""
    new_by_route = {route(op): op for op in new.operations.values()}
    old_routes = {route(op) for op in old.operations.values()}
    pairs = [(op, new_by_route[route(op)]) for op in old.operations.values() if route(op) in new_by_route]
    removed = [op for op in old.operations.values() if route(op) not in new_by_route]
    added = [op for op in new.operations.values() if route(op) not in old_routes]
    return pairs, removed, added


def structural_changes(old: Spec, new: Spec) -> Iterator[Finding]:
    pairs, removed, added = pair_operations(old, new)
    for op in removed:
        yield _finding(op, "", "operation removed: NEW no longer serves it", True, example=_call(op))
    for op in added:
        yield Finding(Change(operation_label(op), operation_pointer(op), "operation added", False))
    for old_op, new_op in pairs:
        yield from _operation(old, new, old_op, new_op)


def _finding(
    op: Operation,
    where: str,
    why: str,
    breaking: bool,
    example: str = "",
    schemas: tuple[Any, Any] | None = None,
    part: str = REQUEST,
    value_at: str = "",
) -> Finding:
    change = Change(operation_label(op), operation_pointer(op) + where, why, breaking, example)
    return Finding(change, schemas, part, value_at)


def _call(op: Operation) -> str:
    return f"{op.method} {op.path}"


def _operation(old: Spec, new: Spec, old_op: Operation, new_op: Operation) -> Iterator[Finding]:
    if old_op.operation_id != new_op.operation_id:
        why = f"operationId renamed to {new_op.operation_id} (the same call; a regenerated client renames its method)"
        yield _finding(old_op, "/operationId", why, False)
    if path_names(old_op) != path_names(new_op):
        why = f"path parameters renamed: {old_op.path} → {new_op.path} (the same URLs)"
        yield _finding(old_op, "", why, False)
    if gone := [url for url in old_op.servers if url not in new_op.servers]:
        why = f"server(s) no longer serve it: {', '.join(gone)}"
        yield _finding(old_op, "/servers", why, True, example=f"{old_op.method} {gone[0]}{old_op.path}")
    if new_op.needs_token and not old_op.needs_token:
        why = "security added: NEW requires a credential OLD's clients do not send"
        yield _finding(new_op, "/security", why, True, example=f"{_call(old_op)} without credentials")
    elif old_op.needs_token and new_op.needs_token and (changed := _schemes(old) - _schemes(new)):
        why = f"security scheme(s) changed: {', '.join(sorted(name for name, _ in changed))}"
        yield _finding(new_op, "/security", why, True, example=f"{_call(old_op)} with OLD's credentials")
    yield from _parameters(old_op, new_op)
    yield from _request_body(old_op, new_op)
    yield from _responses(old_op, new_op)


def _schemes(spec: Spec) -> set[tuple[str, str]]:
    """The security schemes, each as (name, how it is sent): a client of OLD sends exactly that."""
    return {
        (name, json.dumps({k: v for k, v in scheme.items() if k != "description"}, sort_keys=True, default=str))
        for name, scheme in spec.components.get("securitySchemes", {}).items()
    }


def _param_key(op: Operation, param: Parameter) -> tuple[str, str]:
    if param.location == "path":
        return "path", str(path_names(op).index(param.name)) if param.name in path_names(op) else param.name
    return param.location, param.name.lower() if param.location == "header" else param.name


def _parameters(old_op: Operation, new_op: Operation) -> Iterator[Finding]:
    old_params = {_param_key(old_op, p): (i, p) for i, p in enumerate(old_op.parameters)}
    new_params = {_param_key(new_op, p): (i, p) for i, p in enumerate(new_op.parameters)}
    new_names = {p.name.lower(): p for p in new_op.parameters}
    for key, (index, param) in old_params.items():
        at, named = f"/parameters/{index}", f"{param.location} parameter `{param.name}`"
        if key in new_params:
            new_param = new_params[key][1]
            if new_param.required and not param.required:
                why = f"{named} is now required"
                yield _finding(old_op, f"{at}/required", why, True, example=f"{_call(old_op)} without {param.name}")
            for found in compare(param.schema, new_param.schema, f"{at}/schema", param.name):
                yield _effect(old_op, found, REQUEST, named, as_text=True)
        elif (moved := new_names.get(param.name.lower())) is not None and moved.location != param.location:
            why = f"{named} moved to {moved.location}: NEW looks for it elsewhere"
            yield _finding(old_op, at, why, True, example=f"{_call(old_op)} with {param.name} in {param.location}")
        elif param.location != "path":
            why = f"{named} removed: NEW ignores or refuses what OLD's clients send in it"
            yield _finding(old_op, at, why, True, example=f"{_call(old_op)} with {param.name}")
    for key, (index, param) in new_params.items():
        if key in old_params or (param.name.lower() in {p.name.lower() for p in old_op.parameters}):
            continue
        named = f"{param.location} parameter `{param.name}`"
        if param.required:
            why = f"new required {named}: OLD's clients do not send it"
            yield _finding(new_op, f"/parameters/{index}", why, True, example=f"{_call(old_op)} without {param.name}")
        else:
            yield _finding(new_op, f"/parameters/{index}", f"optional {named} added", False)


def _request_body(old_op: Operation, new_op: Operation) -> Iterator[Finding]:
    old_body, new_body = old_op.request_body or {}, new_op.request_body or {}
    old_media, new_media = old_body.get("content", {}), new_body.get("content", {})
    if new_body.get("required") and not old_body.get("required"):
        yield _finding(old_op, "/requestBody/required", "a request body is now required", True, _call(old_op))
    elif old_body.get("required") and not new_body.get("required"):
        yield _finding(old_op, "/requestBody/required", "the request body is now optional", False)
    for media, content in old_media.items():
        at = f"/requestBody/content/{escape(media)}"
        if media not in new_media:
            why = f"request media type {media} removed: NEW refuses such bodies"
            yield _finding(old_op, at, why, True, example=f"{_call(old_op)} with Content-Type {media}")
            continue
        for found in compare(content.get("schema", {}), new_media[media].get("schema", {}), f"{at}/schema", ""):
            yield _effect(old_op, found, REQUEST, f"{media} body", as_text=media in FORM_MEDIA_TYPES)
    for media in new_media:
        if media not in old_media:
            yield _finding(new_op, f"/requestBody/content/{escape(media)}", f"request media type {media} added", False)


def covering(op: Operation, key: str) -> str | None:
    """OLD's responses key that tells a client what to expect of an answer NEW documents under `key`."""
    if key.isdigit():
        return op.response_key(int(key))
    if key.upper().endswith("XX") and key.upper() in op.responses:
        return key.upper()
    return "default" if "default" in op.responses else None


def _responses(old_op: Operation, new_op: Operation) -> Iterator[Finding]:
    for key in new_op.responses:
        at = f"/responses/{escape(key)}"
        old_key = covering(old_op, key)
        if old_key is None:
            why = f"NEW may answer {key}, which OLD documents nowhere (no range or default covers it)"
            yield _finding(new_op, at, why, True, example=f"HTTP {_status_of(key)}", part=key)
            continue
        yield from _response(old_op, new_op, old_key, key)
    for key in old_op.responses:
        if key in new_op.responses:
            continue
        new_key = covering(new_op, key) if key.isdigit() else None
        if new_key is not None:  # NEW answers it under a range: judged against OLD's own schema for it
            yield from _response(old_op, new_op, key, new_key)
        else:
            yield _finding(old_op, f"/responses/{escape(key)}", f"status {key} no longer documented", False, part=key)
    if not any(k.startswith("2") for k in new_op.responses) and any(k.startswith("2") for k in old_op.responses):
        yield _finding(old_op, "/responses", "NEW documents no success answer", True, _call(old_op), part="2XX")


def _status_of(key: str) -> str:
    return key if key.isdigit() else key.upper().replace("XX", "99") if key.upper().endswith("XX") else "599"


def _response(old_op: Operation, new_op: Operation, old_key: str, new_key: str) -> Iterator[Finding]:
    old_content = old_op.responses[old_key].get("content", {})
    new_content = new_op.responses[new_key].get("content", {})
    at = f"/responses/{escape(new_key)}"
    label = f"{new_key} answer" if old_key == new_key else f"{new_key} answer (OLD: {old_key})"
    if old_content and not new_content:
        why = f"{label} without a body, where OLD's clients expect one"
        yield _finding(new_op, at, why, True, f"HTTP {_status_of(new_key)} with no body", part=new_key)
    for media, content in new_content.items():
        if media not in old_content:
            if old_content:
                why = f"{label} may come as {media}, which OLD's clients do not expect"
                yield _finding(
                    new_op, f"{at}/content/{escape(media)}", why, True, f"Content-Type: {media}", part=new_key
                )
            else:
                why = f"{label} may now carry a {media} body"
                yield _finding(new_op, f"{at}/content/{escape(media)}", why, False, part=new_key)
            continue
        where = f"{at}/content/{escape(media)}/schema"
        for found in compare(old_content[media].get("schema", {}), content.get("schema", {}), where, ""):
            yield _effect(new_op, found, RESPONSE, label, new_key)
    for media in old_content:
        if media not in new_content and new_content:
            yield _finding(
                new_op, f"{at}/content/{escape(media)}", f"{label} no longer comes as {media}", False, part=new_key
            )


def _effect(
    op: Operation, found: Effect, direction: str, named: str, part: str = REQUEST, as_text: bool = False
) -> Finding:
    """A schema difference, judged: narrowing breaks a request, widening breaks an answer. A type in a parameter or
    a form field (`as_text`) is judged on the wire, by the generated instances: `5` is also the text a string
    parameter takes, so integer → string breaks nobody, and string → integer is refused there."""
    if as_text and found.pointer.endswith("/type"):
        why = f"{named}: {found.what} (values travel as text: judged by the generated instances)"
        return _finding(op, found.pointer, why, False, part=part, value_at=found.where)
    breaking = found.narrows if direction == REQUEST else found.widens
    field = f" `{found.where}`" if found.where.startswith("/") else ""  # a parameter's is its name, already said
    if breaking:
        consequence = (
            "NEW refuses requests OLD accepted"
            if direction == REQUEST
            else "NEW may answer what OLD's clients do not expect"
        )
    elif found.narrows or found.widens:
        consequence = "NEW accepts more" if direction == REQUEST else "NEW answers within what OLD allowed"
    else:
        consequence = ""
    why = f"{named}{field}: {found.what}" + (f" ({consequence})" if consequence else "")
    schemas = (found.old, found.new) if breaking else None
    return _finding(op, found.pointer, why, breaking, schemas=schemas, part=part, value_at=found.where)
