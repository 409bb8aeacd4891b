"""``prepare``: index → split → cache, returned as ``PreparedData`` with train/val/test ``Part``s.

Everything ``prepare`` writes lives under ``lmf.paths.data_dir()/cache/`` (``LMF_DATA`` moves it),
one folder per source and file list::

    cache/<name>-<list key>/
        split-paper-seed0.csv        the split, written once and reused by every later call
        images-224px-<file key>/     images.npy + ids.csv + meta.json (see lmf.data.cache)

The list key hashes the source name, its parameters and every (sample id, label); the file key
adds the image size and each file's size and modification time, so a changed file list, label
or image builds a new cache instead of reusing a stale one. Sources that come split
(``imagefolder``, ``digits_lt``, ``medmnist``) use their own split and ignore ``split``/``seed``.

Images of a part are returned memory-mapped when they are contiguous in the cache (the cache is
written in train, val, test order, so this is the usual case) and loaded once into memory
otherwise (for example a group split read from a cache built for the paper split).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from lmf.data.cache import ON_ERROR, ImageCache, build_cache, cache_key
from lmf.data.registry import get_source, read_index, resolve_root, source_params
from lmf.data.splits import PARTS, group_split, paper_split
from lmf.errors import ConfigError, DataError
from lmf.paths import data_dir

SPLITS = ("paper", "group")


class Part:
    """One part of a prepared dataset: ``images`` (uint8 N×H×W×3), ``labels`` (int64 N), ``ids``."""

    def __init__(self, name: str, cache: ImageCache, rows: np.ndarray, labels: np.ndarray,
                 ids: list[str]):
        self.name = name
        self._cache = cache
        self._rows = rows
        self.labels = labels
        self.ids = ids

    @cached_property
    def images(self) -> np.ndarray:
        """The part's images: a memory-mapped slice when contiguous, else an in-memory copy."""
        rows = self._rows
        if len(rows) and np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
            return self._cache.images[rows[0]:rows[0] + len(rows)]
        return np.asarray(self._cache.images[rows])

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Part({self.name!r}, {len(self)} images)"


class PreparedData:
    """A dataset ready for training: class names, the split index and the cached images.

    Attributes:
        name: the source name.
        class_names: sorted class names; a label is a position in this list.
        index: ``read_index``'s columns plus ``split`` and ``id``, in cache order (train, val,
            test), without images skipped as unreadable.
        skipped: id -> reason for images left out with ``on_error="skip"``.
        cache_dir: the folder of the image cache; split_file: the split CSV (None if built in).
    """

    def __init__(self, name: str, class_names: list[str], index: pd.DataFrame,
                 cache: ImageCache, on_disk: bool, split_file: Path | None):
        self.name = name
        self.class_names = list(class_names)
        self.index = index.reset_index(drop=True)
        self.skipped = dict(cache.failed)
        self.cache_dir = cache.directory
        self.split_file = split_file
        self._cache = cache
        self._on_disk = on_disk
        self._paths = dict(zip(self.index["id"], self.index["path"], strict=True))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def part(self, name: str) -> Part:
        """The ``"train"``, ``"val"`` or ``"test"`` part."""
        if name not in PARTS:
            raise ConfigError(f"unknown part {name!r}; valid choices: {', '.join(PARTS)}")
        rows = self.index[self.index["split"] == name]
        ids = rows["id"].tolist()
        return Part(name, self._cache, self._cache.rows(ids),
                    rows["label"].to_numpy(dtype=np.int64), ids)

    def class_counts(self, part: str = "train") -> np.ndarray:
        """Images per class (int64, length K) in ``part``; losses take them from train only."""
        labels = self.index.loc[self.index["split"] == part, "label"].to_numpy()
        return np.bincount(labels, minlength=self.num_classes).astype(np.int64)

    def source_path(self, sample_id: str) -> Path | None:
        """The original image file of ``sample_id``; ``None`` for in-memory sources."""
        if sample_id not in self._paths:
            raise ConfigError(f"unknown sample id {sample_id!r} in {self.name}")
        return Path(self._paths[sample_id]) if self._on_disk else None

    def __repr__(self) -> str:
        sizes = self.index["split"].value_counts()
        parts = ", ".join(f"{p}={int(sizes.get(p, 0))}" for p in PARTS)
        return f"PreparedData({self.name!r}, {self.num_classes} classes, {parts})"


def _sample_ids(index: pd.DataFrame, root: Path | None) -> list[str]:
    """Stable ids: the path relative to the root for files, the source's id otherwise."""
    if root is None:
        return index["path"].astype(str).tolist()
    return [Path(os.path.relpath(p, root)).as_posix() for p in index["path"]]


def _load_or_make_split(index: pd.DataFrame, file: Path, split: str, seed: int) -> np.ndarray:
    """The saved split in ``file`` if present (and matching), else a new one written there."""
    if file.is_file():
        saved = pd.read_csv(file, dtype=str, keep_default_na=False)
        by_id = dict(zip(saved["id"], saved["split"], strict=True))
        if set(by_id) == set(index["id"]):
            return index["id"].map(by_id).to_numpy()
    if split == "paper":
        parts = paper_split(index["label"].to_numpy(), seed=seed)
    else:  # class names sort as the labels do, so the folds are the same, and errors name them
        parts = group_split(index["class_name"].astype(str).to_numpy(),
                            index["group"].astype(str).to_numpy(), seed=seed)
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(f".{file.name}.tmp-{os.getpid()}")
    pd.DataFrame({"id": index["id"], "split": parts}).to_csv(temporary, index=False)
    temporary.replace(file)
    return parts


def _file_stats(paths) -> list[tuple[int, int]]:
    stats = [os.stat(p) for p in paths]
    return [(s.st_size, s.st_mtime_ns) for s in stats]


def prepare(name: str, root=None, *, split: str = "paper", size: int = 224, seed: int = 0,
            on_error: str = "fail", workers: int | None = None, progress: bool = True,
            **params) -> PreparedData:
    """Index, split and cache dataset ``name`` (see the module docstring for what is stored).

    Args:
        name: a source of ``lmf.data.DATASETS`` (``medmnist:<flag>`` for MedMNIST).
        root: the unpacked dataset; ``None`` means ``lmf.paths.data_dir()/<name>``.
        split: ``"paper"`` (per image, the paper's rule) or ``"group"`` (groups kept whole).
        size: side in pixels of the square images (the paper: 224).
        seed: seed of the split.
        on_error: ``"fail"`` on an unreadable image, or ``"skip"`` it (it is then left out).
        workers: decoding threads; progress: show a progress bar while caching.
        **params: source options passed to ``read_index``.
    """
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; valid choices: {', '.join(SPLITS)}")
    if not isinstance(size, int | np.integer) or size < 1:
        raise ConfigError(f"size must be a positive number of pixels, got {size!r}")
    if on_error not in ON_ERROR:
        raise ConfigError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    source = get_source(name)
    if source.params_for_size is not None:
        params = source.params_for_size(size, dict(params))
    params = source_params(source, params)
    root_dir = resolve_root(source, root)
    index = read_index(name, root, **params)
    class_names = index.attrs["class_names"]
    index = index.copy()
    index["id"] = _sample_ids(index, root_dir if source.on_disk else None)
    list_key = cache_key(source.name, params, index["id"].tolist(), index["label"].tolist())
    base = data_dir() / "cache" / f"{source.name.replace(':', '-')}-{list_key[:12]}"
    split_file = None
    if not source.presplit:
        split_file = base / f"split-{split}-seed{seed}.csv"
        index["split"] = _load_or_make_split(index, split_file, split, seed)
    rank = index["split"].map({p: i for i, p in enumerate(PARTS)})
    if rank.isna().any():
        raise DataError(f"{name}: split values must be one of {', '.join(PARTS)}")
    index = index.assign(_rank=rank).sort_values(["_rank"], kind="stable").drop(columns="_rank")
    ids = index["id"].tolist()
    stats = _file_stats(index["path"]) if source.on_disk else []
    file_key = cache_key(list_key, size, sorted(zip(ids, stats, strict=True)) if stats else [])
    directory = base / f"images-{size}px-{file_key[:12]}"
    if source.on_disk:
        cache = build_cache(directory, ids, size, paths=index["path"].tolist(), workers=workers,
                            on_error=on_error, progress=progress, meta={"source": name})
    else:
        ordered = index.reset_index(drop=True)
        cache = build_cache(directory, ids, size,
                            load_batch=lambda rows: source.load_images(ordered.iloc[rows], size),
                            progress=progress, on_error=on_error, meta={"source": name})
    if cache.failed:
        if on_error == "fail":
            first = next(iter(cache.failed))
            raise DataError(f"{len(cache.failed)} unreadable image(s) recorded in {directory} "
                            f"(e.g. {first}: {cache.failed[first]}); replace them, or use "
                            f"on_error='skip' (--on-error skip)")
        index = index[~index["id"].isin(cache.failed)]
    return PreparedData(source.name, class_names, index, cache, source.on_disk, split_file)
