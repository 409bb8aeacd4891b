"""lmf.core.runs: hash-named run directories, atomic files, load_runs and the loaders."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from lmf.classification.train import RunConfig, fit, load_model
from lmf.core import runs
from lmf.data import prepare, to_tensor

#: a valid value different from the tiny config's, for every field of a run's identity
#: (``dataset`` is changed with its data root, in the test)
CHANGED = {
    "model": "timm:test_efficientnet", "loss": "lmf",  # lmf also takes gamma
    "dataset_params": {"imbalance": 5}, "split": "group",
    "loss_params": {"gamma": 2.0}, "epochs": 3, "batch_size": 16, "lr": 2e-3,
    "weight_decay": 0.0, "lr_step": 3, "lr_gamma": 0.5, "image_size": 24, "seed": 1,
    "pretrained": True, "weights": "/w.pt", "augment": True, "normalize": True,
    "sampler": "sqrt", "resize_schedule": ((0, 8),), "amp": False,
    "channels_last": False, "compile": True, "threads": 2,
    "optimizer": "sgd", "momentum": 0.5, "lr_schedule": "warmup_multistep", "warmup_epochs": 2,
    "lr_milestones": (2,), "head": "normed", "selection": "test",
}
#: fields that are valid only together with another change
COMPANIONS = {"warmup_epochs": {"lr_schedule": "warmup_multistep"},
              "lr_milestones": {"lr_schedule": "warmup_multistep"}}
#: where and how a run executes: other values, the same run
EXECUTION = {"device": "auto", "workers": 2, "labels": {"dataset_id": "elsewhere"}}


def test_run_id_is_stable(tiny_config):
    config = tiny_config()
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert config.run_id == tiny_config().run_id == again.run_id
    assert config.run_id.startswith("digits_lt-timm_test_resnet-cce-")
    assert runs.run_dir(config.identity(), "/r") == runs.run_dir(config.identity(), "/r/") == (
        runs.run_dir(config.identity(), "/r").parent / config.run_id)


def test_run_id_changes_with_every_identity_field(tiny_config, tmp_path, trees):
    config = tiny_config(loss="focal")
    # a new field needs a case here
    assert set(CHANGED) | set(EXECUTION) | {"dataset", "data_root"} == set(RunConfig.fields())
    ids = {config.run_id}
    for name, value in CHANGED.items():
        changed = dataclasses.replace(config, **{name: value, **COMPANIONS.get(name, {})})
        assert getattr(changed, name) != getattr(config, name), name
        ids.add(changed.run_id)
    tree = trees.imagefolder(tmp_path / "tree", {p: {"a": 2, "b": 2} for p in ("train", "val",
                                                                                 "test")})
    ids.add(dataclasses.replace(config, dataset="imagefolder", data_root=str(tree)).run_id)
    assert len(ids) == len(CHANGED) + 2


def test_where_and_how_a_run_executes_is_not_its_identity(tiny_config):
    config = tiny_config(device="cpu")
    for name, value in EXECUTION.items():
        assert dataclasses.replace(config, **{name: value}).run_id == config.run_id, name
    assert "labels" not in config.identity() and "data" in config.identity()


def test_atomic_write_never_leaves_a_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    runs.write_json(target, {"a": 1})

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        runs.write_json(target, {"a": 2, "b": list(range(1000))})
    assert json.loads(target.read_text()) == {"a": 1}


def test_done_is_written_last_and_the_resume_state_dropped(tiny_config, tmp_path, monkeypatch):
    written = []
    write_bytes, write_atomically = runs.write_bytes, runs.write_atomically

    def record(write):
        def recording(path, payload):
            write(path, payload)
            written.append(path.name)
        return recording

    monkeypatch.setattr(runs, "write_bytes", record(write_bytes))
    monkeypatch.setattr(runs, "write_atomically", record(write_atomically))
    result = fit(tiny_config(epochs=1), tmp_path, quiet=True)
    assert written[-1] == runs.DONE and written.count(runs.DONE) == 1
    assert {runs.IDENTITY, runs.CONFIG, runs.RUN_INFO, runs.HISTORY, runs.METRICS,
            runs.PREDICTIONS, runs.LAST, runs.BEST} <= set(written[:-1])
    assert not [p for p in result.run_dir.iterdir() if ".tmp" in p.name]
    assert not (result.run_dir / runs.LAST).exists() and (result.run_dir / runs.BEST).is_file()


def test_failure_while_finishing_leaves_run_unfinished(tiny_config, tmp_path, monkeypatch):
    config = tiny_config(epochs=1)

    def crash(path, **arrays):
        raise OSError("killed while writing predictions")

    monkeypatch.setattr(runs, "write_npz", crash)
    with pytest.raises(OSError):
        fit(config, tmp_path, quiet=True)
    path = runs.run_dir(config.identity(), tmp_path)
    assert not runs.is_done(path) and (path / runs.LAST).is_file()
    assert runs.load_runs(tmp_path).empty
    monkeypatch.undo()
    assert fit(config, tmp_path, quiet=True).metrics["best_epoch"] == 0  # finishes from last.pt
    assert runs.is_done(path)


def test_load_runs_one_row_per_finished_run(finished_run, tiny_config, tmp_path):
    config, _, shared = finished_run
    lmf_config = tiny_config("lmf", epochs=1, loss_params={"alpha": 0.5, "beta": 2.0})
    results = tmp_path / "results"
    first = fit(config, results, quiet=True)
    second = fit(lmf_config, results, quiet=True)
    unfinished = runs.run_dir(tiny_config(seed=99).identity(), results)
    unfinished.mkdir()
    runs.write_json(unfinished / runs.CONFIG, tiny_config(seed=99).to_dict())
    (results / "notes.txt").write_text("not a run")

    table = runs.load_runs(results)
    assert len(table) == 2
    assert set(table["run_id"]) == {first.run_dir.name, second.run_dir.name}
    row = table.set_index("run_id").loc[second.run_dir.name]
    assert (row["alpha"], row["beta"], row["loss"], row["epochs"]) == (0.5, 2.0, "lmf", 1)
    for result in (first, second):
        row = table.set_index("run_id").loc[result.run_dir.name]
        assert row["run_dir"] == str(result.run_dir)
        assert row["best_epoch"] == result.metrics["best_epoch"]
        for part in ("val", "test"):
            for name in ("accuracy", "precision", "recall", "macro_f1", "mcc", "ece"):
                assert row[f"{part}_{name}"] == result.metrics[part][name]
    assert runs.load_runs(tmp_path / "nothing").empty
    # same config in another store: same numbers (only the wall-clock time differs)
    assert {**shared.metrics, "train_seconds": 0} == {**first.metrics, "train_seconds": 0}


def test_predictions_and_model_round_trip(finished_run):
    config, _, result = finished_run
    predictions = runs.load_predictions(result.run_dir)
    test = prepare(config.dataset, size=config.image_size).part("test")
    assert predictions["ids"] == list(test.ids)
    assert np.array_equal(predictions["labels"], test.labels)
    assert predictions["logits"].shape == (len(test.labels), 10)
    macro_f1 = skm.f1_score(test.labels, predictions["logits"].argmax(1), average="macro",
                            labels=range(10), zero_division=0)
    assert result.metrics["test"]["macro_f1"] == pytest.approx(macro_f1)

    model = load_model(result.run_dir)
    assert not model.training
    with torch.no_grad():
        logits = model(to_tensor(test.images))
    np.testing.assert_allclose(logits.numpy(), predictions["logits"], rtol=1e-4, atol=1e-4)
    assert RunConfig.from_dict(runs.load_config(result.run_dir)) == config
    assert runs.load_checkpoint(result.run_dir, "best")["epoch"] == result.metrics["best_epoch"]
