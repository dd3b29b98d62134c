"""`vsee-mock`: serve the mock with waitress (a production WSGI server) on loopback by default."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

import waitress

from vsee_proxy import ProxyConfig, create_proxy_app, proxy_runtime

from .app import MockConfig, create_app, runtime
from .fixtures import FixtureError
from .reloader import HotReloader
from .scenarios import SCENARIOS


def _latency(text: str) -> tuple[float, float]:
    """`200` or `100-300` (milliseconds) -> (min, max) seconds."""
    try:
        low, _, high = text.partition("-")
        bounds = (float(low) / 1000, float(high or low) / 1000)
    except ValueError:
        raise argparse.ArgumentTypeError(f"latency must be MS or MIN-MAX in ms, not {text!r}") from None
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError(f"latency range {text!r} is not 0 <= MIN <= MAX")
    return bounds


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"error rate must be a number, not {text!r}") from None
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError("error rate must be between 0 and 1")
    return rate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vsee-mock",
        description="Stateful mock of the VSee Clinic Rooms API. `vsee-mock proxy --help`: the validation proxy.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4010, help="port (default: 4010)")
    parser.add_argument("--fixtures", metavar="DIR", help="fixtures folder holding accounts/*.yaml")
    parser.add_argument("--spec", metavar="PATH", help="OpenAPI file (default: the packaged openapi.yaml)")
    parser.add_argument("--seed", type=int, help="seed for generated codes and ids (deterministic runs)")
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="validate every response against the contract; a violation answers 500 (default: on)",
    )
    parser.add_argument("--latency", type=_latency, help="delay per API call in ms: 200 or 100-300")
    parser.add_argument("--error-rate", type=_rate, default=0.0, help="fraction of API calls answered 503 (0..1)")
    parser.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="allowed CORS origin (repeatable; default: any)"
    )
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep the state in this file: every acknowledged write survives a restart or kill -9",
    )
    parser.add_argument(
        "--scenario",
        default="default",
        choices=sorted(SCENARIOS),
        help="fixture variation to start in (default: default)",
    )
    parser.add_argument(
        "--watch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="reload when openapi.yaml or a fixture file changes; a broken edit keeps the last good one (default: on)",
    )
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (default: 8)")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    return parser


def build_proxy_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vsee-mock proxy",
        description="Forward to a real deployment and judge every exchange against the contract.",
    )
    parser.add_argument("--upstream", required=True, help="v3 base URL, e.g. https://api.vsee.me/api_v3")
    parser.add_argument("--upstream-v4", metavar="URL", help="v4 base URL (default: --upstream with api_v4)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4020, help="port (default: 4020)")
    parser.add_argument("--violations", metavar="FILE", help="append each violation as a JSON line (tokens redacted)")
    parser.add_argument("--fail-on-violation", action="store_true", help="answer 502 with the violation instead")
    parser.add_argument("--record", metavar="DIR", help="on exit, write what was seen as fixtures (masked)")
    parser.add_argument("--spec", metavar="PATH", help="OpenAPI file (default: the packaged openapi.yaml)")
    parser.add_argument("--cors-origin", action="append", metavar="ORIGIN", help="allowed CORS origin (repeatable)")
    return parser


def proxy_main(argv: list[str]) -> int:
    args = build_proxy_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = ProxyConfig(
        args.upstream,
        args.violations,
        args.fail_on_violation,
        args.record,
        args.spec,
        tuple(args.cors_origin or ["*"]),
        upstream_v4=args.upstream_v4,
    )
    app = create_proxy_app(config)
    state = proxy_runtime(app)
    server = waitress.create_server(app, host=args.host, port=args.port, threads=8, ident="vsee-mock-proxy")
    base = f"http://{args.host}:{server.effective_port}"  # --port 0: the port the system chose
    print(f"VSee Rooms API validation proxy on {base}/api_v3 -> {args.upstream}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        print("contract summary per operation and rule:", *state.violations.summary_lines(), sep="\n", flush=True)
        if state.recorder is not None:
            problems = state.recorder.write()
            print(f"recorded fixtures in {args.record}", *problems, sep="\n", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["proxy"]:
        return proxy_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    config = MockConfig(
        spec_path=args.spec,
        fixtures_dir=args.fixtures,
        seed=args.seed,
        strict=args.strict,
        latency=args.latency,
        error_rate=args.error_rate,
        cors_origins=tuple(args.cors_origin or ["*"]),
        scenario=args.scenario,
        state_file=args.state_file,
    )
    try:
        server_app: Any = HotReloader(config).start() if args.watch else create_app(config)
    except FixtureError as exc:
        print(f"vsee-mock: bad fixture: {exc}", file=sys.stderr)
        return 2
    state = runtime(server_app.app if args.watch else server_app)
    store, token_header = state.store, state.contract.spec.security_header()
    server = waitress.create_server(
        server_app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="vsee-mock",
        max_request_header_size=1024 * 1024,  # an oversized query reaches the app and gets a JSON 414
    )
    base = f"http://{args.host}:{server.effective_port}"  # --port 0: the port the system chose
    print(f"VSee Rooms API mock on {base}/api_v3 (room detail also on {base}/api_v4)", flush=True)
    print(
        f"strict={'on' if args.strict else 'off'}; scenario={args.scenario}; reset: POST {base}/__mock__/reset; "
        f"state: GET {base}/__mock__/state; journal: GET {base}/__mock__/requests"
    )
    for i, account in enumerate(store.accounts.values()):
        default = " (default when X-AccountCode is blank)" if i == 0 else ""
        print(
            f"  account {account.code}{default}: domain {account.domain}, admin user {account.admin_user_id}, "
            f"{token_header} {account.admin_token}",
            flush=True,
        )
    server.run()
    return 0
