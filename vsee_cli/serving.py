"""The `vsee-mock` CLI's HTTP server: granian (Rust, HTTP/1.1) serving a WSGI app in worker processes.

The main process makes the listening socket (`startup.bind`: a busy port is a one-line error there, and `--port 0`
learns its port before the banner), then granian's supervisor forks (or, where the start method is not fork,
spawns) the workers, which all accept on that one socket. granian's own way on Linux, a socket per worker with
SO_REUSEPORT, would give each worker its own port for port 0, and would let a second server on a busy port share it
without an error.

What a worker serves is a `WorkerApp`: built once in the main process (start-up errors are one line there) and
reused by forked workers; a spawned worker gets it pickled without the built app and builds it again from its
configuration. Either way the worker then starts what does not survive a fork (the hot reloader's watcher).

A stop (SIGTERM, or SIGINT: Ctrl-C reaches every process of the group) lets each worker answer its in-flight
requests, run its exit hooks (the proxy's summary and recording) and end; then the main process exits 0. A stop
sent while a worker is still starting is held until granian can act on it (`defer_stop_signals`), and workers end
with the main process even when it is killed (a watch on its pidfd).

What this needs of granian's internals is in `granian_compat.py`, and only there.
"""

from __future__ import annotations

import gc
import io
import logging
import multiprocessing
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from vsee_http import MAX_BODY_BYTES
from vsee_http.request_log import write_request_lines_to

from .granian_compat import (
    ACCESS_LOGGER,
    OWN_LOGGER,
    THREADS_WARNING,
    OneSocketServer,
    hide_process_environment,
    run_wsgi_worker,
    wrap_worker_signals,
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DEFAULT_THREADS = 8
BACKLOG = 1024
# granian's read buffer for a request head (hyper's max_buf_size; granian's default is 417,792 bytes), as waitress's
# 1 MiB header limit: a head up to this size reaches the app; from about 2 MB granian itself answers 431 with an
# empty body (hyper checks between reads). Request bodies stream past it. A request target of 65,535 bytes or more
# is refused by hyper whatever this says (414, empty body), before the app's own 64 KiB query limit could answer.
MAX_HEAD_BYTES = 1024 * 1024 + 64 * 1024
HTTP1 = HTTP1Settings(max_buffer_size=MAX_HEAD_BYTES, keep_alive=True)

_at_worker_exit: list[Callable[[], None]] = []


def at_worker_exit(hook: Callable[[], None]) -> None:
    """Run `hook` in this worker process once it has stopped serving (after its in-flight requests)."""
    _at_worker_exit.append(hook)


class WorkerApp:
    """What each worker serves, picklable for a spawned worker. `prebuilt` (the app built in the main process) is
    reused by a forked worker and left out of the pickle; `build` makes it from the configuration, `started` runs
    in the worker before it serves."""

    prebuilt: Any = None

    def build(self) -> Any:
        raise NotImplementedError

    def started(self, app: Any) -> None:
        """Called in the worker with the app it serves (threads do not survive a fork: start them here)."""

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "prebuilt"}

    def __call__(self) -> WSGIApp:
        app = self.prebuilt if self.prebuilt is not None else self.build()
        self.started(app)
        return adapted(app)


def adapted(app: WSGIApp) -> WSGIApp:
    """`app` given a chunked request body as waitress gave it: granian passes it without CONTENT_LENGTH, and werkzeug
    then cuts it at the app's limit without the 413. It is read here (up to one byte over the limit) and handed on
    with its length and without its Transfer-Encoding, so the app answers a body over its limit with its JSON 413
    whatever the framing."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "CONTENT_LENGTH" not in environ and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = _read_up_to(environ["wsgi.input"], MAX_BODY_BYTES + 1)
            del environ["HTTP_TRANSFER_ENCODING"]  # werkzeug ignores the length of a chunked body
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return app(environ, start_response)

    return serve


def _read_up_to(stream: Any, limit: int) -> bytes:
    parts, size = [], 0
    while size < limit:
        part = stream.read(min(64 * 1024, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


class _GranianNoise(logging.Filter):
    """granian's warning that more than 2 x cores + 1 blocking threads is a lot: for this I/O-bound mock (and its
    --latency sleeps) the default 8 threads are meant."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(THREADS_WARNING)


def logging_config(quiet: bool) -> dict[str, Any]:
    """Applied by granian in the main process and again in each worker (a spawned one starts without ours): the
    served site's lines (its `Site.name` logger, `vsee_mock` or `vsee_proxy`: one per request unless quiet) as they
    are on stderr; granian's own at warning and above, on stderr too (granian's default is stdout, whose first line
    is the banner); no access log."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(message)s"},
            "granian": {"format": "vsee-mock: granian: %(message)s"},
        },
        "filters": {"noise": {"()": f"{__name__}._GranianNoise"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
            "granian": {
                "class": "logging.StreamHandler",
                "formatter": "granian",
                "filters": ["noise"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            OWN_LOGGER: {"handlers": ["granian"], "level": "WARNING", "propagate": False},
            ACCESS_LOGGER: {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING" if quiet else "INFO"},
    }


_stop_noted = False  # SIGTERM or SIGINT came before granian's handlers were in place (see defer_stop_signals)


def defer_stop_signals() -> None:
    """From now until granian's handlers are in place, SIGTERM and SIGINT are noted and acted on once they are.

    Without this a stop sent in that window is lost or half done: in the main process right after the banner it
    kills the process outright (no cleanup); in a forked worker the inherited main-process handler swallows it and
    the main process then waits for that worker forever; an exception raised from a handler instead may land in a
    destructor, where Python ignores it."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _note_stop)


def _note_stop(signum: int, frame: object) -> None:
    global _stop_noted
    _stop_noted = True


GRANIAN_READY_SECONDS = 0.5
STOP_RESEND_SECONDS = 1.0


def _worker_signals(install: Callable[[], Any]) -> Callable[[], Any]:
    """granian's `set_sync_signals`, which puts the worker's handlers in place, made safe for an early stop.

    granian's handler sets a one-shot signal whose shutdown callback granian registers only after this returns: a
    stop that sets it before that is lost, and the main process then waits for the worker forever. So a stop noted
    before the handlers were in place, or coming within GRANIAN_READY_SECONDS after, is passed to granian's handler
    once that time is up; a later one at once."""

    def installed() -> Any:
        event = install()
        granian_handler: Any = signal.getsignal(signal.SIGTERM)
        ready_at = time.monotonic() + GRANIAN_READY_SECONDS
        early, once = threading.Event(), threading.Lock()

        def pass_on(signum: int) -> None:
            if once.acquire(blocking=False):  # once: a second set() left a worker finishing requests running
                granian_handler(signum, None)

        def stop(signum: int, frame: Any) -> None:
            _note_stop(signum, frame)
            if time.monotonic() >= ready_at:
                pass_on(signum)
            else:
                early.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        if _stop_noted:
            early.set()

        def pass_on_when_ready() -> None:
            early.wait()
            time.sleep(max(0.0, ready_at - time.monotonic()))
            pass_on(signal.SIGTERM)

        threading.Thread(target=pass_on_when_ready, name="vsee-mock-early-stop", daemon=True).start()
        return event

    return installed


ORPHAN_GRACE_SECONDS = 5.0


def _stop_with_the_main_process(grace: float = ORPHAN_GRACE_SECONDS) -> None:
    """A worker whose main process died, even by kill -9, stops: granian's workers would otherwise keep serving the
    port, orphaned. First gracefully (SIGTERM to itself: in-flight requests answered); granian can lose a stop that
    comes early in a worker's life and nobody is left to send it again, so after `grace` seconds the worker runs its
    exit hooks and ends anyway."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    main_pid = parent.pid

    def watch() -> None:
        _wait_for_exit(main_pid)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace)
        _finish_worker()
        os._exit(0)

    threading.Thread(target=watch, name="vsee-mock-orphan-watch", daemon=True).start()


def _wait_for_exit(parent_pid: int) -> None:
    """Until the parent process `parent_pid` is gone: woken by its pidfd on Linux (5.3+), polled elsewhere."""
    try:
        pidfd = os.pidfd_open(parent_pid)
    except (AttributeError, OSError):  # no pidfd here, or the parent is gone already
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        return
    try:
        if os.getppid() == parent_pid:  # the pidfd is the parent's, not a process that reused its pid
            select.select([pidfd], [], [])
    finally:
        os.close(pidfd)


_finishing = threading.Lock()
_finished = threading.Event()


def _finish_worker() -> None:
    """This worker's exit hooks, once, whichever thread gets here first (the others wait for them to be done)."""
    with _finishing:
        if not _finished.is_set():
            for hook in _at_worker_exit:
                hook()
            _finished.set()


def _wsgi_worker(*args: Any) -> None:
    """granian's WSGI worker, then this worker's exit hooks (it returns once its in-flight requests are answered).

    granian.wsgi starts every WSGI environ from a copy of os.environ: a variable such as HTTP_PROXY would be a
    `Proxy:` request header to the app, the journal and the proxy's upstream call. It gets an empty environment
    instead (in this worker process only; the process's own os.environ stays as it is)."""
    defer_stop_signals()  # a spawned worker starts with Python's; a forked one with the main process's (noting too)
    wrap_worker_signals(_worker_signals)
    hide_process_environment()
    _at_worker_exit.insert(0, write_request_lines_to(sys.stderr).flush)  # the request log, in batches
    _stop_with_the_main_process()
    try:
        run_wsgi_worker(*args)
    finally:
        _finish_worker()


def serve(
    listener: socket.socket, app: WorkerApp, *, workers: int = 1, threads: int = DEFAULT_THREADS, quiet: bool = False
) -> int:
    """Serve `app` on `listener` with `workers` processes of `threads` threads each, until SIGTERM or SIGINT: then
    each worker answers its in-flight requests and runs its exit hooks. Returns the exit code (0; 1 when a worker
    died)."""
    gc.freeze()  # the app built here is never scanned again by a forked worker's collector: shorter pauses (read p99)
    host, port = listener.getsockname()[:2]
    server = OneSocketServer(
        listener,
        lambda: _stop_noted,
        lambda: _note_stop(0, None),
        STOP_RESEND_SECONDS,
        target="vsee-mock",  # a name only: the app comes from `app`
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backlog=BACKLOG,
        http=HTTPModes.http1,
        http1_settings=HTTP1,
        websockets=False,
        log_level=LogLevels.warning,
        log_dictconfig=logging_config(quiet),
        log_access=False,
    )
    try:
        server.run(_wsgi_worker, app)
    except SystemExit as exc:  # granian exits 1 when a worker died
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:  # before granian's own signal handlers were in place
        return 130
    return 0
