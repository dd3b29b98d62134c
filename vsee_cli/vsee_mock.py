"""The `vsee-mock` command: the mock (`vsee_cli.mock`), or with `proxy` first, the validation proxy (`vsee_cli.proxy`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from . import mock, proxy
from .options import Serve
from .serving import serve


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, serve: Serve = serve) -> int:
    """`vsee-mock ARGS`: the settings from `argv` and `environ` (default: this process's), served by `serve` once
    everything is checked and bound (a test passes one that does not serve)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["proxy"]:
        return proxy.main(args[1:], serve)
    return mock.main(args, os.environ if environ is None else environ, serve)
