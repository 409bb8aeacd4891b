"""The dataset names ``lmf.data`` knows and ``read_index``, the one entry point to a source's index.

Each source lives in its own module under ``lmf.data.sources`` and is imported only when used.
MedMNIST sets are named ``medmnist:<flag>`` (e.g. ``medmnist:dermamnist``); one module may hold
several sources (``SOURCES``, e.g. ``cifar10_lt`` and ``cifar100_lt``).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pandas as pd

from lmf.core.errors import ConfigError, DataError, unknown_choice
from lmf.core.paths import data_dir
from lmf.data.sources.base import INDEX_COLUMNS, Source

_MODULES = {
    "ham10000": "lmf.data.sources.ham10000",
    "isic2019": "lmf.data.sources.isic2019",
    "odir5k": "lmf.data.sources.odir5k",
    "covid19": "lmf.data.sources.covid19",
    "imagefolder": "lmf.data.sources.imagefolder",
    "digits_lt": "lmf.data.sources.digits_lt",
    "cifar10_lt": "lmf.data.sources.cifar_lt",
    "cifar100_lt": "lmf.data.sources.cifar_lt",
    "medmnist": "lmf.data.sources.medmnist",
}

#: Source names; MedMNIST is used as ``medmnist:<flag>``.
DATASETS: tuple[str, ...] = tuple(_MODULES)


def get_source(name: str) -> Source:
    """The ``Source`` called ``name`` (``medmnist:<flag>`` for a MedMNIST set)."""
    base, _, flag = str(name).partition(":")
    if base not in _MODULES:
        raise unknown_choice("dataset", name, [*DATASETS[:-1], "medmnist:<flag>"])
    module = importlib.import_module(_MODULES[base])
    if base == "medmnist":
        if not flag:
            raise ConfigError("name a MedMNIST set as medmnist:<flag>, e.g. medmnist:dermamnist")
        return module.source(flag)
    if flag:
        raise unknown_choice("dataset", name, [*DATASETS[:-1], "medmnist:<flag>"])
    return module.SOURCES[base] if hasattr(module, "SOURCES") else module.SOURCE


def default_root(source: Source) -> Path:
    """``lmf.core.paths.data_dir()/<name>`` (or the source's ``default_folder``; ``LMF_DATA`` moves
    it)."""
    return data_dir() / (source.default_folder or source.name.partition(":")[0])


def resolve_root(source: Source, root) -> Path | None:
    """The folder to read: ``root`` if given, else the default; ``None`` for in-memory sources."""
    if root is None:
        return default_root(source) if source.on_disk else None
    return Path(root).expanduser().resolve()


def source_params(source: Source, params: dict) -> dict:
    """``params`` checked against the source's options and completed with their defaults."""
    try:
        bound = inspect.signature(source.read_index).bind(None, **params)
    except TypeError as error:
        raise ConfigError(f"{source.name}: bad parameter ({error})") from error
    bound.apply_defaults()
    defaults = bound.signature.parameters
    # 15 and 15.0 are the same option (and must give the same cache key) where a float is expected.
    return {k: float(v) if isinstance(defaults[k].default, float) and isinstance(v, int) else v
            for k, v in bound.arguments.items() if k != "root"}


def read_index(name: str, root=None, **params) -> pd.DataFrame:
    """One row per sample of dataset ``name``.

    Args:
        name: one of ``DATASETS`` (``medmnist:<flag>`` for MedMNIST).
        root: the unpacked dataset folder; ``None`` means ``lmf.core.paths.data_dir()/<name>``.
        **params: source options (e.g. ``imbalance`` for ``digits_lt``).

    Returns:
        DataFrame with ``path``, ``label``, ``class_name``, ``group`` (+ ``split`` for sources
        that come split); ``attrs["class_names"]`` holds the sorted class names.
    """
    source = get_source(name)
    index = source.read_index(resolve_root(source, root), **source_params(source, params))
    index.attrs.setdefault("class_names", list(source.class_names or
                                                sorted(index["class_name"].unique())))
    missing = [c for c in INDEX_COLUMNS if c not in index.columns]
    if missing:
        raise DataError(f"source {name} returned an index without the column(s) {missing}")
    return index
