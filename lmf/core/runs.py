"""The run store: one directory per training run, named by a hash of the run's identity.

The store knows nothing of training: it names directories from plain mappings, writes and reads
files atomically, marks runs done, locks them, and lists finished runs as a table. Layout of
``<results>/<dataset>-<model>-<loss>-<hash12>/`` (after DomainBed's sweep store,
facebookresearch/DomainBed ``domainbed/scripts/sweep.py``):

===================  =========================================================================
``identity.json``    what the numbers depend on (``RunConfig.identity()``); its hash names the
                     directory
``config.json``      the whole ``RunConfig``, execution fields and ``labels`` included
``run.json``         how it ran: resolved device, host, torch version, start, wall time
``history.csv``      one row per finished epoch: losses, validation metrics, lr, seconds
``last.pt``          resume state after the last finished epoch (model, optimiser, scheduler,
                     RNG states, best-so-far, history); deleted once the run is done
``best.pt``          model weights of the epoch with the best validation macro-F1
``metrics.json``     ``best_epoch``, ``class_names``, ``class_counts`` (images per class in
                     each part), ``skipped_images`` and the ``val`` and ``test`` blocks of
                     ``lmf.classification.metrics.classification_metrics`` (per-class values keyed by class)
``predictions.npz``  test ``logits``, ``labels`` and sample ``ids`` of the best epoch
``done``             written last: the run is complete
===================  =========================================================================

Segmentation runs (``lmf.seg.train``) live in the same store with the same files; their
``config.json`` says ``"task": "segmentation"``, their ``metrics.json`` holds the scores of
``lmf.seg.metrics`` and their ``predictions.npz`` the predicted and true test masks.
:func:`load_runs` lists the runs of one task.

Every file is written through :mod:`lmf.core.atomic` (temporary name, fsync, rename), so a killed run
never leaves a file that looks complete. A directory whose ``done`` marker is not backed by
every file of a finished run (present, its JSON readable) is *damaged*: it is reported, never
read, and trained again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from lmf.core.atomic import storage_error, write_atomically, write_bytes
from lmf.core.errors import DataError, unknown_choice
from lmf.core.paths import results_dir

IDENTITY, CONFIG, RUN_INFO = "identity.json", "config.json", "run.json"
HISTORY, METRICS, PREDICTIONS = "history.csv", "metrics.json", "predictions.npz"
LAST, BEST, DONE = "last.pt", "best.pt", "done"
CHECKPOINTS = {"last": LAST, "best": BEST}
#: The files a finished run must have beside its ``done`` marker.
FINISHED_FILES = (IDENTITY, CONFIG, HISTORY, METRICS, PREDICTIONS, BEST)
LOGS = "logs"


# ------------------------------------------------------------------------------------ names


def run_id(identity: Mapping) -> str:
    """``<dataset>-<model>-<loss>-<first 12 hex digits of sha256(identity json, sorted keys)>``.

    Numbers are canonical before hashing (1 and 1.0 hash alike; NumPy scalars as Python ones).
    """
    canonical = json.dumps(plain(identity, integral_as_int=True), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    readable = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", str(identity[k]))
                        for k in ("dataset", "model", "loss"))
    return f"{readable}-{digest}"


def run_dir(identity: Mapping, results: str | Path | None = None) -> Path:
    """The directory of the run with ``identity`` under ``results`` (default
    ``lmf.core.paths.results_dir()``)."""
    return root(results) / run_id(identity)


def root(results: str | Path | None) -> Path:
    """The run store's folder: ``results`` or ``lmf.core.paths.results_dir()``."""
    return Path(results).expanduser().resolve() if results is not None else results_dir()


# ---------------------------------------------------------------------------------- states


def is_done(path: str | Path) -> bool:
    """True when the run in ``path`` finished: its ``done`` marker and every file it vouches for
    exist."""
    path = Path(path)
    return (path / DONE).is_file() and not missing_files(path)


def missing_files(path: str | Path) -> list[str]:
    """The files of a finished run that ``path`` lacks, or whose JSON cannot be read (a copy cut
    short)."""
    return [name for name in FINISHED_FILES if not _readable(Path(path) / name)]


#: What the readers of ``metrics.json`` (``load_runs``, the tables) take from every run.
METRICS_KEYS = ("best_epoch", "test", "class_counts")


def _readable(file: Path) -> bool:
    """Whether ``file`` exists and looks whole, cheaply enough to ask for every run listed:
    JSON parses (``metrics.json`` with the keys readers need), and a checkpoint or ``.npz`` is
    a zip archive whose central directory can be read (it is written last, so a file cut short
    has none); nothing is loaded."""
    if not file.is_file():
        return False
    if file.suffix in (".pt", ".npz"):
        return _whole_zip(file)
    if file.suffix != ".json":
        return True
    try:
        content = json.loads(file.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return False
    if file.name == METRICS:
        return isinstance(content, dict) and all(key in content for key in METRICS_KEYS)
    return True


def _whole_zip(file: Path) -> bool:
    """Whether ``file`` is a zip archive (what torch.save and np.savez write) with entries."""
    try:
        with zipfile.ZipFile(file) as archive:
            return bool(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def is_damaged(path: str | Path) -> bool:
    """True when ``path`` has a ``done`` marker that its files do not back."""
    path = Path(path)
    return (path / DONE).is_file() and bool(missing_files(path))


def discard_done_marker(path: str | Path) -> list[str]:
    """Remove the ``done`` marker of a damaged run (so it is trained again); return what was
    missing."""
    missing = missing_files(path)
    (Path(path) / DONE).unlink(missing_ok=True)
    return missing


def is_legacy(path: str | Path) -> bool:
    """True for a finished run written before run directories recorded their identity: its
    name hashes another recipe of fields, so it is never matched and would be trained again."""
    path = Path(path)
    return (path / DONE).is_file() and (path / CONFIG).is_file() and not (path / IDENTITY).is_file()


# ----------------------------------------------------------------------------------- reading


def load_metrics(path: str | Path) -> dict:
    """``metrics.json`` of a finished run."""
    return _read_json(_finished(path, METRICS))


def load_history(path: str | Path) -> pd.DataFrame:
    """``history.csv``: one row per finished epoch (also readable while a run is going)."""
    file = Path(path) / HISTORY
    return pd.read_csv(file) if file.is_file() else pd.DataFrame()


def load_config(path: str | Path) -> dict:
    """``config.json`` as plain data (``lmf.classification.config.RunConfig.from_dict`` makes it a config)."""
    file = Path(path) / CONFIG
    if not file.is_file():
        raise DataError(f"{path} is not a run directory (no {CONFIG})")
    return _read_json(file)


def load_predictions(path: str | Path) -> dict:
    """The test predictions of the best epoch, sample ``ids`` (N str) included: ``logits``
    (N×K float32) and ``labels`` (N) of a classification run, ``pred`` and ``true`` masks
    (N×H×W uint8) of a segmentation run."""
    with np.load(_finished(path, PREDICTIONS)) as data:
        arrays = {name: data[name] for name in data.files}
    return {**arrays, "ids": arrays["ids"].tolist()}


def load_checkpoint(path: str | Path, which: str = "best") -> dict:
    """A checkpoint dict (``last.pt`` or ``best.pt``) loaded on the CPU.

    Raises DataError when the file is missing, and :class:`UnreadableCheckpoint` when it is
    truncated, empty or not a checkpoint (a disk that filled up, a copy that was cut short).
    """
    import torch

    if which not in CHECKPOINTS:
        raise unknown_choice("checkpoint", which, CHECKPOINTS)
    file = Path(path) / CHECKPOINTS[which]
    if not file.is_file():
        raise DataError(f"{file} does not exist; train the run first (lmf train)")
    try:
        return torch.load(file, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a damaged file
        raise UnreadableCheckpoint(f"checkpoint {file} cannot be read ({type(error).__name__}: "
                                   f"{error})") from error


class UnreadableCheckpoint(DataError):
    """A checkpoint file exists but cannot be loaded."""


#: The task a run without a ``task`` entry in its ``config.json`` belongs to.
DEFAULT_TASK = "classification"


def task_of(config: Mapping) -> str:
    """The task of a config as plain data: ``classification`` or ``segmentation``."""
    return config.get("task", DEFAULT_TASK)


def load_runs(results: str | Path | None = None, task: str = DEFAULT_TASK) -> pd.DataFrame:
    """One row per finished run of ``task`` under ``results``.

    Columns: ``run_id``, ``run_dir``, every config field (``loss_params`` expanded into one column
    per parameter, e.g. ``alpha``, ``beta``; ``labels`` into ``dataset_id``, ``model_id``,
    ``profile``; other non-scalar values as JSON text), ``best_epoch``, every scalar metric as
    ``val_<name>`` and ``test_<name>`` (no ``val_`` ones for a run without a val split), and
    the test block's mappings per run as ``test_<name>`` (classification: ``test_per_class_f1``,
    ``test_per_class_recall``, ``test_support``, class -> value; segmentation: ``test_per_class``) and
    ``class_counts`` (part -> class -> images, or pixels, the run saw).

    Damaged runs (a ``done`` marker without the files) and runs of an earlier layout are left
    out with a warning that says what happens to them.
    """
    folder = root(results)
    paths = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    rows, damaged, legacy = [], [], 0
    for path in paths:
        if is_legacy(path):
            legacy += 1
        elif is_damaged(path):
            damaged.append(path.name)
        elif is_done(path):
            try:
                if task_of(load_config(path)) == task:
                    rows.append(_row(path))
            except (DataError, ValueError, KeyError) as error:
                damaged.append(f"{path.name} ({error})")
    _warn_unread(folder, damaged, legacy)
    return pd.DataFrame(rows, columns=None if rows else ["run_id", "run_dir"])


def _warn_unread(folder: Path, damaged: list[str], legacy: int) -> None:
    if damaged:
        warnings.warn(f"{len(damaged)} damaged run(s) in {folder} are not read and will be "
                      f"trained again: {', '.join(damaged[:5])}", stacklevel=3)
    if legacy:
        warnings.warn(f"{legacy} run(s) in {folder} were written by an earlier version of lmf "
                      "(no identity.json) and are not read: their configurations will be trained "
                      "again. Delete those folders to free their space.", stacklevel=3)


def _row(path: Path) -> dict:
    config = load_config(path)
    metrics = load_metrics(path)
    row: dict = {"run_id": path.name, "run_dir": str(path)}
    for key, value in config.items():
        if key in ("loss_params", "labels"):
            row.update(value)
        else:
            row[key] = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
    row["best_epoch"] = metrics["best_epoch"]
    for part in ("val", "test"):
        for name, value in metrics.get(part, {}).items():  # a run may have no val split
            if isinstance(value, int | float):
                row[f"{part}_{name}"] = value
    for name, value in metrics["test"].items():
        if isinstance(value, dict):
            row[f"test_{name}"] = value
    row["class_counts"] = metrics["class_counts"]
    return row


def _read_json(file: Path):
    try:
        return json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{file} is not valid JSON ({error})") from error


def _finished(path: str | Path, name: str) -> Path:
    if not is_done(path):
        raise DataError(f"run {path} is not finished (no '{DONE}' marker backed by its files); "
                        "train it first")
    return Path(path) / name


# ----------------------------------------------------------------------------------- writing


def write_json(path: Path, data) -> None:
    write_bytes(path, json.dumps(plain(data), indent=2, sort_keys=True).encode())


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_bytes(path, frame.to_csv(index=False).encode())


def write_npz(path: Path, compress: bool = False, **arrays) -> None:
    """``arrays`` as one ``.npz`` file; ``compress`` for arrays that compress well (masks)."""
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    write_bytes(path, buffer.getvalue())


def write_checkpoint(path: Path, state: dict) -> None:
    import torch

    write_atomically(path, lambda temporary: torch.save(state, temporary))


def mark_done(path: Path) -> None:
    write_bytes(path / DONE, b"")


def make_run_dir(path: Path) -> Path:
    """Create the run's directory (and the store), or say clearly why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise storage_error(error, path.parent) from error
    return path


# ------------------------------------------------------------------------------------- locks


def lock_path(identity: Mapping, results) -> Path:
    return root(results) / LOGS / f"{run_id(identity)}.lock"


@contextlib.contextmanager
def locked(identity: Mapping, results) -> Iterator[None]:
    """Hold the run's exclusive lock (``fcntl.flock`` on ``<results>/logs/<run_id>.lock``).

    Two processes training one config one after the other: the second waits, then finds it
    done. The kernel drops the lock when its process dies (SIGKILL included), so a killed run
    leaves no stale lock.
    """
    path = lock_path(identity, results)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115 - held for the whole block
    except OSError as error:
        raise storage_error(error, path.parent) from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_locked(identity: Mapping, results) -> bool:
    """True while some process holds the run's lock (i.e. is training it right now)."""
    path = lock_path(identity, results)
    if not path.is_file():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


# ------------------------------------------------------------------------------ plain data


def plain(value, integral_as_int: bool = False):
    """Plain JSON data: tuples as lists, NumPy scalars as Python ones, paths as text, and, when
    ``integral_as_int``, integral floats as ints (so 1 and 1.0 hash alike)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v, integral_as_int) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v, integral_as_int) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if integral_as_int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
