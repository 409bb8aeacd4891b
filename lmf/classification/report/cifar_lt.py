"""Long-tailed CIFAR results beside Cao et al. 2019's Table 2, from ``lmf.core.runs.load_runs`` rows.

``error_table``: per dataset and loss, the top-1 test error (%) ``100 · (1 − test accuracy)``
over seeds (mean, sample standard deviation, number of seeds) beside the published error of the
same method (``lmf.classification.paper.cao2019``) where there is one, and the split that picked each run's
best epoch (``selection``: ``test`` as in the reference, so comparable with the published
numbers; ``val`` the honest held-out alternative). ``per_class_accuracy``: per dataset, loss and
class, the test accuracy of the class (its recall; %) over seeds against its number of training
images, the view on which long-tail losses differ.
"""

from __future__ import annotations

import json

import pandas as pd

from lmf.classification import paper

#: The sources these tables read, and the source options they group by (with their defaults).
SOURCES = ("cifar10_lt", "cifar100_lt")
_OPTIONS = {"imbalance": 100.0, "profile": "exp"}
_GROUP = ["dataset", "imbalance", "profile", "loss", "head", "selection"]


def _cifar_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The CIFAR-LT rows of ``runs`` with their ρ and profile as columns."""
    rows = runs[runs["dataset"].isin(SOURCES)].copy() if "dataset" in runs else runs.iloc[:0]
    options = [{**_OPTIONS, **json.loads(p)} if isinstance(p, str) else dict(_OPTIONS)
               for p in rows.get("dataset_params", pd.Series([None] * len(rows)))]
    for name in _OPTIONS:
        rows[name] = [o[name] for o in options]
    rows["imbalance"] = rows["imbalance"].astype(float)
    return rows


def _spread(frame: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """Mean, sample standard deviation (NaN for one seed) and count of ``column`` per group."""
    grouped = frame.groupby(_GROUP, sort=False)[column]
    return pd.DataFrame({name: grouped.mean(), f"{name}_std": grouped.std(ddof=1),
                         "seeds": grouped.size()}).reset_index()


def error_table(runs: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Top-1 test error (%) per CIFAR-LT dataset × loss over seeds, beside Cao et al.'s.

    Columns: ``dataset``, ``imbalance``, ``profile``, ``loss``, ``head``, ``selection``,
    ``method`` (the published name, else the loss id), ``top1_error``, ``top1_error_std``,
    ``seeds``, ``paper_top1_error`` (NaN where the paper has no such row) and
    ``diff_top1_error`` (ours − paper). ``published`` defaults to ``lmf.classification.paper.cao2019()``.
    """
    rows = _cifar_runs(runs)
    rows["error"] = 100.0 * (1.0 - rows["test_accuracy"].astype(float))
    table = _spread(rows, "error", "top1_error")
    published = paper.cao2019() if published is None else published
    known = published.dropna(subset=["loss"])[["dataset", "imbalance", "profile", "loss",
                                               "method", "top1_error"]]
    known = known.astype({"imbalance": float}).rename(columns={"top1_error": "paper_top1_error"})
    table = table.merge(known, on=["dataset", "imbalance", "profile", "loss"], how="left")
    table["method"] = table["method"].fillna(table["loss"])
    table["diff_top1_error"] = table["top1_error"] - table["paper_top1_error"]
    columns = [*_GROUP, "method", "top1_error", "top1_error_std", "seeds", "paper_top1_error",
               "diff_top1_error"]
    return table[columns].reset_index(drop=True)


def per_class_accuracy(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (%) of every class per CIFAR-LT dataset × loss over seeds.

    Columns: the groups of :func:`error_table`, ``class``, ``train_images`` (the class's
    training images in the run), ``accuracy``, ``accuracy_std``, ``seeds``; classes in label
    order (the most frequent first, as the long-tailed profile orders them).
    """
    rows = _cifar_runs(runs)
    long = []
    for _, run in rows.iterrows():
        train = run["class_counts"]["train"]
        for position, (name, recall) in enumerate(run["test_per_class_recall"].items()):
            long.append({**{k: run[k] for k in _GROUP}, "class": name, "position": position,
                         "train_images": int(train[name]), "recall": 100.0 * float(recall)})
    if not long:
        return pd.DataFrame(columns=[*_GROUP, "class", "train_images", "accuracy",
                                     "accuracy_std", "seeds"])
    frame = pd.DataFrame(long)
    grouped = frame.groupby([*_GROUP, "position", "class", "train_images"], sort=False)["recall"]
    table = pd.DataFrame({"accuracy": grouped.mean(), "accuracy_std": grouped.std(ddof=1),
                          "seeds": grouped.size()}).reset_index()
    return table.drop(columns="position")
