"""Compare two JSON Schemas keyword by keyword: where NEW admits fewer values than OLD (narrows), more (widens), or
only reads differently. Whether that breaks a client is the caller's call: narrowing breaks a request, widening an
answer. Schemas arrive with their `$ref`s inlined (`jsonschema_rs.dereference`); `allOf` parts are merged first, so
a schema restructured into `allOf` pieces compares by what it admits, not by how it is spelled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .model import escape, shown

ANNOTATIONS = ("title", "description", "example", "examples", "$comment", "deprecated", "readOnly", "writeOnly")
SUBSCHEMA = ("items", "additionalProperties", "unevaluatedProperties", "not", "if", "then", "else", "contains")
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})


@dataclass(frozen=True)
class Effect:
    """A difference at `pointer` (relative to the compared schema) about the values at `where` (an instance path)."""

    pointer: str
    where: str
    what: str
    narrows: bool  # some value OLD admitted, NEW refuses
    widens: bool  # some value NEW admits, OLD refused
    old: Any  # the two schemas compared where the difference was found: what an example is drawn from
    new: Any


def plain(schema: Any) -> Any:
    """The schema without annotations (descriptions, examples): what it admits, and nothing else."""
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key in SUBSCHEMA:
            result[key] = plain(value)
        elif key in SUBSCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: plain(sub) for name, sub in value.items()}
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            result[key] = [plain(sub) for sub in value]
        else:
            result[key] = value
    return result


def flatten(schema: Any) -> Any:
    """Merge `allOf` parts into one schema (properties joined, `required` united); what cannot merge stays in allOf."""
    if not isinstance(schema, dict) or "allOf" not in schema:
        return schema
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    rest: list[Any] = []
    for part in (flatten(p) for p in schema["allOf"]):
        if not isinstance(part, dict):
            rest.append(part)
            continue
        for key, value in part.items():
            if key not in merged or merged[key] == value:
                merged[key] = value
            elif key == "required":
                merged[key] = list(dict.fromkeys([*merged[key], *value]))
            elif key == "properties":
                joined = dict(merged[key])
                for name, sub in value.items():
                    joined[name] = sub if joined.get(name, sub) == sub else {"allOf": [joined[name], sub]}
                merged[key] = joined
            elif key in ANNOTATIONS:
                continue
            else:
                rest.append({key: value})
    if rest:
        merged["allOf"] = rest
    return merged


def _types(schema: dict[str, Any]) -> frozenset[str] | None:
    """The JSON types a schema admits, or None for any; `integer` is within `number`."""
    declared = schema.get("type")
    if declared is not None:
        return frozenset([declared] if isinstance(declared, str) else declared)
    values = _values(schema)
    if values is not None:
        return frozenset(_type_of(v) for v in values)
    for key in ("anyOf", "oneOf"):  # no type of its own: the types its branches admit, if each names them
        branches = [_types(flatten(b)) if isinstance(b, dict) else None for b in schema.get(key) or [None]]
        if key in schema and all(b is not None for b in branches):
            return frozenset().union(*(b for b in branches if b is not None))
    return None


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "object")


def _lost(old: frozenset[str] | None, new: frozenset[str] | None) -> list[str]:
    """The types `old` admits and `new` does not."""
    if new is None:
        return []
    return sorted(t for t in (old or JSON_TYPES) if t not in new and not (t == "integer" and "number" in new))


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _additional(schema: dict[str, Any]) -> Any:
    """What an undeclared property may hold: True (anything), False (refused) or a schema."""
    for key in ("additionalProperties", "unevaluatedProperties"):
        value = schema.get(key, True)
        if value is False or value == {"not": {}}:
            return False
        if value not in (True, {}):
            return value
    return True


def _open(schema: Any) -> bool:
    return schema is True or schema == {}


def compare(old: Any, new: Any, pointer: str = "", where: str = "") -> Iterator[Effect]:
    """Every difference between `old` and `new`, outermost first."""
    if old == new:
        return
    old, new = flatten(old), flatten(new)
    old = {} if old is True else {"not": {}} if old is False else old
    new = {} if new is True else {"not": {}} if new is False else new
    if not isinstance(old, dict) or not isinstance(new, dict):
        yield Effect(pointer, where, "schema replaced", True, True, old, new)
        return

    def effect(key: str, what: str, narrows: bool, widens: bool) -> Effect:
        return Effect(f"{pointer}/{key}" if key else pointer, where, what, narrows, widens, old, new)

    for key in ANNOTATIONS:
        if old.get(key) != new.get(key) and key in ("description", "title"):
            yield effect(key, f"`{key}` reworded", False, False)
    old_types, new_types = _types(old), _types(new)
    lost, gained = _lost(old_types, new_types), _lost(new_types, old_types)
    if lost:
        yield effect("type", f"no longer admits {', '.join(lost)}", True, False)
    if gained:
        what = "now admits null (nullable added)" if gained == ["null"] else f"now admits {', '.join(gained)}"
        yield effect("type", what, False, True)
    if old_types is not None and new_types is not None and not (set(old_types) - set(lost)):
        return  # nothing in common: the keywords below compare unrelated values
    yield from _enums(old, new, effect)
    yield from _bounds(old, new, effect)
    yield from _objects(old, new, pointer, where, effect)
    if "items" in old or "items" in new:
        yield from compare(old.get("items", {}), new.get("items", {}), f"{pointer}/items", f"{where}/0")
    for key in ("anyOf", "oneOf", "if", "then", "else", "not", "allOf"):
        old_part, new_part = old.get(key), new.get(key)
        if old_part == new_part:
            continue
        if isinstance(old_part, list) and isinstance(new_part, list) and len(old_part) == len(new_part):
            for index, (o, n) in enumerate(zip(old_part, new_part, strict=True)):
                yield from compare(o, n, f"{pointer}/{key}/{index}", where)
        elif key in ("then", "else") and old_part is not None and new_part is not None:
            yield from compare(old_part, new_part, f"{pointer}/{key}", where)
        else:
            yield effect(key, f"`{key}` changed (judged by the generated instances)", False, False)


def _enums(old: dict[str, Any], new: dict[str, Any], effect: Any) -> Iterator[Effect]:
    old_values, new_values = _values(old), _values(new)
    if new_values is not None:
        if old_values is None:
            yield effect("enum", f"values restricted to {shown(new_values)}", True, False)
        elif removed := [v for v in old_values if v not in new_values]:
            yield effect("enum", f"value(s) removed: {shown(removed)}", True, False)
    if old_values is not None:
        if new_values is None:
            yield effect("enum", "no longer restricted to a list of values", False, True)
        elif added := [v for v in new_values if v not in old_values]:
            yield effect("enum", f"value(s) added: {shown(added)}", False, True)


def _bounds(old: dict[str, Any], new: dict[str, Any], effect: Any) -> Iterator[Effect]:
    for key in (*LOWER_BOUNDS, *UPPER_BOUNDS):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        sign = 1 if key in LOWER_BOUNDS else -1  # a higher lower bound narrows; a lower upper bound narrows
        narrows = after is not None and (before is None or sign * (after - before) > 0)
        widens = before is not None and (after is None or sign * (after - before) < 0)
        what = f"`{key}` {'added' if before is None else 'removed' if after is None else 'changed'}"
        yield effect(key, f"{what}: {_shown_bound(before)} → {_shown_bound(after)}", narrows, widens)
    for key in ("pattern", "format", "multipleOf", "uniqueItems", "const"):
        before, after = old.get(key), new.get(key)
        if before == after or key == "const":
            continue
        narrows, widens = after not in (None, False), before not in (None, False)
        what = "added" if not widens else "removed" if not narrows else "changed"
        yield effect(key, f"`{key}` {what}: {_shown_bound(before)} → {_shown_bound(after)}", narrows, widens)


def _shown_bound(value: Any) -> str:
    return "none" if value is None else shown(value)


def _objects(old: dict[str, Any], new: dict[str, Any], pointer: str, where: str, effect: Any) -> Iterator[Effect]:
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    if added := sorted(new_required - old_required):
        yield effect("required", f"now required: {', '.join(added)}", True, False)
    if dropped := sorted(old_required - new_required):
        yield effect("required", f"no longer required: {', '.join(dropped)}", False, True)
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_more, new_more = _additional(old), _additional(new)
    for name in dict.fromkeys([*old_props, *new_props]):
        at, inside = f"{pointer}/properties/{escape(name)}", f"{where}/{name}"
        if name in old_props and name in new_props:
            yield from compare(old_props[name], new_props[name], at, inside)
        elif name in old_props:
            yield from _one_side(name, old_props[name], new_more, True, at, inside, effect)
        else:
            yield from _one_side(name, new_props[name], old_more, False, at, inside, effect)
    if old_more != new_more:
        if new_more is False:
            yield effect("additionalProperties", "undeclared properties no longer admitted", True, False)
        elif old_more is False:
            yield effect("additionalProperties", "undeclared properties now admitted", False, True)
        else:
            old_schema = {} if old_more is True else old_more
            new_schema = {} if new_more is True else new_more
            yield from compare(old_schema, new_schema, f"{pointer}/additionalProperties", f"{where}/*")


def _one_side(
    name: str, declared: Any, other: Any, in_old: bool, at: str, inside: str, effect: Any
) -> Iterator[Effect]:
    """A property only one side declares, against what the other side lets an undeclared property hold."""
    key = f"properties/{escape(name)}"
    if other is False:  # the other side refuses it
        what = f"property `{name}` removed (NEW refuses it)" if in_old else f"property `{name}` added"
        yield effect(key, what, in_old, not in_old)
    elif other is True:  # the other side admits it with any value
        if not _open(plain(declared)):
            what = (
                f"property `{name}` no longer declared (NEW lets it hold any value)"
                if in_old
                else f"property `{name}` added (OLD admitted it undeclared, with any value)"
            )
            yield effect(key, what, not in_old, in_old)
    else:
        yield from compare(declared, other, at, inside) if in_old else compare(other, declared, at, inside)
