#!/usr/bin/env python3
"""One entry point that needs only Python >= 3.11 and pip: `python3 dev.py mock|test|bench [args]`.

It creates .venv on first use (and again when pyproject.toml changes), installs the project with its test
extra, then starts the mock server or runs the whole test suite.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
# The test files run on every core, a file per worker (each file's module fixtures stay in one process).
COMMANDS = {
    "mock": ["vsee-mock"],
    "test": ["pytest", "-n", "auto", "--dist", "loadfile"],
    "bench": ["python", "bench/run.py"],
}


def ensure_venv() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args...]", file=sys.stderr)
        return 2
    ensure_venv()
    command = [str(BIN / COMMANDS[argv[0]][0]), *COMMANDS[argv[0]][1:], *argv[1:]]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
