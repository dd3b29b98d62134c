"""Start-up checks of the `vsee-mock` CLI: each bad input or environment problem found before serving, as one line
`<problem>; <fix>` with its exit code (2: fix the command line, a variable or a file it names; 1: fix the machine)."""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from pathlib import Path

from mock_server.database import StateFileError, check_state_database
from vsee_contract import VseeError
from vsee_contract.spec_file import SpecFileError, one_line, read_spec_file

USAGE, ENVIRONMENT = 2, 1  # exit codes: fix the command line (or a variable, or a file it names) / fix the machine


class StartupError(VseeError):
    """Why the server cannot start: one line, `<problem>; <fix>`, and the exit code."""

    def __init__(self, code: int, problem: str, fix: str) -> None:
        super().__init__(f"{one_line(problem)}; {one_line(fix)}")
        self.code = code


def usage_error(problem: str, fix: str) -> StartupError:
    return StartupError(USAGE, problem, fix)


def environment_error(problem: str, fix: str) -> StartupError:
    return StartupError(ENVIRONMENT, problem, fix)


def check_spec(path: str, named: str) -> None:
    """The OpenAPI file exists, is YAML (or JSON) and a valid OpenAPI document, as the hot reloader checks it."""
    try:
        read_spec_file(path, named, "or leave it out for the packaged openapi.yaml")
    except SpecFileError as exc:
        raise StartupError(ENVIRONMENT if exc.unreadable else USAGE, exc.problem, exc.fix) from None


def check_fixtures(path: str, named: str) -> None:
    if not Path(path).is_dir():
        what = "is not a directory" if Path(path).exists() else "no such directory"
        raise usage_error(
            f"{named} {path}: {what}",
            "give a folder holding accounts/*.yaml, or leave it out for the packaged fixtures",
        )


def _probe_writable(directory: Path, where: str) -> None:
    """Create and remove a file in `directory`: the truth about writing there (os.access is not, for root or ACLs)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".vsee-mock-", suffix=".probe", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise environment_error(
            f"{where}: cannot write in {directory} ({exc.strerror})",
            "make that directory writable for this user, or choose another path",
        ) from None


def check_state_file(path: str, named: str) -> None:
    """Refused at start, not at the first write: the directory exists and takes files; an existing file is a state
    file this mock wrote (it is restored)."""
    file = Path(path)
    where = f"{named} {path}"
    if file.is_dir():
        raise environment_error(f"{where} is a directory", f"name a file, e.g. {file / 'state.sqlite3'}")
    directory = file.parent
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise environment_error(
            f"{where}: {directory} {what}", f"create it (mkdir -p {directory}) or choose another path"
        )
    _probe_writable(directory, where)
    try:
        check_state_database(file)
    except StateFileError as exc:  # a bad input file, like a fixture
        raise usage_error(
            f"{where}: {exc}",
            "move it away (the mock then starts from the fixtures and creates it) or choose another path",
        ) from None
    except OSError as exc:
        raise environment_error(f"{where} cannot be read ({exc.strerror})", "make it readable for this user") from None


def check_output_file(path: str, named: str) -> None:
    """A file appended to while running: its directory must exist and take files."""
    file, where = Path(path), f"{named} {path}"
    if file.is_dir():
        raise environment_error(f"{where} is a directory", "name a file, e.g. violations.jsonl")
    if not file.parent.is_dir():
        raise environment_error(f"{where}: {file.parent} does not exist", f"create it (mkdir -p {file.parent})")
    _probe_writable(file.parent, where)


def check_output_dir(path: str, named: str) -> None:
    """A folder written on exit (created with its parents): the nearest existing one must take files."""
    directory, where = Path(path), f"{named} {path}"
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise environment_error(f"{where}: {existing} is not a directory", "choose another path")
    _probe_writable(existing, where)


def bind(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A socket listening on host:port (port 0: one the system picks), made in the main process before any worker
    starts so that every worker serves this one port; or the reason it cannot, as a StartupError (exit code 1).

    SO_REUSEADDR (a restart right after a stop binds again) but not SO_REUSEPORT: a port another server holds is
    refused, not silently shared. TCP_NODELAY, which every accepted connection inherits (granian sets none): without
    it, a response that leaves in two segments waited for the client's delayed ACK now and then, up to 40 ms more
    (measured: p99 of creates at 16 connections 73-78 ms against 40-52 with it)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError) as exc:  # normally caught earlier, by --host's own check
        raise usage_error(f"cannot listen on {host}:{port} ({exc})", "check --host and --port") from None
    try:
        listener = socket.create_server(address, family=family, backlog=backlog)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise environment_error(
                f"port {port} on {host} is already in use",
                "stop what holds it, or choose another --port (0 picks a free one)",
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise environment_error(
                f"cannot listen on {host}: it is not an address of this machine",
                "use one of its addresses, e.g. 127.0.0.1 or 0.0.0.0 (every interface)",
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise environment_error(
                f"not allowed to listen on port {port} ({exc.strerror})",
                "use a port >= 1024, or 0 for a free one",
            ) from None
        raise environment_error(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})", "check --host and --port"
        ) from None
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def check_state_url(url: str, named: str) -> None:
    """Reach the PostgreSQL server and create the mock's tables (every instance on it does, safely at once): a
    server that is down or refuses is refused at start, with one line."""
    from mock_server.postgres import StateUrlError, prepare  # psycopg is imported only by a mock that uses it

    try:
        prepare(url)
    except StateUrlError as exc:
        raise environment_error(
            f"{named}: {exc}", "start the database server, or fix the URL (postgresql://USER[:PASSWORD]@HOST:PORT/DB)"
        ) from None
