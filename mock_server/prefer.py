"""The `Prefer` convention (as in Prism): `Prefer: code=404`, `Prefer: example=NAME`, or `?__code=` / `?__example=`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vsee_contract import Refusal, Spec
from vsee_http import shown

_PAIR = re.compile(r"\s*([A-Za-z_]+)\s*=\s*\"?([^\",;]*)\"?\s*")


@dataclass(frozen=True)
class Preference:
    """What the caller asked the mock to answer instead of running the operation's behaviour."""

    code: int | None = None
    example: str | None = None

    @property
    def applied(self) -> str:
        parts = [f"code={self.code}"] if self.code is not None else []
        return ", ".join(parts + ([f"example={self.example}"] if self.example else []))


def read_preference(prefer: str, query: Mapping[str, str]) -> Preference | None:
    """The preference from the Prefer header, falling back to the `__code` / `__example` query parameters."""
    found: dict[str, str] = {}
    for part in re.split(r"[,;]", prefer):
        match = _PAIR.fullmatch(part)
        if match and match.group(1).lower() in ("code", "example"):
            found[match.group(1).lower()] = match.group(2)
    found.setdefault("code", query.get("__code", ""))
    found.setdefault("example", query.get("__example", ""))
    if not found["code"] and not found["example"]:
        return None
    if found["code"] and not re.fullmatch(r"[1-5][0-9][0-9]", found["code"]):
        raise Refusal(400, f"Prefer: code='{shown(found['code'])}' is not an HTTP status")
    return Preference(int(found["code"]) if found["code"] else None, found["example"] or None)


def check_preference(spec: Spec, operation_id: str, pref: Preference) -> None:
    """A preferred status must be one the operation declares, a named example one it has: else 400, naming what
    there is (a request the mock cannot honour as asked, like any other bad request)."""
    if pref.code is not None and spec.operations[operation_id].response_key(pref.code) is None:
        raise Refusal(400, f"Prefer: code={pref.code} is not declared for {operation_id}")
    examples = spec.examples(operation_id)
    if pref.example is not None and pref.example not in examples:
        names = ", ".join(sorted(examples)) or "none"
        raise Refusal(
            400, f"Prefer: example='{shown(pref.example)}' is not an example of {operation_id}; known: {names}"
        )


def forced_failure(spec: Spec, operation_id: str, pref: Preference) -> tuple[int, Any] | None:
    """`code=` a status that is not a success (and no example named): its documented example, or an error body.

    Served at once, as Prism does: the point is to see how a client handles that answer, whatever it sent."""
    if pref.code is None or pref.code < 300 or pref.example is not None:
        return None
    declared = spec.operations[operation_id].response_key(pref.code)
    for example_key, value in spec.examples(operation_id).values():
        if example_key == declared:
            return pref.code, value
    return pref.code, {"code": pref.code, "message": f"Response forced by Prefer: code={pref.code}"}


def preferred_example(spec: Spec, operation_id: str, pref: Preference) -> tuple[int, Any] | None:
    """`example=NAME`: that documented example (with `code=`'s status if given), instead of running the operation.

    Served only once the request passed the account, token and validation checks a real call must pass."""
    if pref.example is None:
        return None
    example_key, value = spec.examples(operation_id)[pref.example]
    return (pref.code or _status_of(example_key)), value


def _status_of(key: str) -> int:
    return int(key) if key.isdigit() else int(key[0]) * 100


def with_status(reply: tuple[int, Any], pref: Preference | None) -> tuple[int, Any]:
    """A real reply, re-labelled with the preferred success status (e.g. 201 instead of 200): the operation really
    ran (auth, validation, the write), only the status differs."""
    status, body = reply
    return (pref.code, body) if pref and pref.code and status < 300 else reply
