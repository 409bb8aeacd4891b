"""Segmentation under class imbalance: Cui et al.'s unified approach and LMF per pixel.

Cui et al. (seed 003) fight the rarity of foreground pixels with three parts: progressive
resizing, a selective attention suppression (SAS) gate and an asymmetric unified focal loss
(Yeung et al. 2022). This subpackage holds the pieces to rerun their ablations beside LMF applied
per pixel: losses (``lmf.seg.losses``), scores (``lmf.seg.metrics``), networks
(``lmf.seg.models``), mask datasets (``lmf.seg.data``), the run config and engine
(``lmf.seg.config``, ``lmf.seg.train``), the grids of notebook 07 and its tables and figures.
Names are imported on first use, so ``import lmf.seg`` stays light.

It is the peer of ``lmf.classification``: the same file names do the same jobs (``config``,
``data``, ``train``, ``models``, ``metrics``, ``profiles``, ``paper``); its losses, grids, tables
and readings, which classification keeps in ``lmf.losses``, ``lmf.sweep.grids`` and
``lmf.classification.report``, are ``losses``, ``grids``, ``tables`` and ``reading`` here. It imports the core, ``lmf.data`` and ``lmf.losses``, never
``lmf.classification``. To add a loss: a ``SEG_LOSS_REGISTRY`` entry in ``losses``; a network:
a ``SEG_MODEL_REGISTRY`` entry in ``models``; a dataset: a name in ``data.SEG_SOURCES`` with its
reader; an experiment of a grid: an entry of ``grids.EXPERIMENTS``.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "build_seg_loss": "lmf.seg.losses",
    "SEG_LOSSES": "lmf.seg.losses",
    "segmentation_scores": "lmf.seg.metrics",
    "imbalance_ratio": "lmf.seg.metrics",
    "build_seg_model": "lmf.seg.models",
    "SEG_MODELS": "lmf.seg.models",
    "load_seg_data": "lmf.seg.data",
    "SEG_SOURCES": "lmf.seg.data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lmf.seg' has no attribute {name!r}")
