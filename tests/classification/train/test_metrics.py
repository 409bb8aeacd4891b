"""lmf.classification.metrics against scikit-learn, a hand-computed ECE and bootstrap properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from lmf.classification.metrics import (
    NAMED_METRICS,
    _resampled_scorer,
    bootstrap_ci,
    classification_metrics,
    mean_f1_of,
    paired_bootstrap,
    score,
)
from lmf.core.errors import ConfigError

NAMES = ["a", "b", "c", "d"]


@pytest.fixture
def labels():
    """Random labels over 4 classes where class 3 occurs but is never predicted."""
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 4, 200))
    y_pred[y_pred == 3] = 0
    return y_true, y_pred


def test_classification_metrics_match_sklearn(labels):
    y_true, y_pred = labels
    result = classification_metrics(y_true, y_pred, NAMES)
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, average="macro",
                                                     zero_division=0)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert result["precision"] == pytest.approx(p)
    assert result["recall"] == pytest.approx(r)
    assert result["macro_f1"] == pytest.approx(f)
    assert result["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    assert result["mcc"] == pytest.approx(skm.matthews_corrcoef(y_true, y_pred))
    assert result["confusion_matrix"] == skm.confusion_matrix(y_true, y_pred).tolist()
    per_class = skm.f1_score(y_true, y_pred, average=None, zero_division=0)
    assert list(result["per_class_f1"]) == NAMES
    assert list(result["per_class_f1"].values()) == pytest.approx(per_class.tolist())
    assert result["per_class_f1"]["d"] == 0.0 and result["per_class_precision"]["d"] == 0.0
    assert result["support"] == {n: int((y_true == k).sum()) for k, n in enumerate(NAMES)}
    assert "ece" not in result


def test_macro_average_counts_a_class_absent_from_test_set():
    """A class of the dataset that is neither in y_true nor y_pred still counts (F1 = 0)."""
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])
    result = classification_metrics(y_true, y_pred, ["x", "y", "z"])
    assert result["macro_f1"] == pytest.approx(2 / 3)
    assert len(result["confusion_matrix"]) == 3


def test_ece_hand_computed():
    # 15 equal bins; confidences 0.95, 0.95 (bin 14, one right) and 0.55, 0.65 (bins 8 and 9)
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.45, 0.55], [0.65, 0.35]])
    y_true = np.array([0, 1, 1, 1])
    # bin 14: |0.5 - 0.95| * 2/4; bin of 0.55: |1 - 0.55| * 1/4; bin of 0.65: |0 - 0.65| * 1/4
    expected = 0.45 * 0.5 + 0.45 * 0.25 + 0.65 * 0.25
    result = classification_metrics(y_true, probs.argmax(1), ["p", "q"], probs=probs)
    assert result["ece"] == pytest.approx(expected)


def test_ece_is_zero_when_perfectly_calibrated():
    probs = np.array([[0.75, 0.25]] * 4)
    y_true = np.array([0, 0, 0, 1])
    assert classification_metrics(y_true, probs.argmax(1), ["p", "q"], probs=probs)["ece"] == (
        pytest.approx(0.0))


def test_bootstrap_ci_contains_estimate_and_narrows(labels):
    y_true, y_pred = labels
    estimate = skm.accuracy_score(y_true, y_pred)
    low, high = bootstrap_ci("accuracy", y_true, y_pred, n_boot=400)
    assert low < estimate < high
    big_true, big_pred = np.tile(y_true, 16), np.tile(y_pred, 16)
    big_low, big_high = bootstrap_ci("accuracy", big_true, big_pred, n_boot=400)
    assert big_low < estimate < big_high
    # the width shrinks like 1/sqrt(n): 16× the samples → about a quarter of the width
    assert (big_high - big_low) == pytest.approx((high - low) / 4, rel=0.3)
    assert bootstrap_ci("accuracy", y_true, y_pred, n_boot=400) == (low, high)  # seeded


def test_bootstrap_ci_accepts_a_callable(labels):
    y_true, y_pred = labels
    low, high = bootstrap_ci(lambda t, p: np.mean(t == p), y_true, y_pred, n_boot=200)
    assert (low, high) == bootstrap_ci("accuracy", y_true, y_pred, n_boot=200)


def test_paired_bootstrap_identical_predictions(labels):
    y_true, y_pred = labels
    result = paired_bootstrap("macro_f1", y_true, y_pred, y_pred.copy(), n_boot=200)
    assert result["diff"] == 0.0 and result["low"] == 0.0 and result["high"] == 0.0
    assert result["p_value"] == 1.0


def test_paired_bootstrap_clearly_better_predictor(labels):
    y_true, y_pred = labels
    result = paired_bootstrap("accuracy", y_true, y_true.copy(), y_pred, n_boot=200)
    assert result["diff"] == pytest.approx(1 - skm.accuracy_score(y_true, y_pred))
    assert 0 < result["low"] <= result["diff"] <= result["high"]
    assert result["p_value"] == pytest.approx(2 / 201)  # no resample favours b (add-one rule)
    reverse = paired_bootstrap("accuracy", y_true, y_pred, y_true.copy(), n_boot=200)
    assert reverse["diff"] == pytest.approx(-result["diff"])
    assert reverse["p_value"] == result["p_value"]


def test_bad_metric_arguments(labels):
    y_true, y_pred = labels
    with pytest.raises(ConfigError, match="macro_f1"):
        bootstrap_ci("f2", y_true, y_pred)
    with pytest.raises(ConfigError):
        classification_metrics(y_true, y_pred[:-1], NAMES)
    with pytest.raises(ConfigError):
        bootstrap_ci("accuracy", y_true, y_pred, level=1.5)


@pytest.mark.parametrize("metric", sorted(NAMED_METRICS))
def test_batched_bootstrap_scores_equal_scikit_learn_on_every_resample(metric):
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 5, size=60)
    y_pred = np.where(rng.random(60) < 0.5, y_true, rng.integers(0, 6, size=60))  # 6: never true
    rows = np.stack([rng.integers(0, 60, size=60) for _ in range(40)])
    rows[0] = np.flatnonzero(y_true == 0)[0]  # one resample of a single class: degenerate cases
    labels = np.union1d(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns on classes absent from a resample
        expected = [NAMED_METRICS[metric](y_true[i], y_pred[i], labels) for i in rows]
    got = _resampled_scorer(metric, y_true, y_pred)(y_true, y_pred, rows)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_balanced_accuracy_and_counted_class_f1_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 6, 40)
    y_true[y_true == 5] = 4  # class 5 absent from the truth ...
    y_pred = np.where(rng.random(40) < 0.5, y_true, rng.integers(0, 6, 40))
    y_pred[y_pred == 2] = 1  # ... class 2 never predicted
    with pytest.warns(UserWarning, match="not in y_true"):  # scikit-learn warns, drops class 5
        expected = skm.balanced_accuracy_score(y_true, y_pred)
    assert score("balanced_accuracy", y_true, y_pred) == pytest.approx(expected, abs=1e-12)
    for classes in ([2], [0, 5], [4, 1, 3], [7]):  # 7: neither true nor predicted -> F1 0
        assert mean_f1_of(classes)(y_true, y_pred) == pytest.approx(
            skm.f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0),
            abs=1e-12)
    with pytest.raises(ConfigError, match="at least one class"):
        mean_f1_of([])
