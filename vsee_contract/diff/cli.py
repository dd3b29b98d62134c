"""`vsee-contract diff OLD NEW` (also `python -m vsee_contract.diff`): exit 0 when every client of OLD keeps working
with NEW, 1 when something breaks, 2 for a usage error or an invalid spec (one line, as every CLI here)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..cli import USAGE, OneLineParser
from ..errors import VseeError
from ..spec import Spec
from ..spec_file import SpecFileError, one_line, read_spec_file
from .generative import DEFAULT_EXAMPLES
from .judge import DEFAULT_SEED, inlined, judge
from .report import junit, markdown, summary, text

SUMMARY = "judge whether a new openapi.yaml breaks the clients of an old one"
DESCRIPTION = (
    "Compare two versions of an OpenAPI contract from the side of a client built on OLD: every request OLD accepts "
    "must still be accepted by NEW, every answer NEW may send must still be understood by OLD's clients. Exit 0: "
    "compatible, 1: breaking, 2: usage error or invalid spec."
)
DEBUG_VARIABLE = "VSEE_CONTRACT_DEBUG"  # set: an unexpected error shows its traceback (for a bug report)
BREAKING = 1


class UsageError(VseeError):
    """One line, `<problem>; <fix>`."""


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add = parser.add_argument
    add("specs", nargs="*", metavar="SPEC", help="OLD NEW; with --base only NEW (default: ./openapi.yaml)")
    add("--base", metavar="GIT_REF", help="compare NEW with the same file at this git ref (e.g. origin/main)")
    add("-v", "--verbose", action="store_true", help="also list the compatible changes")
    add("--report", metavar="PATH", help="write a Markdown report (also appended to $GITHUB_STEP_SUMMARY when set)")
    add("--junit", metavar="PATH", help="write a JUnit XML report: one test case per operation")
    add(
        "--examples",
        type=_count,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help="generated instances per schema pair (0: the structural method alone)",
    )
    add("--seed", type=_count, default=DEFAULT_SEED, metavar="N", help="seed of the generated instances")
    return parser


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number; give one, e.g. 30") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


def _load(path: str, named: str) -> Spec:
    document = read_spec_file(path, named)
    try:
        spec = Spec(document, Path(path))
        inlined(spec)  # every $ref resolves: judged here, where the file is known
    except Exception as exc:
        raise UsageError(
            f"{named} {path} cannot be judged ({type(exc).__name__}: {exc})",
            "give every operation an operationId and use only local $refs (#/components/...)",
        ) from None
    return spec


def _at_ref(spec: str, ref: str, folder: Path) -> str:
    """The file `spec` as it was at git ref `ref`, written under `folder`."""
    file = Path(spec).resolve()
    if not file.parent.is_dir():
        raise UsageError(f"{spec}: no such folder", "give the path of the spec inside a git work tree")
    try:
        shown = subprocess.run(
            ["git", "-C", str(file.parent), "show", f"{ref}:./{file.name}"],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except FileNotFoundError:
        raise UsageError("--base needs git, which is not installed", "install git, or give OLD and NEW") from None
    if shown.returncode != 0:
        reason = one_line(shown.stderr.decode("utf-8", "replace").strip().splitlines()[0] if shown.stderr else "")
        raise UsageError(
            f"--base {ref}: git cannot show {file.name} there ({reason})",
            f"give a ref where it exists (git log --oneline -- {spec})",
        )
    old = folder / f"base-{file.name}"
    old.write_bytes(shown.stdout)
    return str(old)


def _write(path: str, content: str | bytes, named: str, append: bool = False) -> None:
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with open(path, "ab" if append else "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise UsageError(
            f"{named} {path} cannot be written ({exc.strerror})", "give a path in a writable folder"
        ) from None


def _compare(args: argparse.Namespace, environ: Mapping[str, str], folder: Path) -> int:
    for path, named in ((args.report, "--report"), (args.junit, "--junit")):
        if path and not Path(path).resolve().parent.is_dir():
            raise UsageError(f"{named} {path} cannot be written (no such folder)", "give a path in a writable folder")
    if args.base is not None:
        if len(args.specs) > 1:
            raise UsageError("--base takes only NEW (OLD comes from git)", "drop OLD, or drop --base")
        new_path = args.specs[0] if args.specs else "openapi.yaml"
        old_path, old_name = _at_ref(new_path, args.base, folder), f"{args.base}:{Path(new_path).name}"
        old = _load(old_path, f"OLD ({old_name})")
    elif len(args.specs) != 2:
        raise UsageError(f"expected OLD and NEW, got {len(args.specs)} path(s)", "give two specs, or --base GIT_REF")
    else:
        old_name, new_path = args.specs
        old = _load(old_name, "OLD")
    new = _load(new_path, "NEW")
    verdict = judge(old, new, examples=args.examples, seed=args.seed)
    for line in text(verdict, args.verbose):
        print(line)
    print(f"{args.prog}: {summary(verdict)}", flush=True)
    if args.report or environ.get("GITHUB_STEP_SUMMARY"):
        report = markdown(verdict, old_name, new_path)
        if args.report:
            _write(args.report, report, "--report")
        if environ.get("GITHUB_STEP_SUMMARY"):
            _write(environ["GITHUB_STEP_SUMMARY"], report + "\n", "$GITHUB_STEP_SUMMARY", append=True)
    if args.junit:
        _write(args.junit, junit(verdict, old_name, new_path), "--junit")
    return BREAKING if verdict.breaking else 0


def run(args: argparse.Namespace, prog: str, environ: Mapping[str, str] | None = None) -> int:
    """Judge as `args` say; every failure is one line on stderr."""
    args.prog = prog
    env = os.environ if environ is None else environ
    try:
        with tempfile.TemporaryDirectory(prefix="vsee-contract-diff-") as folder:
            return _compare(args, env, Path(folder))
    except (SpecFileError, UsageError) as exc:
        problem = str(exc) if isinstance(exc, SpecFileError) else f"{one_line(exc.args[0])}; {one_line(exc.args[1])}"
        print(f"{prog}: {problem}", file=sys.stderr, flush=True)
        return USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if env.get(DEBUG_VARIABLE):
            raise
        problem = one_line(f"unexpected error: {type(exc).__name__}: {exc}")
        print(f"{prog}: {problem}; run again with {DEBUG_VARIABLE}=1 for the traceback and report it", file=sys.stderr)
        return USAGE


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    prog = "python -m vsee_contract.diff"
    parser = configure(OneLineParser(prog=prog, description=DESCRIPTION))
    return run(parser.parse_args(argv), prog, environ)
