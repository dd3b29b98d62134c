#!/usr/bin/env python3
"""One entry point that needs only Python >= 3.11 and pip: `python3 dev.py mock|test|lint|bench [args]`.

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
PACKAGES = ["vsee_contract", "vsee_http", "mock_server", "vsee_proxy", "contract_tests"]
SOURCES = [*PACKAGES, "tests", "bench", "dev.py"]
# The test files run on every core, a file per worker (each file's module fixtures stay in one process).
COMMANDS = {
    "mock": [["vsee-mock"]],
    "test": [["pytest", "-n", "auto", "--dist", "loadfile"]],
    "lint": [
        ["ruff", "check", *SOURCES],
        ["ruff", "format", "--check", *SOURCES],
        ["mypy", *PACKAGES],  # strict: pyproject.toml
    ],
    "bench": [["python", "bench/run.py"]],
}


def ensure_venv() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("dev.py: setting up .venv (the first time takes about a minute)...", file=sys.stderr, flush=True)
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)
    print("dev.py: .venv ready", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args...]", file=sys.stderr)
        return 2
    ensure_venv()
    steps = COMMANDS[argv[0]]
    codes = []
    for n, (program, *args) in enumerate(steps):  # every step runs, so lint shows all its findings at once
        extra = argv[1:] if n == len(steps) - 1 else []  # extra arguments go to the last step
        codes.append(subprocess.call([str(BIN / program), *args, *extra], cwd=ROOT))
    return next((code for code in codes if code != 0), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
