"""Datasets: sources on disk (or embedded) → index → split → cached uint8 images → tensors.

``read_index`` lists a source's samples, ``paper_split``/``group_split`` split them, ``prepare``
does all of it and caches decoded images once; ``to_tensor`` and ``augment`` turn cached batches
into model input. Layouts and downloads: ``data/README.md``; the split rule: ``lmf.data.splits``.
The last two import torch on first use, so listing or checking datasets does not.

Part of the shared core: it imports ``lmf.core`` only; ``lmf.seg.data`` reads mask datasets through
the same cache and content digests. To add a dataset: a ``Source`` in ``lmf.data.sources`` (its
index of paths, labels and groups; ``sources/base.py`` has the readers), its module under its
name in ``lmf.data.registry._MODULES``, and its on-disk layout in ``data/README.md``.
"""

from lmf.data.prepared import (
    Part,
    PreparedData,
    check_dataset,
    dataset_options,
    fingerprint,
    prepare,
)
from lmf.data.registry import DATASETS, get_source, read_index
from lmf.data.splits import group_split, paper_split, split_leakage

#: Names served by ``lmf.data.transforms``, imported when first asked for (it imports torch).
_TENSOR_HELPERS = ("augment", "pad_crop_flip", "to_tensor")

__all__ = [
    "DATASETS",
    "Part",
    "PreparedData",
    "augment",
    "check_dataset",
    "dataset_options",
    "fingerprint",
    "get_source",
    "group_split",
    "pad_crop_flip",
    "paper_split",
    "prepare",
    "read_index",
    "split_leakage",
    "to_tensor",
]


def __getattr__(name: str):
    if name in _TENSOR_HELPERS:
        from lmf.data import transforms

        return getattr(transforms, name)
    raise AttributeError(f"module 'lmf.data' has no attribute {name!r}")
