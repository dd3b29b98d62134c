"""Hot reload for `vsee-mock`: edit a fixture or openapi.yaml and the running server picks it up.

A watcher thread polls the files' modification stamps; on a change it builds a complete new app from them (spec
validated with openapi-spec-validator, fixtures against the spec) and swaps it in, keeping the scenario. A broken
edit keeps the last good app serving and reports the error in the log and at GET /__mock__/reload (the console
shows it). State starts afresh from the edited fixtures.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from vsee_contract import DEFAULT_SPEC_PATH

from .app import MockConfig, create_app, runtime
from .fixtures import DEFAULT_FIXTURES
from .site import SITE

log = SITE.log
STATUS_PATH = f"{SITE.admin_prefix}/reload"


class HotReloader:
    """A WSGI app that delegates to the current mock and replaces it when its sources change."""

    def __init__(self, config: MockConfig, interval: float = 0.2) -> None:
        self.config = config
        self.interval = interval
        self.app = create_app(config)
        self.error: str | None = None
        self.loaded_at = time.time()
        self._stamps = self._snapshot()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="vsee-mock-reload", daemon=True)

    def start(self) -> HotReloader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def watched(self) -> list[Path]:
        fixtures = Path(self.config.fixtures_dir or DEFAULT_FIXTURES)
        return [Path(self.config.spec_path or DEFAULT_SPEC_PATH), *sorted((fixtures / "accounts").glob("*.yaml"))]

    def _snapshot(self) -> dict[Path, tuple[int, int]]:
        stamps = {}
        for path in self.watched():
            try:
                stat = path.stat()
                stamps[path] = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                stamps[path] = (-1, -1)
        return stamps

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            stamps = self._snapshot()
            if stamps != self._stamps:
                self._stamps = stamps
                self.reload()

    def reload(self) -> None:
        """Build a new app from the files as they are now; keep the old one if anything is wrong."""
        from openapi_spec_validator import validate  # 0.3 s of imports (pydantic): paid at the first reload, not start
        from openapi_spec_validator.readers import read_from_filename

        scenario = runtime(self.app).scenario
        try:
            spec_path = str(self.config.spec_path or DEFAULT_SPEC_PATH)
            validate(read_from_filename(spec_path)[0])
            app = create_app(replace(self.config, scenario=scenario))
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"[:2000]
            log.error("vsee-mock: reload failed, still serving the last good version: %s", self.error)
            return
        old, self.app, self.error, self.loaded_at = self.app, app, None, time.time()
        runtime(old).close()  # its connections (a pool, with --state-url), once its request in flight is done
        log.warning("vsee-mock: reloaded %s", ", ".join(str(p) for p in self.watched()))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATUS_PATH:
            status = {"loaded_at": self.loaded_at, "error": self.error, "watching": [str(p) for p in self.watched()]}
            body = json.dumps({"data": status}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)
