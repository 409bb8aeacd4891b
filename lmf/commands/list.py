"""``lmf list``: the names a configuration can use, with their parameters and defaults.

    lmf list [losses|models|seg-losses|seg-models]

One table per registry (``lmf.core.registry``): the classification losses (``lmf.losses``, the
``--loss`` of ``lmf train``), the classifiers (``lmf.classification.models``, and any timm model as
``timm:<name>``), the segmentation losses (``lmf.seg.losses``) and networks
(``lmf.seg.models``); all four without an argument.
"""

from __future__ import annotations

import argparse
import importlib

from lmf.commands import help_text
from lmf.core.registry import format_rows

#: Listing name -> (module, registry attribute), imported only when listed.
REGISTRIES = {
    "losses": ("lmf.losses", "LOSS_REGISTRY"),
    "models": ("lmf.classification.models", "MODEL_REGISTRY"),
    "seg-losses": ("lmf.seg.losses", "SEG_LOSS_REGISTRY"),
    "seg-models": ("lmf.seg.models", "SEG_MODEL_REGISTRY"),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list", help="the losses and models by name, with their parameters and defaults",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=list(REGISTRIES),
                        help="which table (default: all four)")
    parser.set_defaults(func=run)


def listing(what: str) -> str:
    """The table ``lmf list what`` prints; ``models`` ends with ``build_model``'s timm fallback,
    which is a prefix rule, not an entry."""
    module, attribute = REGISTRIES[what]
    rows = getattr(importlib.import_module(module), attribute).rows()
    if what == "models":
        from lmf.classification.models import TIMM_PREFIX

        rows.append((f"{TIMM_PREFIX}<name>", "pretrained=False",
                     "any timm model (timm.list_models()), with num_classes=K"))
    return format_rows(rows)


def run(args) -> int:
    if args.what:
        print(listing(args.what))
    else:
        print("\n\n".join(f"{what}:\n{listing(what)}" for what in REGISTRIES))
    return 0
