"""`vsee-mock`: serve the mock with granian (a Rust HTTP server, WSGI in worker processes) on loopback by default.

The main process checks everything, builds the app once and listens; granian's workers (`--workers`, forked: they
reuse that app) serve it, each with `--threads` threads. More than one worker share their state through one SQLite
database: `--state-file`, or a temporary one removed when the server stops.

A bad option, environment variable or input file, or a machine that does not let it run, stops start-up with one
line on stderr, `vsee-mock: <problem>; <fix>`, and exit code 2 (usage: fix the command line, the variable or the
file it names) or 1 (environment: port in use, a directory that is missing or not writable, an unexpected error
while starting). Never a traceback before the server listens; after that, errors are logged as usual.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mock_server import FixtureError, MockConfig, create_app, runtime
from mock_server.reloader import HotReloader
from mock_server.scenarios import SCENARIOS
from mock_server.site import SITE
from vsee_contract.cli import OneLineParser

from .options import (
    DEBUG_VARIABLE,
    WILDCARDS,
    Serve,
    count_parser,
    openable_addresses,
    parse_flag,
    parse_host,
    parse_origins,
    parse_port,
    quoted,
    run,
    settle,
    url_host,
    version,
)
from .serving import DEFAULT_THREADS, WorkerApp, at_worker_exit, defer_stop_signals, serve
from .startup import bind, check_fixtures, check_spec, check_state_file, check_state_url, usage_error

PROG = "vsee-mock"


@dataclass
class MockWorker(WorkerApp):
    """The mock: `create_app(config)`, or with `watch` the hot reloader around it (its watcher runs per worker)."""

    config: MockConfig
    watch: bool = True

    def build(self) -> Any:
        return HotReloader(self.config) if self.watch else create_app(self.config)

    def started(self, app: Any) -> None:
        if isinstance(app, HotReloader):
            app.start()
        # a clean stop leaves the state complete in its database (the SQLite file alone holds it)
        at_worker_exit(lambda: runtime(app.app if isinstance(app, HotReloader) else app).close())


# ------------------------------------------------------------------ the mock's option values


def mock_threads(given: int | None, latency: tuple[float, float] | None) -> int:
    """One thread per worker unless asked: the mock's work is CPU under one GIL, and more threads only add hand-offs
    (measured with wrk at 16 connections: 13,800 req/s, p99 2 ms with 1 thread; 11,700 req/s, p99 42 ms with 4).
    With --latency, calls spend their time asleep, so DEFAULT_THREADS let them overlap."""
    if given is not None:
        return given
    return DEFAULT_THREADS if latency else 1


_threads = count_parser("thread", f"1, or {DEFAULT_THREADS} with --latency")
_workers = count_parser("worker", "1")


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a seed; use a whole number, e.g. 5") from None


def _latency(text: str) -> tuple[float, float]:
    """`200` or `100-300` (milliseconds) -> (min, max) seconds."""
    fix = "use MS or MIN-MAX in milliseconds, e.g. 200 or 100-300"
    try:
        low, _, high = text.partition("-")
        bounds = (float(low) / 1000, float(high or low) / 1000)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a latency; {fix}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"latency range {quoted(text)} is not 0 <= MIN <= MAX; {fix}")
    return bounds


def _rate(text: str) -> float:
    fix = "use a fraction between 0 and 1, e.g. 0.1"
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"error rate {quoted(text)} is not a number; {fix}") from None
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"error rate {text} is not between 0 and 1; {fix}")
    return rate


def _scenario(text: str) -> str:
    if text not in SCENARIOS:
        raise argparse.ArgumentTypeError(f"unknown scenario {quoted(text)}; use one of {', '.join(sorted(SCENARIOS))}")
    return text


STATE_URL_EXAMPLE = "postgresql://mock@db.internal:5432/vsee_mock"


def _state_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("postgresql", "postgres") or not (parts.path.strip("/") or parts.query):
        raise argparse.ArgumentTypeError(
            f"{quoted(_without_password(text))} is not a PostgreSQL URL; use postgresql://USER@HOST:PORT/DATABASE, "
            f"e.g. {STATE_URL_EXAMPLE}"
        )
    return text


def _without_password(url: str) -> str:
    """The URL as it may be shown (banner, messages): its password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


# ------------------------------------------------------------------ the mock's options

# dest: (environment variable, its parser, the default when neither the option nor the variable is given)
MOCK_SETTINGS: dict[str, tuple[str, Callable[[str], Any], Any]] = {
    "host": ("VSEE_MOCK_HOST", parse_host, "127.0.0.1"),
    "port": ("VSEE_MOCK_PORT", parse_port, 4010),
    "fixtures": ("VSEE_MOCK_FIXTURES", str, None),
    "spec": ("VSEE_MOCK_SPEC", str, None),
    "seed": ("VSEE_MOCK_SEED", _seed, None),
    "strict": ("VSEE_MOCK_STRICT", parse_flag, True),
    "latency": ("VSEE_MOCK_LATENCY", _latency, None),
    "error_rate": ("VSEE_MOCK_ERROR_RATE", _rate, 0.0),
    "cors_origin": ("VSEE_MOCK_CORS_ORIGIN", parse_origins, None),
    "state_file": ("VSEE_MOCK_STATE_FILE", str, None),
    "state_url": ("VSEE_MOCK_STATE_URL", _state_url, None),
    "scenario": ("VSEE_MOCK_SCENARIO", _scenario, "default"),
    "watch": ("VSEE_MOCK_WATCH", parse_flag, True),
    "threads": ("VSEE_MOCK_THREADS", _threads, None),  # None: mock_threads() decides
    "workers": ("VSEE_MOCK_WORKERS", _workers, 1),
    "quiet": ("VSEE_MOCK_QUIET", parse_flag, False),
}

MOCK_EPILOG = f"""\
the validation proxy:
  vsee-mock proxy --upstream URL   forward to a real deployment and judge every exchange;
                                   see vsee-mock proxy --help

environment (for containers): each option can be set by its variable instead (listed with the option):
{textwrap.fill(", ".join(variable for variable, _, _ in MOCK_SETTINGS.values()), 100, initial_indent="  ", subsequent_indent="  ")}
  VSEE_MOCK_STRICT, VSEE_MOCK_WATCH, VSEE_MOCK_QUIET: true or false (1/0, yes/no, on/off);
  VSEE_MOCK_CORS_ORIGIN: comma separated. A command-line option wins over its variable; an empty variable is
  unset. {DEBUG_VARIABLE}=1 shows the traceback of an unexpected start-up error (for a bug report).

errors: one line on stderr, `vsee-mock: <problem>; <fix>`, and exit code
  2  a bad option or variable (an unresolvable --host included) or a bad input file (spec, fixtures, state file)
  1  the machine does not let it run (port in use, state-file directory missing or not writable, not an address
     of this machine) or an unexpected error while starting"""


def _env_help(dest: str, default: str | None = None) -> str:
    variable = MOCK_SETTINGS[dest][0]
    return f" (default: {default}; env {variable})" if default is not None else f" (env {variable})"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Stateful mock of the VSee Clinic Rooms API, served by granian. "
        "`vsee-mock proxy --help`: the validation proxy.",
        epilog=MOCK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # No defaults here: an option not given falls back to its environment variable, then to MOCK_SETTINGS.
    add = parser.add_argument
    add("--version", action="version", version=f"%(prog)s {version()}")
    add("--host", type=parse_host, help="interface to listen on" + _env_help("host", "127.0.0.1"))
    add("--port", type=parse_port, help="port, 0-65535; 0 picks a free one" + _env_help("port", "4010"))
    add("--fixtures", metavar="DIR", help="fixtures folder holding accounts/*.yaml" + _env_help("fixtures"))
    add("--spec", metavar="PATH", help="OpenAPI file" + _env_help("spec", "the packaged openapi.yaml"))
    add(
        "--seed",
        type=_seed,
        metavar="N",
        help="seed for generated codes and ids (deterministic runs)" + _env_help("seed"),
    )
    add(
        "--strict",
        action=argparse.BooleanOptionalAction,
        help="validate every response against the contract; a violation answers 500" + _env_help("strict", "on"),
    )
    add(
        "--latency",
        type=_latency,
        metavar="MS|MIN-MAX",
        help="delay per API call in ms: 200 or 100-300" + _env_help("latency"),
    )
    add(
        "--error-rate",
        type=_rate,
        metavar="RATE",
        help="fraction of API calls answered 503 (0..1)" + _env_help("error_rate", "0"),
    )
    add(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="allowed CORS origin, repeatable" + _env_help("cors_origin", "any"),
    )
    add(
        "--state-file",
        metavar="PATH",
        help="keep the state in this file: every acknowledged write survives a restart or kill -9; its directory "
        "must exist and be writable" + _env_help("state_file"),
    )
    add(
        "--state-url",
        type=_state_url,
        metavar="URL",
        help="keep the state in this PostgreSQL database (postgresql://USER@HOST:PORT/DB), shared by every instance "
        "started with it, on any host; the tables are created at start" + _env_help("state_url"),
    )
    add(
        "--scenario",
        type=_scenario,
        metavar="{" + ",".join(sorted(SCENARIOS)) + "}",
        help="fixture variation to start in" + _env_help("scenario", "default"),
    )
    add(
        "--watch",
        action=argparse.BooleanOptionalAction,
        help="reload when openapi.yaml or a fixture file changes; a broken edit keeps the last good one"
        + _env_help("watch", "on"),
    )
    add(
        "--threads",
        type=_threads,
        metavar="N",
        help="threads per worker process, >= 1" + _env_help("threads", f"1, or {DEFAULT_THREADS} with --latency"),
    )
    add(
        "--workers",
        type=_workers,
        metavar="N",
        help="worker processes, >= 1; more than one share their state in the --state-file, or else in a temporary "
        "database removed when the server stops" + _env_help("workers", "1"),
    )
    add("--quiet", action=argparse.BooleanOptionalAction, help="no per-request log lines" + _env_help("quiet", "off"))
    return parser


# ------------------------------------------------------------------ serving it


def main(argv: list[str], environ: Mapping[str, str], serve: Serve = serve) -> int:
    """`vsee-mock ARGS`: the settings from `argv` and `environ`, served by `serve` once everything is checked and
    bound (a test passes one that does not serve)."""
    args = build_parser().parse_args(argv)
    return run(PROG, lambda: _serve_mock(args, environ, serve))


def _serve_mock(args: argparse.Namespace, environ: Mapping[str, str], serve: Serve) -> Callable[[], int]:
    origin = settle(args, MOCK_SETTINGS, environ)
    if args.spec is not None:
        check_spec(args.spec, origin["spec"])
    if args.fixtures is not None:
        check_fixtures(args.fixtures, origin["fixtures"])
    if args.state_file is not None and args.state_url is not None:
        raise usage_error(
            f"{origin['state_file']} and {origin['state_url']} both name where the state lives",
            "give one: a file (SQLite, one host) or a URL (PostgreSQL, any number of instances)",
        )
    if args.state_file is not None:
        check_state_file(args.state_file, origin["state_file"])
    if args.state_url is not None:
        check_state_url(args.state_url, origin["state_url"])
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    shared = None  # workers > 1 without --state-file: a temporary directory holding their database
    state_file = args.state_file
    if args.workers > 1 and state_file is None and args.state_url is None:
        shared = tempfile.mkdtemp(prefix="vsee-mock-", dir=environ.get("TMPDIR") or None)
        atexit.register(shutil.rmtree, shared, ignore_errors=True)  # also when stopped before serving
        state_file = os.path.join(shared, "state.sqlite3")
    try:
        config = MockConfig(
            spec_path=args.spec,
            fixtures_dir=args.fixtures,
            seed=args.seed,
            strict=args.strict,
            latency=args.latency,
            error_rate=args.error_rate,
            cors_origins=tuple(args.cors_origin or ["*"]),
            scenario=args.scenario,
            state_file=state_file,
            state_url=args.state_url,
        )
        worker = MockWorker(config, args.watch)
        try:
            worker.prebuilt = worker.build()  # forked workers serve this one; a spawned one builds its own
        except FixtureError as exc:
            raise usage_error(f"bad fixture: {exc}", "fix the file it names") from None
        built = worker.prebuilt
        state = runtime(built.app if isinstance(built, HotReloader) else built)
        token_header = state.contract.spec.security_header()
        account_header = state.contract.spec.account_header()
        listener = bind(args.host, args.port)
        defer_stop_signals()
    except BaseException:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
        raise
    port = listener.getsockname()[1]  # --port 0: the port the system chose
    addresses = openable_addresses(args.host)
    base = f"http://{url_host(addresses[0])}:{port}"
    print(f"VSee Rooms API mock on {base}/api_v3 (room detail also on {base}/api_v4)", flush=True)
    others = "".join(f", http://{url_host(address)}:{port}/" for address in addresses[1:])
    every = f" (listening on every interface, {args.host})" if args.host in WILDCARDS else ""
    print(f"console: {base}/{others}{every}")
    faults = []
    if args.latency:
        low, high = (round(bound * 1000) for bound in args.latency)
        faults.append(f"latency={low if low == high else f'{low}-{high}'} ms per API call")
    if args.error_rate:
        faults.append(f"error-rate={args.error_rate:g} (that share of API calls answers 503)")
    admin = base + SITE.admin_prefix
    print(
        "; ".join([f"strict={'on' if args.strict else 'off'}", f"scenario={args.scenario}", *faults])
        + f"; reset: POST {admin}/reset; state: GET {admin}/state; journal: GET {admin}/requests"
    )
    if args.state_url is not None:
        print(f"state: PostgreSQL {_without_password(args.state_url)}, shared with every instance started with it")
    elif args.workers > 1:
        where = (
            f"the temporary database {state_file} (removed when the server stops)"
            if shared is not None
            else f"{state_file}"
        )
        print(f"workers={args.workers}: the state is shared by the {args.workers} workers in {where}")
    for i, account in enumerate(state.fixtures):
        default = f" (default when {account_header} is blank)" if i == 0 else ""
        print(
            f"  account {account.code}{default}: domain {account.domain}, admin user {account.admin_user_id}, "
            f"{token_header} {account.admin_token}",
            flush=True,
        )

    def run() -> int:
        try:
            threads = mock_threads(args.threads, args.latency)
            return serve(listener, worker, workers=args.workers, threads=threads, quiet=args.quiet)
        finally:
            if shared is not None:
                shutil.rmtree(shared, ignore_errors=True)

    return run
