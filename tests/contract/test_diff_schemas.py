"""`vsee_contract.diff.schemas`: where NEW admits fewer values (narrows) or more (widens) than OLD, by what a schema
admits and not by how it is spelled."""

from __future__ import annotations

from typing import Any

import pytest

from vsee_contract.diff.schemas import compare, plain

EXACT = {"type": "object", "properties": {"code": {"type": "string"}}, "additionalProperties": False}


def verdict(old: Any, new: Any) -> tuple[bool, bool]:
    """(narrows, widens) over every difference found."""
    effects = list(compare(old, new))
    return any(e.narrows for e in effects), any(e.widens for e in effects)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (EXACT, {**EXACT, "additionalProperties": True}, (False, True)),
        ({**EXACT, "additionalProperties": True}, EXACT, (True, False)),
        # exactness spelled with unevaluatedProperties over allOf parts is the same exactness
        (
            EXACT,
            {
                "allOf": [{k: v for k, v in EXACT.items() if k != "additionalProperties"}],
                "unevaluatedProperties": False,
            },
            (False, False),
        ),
        ({"type": "integer"}, {"type": "number"}, (False, True)),
        ({"type": "number"}, {"type": "integer"}, (True, False)),
        ({"type": "string"}, {"type": ["string", "null"]}, (False, True)),
        ({"type": "string", "enum": ["a", "b"]}, {"type": "string", "enum": ["a"]}, (True, False)),
        ({"type": "string"}, {"type": "string", "pattern": "^a$"}, (True, False)),
        ({"type": "string", "pattern": "^a$"}, {"type": "string", "pattern": "^b$"}, (True, True)),
        ({"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 0}, (False, True)),
        (
            {"type": "array", "items": {"type": "string"}},
            {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            (True, False),
        ),
        # an anyOf without a type of its own admits the types of its branches, not every type
        ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "boolean"}]}, (False, True)),
        ({"type": "object", "required": ["a"]}, {"type": "object", "required": ["a", "b"]}, (True, False)),
    ],
)
def test_narrows_and_widens(old: Any, new: Any, expected: tuple[bool, bool]) -> None:
    assert verdict(old, new) == expected, list(compare(old, new))


def test_a_reworded_description_is_neither() -> None:
    effects = list(compare({"type": "string", "description": "a"}, {"type": "string", "description": "b"}))
    assert [(e.what, e.narrows, e.widens) for e in effects] == [("`description` reworded", False, False)]


def test_plain_drops_annotations_not_properties_named_like_them() -> None:
    schema = {"description": "x", "properties": {"description": {"type": "string", "description": "y"}, "default": {}}}
    assert plain(schema) == {"properties": {"description": {"type": "string"}, "default": {}}}
