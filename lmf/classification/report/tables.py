"""Tables 1–6 and the data of Figs 1 and 4, regenerated from the run store beside the paper's.

Inputs are the DataFrames of ``lmf.core.runs.load_runs`` (or ``lmf.sweep.ensure``): besides the
profile's *source* and *architecture* (``dataset``, ``model``) each run carries the paper's ids it
was built for (``dataset_id``, ``model_id``, from the config's ``labels``), so every row lines up
with a row of the published tables, and what it saw (``class_counts``, ``test_per_class_f1``),
so no table prepares data again. Scores are turned into percentages, as printed in
the paper. Published values come from ``lmf.classification.paper``; each comparison has columns ``<metric>``
(this project), ``paper_<metric>`` and, in the ``paper`` profile, ``diff_<metric>`` (ours −
paper).

Profiles other than ``paper`` run other data and small stand-in models: their rows are laid
beside the published numbers of a *counterpart* dataset (``Profile.counterparts``) for orientation
only, without ``diff_`` columns, since a difference between two datasets measures nothing
(``shows_differences``; ``comparison_note`` says so).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lmf.classification import paper
from lmf.classification.profiles import (
    HPARAM_SETTINGS,
    Profile,
    get_profile,
    hparam_pairs,
    in_setting,
)
from lmf.core.errors import ConfigError, unknown_choice
from lmf.data.splits import group_split, split_leakage
from lmf.losses import LOSSES

METRICS = ("accuracy", "precision", "recall", "macro_f1")
PARTS = ("train", "val", "test")



def _profile(profile: str | Profile) -> Profile:
    return get_profile(profile) if isinstance(profile, str) else profile


def shows_differences(profile: str | Profile) -> bool:
    """Whether the tables of ``profile`` carry ``diff_`` columns (ours − paper): only in the
    ``paper`` profile, which runs the paper's own data; the other profiles compare with a
    counterpart dataset, where a difference means nothing."""
    return _profile(profile).name == "paper"


def comparison_note(profile: str | Profile) -> str:
    """One sentence on how far the published columns can be compared in ``profile``."""
    profile = _profile(profile)
    if profile.name == "paper":
        return ("Same data, models and recipe as the paper: differences measure reproducibility "
                "(single seed, no published split).")
    pairs = ", ".join(f"{d} → {profile.paper_dataset(d)}" for d in profile.datasets)
    arch = ", ".join(f"{m} → {a}" for m, a in profile.models.items())
    return (f"Profile {profile.name!r} trains other data and small stand-in models ({arch}); "
            f"the published columns are those of a counterpart dataset ({pairs}) and are shown "
            "for orientation only: the differences are NOT expected to be small.")


def restrict_profile(profile: str | Profile, datasets=None, models=None, losses=None,
                     **fields) -> Profile:
    """``profile`` narrowed to some dataset ids, paper model ids and losses (``None`` keeps all),
    with other fields replaced (e.g. ``hparam_grid``): what the notebooks' parameters do before
    asking ``lmf.sweep.build_grid`` for a grid."""
    profile = _profile(profile)

    def pick(kind, chosen, available):
        unknown = [c for c in chosen or () if c not in available]
        if unknown:
            raise unknown_choice(f"{kind} of profile {profile.name!r}", unknown[0], available)
        return list(chosen) if chosen else list(available)

    return dataclasses.replace(
        profile,
        datasets={d: profile.datasets[d] for d in pick("dataset", datasets, profile.datasets)},
        models={m: profile.models[m] for m in pick("model", models, profile.models)},
        losses=tuple(pick("loss", losses, LOSSES)) if losses else profile.losses,
        **{name: value for name, value in fields.items() if value is not None})


def with_paper_ids(runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """``runs`` with the paper's ``dataset_id`` and ``model_id`` each run was built for (runs
    built outside a profile keep their source and architecture names) and ``paper_dataset``
    (the published dataset laid beside it)."""
    profile = _profile(profile)
    ids = {}
    for label, fallback in (("dataset_id", "dataset"), ("model_id", "model")):
        given = runs[label] if label in runs.columns else pd.Series(None, index=runs.index)
        ids[label] = given.where(given.notna(), runs[fallback])
    out = runs.assign(**ids)
    return out.assign(paper_dataset=out.dataset_id.map(profile.paper_dataset))


def _ranks(values: pd.Series, preferred) -> pd.Series:
    """Each value's position in ``preferred``; values not in it after, in the order found."""
    rank = {value: i for i, value in enumerate(dict.fromkeys([*preferred, *values]))}
    return values.map(rank)


def _sorted_by(frame: pd.DataFrame, ranks: list[pd.Series]) -> pd.DataFrame:
    """``frame`` stably sorted by the rank columns ``ranks`` (first = most significant)."""
    names = [f"_rank{i}" for i in range(len(ranks))]
    ranked = frame.assign(**dict(zip(names, ranks, strict=True)))
    return ranked.sort_values(names, kind="stable").drop(columns=names).reset_index(drop=True)


def order_rows(frame: pd.DataFrame, **orders) -> pd.DataFrame:
    """Sort ``frame`` by columns given a preferred order of values (others after, as found)."""
    return _sorted_by(frame, [_ranks(frame[column], preferred)
                              for column, preferred in orders.items()])


def order_classes(frame: pd.DataFrame, dataset: str = "dataset", class_column: str = "class",
                  **orders) -> pd.DataFrame:
    """Sort per-class rows as the paper prints them: datasets in ``paper.PAPER_DATASETS`` order,
    within each its classes in the published order (``paper.class_order``), then by ``orders``
    as in ``order_rows``; datasets and classes the paper does not have come after, as found."""
    published = paper.class_order()
    class_rank = pd.Series(0, index=frame.index)
    for dataset_id, rows in frame.groupby(dataset, sort=False):
        class_rank[rows.index] = _ranks(rows[class_column], published.get(dataset_id, ()))
    return _sorted_by(frame, [_ranks(frame[dataset], paper.PAPER_DATASETS), class_rank,
                              *(_ranks(frame[c], preferred) for c, preferred in orders.items())])


def _beside(ours: pd.DataFrame, published: pd.DataFrame, keys: list[str],
            metrics, differences: bool = True) -> pd.DataFrame:
    """Join the published values on ``keys`` and add ``paper_<m>`` columns, and ``diff_<m>``
    (ours − paper) when ``differences``."""
    published = published.rename(columns={m: f"paper_{m}" for m in metrics})
    table = ours.merge(published[[*keys, *(f"paper_{m}" for m in metrics)]], on=keys, how="left")
    if differences:
        for m in metrics:
            table[f"diff_{m}"] = table[m] - table[f"paper_{m}"]
    return table


# --- Table 1, per-class split and Fig 2 ------------------------------------------------------

def split_counts(indexes: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Images per dataset × class × part from split indexes (``PreparedData.index`` or
    ``read_index`` with a ``split`` column), keyed by dataset id. Long: dataset, class, part,
    count, in the paper's order (``order_classes``; other classes sorted by name)."""
    frames = []
    for dataset_id, index in indexes.items():
        counts = (index.groupby(["class_name", "split"]).size()
                  .reindex(pd.MultiIndex.from_product(
                      [sorted(index.class_name.unique(), key=str), PARTS]), fill_value=0)
                  .rename("count").reset_index())
        counts.columns = ["class", "part", "count"]
        frames.append(counts.assign(dataset=dataset_id))
    counts = pd.concat(frames, ignore_index=True)[["dataset", "class", "part", "count"]]
    return order_classes(counts, part=PARTS)


def run_split_counts(runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Images per dataset × class × part that each dataset's runs saw (as recorded by the first
    run per dataset), in ``split_counts``'s form."""
    runs = with_paper_ids(runs, profile)
    frames = []
    for dataset_id, rows in runs.groupby("dataset_id", sort=False):
        recorded = rows.class_counts.iloc[0]
        frames += [pd.DataFrame({"dataset": dataset_id, "class": list(recorded[part]),
                                 "part": part, "count": list(recorded[part].values())})
                   for part in PARTS]
    return order_classes(pd.concat(frames, ignore_index=True), part=PARTS)


def published_split_counts(datasets=paper.PAPER_DATASETS) -> pd.DataFrame:
    """The paper's per-class split (``data/paper/split_counts.tsv``) in ``split_counts``'s form."""
    wide = paper.split_counts()
    wide = wide[wide.dataset.isin(datasets)]
    return wide.melt(id_vars=["dataset", "class"], value_vars=list(PARTS), var_name="part",
                     value_name="count")


def table1(counts: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Table 1: train/val/test images per dataset (from ``split_counts``), beside the paper's
    Table 1 for the dataset itself or its counterpart in ``profile`` (``diff_`` columns only
    where ``shows_differences``)."""
    ours = counts.pivot_table(index="dataset", columns="part", values="count", aggfunc="sum",
                              sort=False).reindex(columns=list(PARTS)).reset_index()
    ours["total"] = ours[list(PARTS)].sum(axis=1)
    ours["paper_dataset"] = ours.dataset.map(_profile(profile).paper_dataset)
    published = paper.table1().rename(columns={"dataset": "paper_dataset"})
    published["total"] = published[list(PARTS)].sum(axis=1)
    table = _beside(ours, published, ["paper_dataset"], [*PARTS, "total"],
                    differences=shows_differences(profile))
    return order_rows(table, dataset=paper.PAPER_DATASETS)


def per_class_split(counts: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and class: train/val/test/total images and the share of the dataset, beside
    the paper's per-class counts where the dataset is one of the paper's (the published columns
    are left out when no dataset is); rows in the paper's order (``order_classes``)."""
    wide = counts.pivot_table(index=["dataset", "class"], columns="part", values="count",
                              aggfunc="sum", sort=False).reindex(columns=list(PARTS))
    wide = wide.reset_index()
    wide["total"] = wide[list(PARTS)].sum(axis=1)
    wide["share_%"] = 100 * wide.total / wide.groupby("dataset").total.transform("sum")
    published = paper.split_counts().rename(columns={p: f"paper_{p}" for p in PARTS})
    table = wide.merge(published.drop(columns="total"), on=["dataset", "class"], how="left")
    return order_classes(table.dropna(axis="columns", how="all"))


def imbalance(counts: pd.DataFrame, part: str = "train") -> pd.DataFrame:
    """Per dataset: classes, images in ``part``, largest and smallest class and their ratio."""
    rows = counts[counts.part == part]
    grouped = rows.groupby("dataset", sort=False)["count"]
    table = pd.DataFrame({
        "classes": grouped.size(), "images": grouped.sum(), "largest": grouped.max(),
        "smallest": grouped.min(), "imbalance_ratio": grouped.max() / grouped.min(),
    }).reset_index()
    return order_rows(table, dataset=paper.PAPER_DATASETS)


def leakage(indexes: dict[str, pd.DataFrame], split: str, seed: int = 0) -> pd.DataFrame:
    """Per dataset (split indexes keyed by dataset id, as for ``split_counts``): the
    ``split_leakage`` counts of its split (row ``split``, the name it was made with) and of a
    group re-split (row ``"group (re-split)"``: ``group_split`` with ``seed``, what
    ``prepare(split="group")`` makes).

    Where the re-split is impossible (a class with too few groups) its counts are missing and a
    ``note`` column, present only then, holds the ``ConfigError``'s message instead of raising.
    """
    rows = []
    for dataset_id, index in indexes.items():
        rows.append({"dataset": dataset_id, "split": split,
                     **split_leakage(index.group, index.split)})
        resplit = {"dataset": dataset_id, "split": "group (re-split)"}
        try:
            grouped = group_split(index.class_name.astype(str), index.group.astype(str), seed=seed)
        except ConfigError as error:
            rows.append({**resplit, "note": str(error)})
        else:
            rows.append({**resplit, **split_leakage(index.group, grouped)})
    table = pd.DataFrame(rows)
    counts = table.columns.difference(["dataset", "split", "note"], sort=False)
    return table.astype(dict.fromkeys(counts, "Int64"))


# --- Tables 2–4 and Fig 1 ---------------------------------------------------------------------

def overall(runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Tables 2–4 (long): test accuracy, precision, recall, macro-F1 (%) per model × dataset ×
    loss, averaged over seeds (``n_seeds``), beside the published values (``diff_`` columns
    only where ``shows_differences``)."""
    runs = with_paper_ids(runs, profile)
    scores = runs.assign(**{m: 100 * runs[f"test_{m}"] for m in METRICS})
    ours = (scores.groupby(["model_id", "dataset_id", "paper_dataset", "loss"], sort=False)
            .agg(**{m: (m, "mean") for m in METRICS}, n_seeds=("seed", "nunique"))
            .reset_index())
    published = paper.overall().rename(columns={"model": "model_id", "dataset": "paper_dataset"})
    table = _beside(ours, published, ["model_id", "paper_dataset", "loss"], METRICS,
                    differences=shows_differences(profile))
    return order_rows(table, model_id=paper.PAPER_MODELS, dataset_id=paper.PAPER_DATASETS,
                  loss=paper.PAPER_LOSSES)


#: Table number of each paper model in Tables 2–4.
MODEL_TABLES = {"efficientnetv2_s": 2, "resnet50": 3, "densenet121": 4}


def model_table(overall_table: pd.DataFrame, model_id: str) -> pd.DataFrame:
    """One of Tables 2–4 laid out like the paper: rows dataset × loss, for each metric ours,
    the paper's and the difference where ``overall`` has one (plus the published dataset when it
    is a counterpart)."""
    rows = overall_table[overall_table.model_id == model_id]
    columns = ["dataset_id", "loss"]
    if (rows.paper_dataset != rows.dataset_id).any():  # published columns of a counterpart
        columns.insert(1, "paper_dataset")
    for m in METRICS:
        columns += [c for c in (m, f"paper_{m}", f"diff_{m}") if c in rows.columns]
    return rows[columns].rename(columns={"dataset_id": "dataset"}).reset_index(drop=True)


def compact_model_table(overall_table: pd.DataFrame, model_id: str,
                        metric: str = "macro_f1") -> pd.DataFrame:
    """One metric of one of Tables 2–4, narrow enough to read on a screen: rows are datasets
    (with the published dataset when it is a counterpart), columns each loss's score, ours
    (``<loss>``) beside the paper's (``paper_<loss>``), losses in the paper's order."""
    if metric not in METRICS:
        raise unknown_choice("metric", metric, METRICS)
    rows = overall_table[overall_table.model_id == model_id]
    index = ["dataset_id"]
    if (rows.paper_dataset != rows.dataset_id).any():
        index.append("paper_dataset")
    wide = rows.pivot_table(index=index, columns="loss", values=[metric, f"paper_{metric}"],
                            sort=False, dropna=False)
    losses = [loss for loss in dict.fromkeys([*paper.PAPER_LOSSES, *rows.loss])
              if loss in set(rows.loss)]
    table = pd.DataFrame(index=wide.index)
    for loss in losses:
        table[loss] = wide[(metric, loss)]
        table[f"paper_{loss}"] = wide[(f"paper_{metric}", loss)]
    table = table.reset_index().rename(columns={"dataset_id": "dataset"})
    return order_rows(table, dataset=paper.PAPER_DATASETS)


def mean_absolute_deviation(values) -> float:
    """Mean absolute deviation around the mean, the paper's "average deviation" (Figs 1, 4)."""
    values = np.asarray(values, dtype=float)
    return float(np.mean(np.abs(values - values.mean())))


def _mean_mad(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    return (frame.groupby(keys, sort=False)[column]
            .agg(mean="mean", mad=mean_absolute_deviation, n="size").reset_index())


def fig1_data(overall_table: pd.DataFrame) -> pd.DataFrame:
    """Fig 1: per dataset and loss, mean macro-F1 over the architectures ± mean absolute
    deviation, for this project's runs (``source`` "this run") and the paper's Tables 2–4
    (``source`` "published", for each counterpart dataset)."""
    ours = _mean_mad(overall_table, ["dataset_id", "loss"], "macro_f1")
    ours = ours.rename(columns={"dataset_id": "dataset"}).assign(source="this run")
    shown = overall_table.paper_dataset.dropna().unique()
    published = paper.overall()
    published = _mean_mad(published[published.dataset.isin(shown)], ["dataset", "loss"],
                          "macro_f1").assign(source="published")
    data = pd.concat([ours, published], ignore_index=True)
    return order_rows(data[["dataset", "source", "loss", "mean", "mad", "n"]],
                      source=["this run", "published"], dataset=paper.PAPER_DATASETS,
                      loss=paper.PAPER_LOSSES)


# --- Table 5 and the short version's Fig 1 ----------------------------------------------------

def class_f1(runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Per-class test F1 (%) of each run, long: dataset_id, model_id, loss, seed, class, f1."""
    runs = with_paper_ids(runs, profile)
    rows = []
    for run in runs.itertuples():
        rows += [(run.dataset_id, run.model_id, run.loss, run.seed, str(c), 100 * f)
                 for c, f in run.test_per_class_f1.items()]
    return pd.DataFrame(rows, columns=["dataset_id", "model_id", "loss", "seed", "class", "f1"])


def table5(per_class: pd.DataFrame, train_counts: pd.DataFrame,
           model_id: str = "efficientnetv2_s") -> pd.DataFrame:
    """Table 5: per-class test F1 (%) of ``model_id`` for each loss (mean over seeds), with the
    class's training count; beside the published F1 where the dataset is a paper dataset. Rows
    in the paper's order (``order_classes``).

    ``train_counts``: columns dataset, class, count (training part, e.g. from ``split_counts``).
    """
    rows = per_class[per_class.model_id == model_id]
    wide = rows.pivot_table(index=["dataset_id", "class"], columns="loss", values="f1",
                            aggfunc="mean", sort=False)
    losses = [loss for loss in dict.fromkeys([*paper.PAPER_LOSSES, *wide.columns])
              if loss in wide.columns]
    wide = wide[losses].reset_index().rename(columns={"dataset_id": "dataset"})
    counts = train_counts.rename(columns={"count": "train_samples"})[
        ["dataset", "class", "train_samples"]]
    table = counts.merge(wide, on=["dataset", "class"], how="right")
    published = paper.table5().drop(columns="train_samples")
    published = published[published.dataset.isin(table.dataset)]
    if not published.empty:
        table = _beside(table, published, ["dataset", "class"],
                        [loss for loss in losses if loss in published.columns])
    return order_classes(table)


def smallest_classes_f1(per_class: pd.DataFrame, train_counts: pd.DataFrame, dataset_id: str,
                        model_id: str = "efficientnetv2_s", n: int = 3,
                        losses=("cce", "focal", "ldam", "lmf")) -> pd.DataFrame:
    """F1 (%) of the ``n`` classes with the fewest training images (the short version's Fig 1:
    ISIC-2019's DF, VASC, SCC), long: class (with its count), loss, f1, source. Published values
    are added when ``dataset_id`` is a paper dataset."""
    counts = train_counts[train_counts.dataset == dataset_id].nsmallest(n, "count", keep="first")
    labels = {c: f"{c} (n={k})" for c, k in zip(counts["class"], counts["count"], strict=True)}
    rows = per_class[(per_class.dataset_id == dataset_id) & (per_class.model_id == model_id)
                     & per_class["class"].isin(labels) & per_class.loss.isin(losses)]
    ours = rows.groupby(["class", "loss"], sort=False).f1.mean().reset_index()
    frames = [ours.assign(source="this run")]
    if dataset_id in paper.PAPER_DATASETS and model_id == "efficientnetv2_s":
        published = paper.table5()
        published = published[(published.dataset == dataset_id)
                               & published["class"].isin(labels)]
        frames.append(published.melt(id_vars="class", value_vars=list(losses), var_name="loss",
                                     value_name="f1").assign(source="published"))
    data = pd.concat(frames, ignore_index=True)
    data = order_rows(data, **{"class": list(labels)}, loss=list(losses))
    return data.assign(**{"class": data["class"].map(labels)})


# --- Table 6 and Fig 4 ------------------------------------------------------------------------

def table6(hparam_runs: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Table 6: per dataset × model, the LMF (α, β) with the best **validation** macro-F1 among
    the hyperparameter runs, its test macro-F1 (%), how many settings were tried, and the
    published (α, β) of the counterpart dataset. Ties go to the pair trained first in the
    study's grid (``lmf.classification.profiles.hparam_pairs`` of ``profile.hparam_grid``; pairs outside it
    after, as found); rows in the paper's dataset and model order."""
    profile = _profile(profile)
    runs = with_paper_ids(hparam_runs[hparam_runs.loss == "lmf"], profile)
    runs = runs.assign(val=100 * runs.val_macro_f1, test=100 * runs.test_macro_f1)
    mean = (runs.groupby(["dataset_id", "model_id", "paper_dataset", "alpha", "beta"], sort=False)
            [["val", "test"]].mean().reset_index())
    pairs = pd.Series(list(zip(mean.alpha.astype(float), mean.beta.astype(float), strict=True)))
    mean = _sorted_by(mean, [_ranks(pairs, hparam_pairs(profile.hparam_grid))])
    best = mean.loc[mean.groupby(["dataset_id", "model_id"], sort=False).val.idxmax()]
    tried = mean.groupby(["dataset_id", "model_id"], sort=False).size().rename("settings_tried")
    best = best.merge(tried.reset_index(), on=["dataset_id", "model_id"])
    published = paper.table6().rename(columns={"dataset": "paper_dataset", "model": "model_id",
                                               "alpha": "paper_alpha", "beta": "paper_beta"})
    table = best.merge(published, on=["paper_dataset", "model_id"], how="left")
    table = table.rename(columns={"dataset_id": "dataset", "model_id": "model",
                                  "val": "val_macro_f1", "test": "test_macro_f1"})
    table = table[["dataset", "model", "alpha", "beta", "val_macro_f1", "test_macro_f1",
                   "settings_tried", "paper_dataset", "paper_alpha", "paper_beta"]]
    return order_rows(table, dataset=paper.PAPER_DATASETS, model=paper.PAPER_MODELS)


def fig4_data(hparam_runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fig 4: the hyperparameter runs grouped into Settings 1–3 (a run at α = β = 1 belongs to
    all three). Returns ``summary`` (setting, mean, mad, n: test macro-F1 % over the setting's
    runs) and ``per_value`` (setting, value, alpha, beta, macro_f1)."""
    runs = hparam_runs[hparam_runs.loss == "lmf"]
    frames = []
    for number, (setting, varied) in HPARAM_SETTINGS.items():
        chosen = runs[in_setting(number, runs.alpha.to_numpy(dtype=float),
                                 runs.beta.to_numpy(dtype=float))]
        frames.append(pd.DataFrame({
            "setting": setting, "value": chosen[varied].to_numpy(),
            "alpha": chosen.alpha.to_numpy(), "beta": chosen.beta.to_numpy(),
            "macro_f1": 100 * chosen.test_macro_f1.to_numpy()}))
    per_value = (pd.concat(frames, ignore_index=True)
                 .groupby(["setting", "value", "alpha", "beta"], sort=False).macro_f1.mean()
                 .reset_index().sort_values(["setting", "value"], kind="stable")
                 .reset_index(drop=True))
    summary = _mean_mad(per_value, ["setting"], "macro_f1")
    return summary, per_value
