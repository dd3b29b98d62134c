"""Isolated copies of the seeded state, one per namespace, so tests and people sharing one mock never see each
other's rooms: `X-Mock-Namespace: NAME` (or `?__namespace=NAME` where a browser cannot set a header) picks one,
created from the fixtures on first use; without it, the default namespace (the one `--state-file` keeps).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from vsee_http import ApiError, shown

from .fixtures import AccountFixture
from .store import Store

NAMESPACE_HEADER = "X-Mock-Namespace"
NAMESPACE_QUERY = "__namespace"
DEFAULT = ""
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_NAMESPACES = 10_000  # each is a copy of the fixtures: bounded, and a fixture drops its own when done


def namespace_of(environ: Mapping[str, Any]) -> str:
    """The namespace a request names (the header first, then the query), or the default; 400 for a bad name."""
    name = environ.get("HTTP_X_MOCK_NAMESPACE")
    if name is None and NAMESPACE_QUERY in environ.get("QUERY_STRING", ""):
        name = parse_qs(environ["QUERY_STRING"]).get(NAMESPACE_QUERY, [None])[0]
    if name is None or name == "":
        return DEFAULT
    if not _NAME.fullmatch(name):
        raise ApiError(400, f"{NAMESPACE_HEADER} '{shown(name)}': use 1-128 letters, digits and _ . : -")
    return str(name)


@dataclass
class Namespace:
    store: Store
    scenario: str


class Namespaces:
    """The default namespace and the others, each its own store (and lock) and scenario."""

    def __init__(
        self, default: Store, scenario: str, fixtures: Callable[[str], list[AccountFixture]], seed: int | None
    ) -> None:
        self._fixtures = functools.lru_cache(maxsize=8)(fixtures)  # scenario -> fixtures, read once
        self._seed = seed
        self._default_scenario = scenario
        self._spaces: dict[str, Namespace] = {DEFAULT: Namespace(default, scenario)}
        self._lock = threading.Lock()

    def get(self, name: str) -> Namespace:
        """The namespace, created from the fixtures of the app's scenario on first use."""
        with self._lock:
            space = self._spaces.get(name)
            if space is None:
                if len(self._spaces) >= MAX_NAMESPACES:
                    raise ApiError(503, f"{MAX_NAMESPACES} namespaces exist; DELETE /__mock__/namespace some first")
                fixtures = self._fixtures(self._default_scenario)
                space = self._spaces[name] = Namespace(Store(fixtures, seed=self._seed), self._default_scenario)
            return space

    def peek(self, name: str) -> Namespace | None:
        """The namespace if it exists (a cache must not create one)."""
        return self._spaces.get(name)

    def reset(self, name: str, scenario: str | None = None) -> None:
        """Back to the fixtures of `scenario` (KeyError for an unknown one), or of the namespace's current one."""
        space = self.get(name)
        if scenario is not None and scenario != space.scenario:
            space.store.load(self._fixtures(scenario))
            space.scenario = scenario
        else:
            space.store.reset()

    def drop(self, name: str) -> bool:
        """Forget a namespace (the default one is only reset); whether it existed."""
        if name == DEFAULT:
            self.reset(DEFAULT)
            return True
        with self._lock:
            return self._spaces.pop(name, None) is not None

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._spaces)
