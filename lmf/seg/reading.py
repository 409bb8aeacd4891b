"""Notebook 07's "Reading the numbers": its tables turned into sentences, so no number is typed.

Every function takes DataFrames that ``lmf.seg.tables`` builds (one row per dataset, network
and setting, test scores ``iou``, ``dsc``, ``precision``, ``recall``) and the seed-spread table
of :func:`lmf.seg.tables.seed_spread` (``dataset_id``, ``loss``, ``dsc_mean``, ``dsc_std``,
``seeds``, …), and returns Markdown.

**When a gap is a difference.** Tables 1–6 hold one seed per setting. A gap between two
settings is called a difference only where it is larger than the *seed spread*: the standard
deviation over seeds of the test DSC in the seed-spread table, for the losses the two settings
train with (the larger of the two when they differ; :func:`spread_for`). The spread is
measured on the attention model (the UNet) without attention at a fixed size; the same number
stands in for the other networks and settings, which have no spread of their own, and every
sentence names the spread it used. Otherwise the text says the two are within the spread.
Numbers are compared as the tables print them, to three decimals, so the text and the tables
agree; a gap equal to the spread is within it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from lmf.seg.tables import LOSS_NAMES

#: Decimals of the notebook's tables (``float_format="%.3f"``).
DECIMALS = 3
#: The loss of the settings whose name does not say one: the baseline and Tables 2, 4, 5 and 6
#: train with cross-entropy.
DEFAULT_LOSS = LOSS_NAMES["ce"]
_FULL = "full strategy, "


def fmt(value: float) -> str:
    """A score as the tables print it."""
    return f"{value:.{DECIMALS}f}"


def _thousandths(value: float) -> int:
    return round(value * 10**DECIMALS)


@dataclass(frozen=True)
class Spread:
    """A seed spread: its value (NaN where fewer than two seeds), and what it is, in words."""

    value: float
    label: str

    @property
    def short(self) -> str:
        """``s = 0.010``, or ``no seed spread``."""
        return "no seed spread" if math.isnan(self.value) else f"s = {fmt(self.value)}"

    def __str__(self) -> str:
        return self.label


def _used(spreads) -> str:
    """The spreads a paragraph used, once each: "(seed spread s = …, …)"."""
    labels = list(dict.fromkeys(str(s) for s in spreads))
    return f" (seed spread {'; '.join(labels)})" if labels else ""


def _used_sentence(spreads) -> str:
    """The spreads a paragraph used, as a closing sentence."""
    labels = list(dict.fromkeys(str(s) for s in spreads))
    return f" Seed spread used: {'; '.join(labels)}." if labels else ""


def loss_of_setting(setting: str) -> str:
    """The loss (as ``LOSS_NAMES`` names it) a table's setting trains with: the setting itself
    in Table 3 and the loss study, the name after "full strategy, " in Table 1, else
    cross-entropy."""
    name = setting[len(_FULL):] if setting.startswith(_FULL) else setting
    return name if name in LOSS_NAMES.values() else DEFAULT_LOSS


def spread_for(spread: pd.DataFrame, dataset: str, losses) -> Spread:
    """The seed spread that decides a comparison of settings trained with ``losses``: the largest
    standard deviation over seeds of the test DSC among those losses' rows of ``dataset`` in the
    seed-spread table. A loss the table does not hold (focal, Dice, …) falls back on the largest
    spread of the dataset, and the label says so."""
    rows = spread[spread["dataset_id"] == dataset]
    order = list(LOSS_NAMES.values())
    losses = sorted(dict.fromkeys(losses), key=lambda x: order.index(x) if x in order else len(order))
    known = rows[rows["loss"].isin(losses)]
    seeds = int(rows["seeds"].max()) if len(rows) else 0
    if len(known) < len(losses):
        known = rows
        which = "the largest over the losses of the seed-spread table"
    elif len(losses) == 1:
        which = losses[0]
    else:
        which = "the larger of " + " and ".join(losses)
    std = known["dsc_std"].dropna()
    if std.empty:
        return Spread(math.nan, f"none: {which} has fewer than two seeds, so no gap is called "
                                "a difference")
    value = round(float(std.max()), DECIMALS)
    return Spread(value, f"s = {fmt(value)}: std over {seeds} seeds of the UNet's test DSC, "
                         f"{which}")


def verdict(a: float, b: float, spread: float) -> int:
    """+1 where ``a`` exceeds ``b`` by more than ``spread``, −1 where ``b`` exceeds ``a`` by
    more, 0 where the gap is within the spread or there is no spread (all at the tables'
    three decimals)."""
    if spread is None or math.isnan(spread):
        return 0
    gap, s = _thousandths(a) - _thousandths(b), _thousandths(spread)
    return 1 if gap > s else -1 if gap < -s else 0


def compare(a_label: str, a: float, b_label: str, b: float, spread: Spread,
            score: str = "DSC") -> str:
    """One comparison in words: "A is higher than B by d (a against b), more than s = …" or
    "A (a) and B (b) are within s = …". The caller names the spread (its label) once."""
    side = verdict(a, b, spread.value)
    if side == 0:
        return f"{a_label} ({score} {fmt(a)}) and {b_label} ({fmt(b)}) are within {spread.short}"
    (hi_label, hi), (lo_label, lo) = ((a_label, a), (b_label, b))[::side]
    gap = (_thousandths(hi) - _thousandths(lo)) / 10**DECIMALS
    return (f"{hi_label} is higher than {lo_label} by {fmt(gap)} ({score} {fmt(hi)} against "
            f"{fmt(lo)}), more than {spread.short}")


def _datasets(table: pd.DataFrame):
    """(prefix, rows) per dataset; the prefix names the dataset only where there are several."""
    names = list(dict.fromkeys(table["dataset_id"]))
    for name in names:
        yield (f"**{name}**: " if len(names) > 1 else ""), name, table[table["dataset_id"] == name]


def _score(rows: pd.DataFrame, model: str, setting: str, score: str = "dsc") -> float:
    return float(rows.loc[(rows["model_id"] == model) & (rows["setting"] == setting),
                          score].iloc[0])


def _models(rows: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(rows["model_id"]))


def _listing(items: list[str]) -> str:
    return "; ".join(items) if items else "none"


def against(table: pd.DataFrame, spread: pd.DataFrame, setting: str, reference: str,
            what: str) -> str:
    """``setting`` against ``reference`` on every network of ``table`` (test DSC): how many
    networks it raises, lowers, or leaves within the seed spread, with both numbers for each.
    The spread is :func:`spread_for` the two settings' losses."""
    out = []
    for prefix, dataset, rows in _datasets(table):
        s = spread_for(spread, dataset, [loss_of_setting(reference), loss_of_setting(setting)])
        groups = {1: [], -1: [], 0: []}
        models = [m for m in _models(rows) if set(rows[rows["model_id"] == m]["setting"])
                  >= {setting, reference}]
        for model in models:
            ref, new = _score(rows, model, reference), _score(rows, model, setting)
            groups[verdict(new, ref, s.value)].append(f"{model} {fmt(ref)} → {fmt(new)}")
        n = len(models)
        out.append(f"{prefix}{what} (test DSC, {reference} → {setting}; a change counts where "
                   f"it exceeds the seed spread {s}): higher on {len(groups[1])} of {n} networks "
                   f"({_listing(groups[1])}), lower on {len(groups[-1])} of {n} "
                   f"({_listing(groups[-1])}), within the spread on {len(groups[0])} of {n} "
                   f"({_listing(groups[0])}).")
    return "\n\n".join(out)


def full_strategy(table1: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 1: the full strategy with the unified focal loss against the baseline, per network
    (spread: the larger of cross-entropy's and the unified focal loss's)."""
    return against(table1, spread, f"{_FULL}{LOSS_NAMES['unified_focal']}", "baseline",
                   "Cui et al.'s full strategy against the baseline")


def resizing_alone(table4: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 4: progressive resizing against a fixed size, per network (cross-entropy's spread)."""
    return against(table4, spread, "progressive resizing", "fixed size", "Progressive resizing against a fixed size")


def one_against_others(table: pd.DataFrame, spread: pd.DataFrame, reference: str,
                       what: str) -> str:
    """Every other setting of a one-network table (Tables 2, 5, 6) against ``reference`` in
    test DSC, each compared with the seed spread of the losses involved (cross-entropy's in
    those tables)."""
    out = []
    for prefix, dataset, rows in _datasets(table):
        for model in _models(rows):
            mine = rows[rows["model_id"] == model]
            ref = _score(mine, model, reference)
            parts, used = [], []
            for setting in mine["setting"]:
                if setting == reference:
                    continue
                s = spread_for(spread, dataset, [loss_of_setting(reference),
                                                 loss_of_setting(setting)])
                used.append(s)
                parts.append(compare(setting, _score(mine, model, setting),
                                     reference, ref, s))
            out.append(f"{prefix}{what} on the {model}, test DSC{_used(used)}: "
                       + "; ".join(parts) + ".")
    return "\n\n".join(out)


def sas_alone(table2: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 2: SAS against no attention (cross-entropy's spread)."""
    return one_against_others(table2, spread, "no attention", "SAS alone")


def attention_variants(table5: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 5: every attention variant against none (cross-entropy's spread)."""
    return one_against_others(table5, spread, "none", "Attention at the skip connections")


def oversampling(table6: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 6: random oversampling and SAS against no balancing in DSC (cross-entropy's
    spread), and the precision and recall of oversampling beside those of no balancing."""
    out = [one_against_others(table6, spread, "none", "Balancing")]
    for prefix, _, rows in _datasets(table6):
        for model in _models(rows):
            mine = rows[rows["model_id"] == model]
            if not {"none", "random oversampling"} <= set(mine["setting"]):
                continue
            p0, r0, p1, r1 = (_score(mine, model, setting, score)
                              for setting in ("none", "random oversampling")
                              for score in ("precision", "recall"))
            out.append(f"{prefix}With random oversampling the {model}'s precision is "
                       f"{fmt(p1)} (none: {fmt(p0)}) and its recall {fmt(r1)} (none: {fmt(r0)}).")
    return "\n\n".join(out)


def precision_recall(table3: pd.DataFrame, spread: pd.DataFrame,
                     setting: str = LOSS_NAMES["unified_focal"],
                     reference: str = LOSS_NAMES["ce"]) -> str:
    """Table 3: precision and recall of ``setting`` (the unified focal loss) against
    ``reference`` (cross-entropy) per network: the networks where it raises recall and lowers
    precision, each change beyond the seed spread. The notebook reports no spread of precision
    or recall; the DSC spread of the two losses (the larger) is the yardstick, and the text says
    so."""
    out = []
    for prefix, dataset, rows in _datasets(table3):
        s = spread_for(spread, dataset, [loss_of_setting(reference), loss_of_setting(setting)])
        trade, other = [], []
        models = _models(rows)
        for model in models:
            p0, r0 = (_score(rows, model, reference, c) for c in ("precision", "recall"))
            p1, r1 = (_score(rows, model, setting, c) for c in ("precision", "recall"))
            text = (f"{model}: precision {fmt(p0)} → {fmt(p1)}, recall {fmt(r0)} → {fmt(r1)}")
            dp, dr = verdict(p1, p0, s.value), verdict(r1, r0, s.value)
            (trade if (dp, dr) == (-1, 1) else other).append(text)
        n = len(models)
        out.append(f"{prefix}Precision and recall, {reference} → {setting} (Table 3; no seed "
                   f"spread of precision or recall is reported, so the DSC's seed spread {s} "
                   f"is the yardstick): {setting} raises recall and lowers precision, both by more "
                   f"than s, on {len(trade)} of {n} networks ({_listing(trade)}); on the others "
                   f"at least one of the two changes is within s or goes the other way "
                   f"({_listing(other)}).")
    return "\n\n".join(out)


def best_setting(table: pd.DataFrame, spread: pd.DataFrame, what: str) -> str:
    """Per network, the setting with the highest test DSC and its lead over the second, compared
    with the seed spread of the two settings' losses; then how many networks each setting is
    best on ("best on k networks of n") and on how many its lead exceeds the spread. Settings
    equal at the tables' three decimals are a tie: no one is best on that network."""
    out = []
    for prefix, dataset, rows in _datasets(table):
        models = _models(rows)
        best, clear, details, used, tied = {}, {}, [], [], []
        for model in models:
            mine = rows[rows["model_id"] == model].assign(
                _printed=lambda f: f["dsc"].map(_thousandths))
            mine = mine.sort_values("_printed", ascending=False, kind="stable")
            (top, a), (second, b) = mine[["setting", "dsc"]].iloc[:2].itertuples(index=False)
            s = spread_for(spread, dataset, [loss_of_setting(top), loss_of_setting(second)])
            used.append(s)
            if _thousandths(a) == _thousandths(b):
                level = mine[mine["_printed"] == _thousandths(a)]["setting"]
                tied.append(model)
                details.append(f"{model}: {' and '.join(level)} tie at {fmt(a)}")
                continue
            best[top] = best.get(top, 0) + 1
            ahead = verdict(a, b, s.value) == 1
            clear[top] = clear.get(top, 0) + ahead
            details.append(f"{model}: {top} {fmt(a)}, then {second} {fmt(b)} "
                           f"({'ahead by more than' if ahead else 'within'} {s.short})")
        n = len(models)
        counts = [f"{name} on {k} of {n} networks (ahead by more than the seed spread on "
                  f"{clear[name]})" for name, k in sorted(best.items(), key=lambda item: -item[1])]
        if tied:
            counts.append(f"a tie for the highest on {len(tied)} of {n} ({', '.join(tied)})")
        out.append(f"{prefix}{what}, highest test DSC: {', '.join(counts)}."
                   f"{_used_sentence(used)}\n\n" + "\n".join(f"- {d}" for d in details))
    return "\n\n".join(out)


def best_loss(table3: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 3: which loss (cross-entropy, unified focal, LMF) is best per network."""
    return best_setting(table3, spread, "The loss alone (Table 3)")


def best_full(table1: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Table 1: which of the baseline and the full strategy with either loss is best per
    network."""
    return best_setting(table1, spread, "Baseline and full strategy (Table 1)")


def lambda_trend(lam: pd.DataFrame, spread: pd.DataFrame) -> str:
    """Fig 3(f): the unified focal loss's test DSC per λ, whether it rises (or falls) at every
    step, and the smallest λ against the largest, compared with the unified focal loss's seed
    spread."""
    out = []
    for prefix, dataset, rows in _datasets(lam):
        rows = rows.sort_values("lam")
        values = [(float(x), float(d)) for x, d in zip(rows["lam"], rows["dsc"], strict=True)]
        s = spread_for(spread, dataset, [LOSS_NAMES["unified_focal"]])
        dsc = [_thousandths(d) for _, d in values]
        steps = [later - earlier for earlier, later in zip(dsc, dsc[1:], strict=False)]
        shape = ("rises at every step" if all(d > 0 for d in steps) else
                 "falls at every step" if all(d < 0 for d in steps) else
                 "does not move one way at every step")
        series = ", ".join(f"{fmt(d)} at λ = {x:g}" for x, d in values)
        (x0, d0), (x1, d1) = values[0], values[-1]
        end = compare(f"λ = {x1:g}", d1, f"λ = {x0:g}", d0, s)
        out.append(f"{prefix}The unified focal loss's test DSC against λ: {series}. It {shape}; "
                   f"{end}.{_used_sentence([s])}")
    return "\n\n".join(out)


def seed_means(spread: pd.DataFrame) -> str:
    """The seed-spread table: mean ± std of the test DSC per loss, and every pair of losses
    compared by their means against the larger of their two spreads."""
    out = []
    for prefix, dataset, rows in _datasets(spread):
        n = int(rows["seeds"].max())
        means = ", ".join(f"{r.loss} {fmt(r.dsc_mean)} ± {fmt(r.dsc_std)}"
                          for r in rows.itertuples())
        rows = rows.sort_values("dsc_mean", ascending=False, kind="stable")
        pairs = [(a, b, spread_for(spread, dataset, [a.loss, b.loss]))
                 for i, a in enumerate(rows.itertuples()) for b in rows.iloc[i + 1:].itertuples()]
        said = [compare(f"{a.loss} (mean)", a.dsc_mean, b.loss, b.dsc_mean, s)
                + f" ({'larger of the two spreads' if a.loss != b.loss else 'its spread'})"
                for a, b, s in pairs]
        out.append(f"{prefix}Over {n} seeds on the UNet (test DSC, mean ± std): {means}. "
                   + "; ".join(said) + ".")
    return "\n\n".join(out)


def findings(tables: dict[str, pd.DataFrame], spread: pd.DataFrame) -> str:
    """Every sentence of "Reading the numbers" from the tables the notebook saved, by their
    names (``seg_table1_models``, ``seg_table2_sas``, ``seg_table3_losses``,
    ``seg_table4_resizing``, ``seg_table5_attention``, ``seg_table6_balancing``,
    ``seg_fig3_dsc_lambda``), as one Markdown list."""
    parts = [full_strategy(tables["seg_table1_models"], spread),
             sas_alone(tables["seg_table2_sas"], spread),
             resizing_alone(tables["seg_table4_resizing"], spread),
             attention_variants(tables["seg_table5_attention"], spread),
             precision_recall(tables["seg_table3_losses"], spread),
             lambda_trend(tables["seg_fig3_dsc_lambda"], spread),
             best_loss(tables["seg_table3_losses"], spread),
             best_full(tables["seg_table1_models"], spread),
             seed_means(spread),
             oversampling(tables["seg_table6_balancing"], spread)]
    return "\n\n".join(parts)
