"""vsee_cli/granian_compat.py holds every use of granian's internals, written against one granian version: these
tests fail, naming what to do, when another is installed or an internal it uses is gone. (What the internals do for
the mock is tested over real HTTP in test_serving.py and test_mock_cli.py (tests/cli/).)"""

from __future__ import annotations

import inspect
from importlib import metadata

import granian._signals
import granian.wsgi
from granian.server.mp import MPServer

from vsee_cli import granian_compat

FIX = (
    "re-read each use of granian's internals in vsee_cli/granian_compat.py against the installed granian's source "
    "(its docstring lists them), run tests/cli/test_serving.py, then set WRITTEN_FOR and the pin in pyproject.toml"
)


def test_the_installed_granian_is_the_one_the_compatibility_module_was_written_for() -> None:
    installed = metadata.version("granian")
    assert installed == granian_compat.WRITTEN_FOR, (
        f"granian {installed} is installed, vsee_cli/granian_compat.py was written for granian "
        f"{granian_compat.WRITTEN_FOR}; {FIX}"
    )


def test_every_internal_the_module_uses_is_there() -> None:
    missing = [
        name
        for name, present in [
            ("granian._signals.set_sync_signals", callable(getattr(granian._signals, "set_sync_signals", None))),
            ("granian.wsgi.os (its module global)", hasattr(granian.wsgi, "os")),
            *((f"MPServer.{method}", callable(getattr(MPServer, method, None))) for method in OVERRIDDEN_OR_CALLED),
        ]
        if not present
    ]
    assert not missing, f"granian {metadata.version('granian')} lacks {', '.join(missing)}; {FIX}"
    serve = inspect.signature(MPServer.serve).parameters
    assert {"spawn_target", "target_loader", "wrap_loader"} <= set(serve), f"MPServer.serve takes {list(serve)}; {FIX}"


OVERRIDDEN_OR_CALLED = ("_init_shared_socket", "_stop_workers", "signal_handler_interrupt", "_spawn_wsgi_worker")
