"""What every training engine shares: the store protocol of one run, determinism, random state.

``train_once(config, results, train)`` is the protocol of ``lmf.classification.train.fit`` (classification) and
``lmf.seg.train.fit`` (segmentation): a finished run is returned as it is; otherwise the store's
lock is taken (so two processes train a config once), a ``done`` marker that its files do not back
is discarded with a warning, and ``train(identity, path)`` runs under :func:`deterministic`.

``rng_state``/``restore_rng`` capture and restore every random stream a run draws from (Python,
NumPy, torch, CUDA, and the run's own generators), so that a run resumed from its checkpoint ends
with exactly the numbers of an uninterrupted one on the CPU.
"""

from __future__ import annotations

import contextlib
import datetime
import platform
import random
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lmf.core import numerics, runs
from lmf.core.devices import resolve_device


@dataclass
class RunResult:
    """A finished run: its directory, ``metrics.json`` and ``history.csv``."""

    run_dir: Path
    metrics: dict
    history: pd.DataFrame


def train_once(config, results, train: Callable[[dict, Path], None]) -> RunResult:
    """Train ``config`` with ``train(identity, run_dir)`` unless it is done; return the run."""
    identity = config.identity()
    path = runs.run_dir(identity, results)
    if runs.is_done(path):
        return finished(path)
    resolve_device(config.device)  # a device that is not there fails before the store is touched
    with runs.locked(identity, results):
        if not runs.is_done(path):  # another process may have finished it while we waited
            if runs.is_damaged(path):
                missing = runs.discard_done_marker(path)
                warnings.warn(f"run {path.name} was marked done but lacks (or cannot read) "
                              f"{', '.join(missing)}; training it again", stacklevel=3)
            with deterministic(config):
                train(identity, path)
    return finished(path)


def finished(path: Path) -> RunResult:
    return RunResult(path, runs.load_metrics(path), runs.load_history(path))


def resume_state(path: Path) -> dict | None:
    """The run's ``last.pt``, or ``None`` when there is none; an unreadable one (a full disk, a
    cut copy, a torch file that is not a resume state) is removed with ``best.pt`` and a warning,
    and the run starts from scratch."""
    if not (path / runs.LAST).is_file():
        return None
    try:
        return _resume_keys_present(path, runs.load_checkpoint(path, "last"))
    except runs.UnreadableCheckpoint as error:
        warnings.warn(f"{error}; run {path.name} starts again from epoch 0 (same config and "
                      "seed give the same result)", stacklevel=4)
        (path / runs.LAST).unlink()
        (path / runs.BEST).unlink(missing_ok=True)
        return None


#: What the trainers take from ``last.pt`` to continue a run.
RESUME_KEYS = ("model", "optimizer", "scheduler", "best_score", "best_epoch", "history", "epoch",
               "rng")


def _resume_keys_present(path: Path, state) -> dict:
    """``state`` when it is a resume state; an UnreadableCheckpoint when it is another torch file
    (a model's weights copied over ``last.pt``) that the trainer could not continue from."""
    keys = state if isinstance(state, dict) else {}
    lacking = [key for key in RESUME_KEYS if key not in keys]
    if lacking:
        raise runs.UnreadableCheckpoint(f"checkpoint {path / runs.LAST} cannot be read as a "
                                        f"resume state (it lacks {', '.join(lacking)})")
    return state


def run_info(device: torch.device, started: datetime.datetime, seconds: float,
             data_root: str | None) -> dict:
    """``run.json``: how a run executed (device, host, versions, start and end, data root, and
    the CPU numerics in effect with the library builds and the lock's digest,
    ``lmf.core.numerics.record``)."""
    cuda = device.type == "cuda"
    return {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if cuda else platform.processor(),
        "host": socket.gethostname(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "train_seconds": seconds,
        "data_root": data_root,
        "numerics": numerics.record(),
    }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def deterministic(config):
    """Deterministic kernels and ``config.threads`` intra-op threads on the CPU for the duration
    of a run (both restored afterwards)."""
    if resolve_device(config.device).type != "cpu":
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    previous_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(config.threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)
        torch.set_num_threads(previous_threads)


def rng_state(device: torch.device, **generators: torch.Generator) -> dict:
    """Every random state of the process plus the run's named ``generators``."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
        **{name: generator.get_state() for name, generator in generators.items()},
    }


def restore_rng(state: dict, device: torch.device, **generators: torch.Generator) -> None:
    """Undo :func:`rng_state`: the process's streams and the named ``generators``."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state_all(state["cuda"])
    for name, generator in generators.items():
        generator.set_state(state[name])
