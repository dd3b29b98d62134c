"""Isolated copies of the seeded state, one per namespace, so tests and people sharing one mock never see each
other's rooms: `X-Mock-Namespace: NAME` (or `?__namespace=NAME` where a browser cannot set a header) picks one,
created from the fixtures on first use; without it, the default namespace. All live in the one database (`--state-file`
keeps them all), so every worker sees the same namespaces.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from vsee_contract import Refusal
from vsee_http import shown

from .fixtures import AccountFixture
from .site import SITE
from .state_db import StateDatabase
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
        raise Refusal(400, f"{NAMESPACE_HEADER} '{shown(name)}': use 1-128 letters, digits and _ . : -")
    return str(name)


class Namespaces:
    """Every namespace's store in this process, over the one database all workers share; each namespace is created
    from the fixtures of the app's scenario on first use (in any worker)."""

    def __init__(
        self,
        database: StateDatabase,
        scenario: str,
        fixtures: Callable[[str], list[AccountFixture]],
        seed: int | None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.database = database
        self._fixtures = functools.lru_cache(maxsize=8)(fixtures)  # scenario -> fixtures, read once
        self._seed = seed
        self._clock = clock
        self._scenario = scenario
        self._stores: dict[str, Store] = {}

    def get(self, name: str) -> Store:
        """The namespace's store (created, with its rows, on first use; 503 past MAX_NAMESPACES)."""
        with self.database.lock:
            store = self._stores.get(name)
            if store is None:
                if name != DEFAULT and not self._exists(name) and len(self.names()) >= MAX_NAMESPACES:
                    raise Refusal(
                        503, f"{MAX_NAMESPACES} namespaces exist; DELETE {SITE.admin_prefix}/namespace some first"
                    )
                store = Store(self.database, name, self._scenario, self._fixtures, self._seed, self._clock)
                self._stores[name] = store
            return store

    def peek(self, name: str) -> Store | None:
        """The namespace's store if this process has it already (a cache must not create one)."""
        return self._stores.get(name)

    def reset(self, name: str, scenario: str | None = None) -> None:
        """Back to the fixtures of `scenario` (KeyError for an unknown one), or of the namespace's current one."""
        self.get(name).reset(scenario)

    def drop(self, name: str) -> bool:
        """Forget a namespace in every worker (the default one is only reset); whether it existed."""
        if name == DEFAULT:
            self.reset(DEFAULT)
            return True
        with self.database.lock:
            self._stores.pop(name, None)
            with self.database.write() as connection:
                self.database.next_version(connection, name)  # other workers' caches of it are stale from now on
                gone = connection.execute("DELETE FROM spaces WHERE name = ? RETURNING name", (name,))
                existed = gone.fetchone() is not None  # (a rowcount waits for the pipeline's end on PostgreSQL)
        self.database.fence()
        return existed

    def _exists(self, name: str) -> bool:
        with self.database.read() as connection:
            return connection.execute("SELECT 1 FROM spaces WHERE name = ?", (name,)).fetchone() is not None

    def names(self) -> list[str]:
        """Every namespace any worker has created (the default one always)."""
        self.get(DEFAULT).sync()
        with self.database.read() as connection:
            return sorted(row[0] for row in connection.execute("SELECT name FROM spaces"))  # by code point, anywhere
