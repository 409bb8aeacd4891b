"""lmf.classification.report.feature_space and plots.feature_embedding on runs with hand-made feature clusters."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from lmf.classification import plots
from lmf.classification.features import separation
from lmf.classification.report.feature_space import (
    run_embeddings,
    run_separation,
    separation_summary,
)

matplotlib.use("Agg")

NAMES = ["big", "mid", "small"]
TRAIN = {"big": 100, "mid": 40, "small": 5}  # minority: small
LABELS = np.repeat([0, 1, 2], 12)


def _clusters(spread: float, seed: int = 0) -> np.ndarray:
    """Three Gaussian clusters in 5-D, centres 10 apart, with standard deviation ``spread``."""
    rng = np.random.default_rng(seed)
    centres = 10.0 * np.eye(3, 5)
    return centres[LABELS] + rng.normal(0, spread, (len(LABELS), 5))


FEATURES = {"tight": _clusters(0.5), "loose": _clusters(6.0)}


def _runs():
    return pd.DataFrame([
        {"run_id": name, "run_dir": name, "dataset": "digits_lt", "model": "timm:resnet10t",
         "dataset_id": "digits_lt", "model_id": "resnet50", "seed": 23, "loss": loss,
         "sampler": "none", "class_counts": {"train": TRAIN}}
        for name, loss in (("loose", "lmf"), ("tight", "cce"))])


def _extract(run_dir, split):
    assert split == "test"
    return FEATURES[run_dir], LABELS


def _load_metrics(run_dir):
    return {"class_names": NAMES}


def test_run_separation_names_classes_and_keeps_the_scores_of_separation():
    per_class = run_separation(_runs(), "cpu", _extract, _load_metrics, k=5)
    assert list(per_class.loss.unique()) == ["cce", "lmf"]  # the Scholz table's order
    tight = per_class[per_class.loss == "cce"].set_index("class")
    direct = separation(FEATURES["tight"], LABELS, k=5)
    np.testing.assert_allclose(tight.loc[NAMES, "silhouette"], direct.silhouette)
    assert tight.loc["small", "minority"] and not tight.loc["big", "minority"]
    assert tight.loc["mid", "train_samples"] == 40
    assert set(per_class.sampler) == {"random"}


def test_summary_separates_tight_from_loose_clusters_and_averages_minority_apart():
    per_class = run_separation(_runs(), "cpu", _extract, _load_metrics, k=5)
    summary = separation_summary(per_class).set_index("loss")
    assert summary.loc["cce", "silhouette_all"] > 0.8 > summary.loc["lmf", "silhouette_all"]
    assert summary.loc["cce", "knn_purity_all"] == pytest.approx(1.0)
    assert summary.loc["cce", "scatter_ratio_all"] > summary.loc["lmf", "scatter_ratio_all"]
    rows = per_class[per_class.loss == "lmf"]
    assert summary.loc["lmf", "knn_purity_minority"] == pytest.approx(
        rows[rows["class"] == "small"].knn_purity.iloc[0])
    assert summary.loc["lmf", "silhouette_all"] == pytest.approx(rows.silhouette.mean())


def test_embeddings_and_their_figure():
    points = run_embeddings(_runs(), "cpu", _extract, _load_metrics, seed=0)
    assert len(points) == 2 * len(LABELS)
    assert points.groupby("loss").minority.sum().tolist() == [12, 12]
    again = run_embeddings(_runs(), "cpu", _extract, _load_metrics, seed=0)
    np.testing.assert_array_equal(points[["x", "y"]], again[["x", "y"]])  # deterministic
    fig = plots.feature_embedding(points)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["CCE", "LMF"]
    assert axes[0].get_xlim() == axes[1].get_xlim() and axes[0].get_ylim() == axes[1].get_ylim()
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels == ["big (n=100)", "mid (n=40)", "small (n=5) ★"]
