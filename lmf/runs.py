"""The run store: one directory per training run, named by a hash of its full configuration.

Layout of ``<results>/<dataset>-<model>-<loss>-<hash12>/`` (after DomainBed's sweep store,
facebookresearch/DomainBed ``domainbed/scripts/sweep.py``):

==================  ==========================================================================
``config.json``     the ``RunConfig`` (sorted keys; its hash names the directory)
``history.csv``     one row per finished epoch: losses, validation metrics, lr, seconds
``last.pt``         checkpoint after the last finished epoch (model, optimiser, scheduler, RNG
                    states, best-so-far, history): what a resumed run starts from
``best.pt``         model weights of the epoch with the best validation macro-F1
``metrics.json``    ``best_epoch``, ``class_names`` and the ``val`` and ``test`` blocks of
                    ``lmf.metrics.classification_metrics`` for the best epoch
``predictions.npz`` test ``logits``, ``labels`` and sample ``ids`` of the best epoch
``done``            written last: the run is complete
==================  ==========================================================================

Every file is written to a temporary name and renamed (``os.replace`` is atomic), so a killed run
never leaves a file that looks complete, and a directory without ``done`` is unfinished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lmf.errors import DataError
from lmf.paths import results_dir

CONFIG, HISTORY, METRICS, PREDICTIONS = "config.json", "history.csv", "metrics.json", "predictions.npz"
LAST, BEST, DONE = "last.pt", "best.pt", "done"
CHECKPOINTS = {"last": LAST, "best": BEST}


def config_dict(config) -> dict:
    """The configuration as JSON-ready plain data (a dataclass or a dict)."""
    data = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    return _plain(data)


def run_id(config) -> str:
    """``<dataset>-<model>-<loss>-<first 12 hex digits of sha256(config json, sorted keys)>``.

    Numbers are canonical before hashing (1 and 1.0 hash alike; NumPy scalars as Python ones).
    """
    data = config_dict(config)
    canonical = json.dumps(_plain(data, integral_as_int=True), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    readable = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", str(data[k])) for k in ("dataset", "model", "loss"))
    return f"{readable}-{digest}"


def run_dir(config, results: str | Path | None = None) -> Path:
    """The directory of ``config``'s run under ``results`` (default ``lmf.paths.results_dir()``)."""
    return _root(results) / run_id(config)


def is_done(path: str | Path) -> bool:
    """True when the run in ``path`` finished (its ``done`` marker exists)."""
    return (Path(path) / DONE).is_file()


def load_metrics(path: str | Path) -> dict:
    """``metrics.json`` of a finished run."""
    return json.loads(_finished(path, METRICS).read_text())


def load_history(path: str | Path) -> pd.DataFrame:
    """``history.csv``: one row per finished epoch (also readable while a run is going)."""
    file = Path(path) / HISTORY
    return pd.read_csv(file) if file.is_file() else pd.DataFrame()


def load_config(path: str | Path):
    """The ``lmf.train.RunConfig`` stored in ``config.json``."""
    from lmf.train import RunConfig  # the store is below the engine; import on use

    file = Path(path) / CONFIG
    if not file.is_file():
        raise DataError(f"{path} is not a run directory (no {CONFIG})")
    return RunConfig.from_dict(json.loads(file.read_text()))


def load_predictions(path: str | Path) -> dict:
    """Test ``logits`` (N×K float32), ``labels`` (N) and sample ``ids`` (N str) of the best epoch."""
    with np.load(_finished(path, PREDICTIONS)) as data:
        return {"logits": data["logits"], "labels": data["labels"], "ids": data["ids"].tolist()}


def load_checkpoint(path: str | Path, which: str = "best") -> dict:
    """A checkpoint dict (``last.pt`` or ``best.pt``) loaded on the CPU."""
    from lmf.errors import unknown_choice

    if which not in CHECKPOINTS:
        raise unknown_choice("checkpoint", which, CHECKPOINTS)
    file = Path(path) / CHECKPOINTS[which]
    if not file.is_file():
        raise DataError(f"{file} does not exist; train the run first (lmf train)")
    return torch.load(file, map_location="cpu", weights_only=False)


def load_model(path: str | Path, which: str = "best") -> torch.nn.Module:
    """The trained model of a run (``best`` or ``last`` epoch) on the CPU, in eval mode."""
    from lmf.models import build_model

    config = load_config(path)
    checkpoint = load_checkpoint(path, which)
    model = build_model(config.model, len(checkpoint["class_names"]), pretrained=False)
    model.load_state_dict(checkpoint["model"])
    return model.eval()


def load_runs(results: str | Path | None = None) -> pd.DataFrame:
    """One row per finished run under ``results``.

    Columns: ``run_id``, ``run_dir``, every config field (``loss_params`` expanded into one column
    per parameter, e.g. ``alpha``, ``beta``; other non-scalar values as JSON text), ``best_epoch``
    and every scalar metric as ``val_<name>`` and ``test_<name>``.
    """
    root = _root(results)
    rows = [_row(path) for path in sorted(root.iterdir()) if is_done(path)] if root.is_dir() else []
    return pd.DataFrame(rows, columns=None if rows else ["run_id", "run_dir"])


def _row(path: Path) -> dict:
    config = json.loads((path / CONFIG).read_text())
    metrics = load_metrics(path)
    row: dict = {"run_id": path.name, "run_dir": str(path)}
    for key, value in config.items():
        if key == "loss_params":
            row.update(value)
        else:
            row[key] = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
    row["best_epoch"] = metrics["best_epoch"]
    for part in ("val", "test"):
        for name, value in metrics[part].items():
            if isinstance(value, int | float):
                row[f"{part}_{name}"] = value
    return row


def write_json(path: Path, data) -> None:
    _atomic(path, json.dumps(_plain(data), indent=2, sort_keys=True).encode())


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    _atomic(path, frame.to_csv(index=False).encode())


def write_npz(path: Path, **arrays) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _atomic(path, buffer.getvalue())


def write_checkpoint(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    _atomic(path, buffer.getvalue())


def mark_done(path: Path) -> None:
    _atomic(path / DONE, b"")


def _atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a temporary sibling, flush it to disk, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _finished(path: str | Path, name: str) -> Path:
    if not is_done(path):
        raise DataError(f"run {path} is not finished (no '{DONE}' marker); train it first")
    return Path(path) / name


def _root(results: str | Path | None) -> Path:
    return Path(results).expanduser() if results is not None else results_dir()


def _plain(value, integral_as_int: bool = False):
    """Plain JSON data: tuples as lists, NumPy scalars as Python ones, paths as text, and, when
    ``integral_as_int``, integral floats as ints (so 1 and 1.0 hash alike)."""
    if isinstance(value, dict):
        return {str(k): _plain(v, integral_as_int) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v, integral_as_int) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if integral_as_int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
