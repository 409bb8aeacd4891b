"""Resume: a run SIGKILLed mid-way continues from last.pt and ends exactly like an uninterrupted one.

The run is trained in a child process that is killed with SIGKILL (no clean-up of any kind), then
finished in this process; the reference is the shared uninterrupted run of the same config.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmf.classification.train import fit
from lmf.core import runs

from .conftest import on_training_steps, steps_per_epoch

#: child: trains the run; with STOP_AT >= 0, training step STOP_AT (counted over epochs) writes
#: the marker file and waits to be killed
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import torch
    import lmf.classification.train
    from lmf.classification.train import RunConfig, fit
    config = RunConfig.from_dict({config!r})
    marker, stop_at = Path({marker!r}), {stop_at}
    new_criterion, calls = lmf.classification.train._Trainer._new_criterion, [0]

    def stopping(trainer):
        loss = new_criterion(trainer)
        forward = loss.forward

        def step(logits, targets):
            if torch.is_grad_enabled():
                if calls[0] == stop_at:
                    marker.write_text("stopped")
                    time.sleep(600)
                calls[0] += 1
            return forward(logits, targets)

        loss.forward = step
        return loss

    lmf.classification.train._Trainer._new_criterion = stopping
    fit(config, {results!r}, quiet=True)
""")


def _start_child(config, results: Path, stop_at: int = -1) -> tuple[subprocess.Popen, Path]:
    marker = results.parent / "stopped"
    code = CHILD.format(config=config.to_dict(),
                        marker=str(marker), stop_at=stop_at, results=str(results))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    return child, marker


def _wait_for(path: Path, child: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert child.poll() is None, f"child ended early with status {child.returncode}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def _kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL


def _assert_same_run(resumed, reference) -> None:
    for part in ("val", "test"):
        assert resumed.metrics[part] == reference.metrics[part]
    assert resumed.metrics["best_epoch"] == reference.metrics["best_epoch"]
    a, b = runs.load_predictions(resumed.run_dir), runs.load_predictions(reference.run_dir)
    assert np.array_equal(a["logits"], b["logits"])
    assert np.array_equal(a["labels"], b["labels"]) and a["ids"] == b["ids"]
    columns = [c for c in reference.history if c != "seconds"]
    pd.testing.assert_frame_equal(resumed.history[columns], reference.history[columns])


@pytest.mark.slow
def test_resume_after_sigkill_mid_epoch(finished_run, tmp_path):
    config, _, reference = finished_run
    results = tmp_path / "results"
    child, marker = _start_child(config, results, stop_at=steps_per_epoch() + 5)  # epoch 1 step 5
    try:
        _wait_for(marker, child)
    finally:
        _kill(child)
    path = runs.run_dir(config.identity(), results)
    assert not runs.is_done(path)
    assert runs.load_checkpoint(path, "last")["epoch"] == 0  # epoch 1 was under way
    _assert_same_run(fit(config, results, quiet=True), reference)


@pytest.mark.slow
def test_resume_after_sigkill_when_first_checkpoint_appears(finished_run, tmp_path):
    config, _, reference = finished_run
    results = tmp_path / "results"
    path = runs.run_dir(config.identity(), results)
    child, _ = _start_child(config, results)
    try:
        _wait_for(path / runs.LAST, child)
    finally:
        _kill(child)
    assert not runs.is_done(path)  # killed before the end: the resume below is exercised
    _assert_same_run(fit(config, results, quiet=True), reference)


def test_resume_restores_scheduler_sampler_and_augmentation(tiny_config, tmp_path, monkeypatch):
    """An in-process interruption (a failing epoch 1) with every random stream in use: the shuffled
    square-root sampler, augmentation and a per-epoch LR decay."""

    config = tiny_config(epochs=3, sampler="sqrt", augment=True, lr_step=2, lr_gamma=0.5)
    reference = fit(config, tmp_path / "reference", quiet=True)
    assert list(reference.history["lr"]) == pytest.approx([1e-2, 1e-2, 5e-3])
    stop_at = steps_per_epoch() + 6  # epoch 1, step 6

    def failing_in_epoch_1(step, targets, loss):
        if step == stop_at:
            raise KeyboardInterrupt  # like Ctrl-C
        return loss

    on_training_steps(monkeypatch, failing_in_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        fit(config, tmp_path / "resumed", quiet=True)
    monkeypatch.undo()
    assert runs.load_checkpoint(runs.run_dir(config.identity(), tmp_path / "resumed"), "last")["epoch"] == 0
    _assert_same_run(fit(config, tmp_path / "resumed", quiet=True), reference)


def test_worker_processes_read_the_same_batches(tiny_config, tmp_path):
    inline = fit(tiny_config(epochs=1), tmp_path / "inline", quiet=True)
    workers = fit(tiny_config(epochs=1, workers=1), tmp_path / "workers", quiet=True)
    assert inline.run_dir.name == workers.run_dir.name  # DataLoader workers: the same run
    _assert_same_run(workers, inline)
