"""What the run store does when its files or its disk fail: damaged checkpoints and markers,
full and read-only disks, stale temporaries, runs of an earlier layout, concurrent trainers; and
mistakes that used to pass silently (float targets, fractional epochs, a diverging loss)."""

from __future__ import annotations

import errno
import io
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import lmf.classification.train
import lmf.data.cache
import lmf.data.content
from lmf.classification.train import fit
from lmf.cli import main
from lmf.core import runs
from lmf.core.errors import ConfigError, DataError, RunError, StorageError
from lmf.losses import LOSSES, build_loss
from lmf.sweep import ensure, status

from .conftest import on_training_steps, steps_per_epoch, tiny, tree_config

#: The lmf train arguments of ``tiny_config(epochs=1)`` (the same identity).
TRAIN_ARGS = ("train", "--model", "timm:test_resnet", "--loss", "cce", "--epochs", "1",
              "--image-size", "16", "--lr", "0.01", "--device", "cpu", "--quiet")


def same_numbers(metrics: dict) -> dict:
    """``metrics.json`` without the wall-clock time."""
    return {**metrics, "train_seconds": 0}


def temporaries(folder) -> list[str]:
    """Hidden ``.<name>.tmp-<pid>-<random>`` files and folders anywhere under ``folder``."""
    return [p.name for p in folder.rglob(".*.tmp-*")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted two-epoch tiny run: (config, RunResult)."""
    config = tiny(epochs=2)
    return config, fit(config, tmp_path_factory.mktemp("reference"), quiet=True)


def torch_file(value) -> bytes:
    """What ``torch.save(value, file)`` writes."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def stop_after_epoch_0(config, results, monkeypatch) -> None:
    """Train ``config`` until the first step of epoch 1, then stop as Ctrl-C would."""
    first_of_epoch_1 = steps_per_epoch()

    def interrupt(step, targets, loss):
        if step == first_of_epoch_1:
            raise KeyboardInterrupt
        return loss

    with monkeypatch.context() as patch:
        on_training_steps(patch, interrupt)
        with pytest.raises(KeyboardInterrupt):
            fit(config, results, quiet=True)


# ------------------------------------------------------------------------ damaged files


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # a copy cut short
    lambda data: b"",  # a disk that filled up before the first byte
    lambda data: b"not a checkpoint at all\n" * 40,
    lambda data: torch_file({"model": {"weight": torch.zeros(2)}, "epoch": 0}),  # weights only
], ids=["truncated", "empty", "garbage", "not-a-resume-state"])
def test_unreadable_last_checkpoint_restarts_the_run(reference, tmp_path, monkeypatch, damage):
    config, expected = reference
    stop_after_epoch_0(config, tmp_path, monkeypatch)
    last = runs.run_dir(config.identity(), tmp_path) / runs.LAST
    assert runs.load_checkpoint(last.parent, "last")["epoch"] == 0
    last.write_bytes(damage(last.read_bytes()))
    with pytest.warns(UserWarning, match=r"last\.pt cannot be read.*starts again from epoch 0"):
        result = fit(config, tmp_path, quiet=True)
    assert same_numbers(result.metrics) == same_numbers(expected.metrics)
    assert list(result.history["epoch"]) == [0, 1]
    assert not last.exists() and runs.is_done(last.parent)


#: Damages of a finished run: the file damaged and what is done to its bytes.
DAMAGES = {
    "metrics lost": (runs.METRICS, None),
    "metrics cut short": (runs.METRICS, lambda data: data[:100]),
    "metrics emptied": (runs.METRICS, lambda data: b"{}"),
    "best.pt cut short": (runs.BEST, lambda data: data[: len(data) // 2]),
}


@pytest.fixture(params=DAMAGES)
def damaged_run(request, tiny_config, tmp_path):
    """A finished one-epoch run with one file lost or damaged (``DAMAGES``):
    (config, results, metrics, name of the damaged file)."""
    config, results = tiny_config(epochs=1), tmp_path / "results"
    metrics = fit(config, results, quiet=True).metrics
    name, damage = DAMAGES[request.param]
    file = runs.run_dir(config.identity(), results) / name
    if damage is None:
        file.unlink()
    else:
        file.write_bytes(damage(file.read_bytes()))
    return config, results, metrics, name


def test_load_runs_skips_a_done_marker_without_its_files(damaged_run):
    config, results, _, _ = damaged_run
    with pytest.warns(UserWarning, match=rf"1 damaged run.*trained again: {config.run_id}"):
        assert runs.load_runs(results).empty


def test_sweep_reports_a_damaged_run_missing_and_trains_it_again(damaged_run):
    config, results, metrics, name = damaged_run
    assert status([config], results=results) == {"done": 0, "running": 0, "missing": 1,
                                                  "total": 1}
    with pytest.warns(UserWarning, match=rf"marked done but lacks \(or cannot read\) {name}"):
        table = ensure([config], results=results)
    assert list(table["run_id"]) == [config.run_id]
    assert same_numbers(runs.load_metrics(table["run_dir"][0])) == same_numbers(metrics)
    assert status([config], results=results)["done"] == 1
    assert runs.load_checkpoint(table["run_dir"][0], "best")["epoch"] == metrics["best_epoch"]


def test_cli_train_trains_a_damaged_run_again(damaged_run, capsys):
    config, results, metrics, name = damaged_run
    with pytest.warns(UserWarning, match=rf"marked done but lacks \(or cannot read\) {name}"):
        assert main([*TRAIN_ARGS, "--results", str(results)]) == 0
    path = runs.run_dir(config.identity(), results)
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(path)
    assert same_numbers(runs.load_metrics(path)) == same_numbers(metrics)


def test_runs_of_an_earlier_layout_are_reported_as_to_be_trained_again(finished_run, tmp_path):
    config, _, result = finished_run
    results = tmp_path / "results"
    shutil.copytree(result.run_dir, results / result.run_dir.name)
    legacy = results / "digits_lt-resnet50-cce-0123456789ab"
    legacy.mkdir()
    runs.write_json(legacy / runs.CONFIG, config.to_dict())
    runs.mark_done(legacy)
    with pytest.warns(UserWarning, match=r"1 run\(s\) .* earlier version .* will be trained again"):
        table = runs.load_runs(results)
    assert list(table["run_id"]) == [result.run_dir.name]


# ---------------------------------------------------------------------------------- storage


def full_disk_in_torch_save(monkeypatch) -> None:
    """``torch.save`` writes a few bytes, then the disk is full."""
    def save(state, file):
        with open(file, "wb") as handle:
            handle.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", save)


def read_only_rename(monkeypatch) -> None:
    def replace(source, target):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize(("fault", "advice"), [
    (full_disk_in_torch_save, "the disk is full"),
    (read_only_rename, "the file system is read-only"),
], ids=["full-disk", "read-only"])
def test_storage_faults_are_one_error_naming_the_folder(tiny_config, tmp_path, monkeypatch,
                                                        fault, advice):
    config = tiny_config(epochs=1)
    path = runs.run_dir(config.identity(), tmp_path)
    with monkeypatch.context() as patch:
        fault(patch)
        with pytest.raises(StorageError) as error:
            fit(config, tmp_path, quiet=True)
    assert str(error.value).startswith(f"cannot write to {path}: {advice}")
    assert temporaries(tmp_path) == []
    assert not (path / runs.LAST).exists() and not (path / runs.BEST).exists()
    assert not runs.is_done(path)
    assert runs.is_done(fit(config, tmp_path, quiet=True).run_dir)  # rerunning continues


def chmod_read_only(folder, monkeypatch) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder.chmod(0o500)


def refused_mkdir(folder, monkeypatch) -> None:
    """What a read-only folder does to the store's first write, for runs as root."""
    mkdir = pathlib.Path.mkdir

    def refusing(path, *args, **kwargs):
        if path.parent == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return mkdir(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", refusing)


@pytest.mark.parametrize("refuse", [chmod_read_only, refused_mkdir], ids=["chmod", "simulated"])
def test_unwritable_results_folder_is_one_error_naming_it(tiny_config, tmp_path, monkeypatch,
                                                          refuse):
    results = tmp_path / "results"
    results.mkdir()
    refuse(results, monkeypatch)
    try:
        with pytest.raises(StorageError, match=rf"^cannot write to {results}: permission denied"):
            fit(tiny_config(epochs=1), results, quiet=True)
        assert list(results.iterdir()) == []
    finally:
        results.chmod(0o700)


def test_cli_train_on_a_full_disk_exits_2_with_one_line(tiny_config, tmp_path, monkeypatch,
                                                        capsys):
    full_disk_in_torch_save(monkeypatch)
    assert main([*TRAIN_ARGS, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    path = runs.run_dir(tiny_config(epochs=1).identity(), tmp_path)
    assert err.splitlines() == [err.strip()]
    assert err.startswith(f"lmf train: error: cannot write to {path}: the disk is full")


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 3 MiB tmpfs mounted at ``tmp_path/full`` (needs root; skipped where mount fails)."""
    folder = tmp_path / "full"
    folder.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(folder)],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {mount.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_cli_train_onto_a_really_full_disk_is_one_line_naming_the_folder(small_tmpfs):
    results = small_tmpfs / "R"
    command = [sys.executable, "-m", "lmf.cli", "train", "--profile", "cpu", "--epochs", "1",
               "--image-size", "16", "--results", str(results), "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    [run] = [p for p in results.iterdir() if p.name != runs.LOGS]
    assert line.startswith(f"lmf train: error: cannot write to {run}: the disk is full")
    assert temporaries(results) == []


def test_stale_temporaries_of_dead_processes_are_removed_on_the_next_start(tiny_config, tmp_path):
    config = tiny_config(epochs=1)
    path = runs.make_run_dir(runs.run_dir(config.identity(), tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = path / f".best.pt.tmp-{dead.pid}-x"
    alive = path / f".last.pt.tmp-{os.getppid()}-y"  # a process that still runs
    for file in (stale, alive):
        file.write_bytes(b"partial")
    fit(config, tmp_path, quiet=True)
    assert not stale.exists() and alive.exists()


def test_cache_that_does_not_fit_the_disk_is_refused_before_writing(image_tree, data_home,
                                                                    tmp_path, monkeypatch):
    root = image_tree(tmp_path / "tree")
    free = shutil.disk_usage(tmp_path)._replace(free=10 * 2**20)
    monkeypatch.setattr(lmf.data.cache.shutil, "disk_usage", lambda folder: free)
    refused = r"cannot build the image cache in .*: it needs .* KiB and 10\.0 MiB are free"
    with pytest.raises(StorageError, match=refused):
        fit(tree_config(root, epochs=1), tmp_path / "results", quiet=True)
    written = [p for p in data_home.rglob("*") if p.is_file()]
    assert [p.name for p in written] == [lmf.data.content.CACHE_NAME]  # digests, no image cache
    assert temporaries(data_home) == []
    assert [p.name for p in (tmp_path / "results").iterdir()] == [runs.LOGS]  # no run folder


# ------------------------------------------------------------------------------------ locks


def test_a_device_that_is_not_there_leaves_nothing_in_the_store(tiny_config, tmp_path):
    results = tmp_path / "results"
    with pytest.raises(ConfigError, match=r"device 'cuda:9' requested but"):
        fit(tiny_config(epochs=1, device="cuda:9"), results, quiet=True)
    assert not results.exists() or [p for p in results.rglob("*") if p.is_file()] == []


def test_the_run_is_locked_while_it_trains(tiny_config, tmp_path, monkeypatch):
    config = tiny_config(epochs=1)
    seen = []

    def check(step, targets, loss):
        seen.append(runs.is_locked(config.identity(), tmp_path))
        return loss

    on_training_steps(monkeypatch, check)
    fit(config, tmp_path, quiet=True)
    assert seen and all(seen)
    assert not runs.is_locked(config.identity(), tmp_path)


#: child: trains the tiny run, sleeping in its first training step
SLOW_TRAINER = textwrap.dedent("""
    import json, sys, time
    import lmf.classification.train
    from lmf.classification.train import RunConfig, fit

    new_criterion = lmf.classification.train._Trainer._new_criterion

    def slow(trainer):
        time.sleep(3)
        return new_criterion(trainer)

    lmf.classification.train._Trainer._new_criterion = slow
    fit(RunConfig.from_dict(json.loads(sys.argv[1])), sys.argv[2], quiet=True)
""")


@pytest.mark.slow
def test_a_second_trainer_waits_for_the_first_and_finds_the_run_done(tiny_config, tmp_path,
                                                                      monkeypatch, capsys):
    config = tiny_config(epochs=1)
    first = subprocess.Popen([sys.executable, "-c", SLOW_TRAINER,
                              json.dumps(runs.plain(config.to_dict())), str(tmp_path)])
    deadline = time.monotonic() + 120
    while not runs.is_locked(config.identity(), tmp_path):
        assert first.poll() is None and time.monotonic() < deadline, "the first trainer ended"
        time.sleep(0.1)

    def no_training(*args, **kwargs):
        raise AssertionError("the second trainer trained the run again")

    monkeypatch.setattr(lmf.classification.train._Trainer, "__init__", no_training)
    assert main([*TRAIN_ARGS, "--results", str(tmp_path)]) == 0  # waits on the lock
    assert first.wait(timeout=120) == 0
    path = runs.run_dir(config.identity(), tmp_path)
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(path)
    assert runs.is_done(path)


# ---------------------------------------------------------------------- silent made loud


@pytest.mark.parametrize("name", LOSSES)
def test_float_targets_are_a_config_error(name):
    loss = build_loss(name, np.array([30, 10, 5]))
    logits, targets = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    assert torch.isfinite(loss(logits, targets))
    with pytest.raises(ConfigError, match="targets must be integer class indices"):
        loss(logits, targets.float())


def test_cli_fractional_drw_epoch_exits_2(tmp_path, capsys):
    assert main(["train", "--loss", "ldam_drw", "--drw-epoch", "2.7",
                 "--results", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "lmf train: error: --drw-epoch must be a whole number of epochs, got 2.7")
    assert list(tmp_path.iterdir()) == []


def test_diverging_run_finishes_with_a_warning_in_metrics(tiny_config, tmp_path, monkeypatch):
    """From epoch 1 the reported training loss is 101 times the loss (gradients unchanged)."""
    grows_at = steps_per_epoch()
    on_training_steps(monkeypatch, lambda step, targets, loss:
                      loss + 100 * loss.detach() if step >= grows_at else loss)
    with pytest.warns(UserWarning, match="the run diverged; lower the learning rate"):
        result = fit(tiny_config(epochs=2), tmp_path, quiet=True)
    first, last = result.history["train_loss"]
    assert last > 10 * first
    assert result.metrics["warnings"] == [
        f"training loss grew from {first:.4g} (epoch 0) to {last:.4g} (epoch 1): the run "
        "diverged; lower the learning rate"]
    assert runs.load_metrics(result.run_dir)["warnings"] == result.metrics["warnings"]


def test_a_steady_run_has_no_warnings(finished_run):
    assert finished_run[2].metrics["warnings"] == []


def test_non_finite_validation_outputs_are_a_run_error(tiny_config, tmp_path, monkeypatch):
    new_model = lmf.classification.train._Trainer._new_model

    def nan_in_eval(trainer):
        model = new_model(trainer)
        forward = model.forward
        model.forward = lambda x: forward(x) * (float("nan") if not model.training else 1.0)
        return model

    monkeypatch.setattr(lmf.classification.train._Trainer, "_new_model", nan_in_eval)
    config = tiny_config(epochs=1)
    with pytest.raises(RunError, match="val outputs are not finite"):
        fit(config, tmp_path, quiet=True)
    path = runs.run_dir(config.identity(), tmp_path)
    assert not (path / runs.DONE).exists() and runs.load_runs(tmp_path).empty


def test_images_skipped_when_preparing_are_left_out_of_training(image_tree, trees, tmp_path,
                                                                capsys):
    root = image_tree(tmp_path / "tree")
    trees.truncate(root / "train" / "a" / "img1.png")
    config = tree_config(root, epochs=1)
    with pytest.raises(DataError, match="img1.png") as error:
        fit(config, tmp_path / "results", quiet=True)
    [advised] = re.findall(r"`(lmf data prepare [^`]+)`", str(error.value))  # what it says to do
    assert main([*shlex.split(advised)[1:], "--quiet"]) == 0
    result = fit(config, tmp_path / "results", quiet=True)
    assert result.metrics["skipped_images"] == 1
    assert result.metrics["class_counts"]["train"] == {"a": 5, "b": 4}
