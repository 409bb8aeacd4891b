"""The feature space of trained runs, as tables: separation per class and 2-D embeddings.

Each run's test features are the input of its classification head (``lmf.classification.features.extract``).
Separation is scored on those features, never on the embedding (``lmf.classification.features.separation``:
silhouette, k-nearest-neighbour purity, between- to within-class scatter); the minority classes
are the rarest third by training count (``lmf.classification.features.minority_classes``), summarised apart
because Scholz et al. 2024's claim is about them.
"""

from __future__ import annotations

import pandas as pd

from lmf.classification.features import embed, minority_classes, separation
from lmf.classification.profiles import SCHOLZ_LOSSES, Profile
from lmf.classification.report.scholz import SAMPLER_LABELS
from lmf.classification.report.tables import order_rows, with_paper_ids

SEPARATION = ("silhouette", "knn_purity", "scatter_ratio")
RUN_KEYS = ["dataset_id", "loss", "sampler", "seed"]


def _class_info(run, load_metrics) -> tuple[list[str], dict[str, int], list[str]]:
    names = [str(name) for name in load_metrics(run.run_dir)["class_names"]]
    counts = {str(name): int(count) for name, count in run.class_counts["train"].items()}
    return names, counts, minority_classes(counts)


def _keys(run) -> dict:
    return {"dataset_id": run.dataset_id, "loss": run.loss,
            "sampler": SAMPLER_LABELS.get(run.sampler, run.sampler), "seed": run.seed}


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return order_rows(frame, dataset_id=[], loss=SCHOLZ_LOSSES,
                      sampler=list(SAMPLER_LABELS.values()))


def run_separation(runs: pd.DataFrame, profile: str | Profile, extract, load_metrics,
                   k: int = 10, split: str = "test") -> pd.DataFrame:
    """Per run and class: ``silhouette``, ``knn_purity`` (``k`` neighbours, fewer when the split
    has no more than ``k`` images, e.g. a rehearsal on a handful of images; the ``k`` column
    says how many) and ``scatter_ratio`` of the ``split`` features, with the class's
    ``train_samples`` and whether it is a ``minority`` class. ``extract`` and ``load_metrics``:
    ``lmf.classification.features.extract`` and ``lmf.core.runs.load_metrics``."""
    runs = with_paper_ids(runs, profile)
    frames = []
    for run in runs.itertuples():
        names, counts, minority = _class_info(run, load_metrics)
        features, labels = extract(run.run_dir, split)
        neighbours = min(k, len(features) - 1)
        table = separation(features, labels, k=neighbours).assign(k=neighbours)
        table.insert(0, "class", [names[label] for label in table.pop("label")])
        table.insert(1, "train_samples", table["class"].map(counts))
        table.insert(2, "minority", table["class"].isin(minority))
        frames.append(table.assign(**_keys(run)))
    per_class = pd.concat(frames, ignore_index=True)
    return _ordered(per_class[[*RUN_KEYS, *[c for c in per_class if c not in RUN_KEYS]]])


def separation_summary(per_class: pd.DataFrame) -> pd.DataFrame:
    """Per run (dataset, loss, sampler, seed): the mean of each separation score over all
    classes (``<score>_all``) and over the minority classes (``<score>_minority``)."""
    grouped = per_class.groupby(RUN_KEYS, sort=False)
    every = grouped[list(SEPARATION)].mean().add_suffix("_all")
    minority = (per_class[per_class.minority].groupby(RUN_KEYS, sort=False)[list(SEPARATION)]
                .mean().add_suffix("_minority"))
    table = every.join(minority).reset_index()
    columns = [f"{score}_{part}" for score in SEPARATION for part in ("all", "minority")]
    return _ordered(table[[*RUN_KEYS, *columns]])


def run_embeddings(runs: pd.DataFrame, profile: str | Profile, extract, load_metrics,
                   method: str = "tsne", seed: int = 0, split: str = "test") -> pd.DataFrame:
    """Per run and ``split`` image: its 2-D embedding ``x``, ``y`` (``lmf.classification.features.embed`` with
    ``method`` and ``seed``), ``class``, the class's ``train_samples`` and ``minority`` flag."""
    runs = with_paper_ids(runs, profile)
    frames = []
    for run in runs.itertuples():
        names, counts, minority = _class_info(run, load_metrics)
        features, labels = extract(run.run_dir, split)
        points = embed(features, method=method, seed=seed)
        classes = [names[label] for label in labels]
        frames.append(pd.DataFrame({
            **_keys(run), "x": points[:, 0], "y": points[:, 1], "class": classes,
            "train_samples": [counts[name] for name in classes],
            "minority": [name in minority for name in classes]}))
    return _ordered(pd.concat(frames, ignore_index=True))
