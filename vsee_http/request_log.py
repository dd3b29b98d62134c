"""Where a served process writes its one-line-per-request log: through `logging` by default (embedding, tests with
caplog), or, once a server calls `write_request_lines_to(stream)` in its worker, into a buffer a background thread
writes out every 50 ms. Building a `LogRecord` and flushing a line per request cost more than the rest of a
replayed read (measured: 40 of 69 µs in-process; under granian 6,000 req/s with the log, 14,600 without).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from .batches import Batches

FLUSH_SECONDS = 0.05


def _lines_to(stream: TextIO) -> Callable[[list[str]], None]:
    def write(lines: list[str]) -> None:
        stream.write("\n".join(lines) + "\n")
        stream.flush()

    return write


_buffer: Batches[str] | None = None  # set once per served process (a worker), never by an app or a test


def write_request_lines_to(stream: TextIO) -> Batches[str]:
    """From now on this process's request lines go to `stream` in batches (call it in each worker: threads do not
    survive a fork); flush the returned buffer when the worker stops."""
    global _buffer
    _buffer = Batches(_lines_to(stream), FLUSH_SECONDS, "vsee-request-log")
    return _buffer


def request_lines() -> Batches[str] | None:
    return _buffer
