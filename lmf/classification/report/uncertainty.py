"""What the paper does not report: bootstrap intervals per run, paired tests of LMF against each
baseline on the same test images, and the spread over seeds (of every setting with ``SEEDS > 1``,
else of the profile's ``spread_model`` over its ``spread_seeds``).

The paper gives one number per setting (one run, seed 23, one test split). Test sets of a few
hundred images make a macro-F1 uncertain by several points, so differences of 1–3 points between
losses may be noise. Intervals are percentile bootstraps over test images
(``lmf.classification.metrics.bootstrap_ci``); the paired test resamples the same images for both models
(``lmf.classification.metrics.paired_bootstrap``), which removes the variation shared by both. Rows follow
Tables 2–4: model, dataset, then loss, each in the paper's order.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lmf.classification.metrics import bootstrap_ci, paired_bootstrap
from lmf.classification.paper import PAPER_DATASETS, PAPER_LOSSES, PAPER_MODELS
from lmf.classification.profiles import Profile
from lmf.classification.report.tables import METRICS, order_rows, with_paper_ids
from lmf.core.errors import DataError

KEYS = ["dataset_id", "model_id", "loss", "seed"]


def _predictions(run_dir: str, load_predictions) -> tuple[np.ndarray, np.ndarray, list[str]]:
    data = load_predictions(run_dir)
    return np.asarray(data["labels"]), np.asarray(data["logits"]).argmax(axis=1), list(data["ids"])


def run_intervals(runs: pd.DataFrame, profile: str | Profile, load_predictions,
                  metric: str = "macro_f1", n_boot: int = 1000, level: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """Per run: test ``metric`` (%) and its percentile bootstrap interval (``low``, ``high``).

    ``load_predictions`` reads a run's test predictions (``lmf.core.runs.load_predictions``)."""
    runs = with_paper_ids(runs, profile)
    rows = []
    for run in runs.itertuples():
        labels, predicted, _ = _predictions(run.run_dir, load_predictions)
        low, high = bootstrap_ci(metric, labels, predicted, n_boot=n_boot, level=level, seed=seed)
        rows.append((run.dataset_id, run.model_id, run.loss, run.seed,
                     100 * getattr(run, f"test_{metric}"), 100 * low, 100 * high))
    table = pd.DataFrame(rows, columns=[*KEYS, metric, "low", "high"])
    return order_rows(table, model_id=PAPER_MODELS, dataset_id=PAPER_DATASETS,
                      loss=PAPER_LOSSES)


def paired_tests(runs: pd.DataFrame, profile: str | Profile, load_predictions,
                 reference: str = "lmf", metric: str = "macro_f1", n_boot: int = 1000,
                 seed: int = 0) -> pd.DataFrame:
    """Paired bootstrap of ``reference`` against every other loss trained on the same dataset,
    model and seed: ``diff`` = reference − baseline (% points), its interval and two-sided
    p-value. Test images are matched by sample id."""
    runs = with_paper_ids(runs, profile)
    rows = []
    for (dataset_id, model_id, run_seed), group in runs.groupby(
            ["dataset_id", "model_id", "seed"], sort=False):
        ours = group[group.loss == reference]
        if ours.empty:
            continue
        labels, pred_ref, ids = _predictions(ours.run_dir.iloc[0], load_predictions)
        position = {sample: i for i, sample in enumerate(ids)}
        for baseline in group[group.loss != reference].itertuples():
            base_labels, pred_base, base_ids = _predictions(baseline.run_dir, load_predictions)
            order = np.array([position[sample] for sample in base_ids])
            if not np.array_equal(labels[order], base_labels):
                raise DataError(f"runs {ours.run_id.iloc[0]} and {baseline.run_id} were tested "
                                 "on different labels; they cannot be paired")
            test = paired_bootstrap(metric, base_labels, pred_ref[order], pred_base,
                                    n_boot=n_boot, seed=seed)
            rows.append((dataset_id, model_id, run_seed, baseline.loss, 100 * test["diff"],
                         100 * test["low"], 100 * test["high"], test["p_value"]))
    table = pd.DataFrame(rows, columns=["dataset_id", "model_id", "seed", "baseline",
                                        f"{reference}_minus_baseline", "low", "high", "p_value"])
    return order_rows(table, model_id=PAPER_MODELS, dataset_id=PAPER_DATASETS,
                      baseline=PAPER_LOSSES)


def spread_profile(profile: Profile) -> Profile:
    """The profile of the seed-spread grid: ``profile`` (as notebook 04's parameters narrowed
    it) with only its ``spread_model``, or its first model where the selection left that one
    out. ``build_grid("paper", spread_profile(p), seeds=p.spread_seeds)`` trains each loss of
    that model over ``spread_seeds`` seeds, the cheapest way to a seed spread for every loss."""
    model = profile.spread_model if profile.spread_model in profile.models else next(
        iter(profile.models))
    return dataclasses.replace(profile, models={model: profile.models[model]})


def over_seeds(runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Mean and standard deviation (%) of each test metric over seeds, per dataset × model ×
    loss (``n_seeds``; the standard deviation is NaN with a single seed)."""
    runs = with_paper_ids(runs, profile)
    scores = runs.assign(**{m: 100 * runs[f"test_{m}"] for m in METRICS})
    grouped = scores.groupby(["dataset_id", "model_id", "loss"], sort=False)
    table = grouped[list(METRICS)].agg(["mean", "std"])
    table.columns = [f"{m}_{stat}" for m, stat in table.columns]
    table = table.assign(n_seeds=grouped.seed.nunique()).reset_index()
    return order_rows(table, model_id=PAPER_MODELS, dataset_id=PAPER_DATASETS,
                      loss=PAPER_LOSSES)
