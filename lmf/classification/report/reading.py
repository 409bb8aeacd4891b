"""The sentences of the notebooks' reading sections, written from the tables the notebooks make.

Every number or ranking a notebook states about its own outputs comes from here, so that the
prose changes with the tables. One rule decides what is called a difference
(:func:`difference`): a gap between two results is called a difference only where it exceeds the
spread the notebook reports, and the sentence names that spread:

* a **paired bootstrap interval** of the difference: beyond the spread when it excludes 0;
* two **separate intervals** (bootstrap 95% intervals of each run, or mean ± mean absolute
  deviation): beyond when they do not overlap (:func:`apart`);
* a **standard deviation over seeds**: beyond when the gap exceeds it.

Where a notebook reports no spread (one seed, no interval), no gap is called a difference.
Each function returns Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

#: Names the sentences use for the loss ids.
LOSS_NAMES = {"cce": "CE", "focal": "focal", "ldam": "LDAM", "bwcce": "BWCCE", "lmf": "LMF",
              "soft_mcc": "soft MCC", "soft_f1": "soft F1", "ce_soft_mcc": "CE + soft MCC",
              "ce_soft_f1": "CE + soft F1"}


def loss_name(loss: str) -> str:
    return LOSS_NAMES.get(loss, loss)


def _num(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def apart(a_low: float, a_high: float, b_low: float, b_high: float) -> tuple[float, float]:
    """The interval of a − b that two separate intervals allow, (a_low − b_high, a_high − b_low):
    it excludes 0 exactly where the two intervals do not overlap."""
    return a_low - b_high, a_high - b_low


def beyond(diff: float, spread: float | tuple[float, float] | None) -> bool:
    """Whether ``diff`` is beyond ``spread``: an interval of the difference that excludes 0, or
    a positive number (a standard deviation) that ``|diff|`` exceeds. ``None`` (no spread
    reported): never."""
    if spread is None or (isinstance(spread, float) and math.isnan(spread)):
        return False
    if isinstance(spread, tuple):
        low, high = spread
        return bool(low > 0 or high < 0)
    return bool(abs(diff) > spread)


def difference(a: str, b: str, diff: float, spread: float | tuple[float, float] | None,
               which: str, unit: str = " points", digits: int = 2) -> str:
    """One sentence fragment comparing ``a`` with ``b``, ``diff`` = a − b.

    ``spread`` is an interval of the difference (see :func:`apart`), a standard deviation, or
    ``None``; ``which`` names it, worded to precede the interval ("paired bootstrap 95%
    interval of the difference", "the two runs' bootstrap 95% intervals, which allow a
    difference of") or the standard deviation ("seed standard deviation"). Beyond the spread:
    "A is above B by d, beyond the spread (…)"; otherwise "A and B differ by d, within the
    spread (…)"."""
    if spread is None or (isinstance(spread, float) and math.isnan(spread)):
        return (f"{a} and {b} differ by {_num(abs(diff), digits)}{unit}; the notebook reports "
                f"no spread for it ({which}), so it is not called a difference")
    if isinstance(spread, tuple):
        low, high = spread
        detail = (f"{which} {_num(low, digits)} to {_num(high, digits)}"
                  f"{unit}, {'not including' if beyond(diff, spread) else 'including'} 0")
    else:
        detail = f"{which} {_num(spread, digits)}{unit}"
    if beyond(diff, spread):
        direction = "above" if diff > 0 else "below"
        return (f"{a} is {direction} {b} by {_num(abs(diff), digits)}{unit}, beyond the spread "
                f"({detail})")
    return f"{a} and {b} differ by {_num(abs(diff), digits)}{unit}, within the spread ({detail})"


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"* {line}" for line in lines)


# --- notebook 01 ------------------------------------------------------------------------------

def imbalance(ratios: pd.DataFrame) -> str:
    """Notebook 01: the imbalance ratio (largest over smallest training class) of each dataset,
    per ``source`` ("this run", "published"), from ``tables.imbalance`` rows. Counts, not
    estimates: no spread."""
    lines = []
    for source, rows in ratios.groupby("source", sort=False):
        parts = [f"{r.dataset} {r.imbalance_ratio:.1f} ({r.largest} / {r.smallest})"
                 for r in rows.itertuples()]
        lines.append(f"{source}: " + ", ".join(parts))
    return ("Imbalance ratio, largest over smallest training class (images):\n\n"
            + _bullets(lines))


# --- notebook 04 ------------------------------------------------------------------------------

def best_losses(overall: pd.DataFrame, intervals: pd.DataFrame,
                seeds: pd.DataFrame | None = None, metric: str = "macro_f1") -> str:
    """Notebook 04, Tables 2–4: per model × dataset, the loss with the highest test ``metric``
    and the runner-up. The spread: with several seeds (``seeds``, ``over_seeds``, n_seeds > 1)
    the larger of the two losses' seed standard deviations; with one seed the two runs'
    bootstrap 95% intervals (``intervals``, ``run_intervals``; a difference where they do not
    overlap)."""
    lines = []
    for (model_id, dataset_id), rows in overall.groupby(["model_id", "dataset_id"], sort=False):
        ranked = rows.sort_values(metric, ascending=False, kind="stable")
        if len(ranked) < 2:
            continue
        first, second = ranked.iloc[0], ranked.iloc[1]
        diff = first[metric] - second[metric]
        several = seeds is not None and "n_seeds" in seeds and bool(
            (seeds[(seeds.model_id == model_id) & (seeds.dataset_id == dataset_id)].n_seeds > 1)
            .any())
        if several:
            rows_s = seeds[(seeds.model_id == model_id) & (seeds.dataset_id == dataset_id)]
            std = rows_s.set_index("loss")[f"{metric}_std"]
            spread, which = float(max(std[first.loss], std[second.loss])), "seed standard deviation"
        else:
            ci = intervals[(intervals.model_id == model_id) & (intervals.dataset_id == dataset_id)]
            ci = ci.groupby("loss")[["low", "high"]].mean()
            spread = apart(ci.low[first.loss], ci.high[first.loss],
                           ci.low[second.loss], ci.high[second.loss])
            which = "the two runs' bootstrap 95% intervals, which allow a difference of"
        lines.append(
            f"{model_id} on {dataset_id}: highest {metric} {loss_name(first.loss)} "
            f"({_num(first[metric])}), runner-up {loss_name(second.loss)} "
            f"({_num(second[metric])}); "
            + difference(loss_name(first.loss), loss_name(second.loss), diff, spread, which))
    return "**Best loss per table row.**\n\n" + _bullets(lines)


def fig1_best(fig1: pd.DataFrame, source: str = "this run") -> str:
    """Notebook 04, Fig 1: per dataset, the loss with the highest mean macro-F1 over the
    architectures and the runner-up. The spread is Fig 1's error bar, the mean absolute
    deviation over the architectures: a difference where mean ± deviation do not overlap."""
    lines = []
    for dataset, rows in fig1[fig1.source == source].groupby("dataset", sort=False):
        ranked = rows.sort_values("mean", ascending=False, kind="stable")
        if len(ranked) < 2:
            continue
        a, b = ranked.iloc[0], ranked.iloc[1]
        spread = apart(a["mean"] - a.mad, a["mean"] + a.mad, b["mean"] - b.mad, b["mean"] + b.mad)
        lines.append(
            f"{dataset}: highest mean {loss_name(a.loss)} ({_num(a['mean'])} ± "
            f"{_num(a.mad)}, over {int(a.n)} architectures), runner-up {loss_name(b.loss)} "
            f"({_num(b['mean'])} ± {_num(b.mad)}); "
            + difference(loss_name(a.loss), loss_name(b.loss), a["mean"] - b["mean"], spread,
                         "Fig 1's error bars (mean ± mean absolute deviation), which allow a difference of"))
    return f"**Fig 1 ({source}).**\n\n" + _bullets(lines)


def interval_widths(intervals: pd.DataFrame) -> str:
    """Notebook 04: the widths of the runs' bootstrap 95% intervals of macro-F1 (points)."""
    width = intervals.high - intervals.low
    return (f"**Bootstrap intervals.** The 95% intervals of this run's macro-F1 are "
            f"{_num(width.min())} to {_num(width.max())} points wide (median "
            f"{_num(width.median())}, {len(width)} runs).")


def lmf_paired(paired: pd.DataFrame, column: str = "lmf_minus_baseline") -> str:
    """Notebook 04: LMF against each baseline on the same test images, per model × dataset ×
    seed; the spread is the paired bootstrap 95% interval of the difference."""
    lines, above, below = [], 0, 0
    for (model_id, dataset_id, seed), rows in paired.groupby(
            ["model_id", "dataset_id", "seed"], sort=False):
        parts = []
        for r in rows.itertuples():
            d, spread = getattr(r, column), (r.low, r.high)
            above += beyond(d, spread) and d > 0
            below += beyond(d, spread) and d < 0
            parts.append(difference("LMF", loss_name(r.baseline), d, spread,
                                    "paired bootstrap 95% interval of the difference"))
        lines.append(f"{model_id} on {dataset_id} (seed {seed}): " + "; ".join(parts))
    head = (f"**LMF against the baselines (paired).** Of {len(paired)} paired comparisons, LMF "
            f"is above the baseline beyond the paired interval in {above}, below it in {below}, "
            f"and within it in {len(paired) - above - below}.")
    return head + "\n\n" + _bullets(lines)


# --- notebook 06 ------------------------------------------------------------------------------

def fig4_settings(summary: pd.DataFrame) -> str:
    """Notebook 06, Fig 4: the settings ranked by mean test macro-F1, which has the smallest
    mean absolute deviation, and whether the highest mean differs from each other setting's
    beyond the error bars (mean ± mean absolute deviation, Fig 4's spread)."""
    ranked = summary.sort_values("mean", ascending=False, kind="stable")
    top = ranked.iloc[0]
    steady = summary.loc[summary.mad.idxmin()]
    lines = [f"highest mean: {top.setting} ({_num(top['mean'])} ± {_num(top.mad)}); lowest "
             f"mean: {ranked.iloc[-1].setting} ({_num(ranked.iloc[-1]['mean'])} ± "
             f"{_num(ranked.iloc[-1].mad)}); smallest deviation: {steady.setting} "
             f"({_num(steady.mad)})"]
    for other in ranked.iloc[1:].itertuples():
        spread = apart(top["mean"] - top.mad, top["mean"] + top.mad,
                       other.mean - other.mad, other.mean + other.mad)
        lines.append(difference(top.setting, other.setting, top["mean"] - other.mean, spread,
                                "Fig 4's error bars (mean ± mean absolute deviation), which allow a difference "
                                "of"))
    return "**Fig 4.**\n\n" + _bullets(lines)


def table6_best(table6: pd.DataFrame, hparam_runs: pd.DataFrame) -> str:
    """Notebook 06, Table 6: per dataset × model, the (α, β) with the best validation macro-F1
    and the runner-up pair. The spread is the larger seed standard deviation of the two pairs'
    validation macro-F1 when a pair has several seeds; with one seed the notebook reports no
    spread, and the gap is not called a difference."""
    runs = hparam_runs[hparam_runs.loss == "lmf"]
    runs = runs.assign(val=100 * runs.val_macro_f1)
    lines = []
    for row in table6.itertuples():
        mine = runs[(runs.dataset_id == row.dataset) & (runs.model_id == row.model)]
        stats = mine.groupby(["alpha", "beta"], sort=False).val.agg(["mean", "std", "size"])
        best = (float(row.alpha), float(row.beta))
        text = (f"{row.dataset}, {row.model}: best validation macro-F1 at α = {row.alpha:g}, "
                f"β = {row.beta:g} ({_num(row.val_macro_f1)}; test {_num(row.test_macro_f1)}), "
                f"of {int(row.settings_tried)} pairs")
        if pd.notna(getattr(row, "paper_alpha", float("nan"))):
            text += (f"; the paper's pair for {row.paper_dataset}: α = {row.paper_alpha:g}, "
                     f"β = {row.paper_beta:g}")
        others = stats.drop(index=[best], errors="ignore").sort_values("mean", ascending=False)
        if not others.empty:
            (alpha, beta), second = others.index[0], others.iloc[0]
            several = stats.loc[[best]]["size"].iloc[0] > 1 and second["size"] > 1
            spread = (float(max(stats.loc[[best]]["std"].iloc[0], second["std"]))
                      if several else None)
            which = "seed standard deviation" if several else "one seed per pair"
            text += (f". Runner-up α = {alpha:g}, β = {beta:g} ({_num(second['mean'])}): "
                     + difference("the best pair", "the runner-up", row.val_macro_f1 -
                                  second["mean"], spread, which))
        lines.append(text)
    return "**Table 6.**\n\n" + _bullets(lines)


# --- notebook 08 ------------------------------------------------------------------------------

REFERENCE = ("cce", "random")
METRIC_NAMES = {"balanced_accuracy": "balanced accuracy", "minority_f1": "minority F1"}
CLAIMED = {"balanced_accuracy": 12.0, "minority_f1": 51.0}


def _first_seed(claim: pd.DataFrame) -> pd.DataFrame:
    """One seed per setting: the smallest (the tables hold one row per run)."""
    return claim[claim.seed == claim.groupby(["dataset_id"]).seed.transform("min")]


def scholz_gains(claim: pd.DataFrame) -> str:
    """Notebook 08, the Scholz table: per dataset, CE with random sampling (the reference, with
    its bootstrap 95% interval), then per metric the largest gain over it, and how many settings
    are above or below it beyond the paired bootstrap 95% interval of the difference; beside
    the claimed 12 (balanced accuracy) and 51 (minority F1) points."""
    lines = []
    for dataset_id, rows in _first_seed(claim).groupby("dataset_id", sort=False):
        ref = rows[(rows.loss == REFERENCE[0]) & (rows.sampler == REFERENCE[1])].iloc[0]
        lines.append(
            f"{dataset_id} (seed {ref.seed}), CE with random sampling: balanced accuracy "
            f"{_num(ref.balanced_accuracy)} (bootstrap 95% interval "
            f"{_num(ref.balanced_accuracy_low)} to {_num(ref.balanced_accuracy_high)}), minority "
            f"F1 {_num(ref.minority_f1)} ({_num(ref.minority_f1_low)} to "
            f"{_num(ref.minority_f1_high)}; minority classes {ref.minority})")
        others = rows.dropna(subset=["diff_balanced_accuracy"])
        for metric, name in METRIC_NAMES.items():
            d, lo, hi = others[f"diff_{metric}"], others[f"diff_{metric}_low"], others[f"diff_{metric}_high"]
            up, down = int((lo > 0).sum()), int((hi < 0).sum())
            top = others.loc[d.idxmax()]
            label = f"{loss_name(top.loss)} ({top.sampler})"
            lines.append(
                f"{name}: largest gain {label}; "
                + difference(label, "CE (random)", top[f"diff_{metric}"],
                             (top[f"diff_{metric}_low"], top[f"diff_{metric}_high"]),
                             "paired bootstrap 95% interval of the difference")
                + f". Of {len(others)} settings, {up} are above CE (random) and {down} below it "
                f"beyond the paired interval, {len(others) - up - down} within it. Claimed: up "
                f"to {CLAIMED[metric]:g} points.")
    return "**Against CE with random sampling.**\n\n" + _bullets(lines)


def sampler_effect(claim: pd.DataFrame, metric: str = "balanced_accuracy") -> str:
    """Notebook 08: per dataset and loss, the sampler with the highest and the lowest
    ``metric``; the spread is the two runs' bootstrap 95% intervals (a difference where they do
    not overlap). Then, per loss and sampler, whether it is within the paired interval of CE
    with random sampling."""
    lines = []
    name = METRIC_NAMES.get(metric, metric)
    for (dataset_id, loss), rows in _first_seed(claim).groupby(["dataset_id", "loss"], sort=False):
        if len(rows) < 2:
            continue
        hi_row = rows.loc[rows[metric].idxmax()]
        lo_row = rows.loc[rows[metric].idxmin()]
        spread = apart(hi_row[f"{metric}_low"], hi_row[f"{metric}_high"],
                       lo_row[f"{metric}_low"], lo_row[f"{metric}_high"])
        text = (f"{dataset_id}, {loss_name(loss)}: {name} from {_num(lo_row[metric])} "
                f"({lo_row.sampler}) to {_num(hi_row[metric])} ({hi_row.sampler}); "
                + difference(hi_row.sampler, lo_row.sampler, hi_row[metric] - lo_row[metric],
                             spread, "the two runs' bootstrap 95% intervals, which allow a "
                                     "difference of"))
        within = [r.sampler for r in rows.itertuples()
                  if pd.notna(getattr(r, f"diff_{metric}"))
                  and not beyond(getattr(r, f"diff_{metric}"),
                                 (getattr(r, f"diff_{metric}_low"), getattr(r, f"diff_{metric}_high")))]
        if loss != REFERENCE[0] or within:
            text += (f". Within the paired interval of CE (random): "
                     f"{', '.join(within) if within else 'no sampler'}")
        lines.append(text)
    return f"**The sampler ({name}).**\n\n" + _bullets(lines)


SEPARATION = {"silhouette_minority": "minority silhouette",
              "knn_purity_minority": "minority k-NN purity",
              "scatter_ratio_minority": "minority scatter ratio"}


def separation(separation_table: pd.DataFrame, claim: pd.DataFrame) -> str:
    """Notebook 08, the separation scores (no spread is reported for them, one run each): per
    dataset and score the highest setting, CE (random)'s value, the gap between them (not called
    a difference), and the Spearman rank correlation over the settings between the score and the
    minority F1. A score no setting has (a test split too small to measure it) is said to be
    not measured."""
    merged = separation_table.merge(claim[["dataset_id", "loss", "sampler", "seed", "minority_f1"]],
                                    on=["dataset_id", "loss", "sampler", "seed"])
    lines = []
    for dataset_id, rows in _first_seed(merged).groupby("dataset_id", sort=False):
        ref = rows[(rows.loss == REFERENCE[0]) & (rows.sampler == REFERENCE[1])]
        for column, name in SEPARATION.items():
            if rows[column].isna().all():  # too few test images of a class to score it
                lines.append(f"{dataset_id}, {name}: not measured (too few test images per "
                             "minority class)")
                continue
            top = rows.loc[rows[column].idxmax()]
            rho = rows[column].rank().corr(rows.minority_f1.rank())
            text = (f"{dataset_id}, {name}: highest {loss_name(top.loss)} ({top.sampler}) "
                    f"{_num(top[column])}")
            if not ref.empty:
                text += "; " + difference(f"{loss_name(top.loss)} ({top.sampler})", "CE (random)",
                                          top[column] - ref[column].iloc[0], None,
                                          "one run each, no interval", unit="")
            text += f"; rank correlation with minority F1 over the {len(rows)} settings {_num(rho)}"
            lines.append(text)
    return "**Separation.**\n\n" + _bullets(lines)


def loss_versus_reference(claim: pd.DataFrame, loss: str = "lmf") -> str:
    """Notebook 08: one loss, with every sampler, against CE with random sampling on both
    metrics; the spread is the paired bootstrap 95% interval of the difference."""
    lines = []
    rows = _first_seed(claim)
    for r in rows[rows.loss == loss].itertuples():
        for metric, name in METRIC_NAMES.items():
            d = getattr(r, f"diff_{metric}")
            if pd.isna(d):
                continue
            lines.append(f"{r.dataset_id}, {name}: " + difference(
                f"{loss_name(loss)} ({r.sampler})", "CE (random)", d,
                (getattr(r, f"diff_{metric}_low"), getattr(r, f"diff_{metric}_high")),
                "paired bootstrap 95% interval of the difference"))
    return f"**{loss_name(loss)} against CE (random).**\n\n" + _bullets(lines)


__all__ = ["apart", "beyond", "difference", "imbalance", "best_losses", "fig1_best",
           "interval_widths", "lmf_paired", "fig4_settings", "table6_best", "scholz_gains",
           "sampler_effect", "separation", "loss_versus_reference", "loss_name"]
