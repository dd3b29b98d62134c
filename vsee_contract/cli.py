"""`vsee-contract`: the contract core's own commands (today `diff`). Errors are one line, `<prog>: <problem>; <fix>`,
exit code 2, never a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from .spec_file import one_line

USAGE = 2  # exit code: fix the command line, or a file it names


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line, naming the fix, and no abbreviated options (`--worker 2` is not
    `--workers 2`: the environment's names are exact, and so are the options)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_abbrev=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        fix = "" if ";" in message else f"; see {self.prog} --help"
        self.exit(USAGE, f"{self.prog}: {one_line(message)}{fix}\n")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from .diff import cli as diff_cli

    parser = OneLineParser(prog="vsee-contract", description="Commands of the VSee Rooms API contract core.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    diff_cli.configure(commands.add_parser("diff", help=diff_cli.SUMMARY, description=diff_cli.DESCRIPTION))
    args = parser.parse_args(argv)
    return diff_cli.run(args, "vsee-contract diff", environ)
