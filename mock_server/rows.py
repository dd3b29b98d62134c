"""`Rows`: a dict that remembers what a write changed (what the store has to save), with an optional secondary
index."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

__all__ = ["Rows"]

V = TypeVar("V")
_STAMPS = itertools.count(1)  # for the whole process: a stamp never comes back, not even in a view loaded afresh


class Rows(dict[str, V]):
    """A dict that remembers which keys were set or removed since `settle()`: what a write has to save. Each key
    also has a stamp (`stamps`) that changes whenever its value is loaded or a write set or removed it: something
    made from a row stays right while the row's stamp is the same (`fast_reads.py`).

    With `index_by`, it also keeps an index from that function of each value to its key (`find`), so a lookup by
    a secondary key does not scan every row: a run that creates thousands of rooms would otherwise make each
    create slower than the last. Values must not change their indexed key in place."""

    def __init__(self, items: Iterable[tuple[str, V]] = (), index_by: Callable[[V], Hashable] | None = None) -> None:
        super().__init__()
        self.dirty: set[str] = set()
        self.removed: set[str] = set()
        self.stamps: dict[str, int] = {}
        self._index_by = index_by
        self._index: dict[Hashable, dict[str, None]] = {}  # ordered sets of keys
        for key, value in items:
            self.load(key, value)

    def find(self, indexed: Hashable) -> V | None:
        """The value whose `index_by` is `indexed`, if any."""
        keys = self._index.get(indexed)
        return self.get(next(iter(keys))) if keys else None

    def _unindex(self, key: str) -> None:
        if self._index_by is not None and key in self:
            indexed = self._index_by(dict.__getitem__(self, key))
            keys = self._index.get(indexed, {})
            keys.pop(key, None)
            if not keys:
                self._index.pop(indexed, None)

    def _put(self, key: str, value: V) -> None:
        self._unindex(key)
        dict.__setitem__(self, key, value)
        if self._index_by is not None:
            self._index.setdefault(self._index_by(value), {})[key] = None

    def __setitem__(self, key: str, value: V) -> None:
        self._put(key, value)
        self.dirty.add(key)
        self.removed.discard(key)

    def __delitem__(self, key: str) -> None:
        self._unindex(key)
        super().__delitem__(key)
        self.removed.add(key)
        self.dirty.discard(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self._unindex(key)
            self.removed.add(key)
            self.dirty.discard(key)
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def popitem(self) -> tuple[str, V]:
        key = next(reversed(self))
        self._unindex(key)
        key, value = super().popitem()
        self.removed.add(key)
        self.dirty.discard(key)
        return key, value

    def clear(self) -> None:
        self.removed.update(self)
        self.dirty.clear()
        self._index.clear()
        super().clear()

    def touched(self) -> bool:
        return bool(self.dirty or self.removed)

    def settle(self) -> None:
        for key in self.dirty | self.removed:
            self.stamps[key] = next(_STAMPS)
        self.dirty.clear()
        self.removed.clear()

    def load(self, key: str, value: V) -> None:
        """Take a value from the database (not a change to save)."""
        self._put(key, value)
        self.stamps[key] = next(_STAMPS)

    def forget(self, key: str) -> None:
        self.stamps[key] = next(_STAMPS)
        self._unindex(key)
        dict.pop(self, key, None)
