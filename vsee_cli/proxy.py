"""`vsee-mock proxy`: the validation proxy served by granian in one worker, which prints its contract summary and
writes its recording when it stops (SIGTERM or SIGINT: in-flight requests finish). Start-up failures are one line,
`vsee-mock proxy: <problem>; <fix>`, as the mock's."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from vsee_contract.cli import OneLineParser

from .options import Serve, parse_host, parse_port, quoted, run, url_host, version
from .serving import DEFAULT_THREADS, WorkerApp, at_worker_exit, defer_stop_signals, serve
from .startup import bind, check_output_dir, check_output_file, check_spec

if TYPE_CHECKING:
    from vsee_proxy import FixtureFormat, ProxyConfig

PROG = "vsee-mock"
PROXY_PROG = "vsee-mock proxy"


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{quoted(text)} is not an http(s) URL; give the API's base URL, e.g. https://api.vsee.me/api_v3"
        )
    return text


def build_proxy_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROXY_PROG,
        description="Forward to a real deployment and judge every exchange against the contract.",
        epilog="errors: one line on stderr, `vsee-mock proxy: <problem>; <fix>`, and exit code 2 (a bad option or "
        "spec file) or 1 (the machine does not let it run: port in use, an output directory missing or not "
        "writable; or an unexpected error while starting).",
    )
    add = parser.add_argument
    add("--version", action="version", version=f"{PROG} {version()}")
    add("--upstream", required=True, type=_http_url, help="v3 base URL, e.g. https://api.vsee.me/api_v3")
    add("--upstream-v4", type=_http_url, metavar="URL", help="v4 base URL (default: --upstream with api_v4)")
    add("--host", type=parse_host, default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    add("--port", type=parse_port, default=4020, help="port, 0-65535; 0 picks a free one (default: 4020)")
    add("--violations", metavar="FILE", help="append each violation as a JSON line (tokens redacted)")
    add("--fail-on-violation", action="store_true", help="answer 502 with the violation instead")
    add("--record", metavar="DIR", help="on exit, write what was seen as fixtures (masked)")
    add("--spec", metavar="PATH", help="OpenAPI file (default: the packaged openapi.yaml)")
    add("--cors-origin", action="append", metavar="ORIGIN", help="allowed CORS origin (repeatable)")
    return parser


def main(argv: list[str], serve: Serve = serve) -> int:
    """`vsee-mock proxy ARGS`."""
    args = build_proxy_parser().parse_args(argv)
    return run(PROXY_PROG, lambda: _serve_proxy(args, serve))


@dataclass
class ProxyWorker(WorkerApp):
    """The proxy in its worker process, where its state lives: when the worker stops, it prints the contract summary
    and writes the recording."""

    config: ProxyConfig

    def build(self) -> Any:
        from vsee_proxy import create_proxy_app

        return create_proxy_app(self.config, mock_fixtures(self.config.spec_path))

    def started(self, app: Any) -> None:
        at_worker_exit(lambda: _proxy_report(app, self.config.record_dir))


def mock_fixtures(spec_path: str | Path | None) -> FixtureFormat:
    """The mock's fixture format, for the proxy's recorder: a new room's queue, and the mock's own loader as the
    judge of a recording."""
    from mock_server import FixtureError, load_fixtures, new_room_defaults
    from vsee_contract import load_spec
    from vsee_proxy import FixtureFormat

    def problem(directory: Path) -> str | None:
        try:
            load_fixtures(directory, load_spec(spec_path))
        except FixtureError as exc:
            return str(exc)
        return None

    return FixtureFormat(new_room_defaults().fresh_queue, problem)


def _proxy_report(app: Any, record_dir: str | Path | None) -> None:
    from vsee_proxy import proxy_runtime

    state = proxy_runtime(app)
    print("contract summary per operation and rule:", *state.violations.summary_lines(), sep="\n", flush=True)
    if state.recorder is not None:
        problems = state.recorder.write()
        print(f"recorded fixtures in {record_dir}", *problems, sep="\n", flush=True)


def _serve_proxy(args: argparse.Namespace, serve: Serve) -> Callable[[], int]:
    if args.spec is not None:
        check_spec(args.spec, "--spec")
    if args.violations is not None:
        check_output_file(args.violations, "--violations")
    if args.record is not None:
        check_output_dir(args.record, "--record")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from vsee_proxy import ProxyConfig  # only the proxy pays for its imports (requests)

    config = ProxyConfig(
        args.upstream,
        args.violations,
        args.fail_on_violation,
        args.record,
        args.spec,
        tuple(args.cors_origin or ["*"]),
        upstream_v4=args.upstream_v4,
    )
    worker = ProxyWorker(config)
    worker.prebuilt = worker.build()
    listener = bind(args.host, args.port)
    defer_stop_signals()
    base = f"http://{url_host(args.host)}:{listener.getsockname()[1]}"  # --port 0: the port the system chose
    print(f"VSee Rooms API validation proxy on {base}/api_v3 -> {args.upstream}", flush=True)
    # one worker: the summary and the recording are of every exchange
    return lambda: serve(listener, worker, workers=1, threads=DEFAULT_THREADS)
