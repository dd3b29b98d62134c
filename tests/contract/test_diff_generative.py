"""`vsee_contract.diff.generative`: what the generated instances are drawn from, and that a search is reproducible."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from hypothesis import given, seed, settings

from vsee_contract import load_spec
from vsee_contract.diff.generative import bounded, minimal, search, strategy, witness
from vsee_contract.diff.judge import inlined


def user_room_list() -> Any:
    spec = inlined(load_spec())
    return spec.operations["addUserRoom"].responses["200"]["content"]["application/json"]["schema"]


def test_size_caps_go_on_whole_values_never_on_an_allof_part() -> None:
    part = {"type": "object", "properties": {"default": {"type": "boolean"}}}
    schema = {"type": "object", "required": ["a", "b", "c", "d"], "allOf": [part]}
    capped = bounded(schema)
    assert "maxProperties" not in capped["allOf"][0]  # a part's cap would bind the whole value: 1 + 2 < 4 required
    assert capped["maxProperties"] >= 4


def test_drawn_user_room_lists_hold_rooms() -> None:
    """The regression: a cap on a part of the user room's allOf made every drawn list empty."""
    schema = user_room_list()
    lengths: list[int] = []

    @settings(max_examples=15, database=None, deadline=None)
    @seed(27)
    @given(strategy(schema))
    def draw(value: Any) -> None:
        lengths.append(len(value["data"]))

    draw()
    assert max(lengths) > 0, lengths


def test_minimal_leaves_out_what_the_schema_does_not_require() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "object", "required": ["x"], "properties": {"x": {}, "y": {}}}, "b": {}},
    }
    assert minimal({"a": {"x": 1, "y": 2}, "b": 3}, schema) == {"a": {"x": 1}}
    branches = {"anyOf": [{"required": ["p"]}, {"required": ["q"]}]}
    assert minimal({"p": 1, "q": 2}, branches) == {"p": 1, "q": 2}  # which a branch requires is its own


def test_a_search_is_reproducible_and_finds_the_edge() -> None:
    old, new = {"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 10}
    validator = jsonschema_rs.validator_for(new)

    def judge(value: Any) -> str | None:
        return None if validator.is_valid(value) else "refused"

    first = search(strategy(old), judge, 50, 27)
    assert first is not None and first == search(strategy(old), judge, 50, 27)
    assert witness(old, new, request=True, seed=27, examples=0) == (0,)  # OLD's edge, without drawing
    assert witness(new, old, request=True, seed=27, examples=10) is None  # NEW narrower: nothing OLD admits is lost
