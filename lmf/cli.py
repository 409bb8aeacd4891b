"""The ``lmf`` command line: ``lmf --help`` lists the subcommands.

Each subcommand lives in its own module under ``lmf.commands`` exposing
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``. Errors the user
can fix (``lmf.core.errors.LmfError``, ``ValueError``, ``FileNotFoundError``) end in one line on
stderr and exit status 2; Ctrl-C ends with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings

from lmf import __version__
from lmf.core.errors import LmfError

#: Modules under ``lmf.commands`` that register a subcommand, in ``--help`` order.
COMMANDS: tuple[str, ...] = ("data", "train", "sweep", "reproduce", "bench", "list", "numerics")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose (sub)command itself refuses the arguments it does not know, with
    its own usage (argparse leaves that to the top-level parser, whose usage says nothing about
    the subcommand's options). Subparsers inherit the class."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lmf",
        description="Companion to the LMF loss paper: data, losses, training, sweeps, notebooks.",
    )
    parser.add_argument("--version", action="version", version=f"lmf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       help="what to do (lmf COMMAND --help for its options)")
    for name in COMMANDS:
        importlib.import_module(f"lmf.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    with _one_line_warnings():
        try:
            return int(args.func(args) or 0)
        except (LmfError, ValueError, FileNotFoundError) as error:
            print(f"lmf {args.command}: error: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"lmf {args.command}: interrupted", file=sys.stderr)
            return 130


def format_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as the command line prints it: ``warning: <message>``, without the library's
    file and line, which tell a user of the command nothing."""
    return f"warning: {message}\n"


@contextlib.contextmanager
def _one_line_warnings():
    """Warnings printed by :func:`format_warning` while a command runs (restored afterwards)."""
    previous, warnings.formatwarning = warnings.formatwarning, format_warning
    try:
        yield
    finally:
        warnings.formatwarning = previous


if __name__ == "__main__":
    sys.exit(main())
