"""The generative method (Specmatic's idea, with the project's own validators): requests drawn from OLD's schemas
must pass NEW's validators, answers drawn from NEW's schemas must pass OLD's. Seeded and bounded in examples (and,
as a safety net, in time), so a verdict is reproducible; Hypothesis shrinks what it finds to a small example."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as seeded
from hypothesis.strategies import SearchStrategy

from ..contract import Contract
from ..curl import form_value
from ..errors import Refusal, VseeError
from ..spec import Operation
from ..validation import FORM_MEDIA_TYPES, ContractValidator
from .model import Change, escape, operation_label, operation_pointer, shown
from .schemas import flatten, plain
from .structural import JSON, REQUEST, covering, path_names

DEFAULT_EXAMPLES = 30  # per distinct schema pair: ~6 CPU s for this spec when every schema differs (bench/results.md)
DEFAULT_TIME_LIMIT = 8.0  # CPU seconds for all searches of one diff (not wall time: a busy machine is no slower)
SHRINK_SECONDS = 0.5  # CPU seconds: Hypothesis shrinks a large object for minutes; then the smallest seen is shown
MAX_ITEMS, MORE_PROPERTIES = 3, 2  # drawn arrays and undeclared properties: small values, many of them per second
LOCATIONS = ("path", "query", "header")


class _Refused(VseeError):
    def __init__(self, value: Any, problem: str) -> None:
        super().__init__(problem)
        self.value, self.problem = value, problem


class _Enough(BaseException):  # not an Exception: Hypothesis lets it through instead of shrinking it
    def __init__(self, found: _Refused) -> None:
        super().__init__(found.problem)
        self.found = found


def bounded(schema: Any, whole: bool = True) -> Any:
    """`schema` with its arrays and objects capped in size: it admits a subset of what `schema` admits, drawn ~10x
    faster (a room list of 30 rooms of 40 fields each takes seconds to draw and says no more than 3 rooms). Only a
    `whole` value's schema is capped, never a part of one (an allOf or anyOf part constrains the whole value)."""
    if not isinstance(schema, dict):
        return schema
    capped = dict(schema)
    for key, value in schema.items():
        if key in ("items", "additionalProperties", "unevaluatedProperties", "contains"):
            capped[key] = bounded(value)
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            capped[key] = {name: bounded(sub) for name, sub in value.items()}
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            capped[key] = [bounded(part, whole=False) for part in value]
        elif key in ("if", "then", "else", "not"):
            capped[key] = bounded(value, whole=False)
    if not whole:
        return capped
    merged = flatten(schema)
    if "items" in merged or merged.get("type") == "array":
        capped["maxItems"] = min(merged.get("maxItems", MAX_ITEMS), max(MAX_ITEMS, merged.get("minItems", 0)))
    if "properties" in merged or merged.get("type") == "object":
        named = set(merged.get("properties", {})) | set(merged.get("required", []))
        for part in merged.get("anyOf", []) + merged.get("oneOf", []):
            if isinstance(part, dict):
                named |= set(part.get("properties", {})) | set(part.get("required", []))
        declared = len(named) + MORE_PROPERTIES
        capped["maxProperties"] = min(
            merged.get("maxProperties", declared), max(declared, merged.get("minProperties", 0))
        )
    return capped


def strategy(schema: Any) -> SearchStrategy[Any]:
    """Values `schema` admits, drawn by schemathesis' generator (jsonschema-rs' canonical form, the validators' regex
    engine, so a drawn value and a validator agree on patterns)."""
    from schemathesis.generation.jsonschema.builder import build

    return build(bounded(plain(schema)), draft=jsonschema_rs.Draft202012, formats={})


class Outside(VseeError):
    """Raised by a judge for a value outside the question (e.g. a request OLD itself refuses)."""


def minimal(value: Any, schema: Any) -> Any:
    """`value` with every property its schema does not require left out, at every depth: where a dropped `required`
    or `anyOf` shows, and what a generator that fills in optional properties seldom draws."""
    schema = flatten(schema) if isinstance(schema, dict) else {}
    if any(key in schema for key in ("anyOf", "oneOf", "if", "not")):
        return value  # which properties a branch requires is the branch's: the value is kept as drawn
    if isinstance(value, dict):
        required, properties = set(schema.get("required", [])), schema.get("properties", {})
        return {k: minimal(v, properties.get(k, {})) for k, v in value.items() if k in required}
    if isinstance(value, list):
        return [minimal(v, schema.get("items", {})) for v in value]
    return value


def search(
    values: SearchStrategy[Any], judge: Callable[[Any], str | None], examples: int, seed: int, schema: Any = None
) -> Any:
    """The smallest value `judge` finds a problem with, as (value, problem), or None. Each drawn value is judged as
    drawn and, given its `schema`, as its `minimal` self; `judge` raises `Outside` for a value outside the question."""
    smallest: list[tuple[float, int, _Refused]] = []  # (when first found, size, the refusal)

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @seeded(seed)
    @given(values)
    def probe(value: Any) -> None:
        if smallest and time.process_time() - smallest[0][0] > SHRINK_SECONDS:
            raise _Enough(smallest[0][2])
        candidates = [value] if schema is None else _distinct([value, minimal(value, schema)])
        judged = False
        for candidate in candidates:
            try:
                problem = judge(candidate)
            except Outside:
                continue
            judged = True
            if problem is not None:
                refused, size = _Refused(candidate, problem), len(shown(candidate, limit=10**9))
                if not smallest or size < smallest[0][1]:
                    smallest[:] = [(smallest[0][0] if smallest else time.process_time(), size, refused)]
                raise refused
        if not judged:
            reject()

    try:
        probe()
    except _Refused as exc:
        return exc.value, exc.problem
    except _Enough as exc:
        return exc.found.value, exc.found.problem
    return None


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
LENGTHS = ("minLength", "maxLength")
PLAIN_VALUES: tuple[Any, ...] = (None, True, False, 0, 1, -1, 0.5, "", "0", "a", [], {})


def _candidates(*schemas: Any) -> Iterator[Any]:
    """Values at the edges both schemas name (bounds and their neighbours, lengths, enums), then plain ones: where
    a narrowed or widened bound shows, and what random drawing seldom hits."""
    for schema in schemas:
        if not isinstance(schema, dict):
            continue
        for key in BOUNDS:
            if isinstance(bound := schema.get(key), int | float) and not isinstance(bound, bool):
                yield from (bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5)
        for key in LENGTHS:
            if isinstance(length := schema.get(key), int):
                yield from ("0" * n for n in (length - 1, length, length + 1) if n >= 0)
        yield from schema.get("enum", [])
        if "const" in schema:
            yield schema["const"]
    yield from PLAIN_VALUES


def _distinct(values: list[Any]) -> list[Any]:
    return list({json.dumps(v, sort_keys=True, default=str): v for v in values}.values())


def witness(old: Any, new: Any, request: bool, seed: int, examples: int) -> tuple[Any] | None:
    """A value OLD's schema admits and NEW's refuses (request), or NEW's admits and OLD's refuses (answer), as a
    1-tuple (the value may be null); or None. The edge values come first; `examples` drawn ones (0: none) after."""
    source, judge_by = (old, new) if request else (new, old)
    try:
        admits, refuses = jsonschema_rs.validator_for(plain(source)), jsonschema_rs.validator_for(plain(judge_by))
        for value in _candidates(old, new):
            if admits.is_valid(value) and not refuses.is_valid(value):
                return (value,)
        if not examples:
            return None

        def judge(value: Any) -> str | None:
            if not admits.is_valid(value):
                raise Outside
            return None if refuses.is_valid(value) else "refused"

        found = search(strategy(source), judge, examples, seed, source)
    except Exception:  # a schema the generator does not model: the line keeps its reason, without an example
        return None
    return None if found is None else (found[0],)


@dataclass
class Budget:
    """The time all searches of one diff may take, and what was left undone when it ran out."""

    seconds: float
    started: float = field(default_factory=time.process_time)
    skipped: list[str] = field(default_factory=list)

    def spent(self, what: str) -> bool:
        if time.process_time() - self.started <= self.seconds:
            return False
        self.skipped.append(what)
        return True


def _text(value: Any) -> str:
    """A parameter value as it travels in a URL or header."""
    return value if isinstance(value, str) else form_value(value) if isinstance(value, bool) else json.dumps(value)


def _params_schema(op: Operation, location: str) -> dict[str, Any]:
    params = op.params_in(location)
    return {
        "type": "object",
        "properties": {p.name: p.schema for p in params},
        "required": [p.name for p in params if p.required],
        "additionalProperties": False,
    }


def request_schema(op: Operation, media: str | None) -> dict[str, Any]:
    """One request as one instance: its parameters by location, and its body in `media`."""
    properties: dict[str, Any] = {location: _params_schema(op, location) for location in LOCATIONS}
    required = list(LOCATIONS)
    if media is not None:
        properties["body"] = (op.request_body or {})["content"][media].get("schema", {})
        if (op.request_body or {}).get("required"):
            required.append("body")
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


class Judge:
    """Runs the searches of one diff: OLD's and NEW's compiled validators, the seed, the counts, the time budget."""

    def __init__(
        self, old: ContractValidator, new: ContractValidator, examples: int, seed: int, budget: Budget
    ) -> None:
        self.old, self.new, self.examples, self.seed, self.budget = old, new, examples, seed, budget
        self.searched = 0
        self._seen: dict[str, Any] = {}
        # what the schemas leave to the core's rules (`x-contract-rules`) is part of what an answer may be
        self.old_rules, self.new_rules = old.spec.stated_rules(), new.spec.stated_rules()

    def requests(self, old_op: Operation, new_op: Operation, media: str | None) -> Change | None:
        """A request OLD accepts and NEW refuses, drawn from OLD's schemas in the encoding `media`."""
        old_v, new_v = self.old[old_op.operation_id], self.new[new_op.operation_id]
        renamed = dict(zip(path_names(old_op), path_names(new_op), strict=True))
        old_schema, new_schema = request_schema(old_op, media), request_schema(new_op, media)
        new_schema["properties"]["path"]["properties"] = {
            name: new_schema["properties"]["path"]["properties"].get(renamed.get(name, name), {})
            for name in old_schema["properties"]["path"]["properties"]
        }
        new_schema["properties"]["path"]["required"] = sorted(
            name for name, renamed_to in renamed.items() if renamed_to in new_schema["properties"]["path"]["required"]
        )
        old_schema["properties"]["path"]["required"] = sorted(old_schema["properties"]["path"]["required"])
        if plain(old_schema) == plain(new_schema) or self.budget.spent(f"{old_op.operation_id} {media} requests"):
            return None

        def wire(value: dict[str, Any]) -> tuple[dict[str, str], dict[str, str], dict[str, str], Any]:
            path, query, headers = ({k: _text(v) for k, v in value[loc].items()} for loc in LOCATIONS)
            body = value.get("body")
            if media in FORM_MEDIA_TYPES and isinstance(body, dict):
                body = {k: v if isinstance(v, str) else _text(v) for k, v in body.items()}
            return path, query, headers, body

        def judge(value: dict[str, Any]) -> str | None:
            path, query, headers, body = wire(value)
            sent = media if body is not None else None
            try:
                old_v.parse_request(path, query, headers, sent, body)
            except Refusal:
                raise Outside from None
            try:
                new_v.parse_request({renamed[k]: v for k, v in path.items()}, query, headers, sent, body)
            except Refusal as exc:
                return exc.message
            return None

        found = self._search(old_schema, judge, json.dumps([plain(new_schema), media], sort_keys=True))
        if found is None:
            return None
        value, problem = found
        path, query, headers, body = wire(value)
        shown_path = old_op.path
        for name, text in path.items():
            shown_path = shown_path.replace("{" + name + "}", text)
        parts = [f"{old_op.method} {shown_path}"]
        parts += [f"{where}={shown(given)}" for where, given in (("query", query), ("headers", headers)) if given]
        if body is not None:
            parts.append(f"{media} body={shown(body)}")
        at = f"/requestBody/content/{escape(media)}" if media else "/parameters"
        why = f"a request drawn from OLD's schemas is refused by NEW: {problem}"
        return Change(operation_label(old_op), operation_pointer(old_op) + at, why, True, " ".join(parts))

    def answers(self, old_op: Operation, new_op: Operation, key: str) -> Change | None:
        """An answer NEW allows under `key` that OLD's clients refuse, drawn from NEW's schema."""
        media = new_op.responses[key].get("content", {}).get(JSON)
        old_key = covering(old_op, key)
        if media is None or old_key is None or self.new[new_op.operation_id].responses[key] is None:
            return None
        old_media = old_op.responses[old_key].get("content", {}).get(JSON)
        if old_media is None or plain(old_media.get("schema")) == plain(media.get("schema")):
            return None
        if self.budget.spent(f"{new_op.operation_id} {key} answers"):
            return None
        status = _status(key, old_op, new_op)
        old_v, new_v = self.old[old_op.operation_id], self.new[new_op.operation_id]

        def judge(body: Any) -> str | None:
            if new_v.response_problems(status, JSON, body) or (
                status < 300 and Contract.stated_rule_problems(new_op.operation_id, body, self.new_rules)
            ):
                raise Outside
            problems = old_v.response_problems(status, JSON, body)
            if not problems and status < 300:
                problems = [str(v) for v in Contract.stated_rule_problems(old_op.operation_id, body, self.old_rules)]
            return problems[0] if problems else None

        found = self._search(media.get("schema", {}), judge, json.dumps(plain(old_media.get("schema")), sort_keys=True))
        if found is None:
            return None
        body, problem = found
        at = f"/responses/{escape(key)}/content/{escape(JSON)}/schema"
        why = f"an answer NEW allows is refused by OLD's clients: {problem}"
        example = f"HTTP {status} {shown(body)}"
        return Change(operation_label(new_op), operation_pointer(new_op) + at, why, True, example)

    def _search(self, schema: Any, judge: Callable[[Any], str | None], against: str) -> Any:
        """One search per distinct pair of schemas (`against` spells the other side): the same pair, the same answer."""
        key = json.dumps(plain(schema), sort_keys=True) + against
        if not self.examples:  # --examples 0: the structural method alone
            return None
        if key not in self._seen:
            self.searched += 1
            try:
                self._seen[key] = search(strategy(schema), judge, self.examples, self.seed, schema)
            except Exception as exc:  # a schema the generator does not model: said, never a crash
                self.budget.skipped.append(f"a schema the generator cannot draw from ({type(exc).__name__})")
                self._seen[key] = None
        return self._seen[key]


def _status(key: str, old_op: Operation, new_op: Operation) -> int:
    """A status NEW may answer under `key`: the key itself, or a code of its range that neither side names."""
    if key.isdigit():
        return int(key)
    named = {int(k) for k in (*old_op.responses, *new_op.responses) if k.isdigit()}
    first = int(key[0]) * 100 if key[0].isdigit() else 100
    return next(code for code in range(first, first + 100 if key[0].isdigit() else 600) if code not in named)


def generative_changes(
    judge: Judge, pairs: list[tuple[Operation, Operation]], settled: set[tuple[str, str]]
) -> Iterator[Change]:
    """The searches of every part of every operation, but those `settled` (operation, REQUEST or responses key):
    where a structural line already names a break, a second line would say it again."""
    for old_op, new_op in pairs:
        label = operation_label(old_op)
        old_media = list((old_op.request_body or {}).get("content", {}))
        new_media = (new_op.request_body or {}).get("content", {})
        if (label, REQUEST) not in settled:
            for media in [m for m in old_media if m in new_media] or ([None] if not old_media else []):
                if (found := judge.requests(old_op, new_op, media)) is not None:
                    yield found
        for key in new_op.responses:
            if (operation_label(new_op), key) not in settled and (found := judge.answers(old_op, new_op, key)):
                yield found
