"""The npm tools that judge the contract from outside (the generated TypeScript client, redocly, Spectral): `npm ci`
into the checkout's `node_modules/` (git-ignored), skipped while the lock file that installed it is unchanged, and
one way to run a tool with nothing but the npm registry reachable (no telemetry, update checks or analytics)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"
STAMP = NODE_MODULES / ".installed-from-lock.sha256"
INSTALL_SECONDS = 600
OFFLINE = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "NO_UPDATE_NOTIFIER": "1",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
}


def run(command: list[str], *, cwd: Path = ROOT, seconds: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a tool to its end and return what it said (the caller judges the exit code, with `said` in view)."""
    return subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **OFFLINE, **env},
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )


def said(done: subprocess.CompletedProcess[str]) -> str:
    return f"`{' '.join(map(str, done.args))}` exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def installed() -> Path:
    """`node_modules/.bin`, installed by `npm ci` unless the current package-lock.json installed it already. xdist
    workers that need it at once wait for the one install under a file lock."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "Node.js and npm are needed (Debian: apt-get install nodejs npm)"
    wanted = hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    (ROOT / ".cache").mkdir(exist_ok=True)
    with (ROOT / ".cache" / "npm-install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (STAMP.exists() and STAMP.read_text() == wanted):
            done = run(
                [npm, "ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], seconds=INSTALL_SECONDS
            )
            assert done.returncode == 0, said(done)
            STAMP.write_text(wanted)
    return NODE_MODULES / ".bin"
