"""Classification metrics, calibration and bootstrap intervals.

The paper reports accuracy, macro precision and recall (``zero_division=0``), macro F1 and
per-class F1, all from scikit-learn (Sadi et al., LMF paper; authors' repository
Adnan-Sadi/LMFLOSS, ``utils.py``). Here every score is a fraction in [0, 1]; tables multiply by
100 to compare with the paper's percentages. Macro averages run over **all** ``K`` classes of the
dataset (``labels=range(K)``), so a class that is never predicted counts with F1 = 0.

Beyond the paper: balanced accuracy, Matthews correlation coefficient, the confusion matrix,
expected calibration error (Guo et al. 2017, equal-width confidence bins) and percentile bootstrap
intervals (Efron & Tibshirani 1993) for one model or for the difference between two models on the
same test set (paired bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn import metrics as skm

from lmf.core.errors import ConfigError, unknown_choice

Metric = Callable[[np.ndarray, np.ndarray], float]


def classification_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    class_names: Sequence[str],
    probs: np.ndarray | None = None,
) -> dict:
    """All scores of one set of predictions; label ``k`` is ``class_names[k]``.

    Returns a dict with accuracy, precision, recall, macro_f1 (macro averages, zero_division=0),
    balanced_accuracy, mcc, per_class_f1 / per_class_precision / per_class_recall / support
    (dicts class name -> value), confusion_matrix (list of rows: true class, columns: predicted)
    and, when ``probs`` (N×K softmax probabilities) is given, ece.
    """
    y_true, y_pred = _labels(y_true, y_pred)
    names = [str(name) for name in class_names]
    labels = np.arange(len(names))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    result = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
        "mcc": float(skm.matthews_corrcoef(y_true, y_pred)),
        "per_class_f1": dict(zip(names, map(float, f1), strict=True)),
        "per_class_precision": dict(zip(names, map(float, precision), strict=True)),
        "per_class_recall": dict(zip(names, map(float, recall), strict=True)),
        "support": dict(zip(names, map(int, support), strict=True)),
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    if probs is not None:
        result["ece"] = expected_calibration_error(y_true, probs)
    return result


def expected_calibration_error(y_true: Sequence[int], probs: np.ndarray, n_bins: int = 15) -> float:
    """ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b| (Guo et al. 2017, Eq. 3).

    Confidence is the top softmax probability, a prediction is correct when its argmax is the true
    label; bins are ``n_bins`` equal-width intervals (lo, hi] of [0, 1].
    """
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true)
    if probs.ndim != 2 or len(probs) != len(y_true):
        raise ConfigError(f"probs must be N×K with N = {len(y_true)}, got shape {probs.shape}")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        members = bins == b
        ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


def bootstrap_ci(
    metric: str | Metric,
    y_true: Sequence[int],
    y_pred: Sequence[int],
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric`` over test samples drawn with replacement."""
    y_true, y_pred = _labels(y_true, y_pred)
    scores = _resampled_scorer(metric, y_true, y_pred)
    return _percentiles(scores(y_true, y_pred, _resamples(len(y_true), n_boot, seed)), level)


def paired_bootstrap(
    metric: str | Metric,
    y_true: Sequence[int],
    pred_a: Sequence[int],
    pred_b: Sequence[int],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Paired bootstrap of ``metric(a) − metric(b)`` on the same test samples.

    Each resample draws test indices once and scores both models on them. Returns ``diff`` (on the
    full test set), ``low``/``high`` (percentile interval at ``level``) and a two-sided
    ``p_value`` = 2 · min(P*(d ≤ 0), P*(d ≥ 0)) with the add-one correction (1 + count)/(1 + B),
    capped at 1.
    """
    y_true, pred_a = _labels(y_true, pred_a)
    _, pred_b = _labels(y_true, pred_b)
    both = np.concatenate([pred_a, pred_b])
    scores = _resampled_scorer(metric, y_true, both)
    resamples = _resamples(len(y_true), n_boot, seed)
    diffs = scores(y_true, pred_a, resamples) - scores(y_true, pred_b, resamples)
    low, high = _percentiles(diffs, level)
    tail = min(np.sum(diffs <= 0), np.sum(diffs >= 0))
    whole = np.arange(len(y_true))[None]
    return {
        "diff": float(scores(y_true, pred_a, whole)[0] - scores(y_true, pred_b, whole)[0]),
        "low": low,
        "high": high,
        "p_value": float(min(1.0, 2 * (1 + tail) / (1 + n_boot))),
    }


def score(metric: str | Metric, y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """``metric`` (a name of ``NAMED_METRICS`` or a callable) on the whole sample, computed as
    the bootstrap computes it on each resample."""
    y_true, y_pred = _labels(y_true, y_pred)
    whole = np.arange(len(y_true))[None]
    return float(_resampled_scorer(metric, y_true, y_pred)(y_true, y_pred, whole)[0])


def mean_f1_of(classes: Sequence[int]) -> Metric:
    """The metric ``(y_true, y_pred) -> (1/|C|) Σ_{k∈C} 2·tp_k / (n_true_k + n_pred_k)`` over
    the classes ``C`` (F1 = 0 where both counts are 0): scikit-learn's ``f1_score(labels=C,
    average="macro", zero_division=0)``, counted with ``np.bincount`` like
    :func:`balanced_accuracy`."""
    chosen = np.asarray(list(classes), dtype=np.int64)
    if chosen.size == 0:
        raise ConfigError("mean_f1_of needs at least one class")

    def score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        size = int(max(y_true.max(), y_pred.max(), chosen.max())) + 1
        hits = np.bincount(y_true[y_true == y_pred], minlength=size)[chosen]
        counts = (np.bincount(y_true, minlength=size) + np.bincount(y_pred, minlength=size))[chosen]
        return float(np.mean(np.where(counts > 0, 2 * hits / np.maximum(counts, 1), 0.0)))

    return score


#: Named metrics for the bootstrap: name -> f(y_true, y_pred, labels).
NAMED_METRICS: dict[str, Callable[..., float]] = {
    "accuracy": lambda t, p, labels: skm.accuracy_score(t, p),
    "precision": lambda t, p, labels: skm.precision_score(
        t, p, labels=labels, average="macro", zero_division=0
    ),
    "recall": lambda t, p, labels: skm.recall_score(
        t, p, labels=labels, average="macro", zero_division=0
    ),
    "macro_f1": lambda t, p, labels: skm.f1_score(
        t, p, labels=labels, average="macro", zero_division=0
    ),
    "balanced_accuracy": lambda t, p, labels: skm.balanced_accuracy_score(t, p),
    "mcc": lambda t, p, labels: skm.matthews_corrcoef(t, p),
}


def _resampled_scorer(metric: str | Metric, y_true: np.ndarray, y_pred: np.ndarray):
    """A function ``(y_true, y_pred, resamples) -> scores`` (one score per row of the B×N index
    matrix ``resamples``). Named macro metrics average over every class seen in the full sample
    (``y_true`` and ``y_pred`` given here), so each resample averages over the same classes.

    Named metrics are computed from B confusion matrices at once (``_confusions``), with the
    formulas of scikit-learn's ``NAMED_METRICS``; the tests check both agree on every resample.
    A callable is called once per resample.
    """
    if callable(metric):
        return lambda t, p, rows: np.array([float(metric(t[i], p[i])) for i in rows])
    if metric not in NAMED_METRICS:
        raise unknown_choice("metric", metric, NAMED_METRICS)
    labels = np.union1d(y_true, y_pred)
    return lambda t, p, rows: _FROM_CONFUSIONS[metric](_confusions(t, p, labels, rows))


def _confusions(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray,
                rows: np.ndarray) -> np.ndarray:
    """B×L×L confusion matrices (true class, predicted class) of the resamples ``rows`` (B×N)."""
    size = len(labels)
    cell = np.searchsorted(labels, y_true) * size + np.searchsorted(labels, y_pred)
    offsets = np.arange(len(rows))[:, None] * size * size
    counts = np.bincount((cell[rows] + offsets).ravel(), minlength=len(rows) * size * size)
    return counts.reshape(len(rows), size, size).astype(np.float64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def _macro(confusion: np.ndarray, kind: str) -> np.ndarray:
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    predicted, true = confusion.sum(axis=1), confusion.sum(axis=2)
    per_class = {"precision": _ratio(tp, predicted), "recall": _ratio(tp, true),
                 "f1": _ratio(2 * tp, predicted + true)}[kind]
    return per_class.mean(axis=1)


def _balanced_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in each resample's targets (scikit-learn)."""
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    true = confusion.sum(axis=2)
    present = true > 0
    return _ratio(tp, true).sum(axis=1) / present.sum(axis=1)


def _mcc(confusion: np.ndarray) -> np.ndarray:
    """Gorodkin's multi-class MCC, as scikit-learn's ``matthews_corrcoef`` (0 when undefined)."""
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    predicted, true = confusion.sum(axis=1), confusion.sum(axis=2)
    correct, samples = tp.sum(axis=1), confusion.sum(axis=(1, 2))
    numerator = correct * samples - np.sum(predicted * true, axis=1)
    denominator = np.sqrt((samples**2 - np.sum(predicted**2, axis=1))
                          * (samples**2 - np.sum(true**2, axis=1)))
    return _ratio(numerator, denominator)


_FROM_CONFUSIONS = {
    "accuracy": lambda c: np.trace(c, axis1=1, axis2=2) / c.sum(axis=(1, 2)),
    "precision": lambda c: _macro(c, "precision"),
    "recall": lambda c: _macro(c, "recall"),
    "macro_f1": lambda c: _macro(c, "f1"),
    "balanced_accuracy": _balanced_accuracy,
    "mcc": _mcc,
}


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    """B×N indices of samples drawn with replacement (one row per bootstrap resample)."""
    if n_boot < 1:
        raise ConfigError(f"n_boot must be >= 1, got {n_boot}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, n, size=n) for _ in range(n_boot)])


def _percentiles(values, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(np.asarray(values, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


def _labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).astype(np.int64, copy=False)
    y_pred = np.asarray(y_pred).astype(np.int64, copy=False)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ConfigError(
            f"y_true and y_pred must be non-empty 1-D arrays of equal length, "
            f"got shapes {y_true.shape} and {y_pred.shape}"
        )
    return y_true, y_pred
