"""The image cache: every image decoded and resized once into one uint8 ``.npy`` file.

A cache is a folder holding ``images.npy`` (N×size×size×3, uint8, read memory-mapped),
``ids.csv`` (the sample id of each row) and ``meta.json`` (source, size, images that could not be
read). It is built in a temporary folder next to its final place and renamed only when complete,
so an interrupted or failed build never leaves a cache that looks finished; when two processes
build the same cache at once, the first rename wins and the other copy is discarded.

Decoding runs in a thread pool (PIL releases the GIL while it decodes and resizes), writing each
image straight into the memory-mapped file, with a ``tqdm.auto`` progress bar.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lmf.core.atomic import format_size, remove_stale_temporaries, storage_error, temporary_sibling
from lmf.core.errors import DataError, StorageError, unknown_choice
from lmf.core.machine import decoding_threads
from lmf.data.decode import load_image

FORMAT = 1
ON_ERROR = ("fail", "skip")
#: Rows handed to an in-memory source's loader at a time.
CHUNK = 512


def cache_key(*parts) -> str:
    """A stable hex digest of JSON-serialisable ``parts``."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ImageCache:
    """An open cache: ``images`` (memory-mapped), the ``ids`` of its rows, and ``failed``
    (id -> reason) for images left out with ``on_error="skip"``."""

    directory: Path
    images: np.ndarray
    ids: list[str]
    failed: dict[str, str] = field(default_factory=dict)

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Row positions of ``ids`` in ``images``."""
        position = {sample_id: row for row, sample_id in enumerate(self.ids)}
        return np.fromiter((position[i] for i in ids), dtype=np.int64, count=len(ids))


def open_cache(directory: Path) -> ImageCache | None:
    """The cache in ``directory``, or ``None`` if there is no complete one."""
    meta_file = directory / "meta.json"
    if not meta_file.is_file():
        return None
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT:
        return None
    images = np.load(directory / "images.npy", mmap_mode="c")
    ids = pd.read_csv(directory / "ids.csv", dtype=str, keep_default_na=False)["id"].tolist()
    return ImageCache(directory, images, ids, dict(meta.get("failed", {})))


class UnreadableImage(DataError):
    """An image file that cannot be decoded, met while building a cache with ``on_error="fail"``."""


def _decode_files(images: np.ndarray, paths: Sequence[str], size: int, workers: int,
                  on_error: str, bar: tqdm) -> dict[int, str]:
    """Decode ``paths`` into ``images`` in parallel; failures by row (raises when ``fail``)."""
    failed: dict[int, str] = {}

    def work(row: int) -> None:
        try:
            images[row] = load_image(paths[row], size)
        except (OSError, ValueError, SyntaxError) as error:  # what PIL raises on bad files
            if on_error == "fail":
                raise UnreadableImage(f"unreadable image {paths[row]} ({error}); replace the "
                                      "file, or leave it out with on_error='skip'") from error
            failed[row] = f"{type(error).__name__}: {error}"
        bar.update()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work, row) for row in range(len(paths))]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in done:
            if future.exception() is not None:
                raise future.exception()
    return failed


def _check_free_space(folder: Path, needed: int) -> None:
    """Refuse to start a cache the disk cannot hold: a memory-mapped file written past the free
    space kills the process with SIGBUS instead of raising an error."""
    free = shutil.disk_usage(folder).free
    margin = 64 * 2**20  # ids.csv, meta.json and the file system's own needs
    if needed + margin > free:
        raise StorageError(
            f"cannot build the image cache in {folder}: it needs {format_size(needed)} and "
            f"{format_size(free)} are free; free some space, or move the data folder to a "
            "bigger disk (LMF_DATA), or cache at a smaller image size")


def build_cache(directory: Path, ids: Sequence[str], size: int, *,
                paths: Sequence[str] | None = None,
                load_batch: Callable[[slice], np.ndarray] | None = None,
                workers: int | None = None, on_error: str = "fail", progress: bool = True,
                meta: dict | None = None) -> ImageCache:
    """Build (or reuse) the cache of ``ids`` at ``size`` px in ``directory``.

    Args:
        directory: final folder of the cache; reused as is when already complete.
        ids: sample id of each row.
        size: side of the square images.
        paths: image files to decode (on-disk sources), aligned with ``ids``; or
        load_batch: ``slice -> uint8 array`` of those rows (in-memory sources).
        workers: decoding threads (default: CPU count, at most 8).
        on_error: ``"fail"`` stops at the first unreadable image; ``"skip"`` records it in
            ``failed`` and goes on.
        progress: show a progress bar.
        meta: extra facts stored in ``meta.json``.
    """
    if on_error not in ON_ERROR:
        raise unknown_choice("on_error", on_error, ON_ERROR)
    if (existing := open_cache(directory)) is not None:
        return existing
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(directory.parent)
        _check_free_space(directory.parent, len(ids) * size * size * 3)
        temporary = temporary_sibling(directory)
        temporary.mkdir()
    except OSError as error:
        raise storage_error(error, directory.parent) from error
    try:
        images = np.lib.format.open_memmap(temporary / "images.npy", mode="w+", dtype=np.uint8,
                                           shape=(len(ids), size, size, 3))
        workers = decoding_threads(workers)
        with tqdm(total=len(ids), desc=f"caching {directory.parent.name} at {size}px",
                  unit="img", disable=not progress, leave=False) as bar:
            if paths is not None:
                failed_rows = _decode_files(images, paths, size, workers, on_error, bar)
            else:
                failed_rows = {}
                for start in range(0, len(ids), CHUNK):
                    rows = slice(start, min(start + CHUNK, len(ids)))
                    images[rows] = load_batch(rows)
                    bar.update(rows.stop - rows.start)
        images.flush()
        del images
        failed = {ids[row]: reason for row, reason in sorted(failed_rows.items())}
        pd.DataFrame({"id": list(ids)}).to_csv(temporary / "ids.csv", index=False)
        (temporary / "meta.json").write_text(json.dumps(
            {"format": FORMAT, "size": size, "count": len(ids), "failed": failed,
             **(meta or {})}, indent=1))
        try:
            temporary.rename(directory)
        except OSError:  # another process finished the same cache first
            if open_cache(directory) is None:
                raise
    except OSError as error:
        raise storage_error(error, directory.parent) from error
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return open_cache(directory)
