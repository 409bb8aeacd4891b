"""Subcommands of the ``lmf`` CLI, one module each (see ``lmf.cli``)."""

from __future__ import annotations

import argparse
import re

#: reST inline markup of the docstrings: ``literal``, :role:`target` and `interpreted` text.
_REST_INLINE = re.compile(r"(?::[a-z]+:)?`{1,2}~?([^`]+?)`{1,2}")


def help_text(docstring: str) -> str:
    """A module docstring as ``--help`` prints it: reST inline markup reduced to its text
    (``lmf.sweep`` -> lmf.sweep, :func:`~lmf.sweep.ensure` -> lmf.sweep.ensure) and the
    ``::`` of literal blocks reduced to ``:``."""
    return _REST_INLINE.sub(r"\1", docstring).replace("::\n", ":\n")


def positive_number(text: str) -> float:
    """An argparse ``type``: ``text`` as a number above 0 (seconds, limits), else a usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value
