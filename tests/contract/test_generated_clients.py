"""Clients generated from the working tree's openapi.yaml, used the natural way, against a live `vsee-mock`.

examples/typescript (openapi-typescript + openapi-fetch) must compile under `tsc --strict` and examples/python
(openapi-python-client) must pass `mypy --strict`: the spec's schemas generate precise named types. Each program
then calls all 8 operations, the writes in each encoding, and every call must succeed against the mock (whose strict
mode answers 500 to anything of its own that breaks the contract).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.npm import ROOT, run, said
from helpers.servers import ServerProcess, mock_process

EXAMPLES = ROOT / "examples"
SPEC = ROOT / "openapi.yaml"
PYTHON_BIN = Path(sys.executable).parent  # openapi-python-client formats its output with the ruff found here
CALLS = ("GET /rooms?", "GET /rooms/room1_code (api_v3)", "(api_v4)", "POST /rooms (application/json)",
         "POST /rooms (multipart/form-data)", "POST /rooms (application/x-www-form-urlencoded)", "POST /users/",
         "/providers lists user", "/providers/85741", "DELETE /users/", "GET /rooms/ceproom1/queue",
         "GET /rooms/no-such-room")  # fmt: skip


@pytest.fixture(scope="module")
def mock() -> Iterator[ServerProcess]:
    with mock_process() as server:
        yield server


def ran_every_call(stdout: str) -> list[str]:
    """The calls a program's output does not report as done."""
    done = [line for line in stdout.splitlines() if line.startswith("ok: ")]
    return [call for call in CALLS if not any(call in line for line in done)]


def test_python_client_types_strictly_and_every_call_succeeds(mock: ServerProcess, tmp_path: Path) -> None:
    """First in the file: it needs no npm, so it works while another worker may be installing the npm tools."""
    client, config = tmp_path / "client", EXAMPLES / "python" / "config.yaml"
    generate = ["generate", "--path", str(SPEC), "--config", str(config), "--output-path", str(client)]
    path = f"{PYTHON_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    generated = run([str(PYTHON_BIN / "openapi-python-client"), *generate], PATH=path)
    assert generated.returncode == 0 and "warning" not in generated.stdout.lower(), said(generated)
    program = EXAMPLES / "python" / "main.py"
    typed = run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(ROOT / ".cache" / "mypy-examples"), str(program)],
        MYPYPATH=str(client),
    )
    assert typed.returncode == 0, said(typed)
    ran = run([sys.executable, str(program), mock.url], PYTHONPATH=str(client))
    assert ran.returncode == 0, said(ran)
    assert ran_every_call(ran.stdout) == [], ran.stdout


def test_typescript_client_compiles_strictly_and_every_call_succeeds(
    npm_bin: Path, mock: ServerProcess, tmp_path: Path
) -> None:
    for name in ("main.ts", "tsconfig.json"):
        shutil.copy(EXAMPLES / "typescript" / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(npm_bin.parent)
    generated = run([str(npm_bin / "openapi-typescript"), str(SPEC), "-o", str(tmp_path / "schema.d.ts")])
    assert generated.returncode == 0 and "warn" not in generated.stderr.lower(), said(generated)
    compiled = run([str(npm_bin / "tsc"), "-p", str(tmp_path)])
    assert compiled.returncode == 0 and "error" not in compiled.stdout, said(compiled)
    ran = run(["node", str(tmp_path / "build" / "main.js"), mock.url])
    assert ran.returncode == 0, said(ran)
    assert ran_every_call(ran.stdout) == [], ran.stdout


# What a program written against imprecise types reaches for: a cast, a non-null assertion, `any` / `Any`.
ESCAPES = {
    "typescript/main.ts": re.compile(r"\bas\s+(?!const\b)\w|\bany\b|<\w+>\s*\w|\w[)\]]?!(?=[.;,)\]\s])"),
    "python/main.py": re.compile(r"\bcast\(|\bAny\b|type:\s*ignore"),
}
PROSE = re.compile(r"//.*|#.*|\"[^\"\n]*\"|`[^`]*`")  # comments and string literals, where such words are prose


@pytest.mark.parametrize("program", sorted(ESCAPES))
def test_example_programs_use_the_generated_types_as_they_are(program: str) -> None:
    code = PROSE.sub("", (EXAMPLES / program).read_text())
    assert [m.group(0) for m in ESCAPES[program].finditer(code)] == []


def _readme_excerpts() -> list[tuple[str, str]]:
    """The ```ts and ```python blocks of README's "Use it from TypeScript/Python" sections, with their program."""
    readme = (ROOT / "README.md").read_text()
    found = []
    for heading, fence, program in (("TypeScript", "ts", "typescript/main.ts"), ("Python", "python", "python/main.py")):
        section = readme.split(f"## Use it from {heading}\n", 1)[1].split("\n## ", 1)[0]
        found += [(program, block) for block in re.findall(rf"```{fence}\n(.*?)```", section, re.DOTALL)]
    return found


@pytest.mark.parametrize(("program", "excerpt"), _readme_excerpts())
def test_readme_shows_the_example_programs_own_lines(program: str, excerpt: str) -> None:
    assert excerpt in (EXAMPLES / program).read_text()
