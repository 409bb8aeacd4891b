"""Pretrained torchvision weights: where torchvision's loader looks for them, and the one error a
user gets when they cannot be loaded (no network, no file), saying where to put the file."""

from __future__ import annotations

from pathlib import Path

import torch

from lmf.core.errors import DataError


def missing_weights(weight_enum, what: str, error: Exception, instead: str) -> DataError:
    """The error for torchvision ImageNet weights of ``what`` that cannot be loaded: the file,
    where it goes, and what to do ``instead``."""
    cache = weights_cache_file(weight_enum)
    return DataError(
        f"cannot load the ImageNet weights of {what} ({error}); download {weight_enum.url} and "
        f"put it, named {cache.name}, in {cache.parent} (i.e. {cache}), or {instead}")


def weights_cache_file(weight_enum) -> Path:
    """Where torchvision's loader looks for (and downloads) these weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weight_enum.url).name
