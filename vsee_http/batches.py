"""Work moved off the request's path: items added by request threads (a list append) and handed over in batches by
a background thread of the process, so a busy server pays one write per interval instead of one per call."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Batches(Generic[T]):
    """`write(items)` every `seconds` for what was added meanwhile; the thread starts on the first `add` in each
    process (threads do not survive a fork, so a forked worker starts its own). With `keep_last`, only that many of
    the newest items wait: when writing falls behind, the oldest are dropped instead of piling up in memory; and
    after a full batch (the oldest were dropped) the next waits `when_full` seconds, not `seconds`."""

    def __init__(
        self,
        write: Callable[[list[T]], None],
        seconds: float,
        name: str,
        keep_last: int | None = None,
        when_full: float | None = None,
    ) -> None:
        self._write = write
        self._seconds = seconds
        self._when_full = seconds if when_full is None else when_full
        self._name = name
        self._keep_last = keep_last
        self._items: deque[T] = deque(maxlen=keep_last)
        self._lock = threading.Lock()
        self._pid = 0

    def add(self, item: T) -> None:
        self._items.append(item)
        if self._pid != os.getpid():
            self._pid = os.getpid()
            threading.Thread(target=self._write_forever, name=self._name, daemon=True).start()

    def _write_forever(self) -> None:
        wait = self._seconds
        while True:
            time.sleep(wait)
            wait = self._when_full if self._written() == self._keep_last else self._seconds

    def flush(self) -> None:
        """Write what is pending now (one batch at a time)."""
        self._written()

    def _written(self) -> int:
        with self._lock:
            items, self._items = self._items, deque(maxlen=self._keep_last)
            if items:
                self._write(list(items))
            return len(items)

    def drop(self) -> None:
        with self._lock:
            self._items = deque(maxlen=self._keep_last)
