"""Read an OpenAPI file a user named and check it is a valid OpenAPI document: each problem as one line with its fix.

Shared by every command that takes a spec path (`vsee-mock --spec`, `vsee-contract diff`), so they word it alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import VseeError
from .spec import SAFE_LOADER


class SpecFileError(VseeError):
    """Why a spec file cannot be used: `problem` and `fix`; `unreadable` when the machine, not the file, is at fault."""

    def __init__(self, problem: str, fix: str, unreadable: bool = False) -> None:
        super().__init__(f"{one_line(problem)}; {one_line(fix)}")
        self.problem, self.fix, self.unreadable = problem, fix, unreadable


def one_line(text: object, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def read_spec_file(path: str | Path, named: str, otherwise: str = "") -> dict[str, Any]:
    """The document at `path` once it exists, is UTF-8 YAML (or JSON) and a valid OpenAPI document.

    `named` says where the path came from (an option, an argument); `otherwise` ends each fix with the user's other
    choice (e.g. "or leave it out for the packaged openapi.yaml").
    """
    from openapi_spec_validator import validate  # 0.3 s of imports (pydantic): paid only when a file is checked

    file = Path(path)
    where = f"{named} {path}"
    other = f", {otherwise}" if otherwise else ""
    give, fix = f"give the path of an OpenAPI 3 file (YAML or JSON){other}", f"fix it{other}"
    if not file.exists():
        raise SpecFileError(f"{where}: no such file", give)
    if file.is_dir():
        raise SpecFileError(f"{where} is a directory", give)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecFileError(f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})", fix) from None
    except OSError as exc:
        raise SpecFileError(
            f"{where} cannot be read ({exc.strerror})", "make it readable for this user", True
        ) from None
    try:
        document = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SpecFileError(f"{where} is not valid YAML: {getattr(exc, 'problem', None) or exc}{at}", fix) from None
    if not isinstance(document, dict):
        raise SpecFileError(f"{where} is not an OpenAPI document (its top level is not a mapping)", fix)
    try:
        validate(document, base_uri=file.resolve().as_uri())
    except Exception as exc:
        message = str(getattr(exc, "message", None) or exc or type(exc).__name__).split("\n", 1)[0]
        location = "/".join(str(part) for part in getattr(exc, "absolute_path", ()))
        at = f" at /{location}" if location else ""
        raise SpecFileError(
            f"{where} is not a valid OpenAPI document: {message}{at}",
            f"fix it (`openapi-spec-validator {path}` lists every problem){other}",
        ) from None
    return document
