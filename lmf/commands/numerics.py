"""``lmf numerics``: whether this process computes with the pinned CPU numerics, and a digest of
each kind of kernel the runs use (``lmf.core.numerics.probe``).

    lmf numerics

Two machines that print the same digests compute those kernels alike to the last bit, so the same
config and seed give them the same run; compare yours with the one ``make test`` checks
(``tests/core/test_portable_numerics.py``).
"""

from __future__ import annotations

import argparse
import json

from lmf.commands import help_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "numerics", help="the pinned CPU numerics in effect and a digest of the kernels",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=run)


def run(args) -> int:
    from lmf.core import numerics

    record = numerics.record()
    print(json.dumps({"version": record["version"], "pinned": record["pinned"],
                      "not_pinned_because": record["not_pinned_because"],
                      "digests": numerics.probe()}, indent=1))
    return 0
