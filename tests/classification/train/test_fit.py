"""lmf.classification.train.fit: skip finished runs, determinism, best epoch, non-finite loss, samplers, resizing."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch

import lmf.classification.train
from lmf.classification.profiles import get_profile
from lmf.classification.train import RunConfig, fit
from lmf.core import runs
from lmf.core.batches import sample_weights, size_at
from lmf.core.errors import ConfigError, RunError

from .conftest import on_training_steps, steps_per_epoch, train_counts


def test_metrics_json_layout(finished_run):
    config, _, result = finished_run
    metrics = runs.load_metrics(result.run_dir)
    assert metrics == result.metrics
    assert 0 <= metrics["best_epoch"] < config.epochs
    assert metrics["class_names"] == [str(k) for k in range(10)]
    for part in ("val", "test"):
        block = metrics[part]
        for name in ("accuracy", "precision", "recall", "macro_f1", "balanced_accuracy", "mcc",
                     "ece"):
            assert 0 <= block[name] <= 1 or name == "mcc", name
        assert set(block["per_class_f1"]) == set(metrics["class_names"])
        assert block["macro_f1"] == pytest.approx(np.mean(list(block["per_class_f1"].values())))
    assert sum(metrics["test"]["support"].values()) == 300


def test_best_epoch_is_argmax_of_validation_macro_f1(finished_run):
    config, _, result = finished_run
    history = pd.read_csv(result.run_dir / runs.HISTORY)
    assert list(history["epoch"]) == list(range(config.epochs))
    assert history["val_macro_f1"].nunique() > 1  # the choice is not trivial
    best = int(history["val_macro_f1"].idxmax())
    assert result.metrics["best_epoch"] == best
    assert runs.load_checkpoint(result.run_dir, "best")["epoch"] == best
    # the best checkpoint evaluated again on val gives the validation score of that epoch
    assert result.metrics["val"]["macro_f1"] == pytest.approx(history["val_macro_f1"][best])
    assert list(history["lr"]) == [config.lr] * config.epochs  # lr_step 8 > 4 epochs
    assert (history["train_loss"] > 0).all()


def test_finished_run_is_not_trained_again(finished_run, monkeypatch):
    config, results, first = finished_run
    files = sorted(first.run_dir.iterdir())
    stamps = [path.stat().st_mtime_ns for path in files]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(lmf.classification.train._Trainer, "__init__", no_training)
    start = time.perf_counter()
    again = fit(config, results, quiet=True)
    assert time.perf_counter() - start < 5
    assert again.run_dir == first.run_dir and again.metrics == first.metrics
    assert again.history.equals(first.history)
    assert sorted(first.run_dir.iterdir()) == files
    assert [path.stat().st_mtime_ns for path in files] == stamps


def test_same_config_and_seed_give_identical_results(finished_run, tmp_path):
    config, _, first = finished_run
    second = fit(config, tmp_path, quiet=True)
    for part in ("val", "test"):
        assert second.metrics[part] == first.metrics[part]
    a, b = runs.load_predictions(first.run_dir), runs.load_predictions(second.run_dir)
    assert np.array_equal(a["logits"], b["logits"]) and a["ids"] == b["ids"]
    columns = [c for c in first.history if c != "seconds"]
    pd.testing.assert_frame_equal(first.history[columns], second.history[columns])


def test_results_do_not_depend_on_the_callers_thread_count(finished_run, tmp_path):
    """CPU reductions are chunked per thread, so fit trains with ``config.threads`` whatever the
    caller set, and gives the caller its own count back."""
    config, _, first = finished_run
    callers = torch.get_num_threads()
    torch.set_num_threads(config.threads + 2)
    try:
        second = fit(config, tmp_path, quiet=True)
        assert torch.get_num_threads() == config.threads + 2
    finally:
        torch.set_num_threads(callers)
    a, b = runs.load_predictions(first.run_dir), runs.load_predictions(second.run_dir)
    assert np.array_equal(a["logits"], b["logits"])


def test_training_uses_the_configured_threads(tiny_config, tmp_path, monkeypatch):
    seen = []

    def recording(trainer):
        seen.append(torch.get_num_threads())
        return new_model(trainer)

    new_model = lmf.classification.train._Trainer._new_model
    monkeypatch.setattr(lmf.classification.train._Trainer, "_new_model", recording)
    fit(tiny_config(epochs=1, threads=3), tmp_path, quiet=True)
    assert seen == [3]


def test_another_seed_gives_other_results(finished_run, tiny_config, tmp_path):
    config, _, first = finished_run
    other = fit(tiny_config(epochs=1, seed=config.seed + 1), tmp_path, quiet=True)
    assert other.history["train_loss"][0] != first.history["train_loss"][0]


def test_non_finite_loss_stops_with_epoch_and_step(tiny_config, tmp_path, monkeypatch):
    config = tiny_config(epochs=3)
    nan_at = steps_per_epoch() + 4
    on_training_steps(monkeypatch,
                      lambda step, targets, loss: loss * float("nan") if step == nan_at else loss)
    with pytest.raises(RunError, match=r"epoch 1 step 4\b") as error:
        fit(config, tmp_path, quiet=True)
    assert "nan" in str(error.value).lower()
    path = runs.run_dir(config.identity(), tmp_path)
    assert not runs.is_done(path) and runs.load_runs(tmp_path).empty
    last = runs.load_checkpoint(path, "last")
    assert last["epoch"] == 0
    assert all(torch.isfinite(t).all() for t in last["model"].values() if t.is_floating_point())
    assert len(runs.load_history(path)) == 1
    monkeypatch.undo()  # the cause is gone: the run resumes from epoch 1 and finishes
    result = fit(config, tmp_path, quiet=True)
    assert runs.is_done(path) and list(result.history["epoch"]) == [0, 1, 2]


def test_huge_learning_rate_is_a_run_error(tiny_config, tmp_path):
    with pytest.raises(RunError, match=r"epoch \d+ step \d+"):
        fit(tiny_config(epochs=1, lr=1e30), tmp_path, quiet=True)


@pytest.mark.parametrize(("sampler", "power"), [("balanced", 1.0), ("sqrt", 0.5)])
def test_sampler_draws_classes_with_expected_frequencies(sampler, power):
    counts = np.array([400, 100, 25, 4])
    labels = np.repeat(np.arange(4), counts)
    weights = sample_weights(labels, counts, sampler)
    draws = torch.multinomial(weights, 200_000, replacement=True,
                              generator=torch.Generator().manual_seed(0))
    observed = np.bincount(labels[draws.numpy()], minlength=4) / 200_000
    expected = counts ** (1 - power) / np.sum(counts ** (1 - power))  # n_c · n_c^-power
    np.testing.assert_allclose(observed, expected, atol=0.006)
    assert sample_weights(labels, counts, "none") is None


def _labels_seen(config, tmp_path, monkeypatch) -> np.ndarray:
    """Training labels of every step of a 1-epoch run."""
    seen = []

    def record(step, targets, loss):
        seen.append(targets.clone())
        return loss

    on_training_steps(monkeypatch, record)
    fit(config, tmp_path, quiet=True)
    return torch.cat(seen).numpy()


def test_training_uses_the_sampler(tiny_config, tmp_path, monkeypatch):
    plain = _labels_seen(tiny_config(epochs=1), tmp_path, monkeypatch)
    counts = train_counts()
    assert np.array_equal(np.bincount(plain, minlength=10), counts)  # each sample once
    balanced = _labels_seen(tiny_config(epochs=1, sampler="balanced"), tmp_path, monkeypatch)
    assert len(balanced) == counts.sum()
    # ≈ N/K draws per class instead of the long tail (7 to 114 on digits-LT)
    assert np.bincount(balanced, minlength=10).min() > counts.sum() / 20 > counts.min()


def test_resize_schedule_changes_training_size(tiny_config, tmp_path, monkeypatch):
    config = tiny_config(epochs=3, resize_schedule=((0, 8), (2, 12)))
    assert [size_at(config, e) for e in range(3)] == [8, 8, 12]
    sizes: list[tuple[bool, int]] = []
    new_model = lmf.classification.train._Trainer._new_model

    def recording(trainer):
        model = new_model(trainer)
        model.register_forward_pre_hook(
            lambda module, inputs: sizes.append((module.training, inputs[0].shape[-1])))
        return model

    monkeypatch.setattr(lmf.classification.train._Trainer, "_new_model", recording)
    result = fit(config, tmp_path, quiet=True)
    train_sizes = [size for training, size in sizes if training]
    steps = steps_per_epoch()
    assert train_sizes == [8] * 2 * steps + [12] * steps
    assert {size for training, size in sizes if not training} == {16}  # evaluation at image_size
    assert list(result.history["image_size"]) == [8, 8, 12]


@pytest.mark.parametrize(
    ("overrides", "listed"),
    [({"sampler": "oversample"}, "balanced, none, sqrt"),
     ({"loss": "hinge"}, "cce"),
     ({"dataset": "mnist"}, "digits_lt"),
     ({"model": "vgg"}, "densenet121"),
     ({"device": "tpu"}, "cuda"),
     ({"epochs": 0}, ">= 1"),
     ({"batch_size": 1}, ">= 2"),
     ({"threads": 0}, ">= 1"),
     ({"lr": -1.0}, "lr must be a number in (0, inf)"),
     ({"lr": float("inf")}, "lr must be a number in (0, inf)"),
     ({"weight_decay": float("nan")}, "[0, inf)"),
     ({"lr_gamma": 2.0}, "(0, 1]"),
     ({"epochs": 2.5}, "integer"),
     ({"augment": "yes"}, "valid choices: none, pad_crop_flip, shift"),
     ({"normalize": "cifar100"}, "valid choices: cifar, imagenet, none"),
     ({"optimizer": "rmsprop"}, "valid choices: adam, sgd"),
     ({"momentum": 1.0}, "momentum must be a number in [0, 1)"),
     ({"lr_milestones": (5,)}, "belong to lr_schedule='warmup_multistep'"),
     ({"lr_schedule": "warmup_multistep", "lr_milestones": (9, 3)}, "increasing"),
     ({"head": "cosine"}, "valid choices: linear, normed"),
     ({"selection": "train"}, "valid choices: test, val"),
     ({"resize_schedule": ((5, 16), (2, 8))}, "increasing"),
     ({"loss_params": {"alpha": 2.0}}, "valid parameters"),
     ({"split": "banana"}, "unknown split 'banana'; valid choices: group, paper"),
     ({"loss": "focal", "loss_params": {"gamma": -1.0}}, "gamma must be a number in [0"),
     ({"loss": "ldam_drw", "loss_params": {"drw_epoch": 2.7}}, "drw_epoch must be an integer"),
     ({"dataset_params": {"imbalanc": 5}}, "imbalanc"),
     ({"dataset_params": {"on_error": "ignore"}}, "valid choices: fail, skip"),
     ({"labels": ["ham10000"]}, "labels must be a dict")],
)
def test_invalid_values_are_config_errors(tiny_config, overrides, listed):
    with pytest.raises(ConfigError) as error:
        tiny_config(**overrides)
    assert listed in str(error.value)


def test_unknown_fields_and_profile_ids(tiny_config):
    with pytest.raises(ConfigError, match="valid: dataset"):
        RunConfig.from_dict({**(tiny_config()).to_dict(), "epoch": 3})
    with pytest.raises(ConfigError, match="digits_lt"):
        get_profile("cpu").config("ham10000", "resnet50", "cce")
    with pytest.raises(ConfigError, match="efficientnetv2_s"):
        get_profile("cpu").config("digits_lt", "vgg", "cce")


def test_from_profile_takes_lmf_weights_and_recipe():
    paper = get_profile("paper").config("ham10000", "efficientnetv2_s", "lmf")
    assert (paper.epochs, paper.batch_size, paper.lr, paper.weight_decay) == (100, 32, 1e-4, 5e-4)
    assert (paper.lr_step, paper.lr_gamma, paper.seed, paper.image_size) == (30, 0.1, 23, 224)
    assert paper.pretrained and (paper.augment, paper.normalize) == ("none", "none")
    assert (paper.optimizer, paper.lr_schedule, paper.head, paper.selection) == (
        "adam", "step", "linear", "val")
    assert set(paper.loss_params) == {"alpha", "beta"}
    cpu = get_profile("cpu").config("digits_lt", "resnet50", "lmf",
                                 loss_params={"beta": 0.5})
    assert cpu.loss_params == {"alpha": 1.0, "beta": 0.5}
