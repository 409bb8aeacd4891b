"""Notebook 07's "Reading the numbers" sentences (lmf.seg.reading) on hand-built tables: a gap
larger than the seed spread is a difference with the right numbers, a gap within it is not,
rankings and "best on k networks of n" counts are the tables'."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lmf.seg import reading

DS = "Toy"


def spread_table(ce=0.010, uf=0.050, lmf=0.007, seeds=3, means=(0.840, 0.670, 0.875)):
    return pd.DataFrame({"dataset_id": DS, "loss": ["cross-entropy", "unified focal", "LMF"],
                         "dsc_mean": list(means), "dsc_std": [ce, uf, lmf], "seeds": seeds})


def table(rows):
    """rows: (model, setting, dsc[, precision, recall])."""
    out = []
    for row in rows:
        model, setting, dsc, *pr = row
        precision, recall = pr if pr else (0.5, 0.5)
        out.append({"dataset_id": DS, "model_id": model, "setting": setting, "iou": dsc - 0.05,
                    "dsc": dsc, "precision": precision, "recall": recall})
    return pd.DataFrame(out)


def test_verdict_is_strictly_beyond_the_spread_at_three_decimals():
    assert reading.verdict(0.852, 0.832, 0.010) == 1
    assert reading.verdict(0.832, 0.852, 0.010) == -1
    assert reading.verdict(0.850, 0.840, 0.010) == 0  # equal to the spread: within
    # compared as printed: 0.850 and 0.840, a gap equal to the spread (the raw gap is 0.0108)
    assert reading.verdict(0.8504, 0.8396, 0.010) == 0
    assert reading.verdict(0.8516, 0.8404, 0.010) == 1  # printed 0.852 and 0.840
    assert reading.verdict(0.90, 0.10, math.nan) == 0  # no spread, no difference


def test_compare_names_the_higher_setting_the_gap_and_the_spread():
    s = reading.Spread(0.010, "s = 0.010: test")
    text = reading.compare("SAS", 0.832, "no attention", 0.852, s)
    assert text == ("no attention is higher than SAS by 0.020 (DSC 0.852 against 0.832), "
                    "more than s = 0.010")
    text = reading.compare("spatial", 0.848, "none", 0.852, s)
    assert text == "spatial (DSC 0.848) and none (0.852) are within s = 0.010"
    assert "higher" not in text


def test_loss_of_setting():
    assert reading.loss_of_setting("LMF") == "LMF"
    assert reading.loss_of_setting("full strategy, unified focal") == "unified focal"
    assert reading.loss_of_setting("baseline") == "cross-entropy"
    assert reading.loss_of_setting("SAS") == "cross-entropy"


def test_spread_for_takes_the_larger_of_the_losses_and_says_so():
    spread = spread_table(ce=0.010, uf=0.053, lmf=0.007)
    s = reading.spread_for(spread, DS, ["LMF", "cross-entropy"])
    assert s.value == pytest.approx(0.010)
    assert "the larger of cross-entropy and LMF" in s.label and "3 seeds" in s.label
    s = reading.spread_for(spread, DS, ["unified focal"])
    assert s.value == pytest.approx(0.053) and s.short == "s = 0.053"
    # a loss the table does not hold: the largest of the dataset, labelled as such
    s = reading.spread_for(spread, DS, ["focal"])
    assert s.value == pytest.approx(0.053) and "largest" in s.label
    # one seed: no spread, and no gap becomes a difference
    one = spread_table(seeds=1).assign(dsc_std=math.nan)
    s = reading.spread_for(one, DS, ["cross-entropy"])
    assert math.isnan(s.value)
    assert "within no seed spread" in reading.compare("a", 0.9, "b", 0.1, s)


def test_against_counts_higher_lower_and_within_with_the_right_numbers():
    t4 = table([("A", "fixed size", 0.852), ("A", "progressive resizing", 0.823),   # -0.029
                ("B", "fixed size", 0.617), ("B", "progressive resizing", 0.611),   # -0.006
                ("C", "fixed size", 0.586), ("C", "progressive resizing", 0.622)])  # +0.036
    text = reading.resizing_alone(t4, spread_table(ce=0.010))
    assert "higher on 1 of 3 networks (C 0.586 → 0.622)" in text
    assert "lower on 1 of 3 (A 0.852 → 0.823)" in text
    assert "within the spread on 1 of 3 (B 0.617 → 0.611)" in text
    assert "s = 0.010" in text and "cross-entropy" in text


def test_full_strategy_uses_the_larger_spread_of_cross_entropy_and_unified_focal():
    t1 = table([("A", "baseline", 0.617), ("A", "full strategy, unified focal", 0.579),
                ("A", "full strategy, LMF", 0.700)])
    # gap 0.038: beyond cross-entropy's 0.010, within the unified focal loss's 0.053
    text = reading.full_strategy(t1, spread_table(ce=0.010, uf=0.053))
    assert "within the spread on 1 of 1 (A 0.617 → 0.579)" in text
    assert "lower on 0 of 1" in text and "s = 0.053" in text
    text = reading.full_strategy(t1, spread_table(ce=0.010, uf=0.020))
    assert "lower on 1 of 1 (A 0.617 → 0.579)" in text


def test_one_network_tables_compare_each_setting_with_the_reference():
    t5 = table([("UNet", "none", 0.852), ("UNet", "spatial", 0.848), ("UNet", "SAS", 0.832)])
    text = reading.attention_variants(t5, spread_table(ce=0.010))
    assert "spatial (DSC 0.848) and none (0.852) are within s = 0.010" in text
    assert "none is higher than SAS by 0.020 (DSC 0.852 against 0.832), more than s = 0.010" in text
    assert text.count("std over 3 seeds") == 1  # the spread named once


def test_best_setting_counts_networks_and_clear_leads():
    t3 = table([("A", "cross-entropy", 0.852), ("A", "unified focal", 0.734), ("A", "LMF", 0.875),
                ("B", "cross-entropy", 0.600), ("B", "unified focal", 0.650), ("B", "LMF", 0.630),
                ("C", "cross-entropy", 0.400), ("C", "unified focal", 0.300), ("C", "LMF", 0.500)])
    text = reading.best_loss(t3, spread_table(ce=0.010, uf=0.053, lmf=0.007))
    # LMF best on A (lead 0.023 > 0.010) and C (0.100 > 0.010); unified focal best on B, its lead
    # over LMF (0.020) within the larger spread 0.053
    assert "LMF on 2 of 3 networks (ahead by more than the seed spread on 2)" in text
    assert "unified focal on 1 of 3 networks (ahead by more than the seed spread on 0)" in text
    assert "- A: LMF 0.875, then cross-entropy 0.852 (ahead by more than s = 0.010)" in text
    assert "- B: unified focal 0.650, then LMF 0.630 (within s = 0.053)" in text
    assert text.index("LMF on 2") < text.index("unified focal on 1")  # most networks first


def test_a_tie_at_three_decimals_is_no_one_best():
    t1 = table([("A", "baseline", 0.5861), ("A", "full strategy, unified focal", 0.560),
                ("A", "full strategy, LMF", 0.5859),
                ("B", "baseline", 0.600), ("B", "full strategy, unified focal", 0.560),
                ("B", "full strategy, LMF", 0.700)])
    text = reading.best_full(t1, spread_table())
    assert "full strategy, LMF on 1 of 2 networks" in text
    assert "a tie for the highest on 1 of 2 (A)" in text
    assert "- A: baseline and full strategy, LMF tie at 0.586" in text
    assert "baseline on" not in text


def test_best_full_reads_the_loss_from_the_full_strategy_setting():
    t1 = table([("A", "baseline", 0.852), ("A", "full strategy, unified focal", 0.767),
                ("A", "full strategy, LMF", 0.870)])
    # lead 0.018 over the baseline: beyond LMF/cross-entropy's 0.010, within 0.020
    text = reading.best_full(t1, spread_table(ce=0.010, lmf=0.007))
    assert "full strategy, LMF on 1 of 1 networks (ahead by more than the seed spread on 1)" in text
    text = reading.best_full(t1, spread_table(ce=0.020, lmf=0.007))
    assert "ahead by more than the seed spread on 0" in text and "(within s = 0.020)" in text


def test_precision_recall_trade_only_beyond_the_spread():
    t3 = table([("A", "cross-entropy", 0.36, 0.446, 0.341), ("A", "unified focal", 0.40, 0.315, 0.657),
                ("B", "cross-entropy", 0.85, 0.866, 0.842), ("B", "unified focal", 0.73, 0.790, 0.750),
                ("C", "cross-entropy", 0.60, 0.600, 0.640), ("C", "unified focal", 0.59, 0.580, 0.700)])
    text = reading.precision_recall(t3, spread_table(ce=0.010, uf=0.053))
    # A: precision −0.131, recall +0.316: a trade. B: both fall. C: precision −0.020 within 0.053
    assert "on 1 of 3 networks (A: precision 0.446 → 0.315, recall 0.341 → 0.657)" in text
    assert "B: precision 0.866 → 0.790" in text.split("on the others")[1]
    assert "C: precision 0.600 → 0.580" in text.split("on the others")[1]
    assert "no seed spread of precision or recall" in text


def test_lambda_trend_rises_and_the_ends_are_compared_with_the_unified_focal_spread():
    lam = pd.DataFrame({"dataset_id": DS, "model_id": "UNet", "setting": "unified focal",
                        "lam": [0.9, 0.1, 0.5], "dsc": [0.779, 0.635, 0.734]})
    text = reading.lambda_trend(lam, spread_table(uf=0.053))
    assert "0.635 at λ = 0.1, 0.734 at λ = 0.5, 0.779 at λ = 0.9" in text
    assert "rises at every step" in text
    assert "λ = 0.9 is higher than λ = 0.1 by 0.144" in text and "s = 0.053" in text
    flat = lam.assign(dsc=[0.650, 0.640, 0.700])
    text = reading.lambda_trend(flat, spread_table(uf=0.053))
    assert "does not move one way at every step" in text
    assert "λ = 0.9 (DSC 0.650) and λ = 0.1 (0.640) are within s = 0.053" in text


def test_seed_means_compares_each_pair_with_the_larger_spread():
    spread = spread_table(ce=0.010, uf=0.053, lmf=0.007, means=(0.842, 0.800, 0.875))
    text = reading.seed_means(spread)
    assert "cross-entropy 0.842 ± 0.010, unified focal 0.800 ± 0.053, LMF 0.875 ± 0.007" in text
    assert "LMF (mean) is higher than cross-entropy by 0.033" in text
    # 0.842 − 0.800 = 0.042 within the unified focal loss's 0.053
    assert "cross-entropy (mean) (DSC 0.842) and unified focal (0.800) are within s = 0.053" in text


def test_oversampling_reports_precision_and_recall_and_datasets_are_named_when_several():
    t6 = table([("UNet", "none", 0.852, 0.866, 0.842),
                ("UNet", "random oversampling", 0.592, 0.910, 0.496)])
    two = pd.concat([t6, t6.assign(dataset_id="Other")], ignore_index=True)
    spread = pd.concat([spread_table(), spread_table().assign(dataset_id="Other")])
    text = reading.oversampling(two, spread)
    assert "none is higher than random oversampling by 0.260" in text
    assert "precision is 0.910 (none: 0.866) and its recall 0.496 (none: 0.842)" in text
    assert "**Toy**: " in text and "**Other**: " in text
    assert "**Toy**" not in reading.oversampling(t6, spread_table())


def test_findings_joins_every_claim():
    t = table([("UNet", "baseline", 0.85), ("UNet", "full strategy, unified focal", 0.77),
               ("UNet", "full strategy, LMF", 0.90)])
    tables = {"seg_table1_models": t,
              "seg_table2_sas": table([("UNet", "no attention", 0.85), ("UNet", "SAS", 0.83)]),
              "seg_table3_losses": table([("UNet", "cross-entropy", 0.85), ("UNet", "unified focal", 0.73),
                                          ("UNet", "LMF", 0.88)]),
              "seg_table4_resizing": table([("UNet", "fixed size", 0.85),
                                            ("UNet", "progressive resizing", 0.82)]),
              "seg_table5_attention": table([("UNet", "none", 0.85), ("UNet", "SAS", 0.83)]),
              "seg_table6_balancing": table([("UNet", "none", 0.85),
                                             ("UNet", "random oversampling", 0.59)]),
              "seg_fig3_dsc_lambda": pd.DataFrame({"dataset_id": DS, "lam": [0.1, 0.9],
                                                   "dsc": [0.6, 0.8]})}
    text = reading.findings(tables, spread_table())
    for part in ("full strategy against the baseline", "SAS alone", "Progressive resizing",
                 "Attention", "Precision and recall", "against λ", "The loss alone",
                 "Baseline and full strategy", "Over 3 seeds", "random oversampling"):
        assert part in text, part
