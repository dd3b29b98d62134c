"""A throwaway PostgreSQL server for the tests: Debian's PostgreSQL 15 binaries, a cluster in a temporary folder
(its unix socket there too), listening on 127.0.0.1 on a port that was free, trust authentication, gone at the end.

PostgreSQL refuses to run as root, so under root (CI, containers) the cluster belongs to `nobody` and its commands
run through `runuser`. Missing binaries are an error naming the fix (`.ci/run` installs the `postgresql` package),
never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("VSEE_PG_BIN", "/usr/lib/postgresql/15/bin"))
MISSING = (
    f"PostgreSQL's server binaries are not in {PG_BIN} (initdb, pg_ctl): install Debian's `postgresql` package "
    "(apt-get install postgresql; .ci/run does), or set VSEE_PG_BIN to the folder holding them"
)
UNPRIVILEGED = "nobody"  # postgres will not run as root
SETTINGS = ("shared_buffers=32MB", "max_connections=60")
# for the tests: a commit is still a commit to every session (the server is only ever stopped cleanly), without
# waiting on the disk; the benchmark keeps PostgreSQL's defaults (durable = True)
NOT_DURABLE = ("fsync=off", "full_page_writes=off")


class PostgresUnavailable(RuntimeError):
    """The throwaway server could not be made (binaries missing, initdb or start failing)."""


@dataclass
class Cluster:
    directory: Path
    port: int
    as_user: tuple[str, ...]  # the prefix that runs a command as the cluster's owner
    settings: tuple[str, ...] = SETTINGS

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str | None = None) -> str:
        """A fresh, empty database (named `name`, or a new name); its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def pg_ctl(self, *args: str) -> None:
        _run(self.as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-w", "-t", "30", *args)

    def stop(self) -> None:
        """A fast shutdown: sessions are disconnected, a transaction in flight rolled back."""
        self.pg_ctl("stop", "-m", "fast")

    def start(self) -> None:
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.directory}",
                *(f"-c {setting}" for setting in self.settings),
            ]
        )
        self.pg_ctl("start", "-l", str(self.directory / "server.log"), "-o", options)


def _run(prefix: tuple[str, ...], *command: str) -> None:
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=90, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(f"`{' '.join(command)}` failed ({done.returncode}): {done.stderr or done.stdout}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_cluster(durable: bool = False) -> Iterator[Cluster]:
    """A running cluster, stopped and removed at the end of the block; `durable`: with fsync (PostgreSQL's
    defaults), as a benchmark should measure it."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        raise PostgresUnavailable(MISSING)
    directory = Path(tempfile.mkdtemp(prefix="vsee-pg-"))
    as_user: tuple[str, ...] = ()
    if os.geteuid() == 0:
        shutil.chown(directory, UNPRIVILEGED)
        as_user = ("runuser", "-u", UNPRIVILEGED, "--")
    try:
        _run(
            as_user,
            str(PG_BIN / "initdb"),
            "-D",
            str(directory / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
        )
        for attempt in range(3):  # the port was free a moment ago; another process may have taken it since
            cluster = Cluster(directory, _free_port(), as_user, SETTINGS + (() if durable else NOT_DURABLE))
            try:
                cluster.start()
                break
            except PostgresUnavailable:
                if attempt == 2:
                    raise
        try:
            yield cluster
        finally:
            with contextlib.suppress(PostgresUnavailable):  # stopped by the test already
                cluster.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
