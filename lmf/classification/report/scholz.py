"""Scholz et al. 2024's claim measured: balanced accuracy and minority-class F1 per loss × sampler.

Scholz et al. (MIDL 2024) report that soft-MCC and soft-F1 losses, alone or added to
cross-entropy, and combined with batch sampling strategies, raise balanced accuracy by up to 12
points and the F1 of minority classes by up to 51 points over cross-entropy. The quantities of
that claim, per run of the ``scholz`` grid (``lmf.sweep.grids``):

- ``balanced_accuracy``: the mean of the per-class recalls (scikit-learn's value, computed by
  ``lmf.classification.metrics`` from confusion counts);
- ``minority_f1``: the mean test F1 of the minority classes, the rarest third of the classes by
  training count (``lmf.classification.features.minority_classes``, ``lmf.classification.metrics.mean_f1_of``);

each in percent with its percentile bootstrap interval over test images
(``lmf.classification.metrics.bootstrap_ci``), and its paired difference to the reference run, cross-entropy
with plain shuffling, on the same resampled images (``lmf.classification.metrics.paired_bootstrap``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lmf.classification.features import minority_classes
from lmf.classification.metrics import bootstrap_ci, mean_f1_of, paired_bootstrap, score
from lmf.classification.profiles import SCHOLZ_LOSSES, SCHOLZ_SAMPLERS, Profile
from lmf.classification.report.tables import order_rows, with_paper_ids
from lmf.core.errors import DataError

#: How the samplers are called in the tables (``none`` shuffles the training set).
SAMPLER_LABELS = {"none": "random", "balanced": "class-balanced", "sqrt": "square-root"}
#: The run every other is compared with: cross-entropy with random sampling.
REFERENCE = ("cce", "none")
SCORES = ("balanced_accuracy", "minority_f1")
GROUP = ["dataset_id", "model_id", "seed"]


def minority_labels(train_counts: dict[str, int], class_names: Sequence[str]) -> list[int]:
    """Indices in ``class_names`` of the minority classes of ``train_counts`` (class -> count)."""
    position = {str(name): k for k, name in enumerate(class_names)}
    return [position[str(name)] for name in minority_classes(train_counts)]


def _test_predictions(run, load_predictions, load_metrics):
    data = load_predictions(run.run_dir)
    names = load_metrics(run.run_dir)["class_names"]
    minority = minority_labels(run.class_counts["train"], names)
    return (np.asarray(data["labels"]), np.asarray(data["logits"]).argmax(axis=1),
            list(data["ids"]), minority)


def scholz_table(runs: pd.DataFrame, profile: str | Profile, load_predictions, load_metrics,
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """One row per run: ``balanced_accuracy`` and ``minority_f1`` (%) with bootstrap intervals
    (``<score>_low``, ``<score>_high``) and the paired difference to cross-entropy with random
    sampling on the same dataset, model and seed (``diff_<score>``, its interval and
    ``p_<score>``; NaN on the reference itself or where it was not trained).

    ``runs``: rows of the ``scholz`` grid (``lmf.sweep.ensure``); ``load_predictions`` and
    ``load_metrics``: ``lmf.core.runs``'s readers. Test images are matched by sample id.
    """
    runs = with_paper_ids(runs, profile)
    rows = []
    for _, group in runs.groupby(GROUP, sort=False):
        reference = group[(group.loss == REFERENCE[0]) & (group.sampler == REFERENCE[1])]
        base = (_test_predictions(reference.iloc[0], load_predictions, load_metrics)
                if len(reference) else None)
        for run in group.itertuples():
            labels, predicted, ids, minority = _test_predictions(run, load_predictions,
                                                                 load_metrics)
            metrics = {"balanced_accuracy": "balanced_accuracy",
                       "minority_f1": mean_f1_of(minority)}
            row = {"dataset_id": run.dataset_id, "model_id": run.model_id, "loss": run.loss,
                   "sampler": SAMPLER_LABELS.get(run.sampler, run.sampler), "seed": run.seed,
                   "minority": ", ".join(str(c) for c in minority_classes(
                       run.class_counts["train"]))}
            compared = base is not None and run.run_dir != reference.iloc[0].run_dir
            for name, metric in metrics.items():
                row[name] = 100 * score(metric, labels, predicted)
                low, high = bootstrap_ci(metric, labels, predicted, n_boot=n_boot, level=level,
                                         seed=seed)
                row[f"{name}_low"], row[f"{name}_high"] = 100 * low, 100 * high
                difference = (_paired(metric, base, labels, predicted, ids, n_boot, level, seed)
                              if compared else (np.nan,) * 4)
                row.update(zip((f"diff_{name}", f"diff_{name}_low", f"diff_{name}_high",
                                f"p_{name}"), difference, strict=True))
            rows.append(row)
    table = pd.DataFrame(rows)
    return order_rows(table, dataset_id=[], loss=SCHOLZ_LOSSES,
                      sampler=[SAMPLER_LABELS[s] for s in SCHOLZ_SAMPLERS])


def _paired(metric, base, labels, predicted, ids, n_boot, level, seed):
    """(diff, low, high, p) in points of ``predicted`` − the reference's on the same images."""
    base_labels, base_predicted, base_ids, _ = base
    position = {sample: i for i, sample in enumerate(base_ids)}
    missing = [sample for sample in ids if sample not in position]
    order = np.array([position[sample] for sample in ids if sample in position])
    if missing or len(order) != len(base_ids) or not np.array_equal(base_labels[order], labels):
        raise DataError("a run of the Scholz grid was tested on other images or labels than "
                        "its cross-entropy reference; they cannot be paired (train both on the "
                        "same split)")
    test = paired_bootstrap(metric, labels, predicted, base_predicted[order], n_boot=n_boot,
                            seed=seed, level=level)
    return 100 * test["diff"], 100 * test["low"], 100 * test["high"], test["p_value"]


def minority_class_f1(runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Test F1 (%) of each minority class per run, long: dataset_id, loss, sampler, seed, class,
    train_samples, f1 (from the runs' recorded per-class F1 and training counts)."""
    runs = with_paper_ids(runs, profile)
    rows = []
    for run in runs.itertuples():
        counts = run.class_counts["train"]
        rows += [(run.dataset_id, run.loss, SAMPLER_LABELS.get(run.sampler, run.sampler),
                  run.seed, str(name), int(counts[name]), 100 * run.test_per_class_f1[name])
                 for name in minority_classes(counts)]
    table = pd.DataFrame(rows, columns=["dataset_id", "loss", "sampler", "seed", "class",
                                        "train_samples", "f1"])
    return order_rows(table, dataset_id=[], loss=SCHOLZ_LOSSES,
                      sampler=[SAMPLER_LABELS[s] for s in SCHOLZ_SAMPLERS])
