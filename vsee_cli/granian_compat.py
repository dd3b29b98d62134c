"""Every use of granian's internals in one place, each checked against the source of granian `WRITTEN_FOR`
(tests/cli/test_granian_compat.py fails, naming what to re-check, when another version is installed). The rest of
the mock uses granian's public API (`granian.constants`, `granian.http`, `granian.log`) or this module.

What needs granian's internals, and why (the policies themselves are `serving.py`'s):
- one listening socket made by the main process, served by every worker: `MPServer._init_shared_socket`, granian's
  own way off Linux, given our socket (`SocketHolder`, `_ssp`, `_sfd`, `_shd`, `_sso`);
- a worker that missed its SIGTERM is sent it again: `MPServer._stop_workers` (`wrks`);
- a stop in a forked worker before granian's handlers are in place: `MPServer.signal_handler_interrupt` (`pid`);
- the worker's signal handlers put in place by a wrapper: `granian._signals.set_sync_signals`;
- the WSGI environ without the server's environment variables: `granian.wsgi`'s global `os`;
- our own worker entry around granian's: `MPServer._spawn_wsgi_worker` and `serve(spawn_target=, target_loader=,
  wrap_loader=)`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import granian._signals
import granian.wsgi
from granian._granian import SocketHolder
from granian.server.mp import MPServer

WRITTEN_FOR = "2.8.9"
OWN_LOGGER = "_granian"  # where granian logs its own lines (its warnings, its errors)
ACCESS_LOGGER = "granian.access"
THREADS_WARNING = "Configuration allows spawning up to"  # granian's warning about many blocking threads per worker

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneSocketServer(MPServer):
    """granian's process supervisor, serving the socket it is given (on every platform, as it does off Linux).

    `stop_noted()` says whether a stop came before granian's handlers were in place (it is acted on once they are);
    `note_stop()` notes one that reaches a forked worker before its own handlers are in place."""

    def __init__(
        self,
        listener: socket.socket,
        stop_noted: Callable[[], bool],
        note_stop: Callable[[], None],
        resend_seconds: float,
        **options: Any,
    ) -> None:
        self._listener = listener
        self._stop_noted = stop_noted
        self._note_stop = note_stop
        self._resend_seconds = resend_seconds
        super().__init__(**options)

    def run(self, worker: Callable[..., None], loader: Callable[[], WSGIApp]) -> None:
        """Serve until stopped, each worker process entering `worker` (which calls `run_wsgi_worker`) with the app
        `loader` returns, as it is (granian's own loader wrapping would import a target by name)."""
        self.serve(spawn_target=worker, target_loader=loader, wrap_loader=False)

    def _init_shared_socket(self) -> None:
        """What granian's own does off Linux (`_shd`: the socket for the workers; `_sso`: the same, for
        multiprocessing to hand to a spawned worker), with our socket. granian's stub lacks SocketHolder's
        arguments (fd, is it a Unix socket, backlog) and types these attributes as None."""
        fd = self._listener.fileno()
        self._listener.set_inheritable(True)
        holder: Any = SocketHolder
        shared: dict[str, Any] = {"_ssp": None, "_sfd": fd, "_shd": holder(fd, False, self.backlog)}
        vars(self).update(shared, _sso=self._listener)
        if self._stop_noted():  # before granian's handlers (in place now): stop as soon as the workers are up
            self.signal_handler_interrupt()

    def _stop_workers(self) -> None:
        """granian's, sending SIGTERM again every `resend_seconds` to a worker still running: CPython drops a signal
        that reaches a new child process before it finished forking, so a worker started just before the stop may
        never see it."""
        workers: list[Any] = list(self.wrks)  # granian's WorkerProcess (untyped)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(self._resend_seconds)
            while worker.is_alive():
                worker.terminate()
                worker.join(self._resend_seconds)
        self.wrks.clear()

    def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
        if os.getpid() != self.pid:  # in a forked worker, before granian put the worker's own handlers in place
            self._note_stop()
            return
        super().signal_handler_interrupt(*args, **kwargs)  # type: ignore[no-untyped-call]


def wrap_worker_signals(wrap: Callable[[Callable[[], Any]], Callable[[], Any]]) -> None:
    """In this worker process, granian puts its signal handlers in place through `wrap(its own set-up)`."""
    granian._signals.set_sync_signals = wrap(granian._signals.set_sync_signals)


def hide_process_environment() -> None:
    """granian.wsgi starts every WSGI environ from a copy of os.environ; in this process it starts empty."""
    setattr(granian.wsgi, "os", SimpleNamespace(environ={}))  # noqa: B010 (its global `os`, read per worker)


def run_wsgi_worker(*args: Any) -> None:
    """granian's WSGI worker with the arguments granian gave our spawn target; returns once it stopped serving."""
    MPServer._spawn_wsgi_worker(*args)
