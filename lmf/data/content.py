"""What the files of a dataset hold: one sha256 per file, computed once and cached by stat.

A run's identity names its data by content (``lmf.data.fingerprint``): two folders with the same
file names, one of them with two images altered, are two datasets. Hashing every image at every
identity would cost seconds per run on the paper's datasets, so each digest is kept in
``<data>/cache/file-digests.json`` under the file's absolute path with its size and modification
time (``st_mtime_ns``), the same stat the image cache keys itself by: a file rewritten in place
gets a new mtime and is hashed again; an untouched one costs one ``stat``. The cache file is
written atomically (last writer wins; a lost entry is only hashed again), and an unreadable cache
is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lmf.core.atomic import write_bytes
from lmf.core.errors import DataError, StorageError
from lmf.core.machine import decoding_threads
from lmf.core.paths import data_dir

CACHE_NAME = "file-digests.json"
_lock = threading.Lock()


def _cache_file() -> Path:
    return data_dir() / "cache" / CACHE_NAME


def _read_cache(file: Path) -> dict:
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError):
        return {}


def _digest(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise DataError(f"cannot read {path} ({error.strerror or error})") from error


def file_digests(paths: Sequence[str | os.PathLike]) -> list[str]:
    """The sha256 of each file's content, in order; from the stat-keyed cache where it holds."""
    absolute = [os.path.abspath(p) for p in paths]
    stats = [_stat(p) for p in absolute]
    file = _cache_file()
    with _lock:
        cached = _read_cache(file)
    todo = [i for i, (p, s) in enumerate(zip(absolute, stats, strict=True))
            if cached.get(p, [None, None, None])[:2] != list(s)]
    if todo:
        with ThreadPoolExecutor(decoding_threads()) as pool:
            fresh = list(pool.map(_digest, (absolute[i] for i in todo)))
        with _lock:
            cached = _read_cache(file)
            cached.update({absolute[i]: [*stats[i], d] for i, d in zip(todo, fresh, strict=True)})
            _store(file, cached)
    return [cached[p][2] for p in absolute]


def _stat(path: str) -> tuple[int, int]:
    try:
        stat = os.stat(path)
    except OSError as error:
        raise DataError(f"cannot read {path} ({error.strerror or error})") from error
    return stat.st_size, stat.st_mtime_ns


def _store(file: Path, cached: dict) -> None:
    """Write the cache; a store that cannot take it (read-only data folder) only costs hashing
    again next time."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(file, json.dumps(cached, separators=(",", ":")).encode())
    except (OSError, StorageError):
        pass


def folder_digests(root: str | os.PathLike) -> list[tuple[str, str]]:
    """(relative path, sha256) of every regular file under ``root``, sorted: the content of a
    source read from a few archive files (CIFAR's pickled batches)."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p, root))
    return list(zip((p.relative_to(root).as_posix() for p in files), file_digests(files),
                    strict=True))


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)

