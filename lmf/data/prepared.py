"""``prepare``: index → split → cache, returned as ``PreparedData`` with train/val/test ``Part``s.

Everything ``prepare`` writes lives under ``lmf.core.paths.data_dir()/cache/`` (``LMF_DATA`` moves it),
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

import functools
import hashlib
import json
import os
import shlex
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from lmf.core.atomic import write_atomically
from lmf.core.errors import ConfigError, DataError, unknown_choice
from lmf.core.paths import data_dir
from lmf.core.validation import check_choice, check_integer
from lmf.data.cache import ON_ERROR, ImageCache, UnreadableImage, build_cache, cache_key
from lmf.data.content import file_digests
from lmf.data.registry import get_source, read_index, resolve_root, source_params
from lmf.data.splits import PARTS, group_split, paper_split

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
            raise unknown_choice("part", name, PARTS)
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
    frame = pd.DataFrame({"id": index["id"], "split": parts})
    write_atomically(file, lambda temporary: frame.to_csv(temporary, index=False))
    return parts


def _file_stats(paths) -> list[tuple[int, int]]:
    stats = [os.stat(p) for p in paths]
    return [(s.st_size, s.st_mtime_ns) for s in stats]


#: Options of ``prepare`` that are not options of the source (``RunConfig.dataset_params`` may
#: hold them too): the split seed and what to do with unreadable images.
PREPARE_OPTIONS = ("seed", "on_error")


def _source_options(source, size: int, params: dict) -> dict:
    """The source's options among ``params`` (``prepare``'s own left out), as used at ``size``
    px, completed with their defaults."""
    options = {k: v for k, v in params.items() if k not in PREPARE_OPTIONS}
    if source.params_for_size is not None:
        options = source.params_for_size(size, options)
    return source_params(source, options)


def _listed(name: str, root, size: int, params: dict):
    """The source, its completed options, the index with sample ids and the list key (a digest
    of the source name, its options and every (sample id, label))."""
    source = get_source(name)
    params = _source_options(source, size, params)
    root_dir = resolve_root(source, root)
    index = read_index(name, root, **params).copy()
    index["id"] = _sample_ids(index, root_dir if source.on_disk else None)
    list_key = cache_key(source.name, params, index["id"].tolist(), index["label"].tolist())
    return source, params, index, list_key


def dataset_options(name: str, size: int, params: dict) -> dict:
    """What of ``params`` changes the data a run trains on, as ``prepare`` would use it at
    ``size`` px: the source options completed with their defaults and, for a source that lmf
    splits, the split seed (default 0). ``on_error`` is left out: which images a cache skipped
    is recorded with the cache, not chosen by later calls."""
    source = get_source(name)
    options = _source_options(source, size, params)
    if not source.presplit:
        options["seed"] = int(params.get("seed", 0))
    return options


def check_dataset(name: str, params: dict) -> None:
    """Raise a ConfigError unless ``name`` is a known source and ``params`` are options of it
    or of ``prepare`` (``seed``: an integer >= 0, ``on_error``: fail or skip)."""
    source = get_source(name)
    source_params(source, {k: v for k, v in params.items() if k not in PREPARE_OPTIONS})
    if "seed" in params:
        check_integer("split seed (dataset_params['seed'])", params["seed"], low=0)
    if "on_error" in params:
        check_choice("on_error", params["on_error"], ON_ERROR)


@functools.lru_cache(maxsize=256)
def _fingerprint(name: str, root: str | None, size: int, params: str) -> str:
    source, _, index, list_key = _listed(name, root, size, json.loads(params))
    return cache_key(list_key, content_digest(source, index, size))


def content_digest(source, index: pd.DataFrame, size: int) -> str:
    """What the samples of ``index`` hold: the sha256 of every image file, in index order
    (``lmf.data.content``: cached by path, size and mtime), or, for an in-memory source, of the
    images it loads at ``size`` px."""
    if source.on_disk:
        return cache_key(file_digests(index["path"].tolist()))
    images = source.load_images(index.reset_index(drop=True), size)
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()


def fingerprint(name: str, root=None, *, size: int = 224, **params) -> str:
    """What a dataset *is*, independent of where it lies: the digest of its source, options,
    every (sample id relative to the root, label) (the ``list key`` of its cache folder) and
    every sample's content (:func:`content_digest`).

    The same files under two roots give the same fingerprint; another file list, label or image
    content gives another. Computed once per process and root; image files are hashed once and
    then recognised by their stat.
    ``prepare``'s own options (``seed``, ``on_error``) are ignored: the split is named by the
    run's ``split`` and seed, not by the data.
    """
    source = get_source(name)
    resolved = resolve_root(source, root)
    options = {k: v for k, v in params.items() if k not in PREPARE_OPTIONS}
    return _fingerprint(name, str(resolved) if resolved else None, int(size),
                        json.dumps(options, sort_keys=True, default=str))


def skip_command(name: str, root, *, split: str, size: int, seed: int) -> str:
    """The ``lmf data prepare`` command that builds the cache ``prepare`` would build with the
    same arguments, leaving unreadable images out: training at ``size`` then reuses it."""
    words = ["lmf", "data", "prepare", name]
    if root is not None:
        words += ["--root", str(root)]
    if split != "paper":
        words += ["--split", split]
    if seed != 0:
        words += ["--seed", str(seed)]
    words += ["--size", str(size), "--on-error", "skip"]
    return shlex.join(words)


def prepare(name: str, root=None, *, split: str = "paper", size: int = 224, seed: int = 0,
            on_error: str = "fail", workers: int | None = None, progress: bool = True,
            **params) -> PreparedData:
    """Index, split and cache dataset ``name`` (see the module docstring for what is stored).

    Args:
        name: a source of ``lmf.data.DATASETS`` (``medmnist:<flag>`` for MedMNIST).
        root: the unpacked dataset; ``None`` means ``lmf.core.paths.data_dir()/<name>``.
        split: ``"paper"`` (per image, the paper's rule) or ``"group"`` (groups kept whole).
        size: side in pixels of the square images (the paper: 224).
        seed: seed of the split.
        on_error: ``"fail"`` on an unreadable image, or ``"skip"`` it (it is then left out).
            The choice is recorded with the cache: images skipped when it was built stay left
            out of every later call (``skipped`` lists them), so ``lmf data prepare --on-error
            skip`` once is enough for training.
        workers: decoding threads; progress: show a progress bar while caching.
        **params: source options passed to ``read_index``.
    """
    if split not in SPLITS:
        raise unknown_choice("split", split, SPLITS)
    if not isinstance(size, int | np.integer) or size < 1:
        raise ConfigError(f"size must be a positive number of pixels, got {size!r}")
    if on_error not in ON_ERROR:
        raise unknown_choice("on_error", on_error, ON_ERROR)
    source, params, index, list_key = _listed(name, root, size, params)
    class_names = index.attrs["class_names"]
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
        try:
            cache = build_cache(directory, ids, size, paths=index["path"].tolist(),
                                workers=workers, on_error=on_error, progress=progress,
                                meta={"source": name})
        except UnreadableImage as error:
            command = skip_command(name, root, split=split, size=size, seed=seed)
            raise DataError(f"{error}, e.g. once with `{command}`; training then leaves it "
                            "out") from error
    else:
        ordered = index.reset_index(drop=True)
        cache = build_cache(directory, ids, size,
                            load_batch=lambda rows: source.load_images(ordered.iloc[rows], size),
                            progress=progress, on_error=on_error, meta={"source": name})
    if cache.failed:  # only a cache built with on_error="skip" records failures
        index = index[~index["id"].isin(cache.failed)]
    return PreparedData(source.name, class_names, index, cache, source.on_disk, split_file)
