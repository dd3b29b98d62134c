"""What the `vsee-mock` command lines (the mock's and the proxy's) share: option values parsed with one-line refusals,
settings from the environment, the addresses to announce, and start-up failures as one line `<prog>: <problem>;
<fix>` with its exit code, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from vsee_contract.spec_file import one_line
from vsee_http import shown

from .startup import ENVIRONMENT, StartupError, usage_error

DISTRIBUTION = "vsee-rooms-contract"
PORTS = "use 0-65535 (0 picks a free port)"
DEBUG_VARIABLE = "VSEE_MOCK_DEBUG"  # set: an unexpected start-up error shows its traceback (for a bug report)
Serve = Callable[..., int]  # `serving.serve`, or a test's stand-in
# dest: (environment variable, its parser, the default when neither the option nor the variable is given)
Settings = Mapping[str, tuple[str, Callable[[str], Any], Any]]


def quoted(value: str) -> str:
    """A user's value inside a message: quoted, escaped and cut short like every echoed value (`vsee_http.shown`)."""
    return repr(shown(value, 120))


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "(version unknown: the vsee-rooms-contract distribution is not installed)"


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a port number; {PORTS}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range; {PORTS}")
    return port


def parse_host(text: str) -> str:
    """An interface address or a name that resolves (an unresolvable host is a usage error: exit code 2)."""
    try:
        socket.getaddrinfo(text, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError):
        raise argparse.ArgumentTypeError(
            f"{quoted(text)} is neither an IP address nor a host name that resolves; use an address of this machine, "
            "e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface, e.g. in a container)"
        ) from None
    return text


def count_parser(what: str, default: str) -> Callable[[str], int]:
    """The parser of a whole number >= 1 (`--threads`, `--workers`), naming the count and its default when refused."""

    def parse(text: str) -> int:
        try:
            count = int(text)
        except ValueError:
            count = 0
        if count < 1:
            raise argparse.ArgumentTypeError(
                f"{quoted(text)} is not a {what} count; use a whole number >= 1 (default {default})"
            )
        return count

    return parse


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_flag(text: str) -> bool:
    if text.lower() in TRUE + FALSE:
        return text.lower() in TRUE
    raise argparse.ArgumentTypeError(f"{quoted(text)} is not true or false; use true/false (or 1/0, yes/no, on/off)")


def parse_origins(text: str) -> list[str]:
    return [origin.strip() for origin in text.split(",") if origin.strip()]


def settle(args: argparse.Namespace, settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """Fill each option not given on the command line from its environment variable, else its default; return where
    each value came from (`--port` or `VSEE_MOCK_PORT`) for messages."""
    origin = {}
    for dest, (variable, parse, default) in settings.items():
        origin[dest] = "--" + dest.replace("_", "-")
        if getattr(args, dest) is not None:
            continue
        raw = environ.get(variable, "").strip()
        if not raw:
            setattr(args, dest, default)
            continue
        try:
            setattr(args, dest, parse(raw))
        except argparse.ArgumentTypeError as exc:
            problem, _, fix = str(exc).partition("; ")
            raise usage_error(f"{variable}: {problem}", fix or f"fix or unset {variable}") from None
        origin[dest] = variable
    return origin


def url_host(host: str) -> str:
    """`::1` -> `[::1]`: an IPv6 address in a URL is bracketed."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


WILDCARDS = ("0.0.0.0", "::", "")


def openable_addresses(host: str) -> list[str]:
    """The addresses a person can open for `host`: itself, or for every interface (0.0.0.0, ::) loopback first, then
    this machine's other addresses of that family (its host name's, and the one its default route leaves by)."""
    if host not in WILDCARDS:
        return [host]
    family = socket.AF_INET6 if host == "::" else socket.AF_INET
    found = ["::1" if family == socket.AF_INET6 else "127.0.0.1"]
    candidates: list[str] = []
    with contextlib.suppress(OSError):
        infos = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
        candidates += [str(info[4][0]) for info in infos]
    with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect(("2001:db8::1" if family == socket.AF_INET6 else "192.0.2.1", 9))  # a route lookup; nothing sent
        candidates.append(str(probe.getsockname()[0]))
    for address in candidates:
        if address not in found and not address.startswith(("127.", "::1", "fe80")):
            found.append(address)
    return found


def run(prog: str, start: Callable[[], Callable[[], int]]) -> int:
    """`start()` checks, builds and binds, and returns what serves; a StartupError or an unexpected exception in it
    becomes one line on stderr. Once the server listens, an error is logged as usual (with its traceback)."""
    try:
        serve = start()
    except StartupError as exc:
        print(f"{prog}: {exc}", file=sys.stderr, flush=True)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        problem = one_line(f"could not start: {type(exc).__name__}: {exc}")
        print(
            f"{prog}: {problem}; run again with {DEBUG_VARIABLE}=1 for the traceback and report it",
            file=sys.stderr,
            flush=True,
        )
        return ENVIRONMENT
    return serve()
