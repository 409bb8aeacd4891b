"""lmf.classification.report.scholz: balanced accuracy and minority-class F1 per loss × sampler against
scikit-learn on hand-built predictions, with intervals and the paired difference to CE/random."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from lmf.classification.report.scholz import minority_class_f1, minority_labels, scholz_table
from lmf.core.errors import DataError

NAMES = ["a", "b", "c", "d", "e", "f"]
TRAIN = {"a": 90, "b": 60, "c": 40, "d": 20, "e": 9, "f": 4}  # minority: f, e (rarest third)
RNG = np.random.default_rng(3)
LABELS = np.repeat(np.arange(6), 8)
IDS = [f"img{i}" for i in range(len(LABELS))]


def _noisy(labels, wrong: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flip = rng.random(len(labels)) < wrong
    return np.where(flip, rng.integers(0, 6, len(labels)), labels)


PREDICTED = {"ce": _noisy(LABELS, 0.5, 1), "f1": _noisy(LABELS, 0.2, 2), "mcc": _noisy(LABELS, 0.3, 4)}


def _logits(predicted):
    return np.eye(6, dtype=np.float32)[predicted] + RNG.normal(0, 0.01, (len(predicted), 6))


def _store(shuffle_f1: bool = False):
    """Fake readers of three runs; the soft-F1 run lists its test images in another order."""
    predictions = {}
    for name, predicted in PREDICTED.items():
        order = np.random.default_rng(5).permutation(len(LABELS)) if (
            shuffle_f1 and name == "f1") else np.arange(len(LABELS))
        predictions[name] = {"logits": _logits(predicted)[order], "labels": LABELS[order],
                             "ids": [IDS[i] for i in order]}
    runs = pd.DataFrame([
        {"run_id": name, "run_dir": name, "dataset": "digits_lt", "model": "timm:resnet10t",
         "dataset_id": "digits_lt", "model_id": "resnet50", "seed": 23, "loss": loss,
         "sampler": sampler, "class_counts": {"train": TRAIN},
         "test_per_class_f1": dict(zip(NAMES, f1_score(LABELS, PREDICTED[name], average=None),
                                       strict=True))}
        for name, loss, sampler in (("f1", "soft_f1", "balanced"), ("ce", "cce", "none"),
                                    ("mcc", "ce_soft_mcc", "sqrt"))])
    return runs, predictions.__getitem__, lambda run_dir: {"class_names": NAMES}


def test_minority_labels_are_the_rarest_third_as_indices():
    assert minority_labels(TRAIN, NAMES) == [5, 4]


@pytest.mark.parametrize("shuffle", [False, True])
def test_scores_and_differences_match_scikit_learn(shuffle):
    runs, load_predictions, load_metrics = _store(shuffle_f1=shuffle)
    table = scholz_table(runs, "cpu", load_predictions, load_metrics, n_boot=100).set_index("loss")
    assert list(table.index) == ["cce", "soft_f1", "ce_soft_mcc"]  # the losses' order
    assert table.loc["soft_f1", "sampler"] == "class-balanced"
    assert table.loc["cce", "sampler"] == "random"
    assert table.loc["soft_f1", "minority"] == "f, e"
    for name, loss in (("ce", "cce"), ("f1", "soft_f1"), ("mcc", "ce_soft_mcc")):
        predicted = PREDICTED[name]
        balanced = 100 * balanced_accuracy_score(LABELS, predicted)
        minority = 100 * f1_score(LABELS, predicted, average=None)[[4, 5]].mean()
        row = table.loc[loss]
        assert row.balanced_accuracy == pytest.approx(balanced)
        assert row.minority_f1 == pytest.approx(minority)
        for score in ("balanced_accuracy", "minority_f1"):
            assert row[f"{score}_low"] <= row[score] <= row[f"{score}_high"]
            assert row[f"{score}_high"] - row[f"{score}_low"] > 1  # 48 images: wide intervals
    reference = table.loc["cce"]
    assert reference[["diff_balanced_accuracy", "p_minority_f1"]].isna().all()
    for loss, name in (("soft_f1", "f1"), ("ce_soft_mcc", "mcc")):
        row = table.loc[loss]
        assert row.diff_balanced_accuracy == pytest.approx(100 * (
            balanced_accuracy_score(LABELS, PREDICTED[name])
            - balanced_accuracy_score(LABELS, PREDICTED["ce"])))
        assert row.diff_minority_f1 == pytest.approx(row.minority_f1 - reference.minority_f1)
        assert row.diff_minority_f1_low <= row.diff_minority_f1 <= row.diff_minority_f1_high
        assert 0 < row.p_balanced_accuracy <= 1
    # soft F1's predictions are far better than CE's: the paired interval excludes 0
    assert table.loc["soft_f1", "diff_balanced_accuracy_low"] > 0


def test_the_interval_is_the_percentile_bootstrap_of_scikit_learns_score():
    runs, load_predictions, load_metrics = _store()
    table = scholz_table(runs, "cpu", load_predictions, load_metrics, n_boot=300, level=0.9,
                         seed=7).set_index("loss")
    rng = np.random.default_rng(7)  # the same resamples, scored here by scikit-learn
    values = []
    for _ in range(300):
        i = rng.integers(0, len(LABELS), len(LABELS))
        values.append(f1_score(LABELS[i], PREDICTED["f1"][i], labels=[5, 4], average="macro",
                               zero_division=0))
    low, high = np.percentile(values, [5, 95])
    assert table.loc["soft_f1", "minority_f1_low"] == pytest.approx(100 * low)
    assert table.loc["soft_f1", "minority_f1_high"] == pytest.approx(100 * high)


def test_runs_on_other_images_cannot_be_paired():
    runs, load_predictions, load_metrics = _store()

    def other_labels(run_dir):
        data = dict(load_predictions(run_dir))
        if run_dir == "f1":
            data["labels"] = np.roll(data["labels"], 1)
        return data

    with pytest.raises(DataError, match="cannot be paired"):
        scholz_table(runs, "cpu", other_labels, load_metrics, n_boot=10)


def test_minority_class_f1_lists_each_minority_class_per_run():
    runs, _, _ = _store()
    table = minority_class_f1(runs, "cpu")
    assert len(table) == 3 * 2
    rows = table[table.loss == "soft_f1"].set_index("class")
    expected = 100 * f1_score(LABELS, PREDICTED["f1"], average=None)
    assert rows.loc["f", "f1"] == pytest.approx(expected[5])
    assert rows.loc["e", "train_samples"] == 9
