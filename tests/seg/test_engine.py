"""The segmentation engine: what a finished run holds, determinism across processes, resuming
after an interruption, early stopping, progressive resizing, oversampling, and segmentation runs
in the shared store and sweeps."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import lmf.seg.train
from lmf.core import runs
from lmf.core.errors import ConfigError
from lmf.seg.config import SegConfig
from lmf.seg.metrics import segmentation_scores
from lmf.seg.train import fit, load_seg_model, oversampling_weights, run_data
from lmf.sweep import ensure


def tiny(**fields) -> SegConfig:
    values = {"dataset": "digits_seg", "dataset_params": {"n_images": 60},
              "model": "attention_unet_small", "loss": "ce", "epochs": 2, "image_size": 32,
              "batch_size": 8, "lr": 0.05, "device": "cpu", **fields}
    return SegConfig(**values)


def same_numbers(metrics: dict) -> dict:
    return {**metrics, "train_seconds": 0}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    config = tiny()
    return config, fit(config, tmp_path_factory.mktemp("seg_reference"), quiet=True)


def test_a_finished_run_scores_the_masks_its_best_model_predicts(reference):
    config, result = reference
    metrics = result.metrics
    assert runs.is_done(result.run_dir)
    assert metrics["epochs_run"] == 2 and metrics["best_epoch"] in (0, 1)
    assert metrics["class_names"][0] == "background"
    test = run_data(config)["test"]
    counts = metrics["class_counts"]["test"]
    assert sum(counts.values()) == test.masks.size
    predictions = runs.load_predictions(result.run_dir)
    assert np.array_equal(predictions["true"], test.masks)
    model = load_seg_model(result.run_dir)
    with torch.no_grad():
        images = torch.as_tensor(test.images).permute(0, 3, 1, 2).float() / 255
        predicted = model(images).argmax(1).numpy()
    assert np.array_equal(predicted, predictions["pred"])
    expected = segmentation_scores(predicted, test.masks, len(metrics["class_names"]))
    for score in ("iou", "dsc", "precision", "recall"):
        assert metrics["test"][score] == pytest.approx(expected[score])
    history = result.history
    assert list(history["epoch"]) == [0, 1]
    assert history.loc[metrics["best_epoch"], "val_dsc"] == history["val_dsc"].max()


def test_the_same_config_gives_the_same_numbers_in_another_process(reference, tmp_path):
    config, result = reference
    script = ("import json, sys; from lmf.seg.config import SegConfig; from lmf.seg.train import "
              "fit; r = fit(SegConfig.from_dict(json.loads(sys.argv[1])), sys.argv[2], quiet=True)"
              "; print(r.run_dir)")
    done = subprocess.run([sys.executable, "-c", script, json.dumps(config.to_dict()),
                           str(tmp_path)], capture_output=True, text=True, check=True)
    other = runs.load_metrics(done.stdout.strip().splitlines()[-1])
    assert same_numbers(other) == same_numbers(result.metrics)


def test_a_run_interrupted_after_an_epoch_resumes_to_the_same_numbers(reference, tmp_path,
                                                                       monkeypatch):
    config, result = reference
    original = lmf.seg.train._SegTrainer._train_epoch

    def stop_at_epoch_1(self, epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(lmf.seg.train._SegTrainer, "_train_epoch", stop_at_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        fit(config, tmp_path, quiet=True)
    path = runs.run_dir(config.identity(), tmp_path)
    assert (path / runs.LAST).is_file() and not runs.is_done(path)
    monkeypatch.setattr(lmf.seg.train._SegTrainer, "_train_epoch", original)
    resumed = fit(config, tmp_path, quiet=True)
    assert same_numbers(resumed.metrics) == same_numbers(result.metrics)
    assert not (path / runs.LAST).exists()


def test_early_stopping_ends_the_run_after_patience_epochs_without_a_better_dsc(tmp_path,
                                                                                 monkeypatch):
    scores = segmentation_scores
    falling = iter([0.5, 0.4, 0.45, 0.3, 0.9])  # validation DSC of epochs 0, 1, 2, (3, 4)

    def epoch_scores(pred, true, num_classes=None):
        values = scores(pred, true, num_classes)
        if len(calls) < 3:
            values["dsc"] = next(falling)
        calls.append(1)
        return values

    calls = []
    monkeypatch.setattr(lmf.seg.train, "segmentation_scores", epoch_scores)
    result = fit(tiny(epochs=5, patience=2), tmp_path, quiet=True)
    assert result.metrics["best_epoch"] == 0
    assert result.metrics["epochs_run"] == 3
    assert list(result.history["val_dsc"]) == [0.5, 0.4, 0.45]


def test_progressive_resizing_trains_each_stage_at_its_size(tmp_path):
    result = fit(tiny(epochs=3, resize_schedule=((0, 16), (2, 32))), tmp_path, quiet=True)
    assert list(result.history["image_size"]) == [16, 16, 32]
    assert np.asarray(runs.load_predictions(result.run_dir)["pred"]).shape[1:] == (32, 32)


def test_oversampling_gives_the_images_with_the_rarest_class_half_the_draws():
    masks = np.zeros((5, 4, 4), dtype=np.uint8)
    masks[0, 0, :] = 1  # class 1: 4 + 3 pixels in images 0, 1
    masks[1, 1, :3] = 1
    masks[2, 0, 0] = 2  # class 2, the rarest: 1 pixel in images 2 and 3
    masks[3, 0, 0] = 2
    weights = oversampling_weights(masks, 3).numpy()
    assert np.allclose(weights, [1 / 6, 1 / 6, 1 / 4, 1 / 4, 1 / 6])
    assert oversampling_weights(np.ones((3, 2, 2), dtype=np.uint8), 2) is None


def test_segmentation_runs_are_listed_apart_from_classification_runs(reference):
    _, result = reference
    results = result.run_dir.parent
    assert runs.load_runs(results).empty
    rows = runs.load_runs(results, "segmentation")
    assert list(rows["run_id"]) == [result.run_dir.name]
    assert rows.loc[0, "test_dsc"] == result.metrics["test"]["dsc"]


def test_a_sweep_trains_segmentation_configs_through_the_shared_launchers(reference, tmp_path):
    config, result = reference
    other = tiny(loss="unified_focal", labels={"dataset_id": "Digits-Seg", "model_id": "UNet"})
    rows = ensure([config, other], results=tmp_path, quiet=True)
    assert list(rows["loss"]) == ["ce", "unified_focal"]
    assert rows.loc[1, "model_id"] == "UNet"
    ce = runs.load_metrics(tmp_path / rows.loc[0, "run_id"])
    assert same_numbers(ce) == same_numbers(result.metrics)


def test_the_identity_leaves_out_where_a_run_executes_and_writes_out_defaults():
    base = tiny()
    assert tiny(device="auto", workers=2, labels={"model_id": "UNet"}).run_id == base.run_id
    assert tiny(loss="unified_focal", loss_params={"lam": 0.5}).run_id == \
        tiny(loss="unified_focal").run_id
    assert tiny(loss="unified_focal", loss_params={"lam": 0.3}).run_id != \
        tiny(loss="unified_focal").run_id
    assert tiny(seed=24).run_id != base.run_id
    assert base.identity()["task"] == "segmentation"
    assert SegConfig.from_dict(base.to_dict()) == base


@pytest.mark.parametrize(("fields", "message"), [
    ({"fold": 2}, "fold belongs to split='cv'"),
    ({"split": "cv", "fold": 7}, "fold must be 0 … 4 for 5-fold cross-validation, got 7"),
    ({"split": "cv", "fold": 5}, "fold must be 0 … 4"),
    ({"image_size": 36}, "multiples of 8"),
    ({"resize_schedule": ((0, 20),)}, "multiples of"),
    ({"pretrained": True}, "no ImageNet weights"),
    ({"sampler": "smote"}, "sampler"),
    ({"attention": "sas", "model": "segnet_small"}, "attention"),
    ({"loss": "lovasz"}, "lovasz"),
    ({"epochs": 0}, "epochs"),
    ({"patience": 0}, "patience"),
    ({"device": "gpu"}, "device"),
])
def test_bad_configs_are_refused_before_anything_runs(fields, message):
    with pytest.raises(ConfigError, match=message):
        tiny(**fields)


def test_from_dict_refuses_unknown_fields_and_classification_configs():
    with pytest.raises(ConfigError, match="unknown SegConfig field"):
        SegConfig.from_dict({**tiny().to_dict(), "selection": "val"})
    with pytest.raises(ConfigError, match="classification run"):
        SegConfig.from_dict({**tiny().to_dict(), "task": "classification"})
