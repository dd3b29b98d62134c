"""The live write budget (`--contract-max-writes`) of a run under pytest-xdist: one budget for the whole run, shared
by its workers through a file, instead of one per worker process (which let `-n 4` send four times the budget).

How it is shared:
- The controller makes a directory of its own (`tempfile.mkdtemp`) when it configures its first worker
  (`pytest_configure_node`), with a state file and a lock file, and passes its path, the budget and the number of
  workers to each worker in `node.workerinput`. It reads the total at the end for the summary and removes the
  directory when the run ends (`pytest_unconfigure`).
- A worker takes the budget for each write attempt in `Target.gate`, under an exclusive `fcntl.flock` on the lock
  file: read the state, decide, write the new state to a temporary file and `os.replace` it (so the state file is
  always whole, even if a worker is killed mid-write; the kernel drops the lock of a dead process).
- The state is `{"sent": writes sent by every worker, "held": {worker id: writes it holds back for its clean-up}}`,
  and every reservation keeps `sent + sum(held) <= limit`.

The clean-up allowance: each worker holds back its own clean-up share, reserved together with each write. A worker's
write is admitted only if, after it, the worker can still hold one write for every association it must undo at the
end plus one for the association this very write may make (the same `kept_back` as the per-process budget), on top
of everything every other worker holds: `sent + 1 + held(others) + kept_back <= limit`. Its held share is then set to
`kept_back` in the same locked step. A clean-up write draws from the worker's own share (it holds one fewer after
it), which the others could never spend, so the clean-up at the end always fits in the budget of the whole run. At
the start of its clean-up a worker lowers its share to exactly the associations left (`settle`), giving back the one
kept for a write that made none. A worker that dies keeps its share held: wasted, never over-spent.

Where the file cannot be shared (no `fcntl`, as on Windows; a file system that refuses locks; or a remote worker that
cannot see the controller's directory), each worker falls back to the per-process budget, with an equal split of it
(`limit // workers`) so that the run as a whole still stays within the limit; the summary says so.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None  # type: ignore[assignment]

WORKER_INPUT = "vsee_contract_write_budget"  # the key in node.workerinput
WORKER_OUTPUT = "vsee_contract_traffic"  # the key in node.workeroutput: what a worker sent, for the summary
STATE = "state.json"
LOCK = "lock"


def locking_available() -> bool:
    return fcntl is not None


def create(limit: int, workers: int) -> dict[str, Any]:
    """The controller's side: a fresh budget directory; returns what each worker is given (`node.workerinput`)."""
    directory = Path(tempfile.mkdtemp(prefix="vsee-contract-budget-"))
    (directory / LOCK).touch()
    (directory / STATE).write_text(json.dumps({"sent": 0, "held": {}}), encoding="utf-8")
    return {"path": str(directory), "limit": limit, "workers": workers}


def remove(given: dict[str, Any]) -> None:
    shutil.rmtree(given["path"], ignore_errors=True)


def split_share(limit: int, workers: int) -> int:
    """A worker's budget when the file cannot be shared: an equal part, so that the run still stays within `limit`."""
    return limit // max(workers, 1)


@dataclass
class Usage:
    sent: int
    held: dict[str, int]


def _read(directory: Path) -> Usage:
    state = json.loads((directory / STATE).read_text(encoding="utf-8"))
    return Usage(int(state["sent"]), {str(k): int(v) for k, v in state["held"].items()})


def used(given: dict[str, Any]) -> Usage | None:
    """What the run spent so far (the controller's view at the end); None when the state cannot be read."""
    try:
        return _read(Path(given["path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SharedBudget:
    """One worker's view of the run's budget. Each method takes the lock for one read-decide-write step."""

    def __init__(self, path: str | os.PathLike[str], worker: str, limit: int) -> None:
        self.directory = Path(path)
        self.worker = worker
        self.limit = limit
        self.held = 0  # what this worker holds back, as last written to the state

    @classmethod
    def join(cls, given: dict[str, Any], worker: str, can_lock: bool | None = None) -> SharedBudget | None:
        """The shared budget a worker was given, or None when it cannot be shared from here (no file locking, or
        the controller's directory is not on this machine). `can_lock` defaults to whether `fcntl` exists."""
        if can_lock is None:
            can_lock = locking_available()
        if not can_lock or not (Path(given["path"]) / STATE).is_file():
            return None
        joined = cls(given["path"], worker, int(given["limit"]))
        try:
            with joined._locked():  # a file system may refuse locks (ENOLCK): find out now, not at the first write
                pass
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return joined

    @contextmanager
    def _locked(self) -> Iterator[Usage]:
        assert fcntl is not None
        with (self.directory / LOCK).open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                usage = _read(self.directory)
                before = json.dumps({"sent": usage.sent, "held": usage.held})
                yield usage
                after = json.dumps({"sent": usage.sent, "held": usage.held})
                if after != before:
                    temporary = self.directory / f"{STATE}.{os.getpid()}"
                    temporary.write_text(after, encoding="utf-8")
                    os.replace(temporary, self.directory / STATE)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def reserve(self, hold: int) -> bool:
        """Take one write for this worker, holding back `hold` writes for its clean-up after it; False (nothing
        taken) when the run's budget cannot cover both beside what the other workers hold."""
        with self._locked() as usage:
            others = sum(n for worker, n in usage.held.items() if worker != self.worker)
            if usage.sent + 1 + others + hold > self.limit:
                return False
            usage.sent += 1
            usage.held[self.worker] = hold
        self.held = hold
        return True

    def reserve_clean_up(self) -> bool:
        """Take one write of the clean-up, from this worker's own held share when it has one left."""
        return self.reserve(max(self.held - 1, 0))

    def settle(self, hold: int) -> None:
        """Lower this worker's held share to `hold` (never raise it: that would need the budget's say)."""
        if hold >= self.held:
            return
        with self._locked() as usage:
            usage.held[self.worker] = hold
        self.held = hold
