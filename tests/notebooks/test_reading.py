"""lmf.classification.report.reading: the reading sentences against small hand-built tables.

A gap is called a difference only beyond the spread the sentence names; the best setting is the
one with the highest value; the numbers are those of the tables."""

from __future__ import annotations

import pandas as pd
import pytest

from lmf.classification.report import reading

# --- the shared rule ----------------------------------------------------------------------------

def test_beyond_an_interval_is_one_that_excludes_zero():
    assert reading.beyond(2.0, (0.5, 3.5))
    assert reading.beyond(-2.0, (-3.5, -0.5))
    assert not reading.beyond(2.0, (-0.5, 4.5))
    assert not reading.beyond(0.0, (0.0, 1.0))  # touching 0 is not excluding it


def test_beyond_a_standard_deviation_is_a_larger_gap():
    assert reading.beyond(1.5, 1.0)
    assert reading.beyond(-1.5, 1.0)
    assert not reading.beyond(0.8, 1.0)
    assert not reading.beyond(5.0, None)
    assert not reading.beyond(5.0, float("nan"))


def test_apart_excludes_zero_exactly_when_the_intervals_do_not_overlap():
    assert reading.apart(90, 96, 80, 88) == (2, 16)      # disjoint: above
    assert reading.apart(90, 96, 85, 92) == (-2, 11)     # overlapping
    assert reading.beyond(8, reading.apart(90, 96, 80, 88))
    assert not reading.beyond(4.5, reading.apart(90, 96, 85, 92))


def test_difference_beyond_names_the_direction_the_gap_and_the_spread():
    text = reading.difference("LMF", "CE", 3.25, (1.0, 5.5), "paired bootstrap 95% interval "
                              "of the difference")
    assert text == ("LMF is above CE by 3.25 points, beyond the spread (paired bootstrap 95% "
                    "interval of the difference 1.00 to 5.50 points, not including 0)")
    text = reading.difference("LMF", "CE", -3.25, (-5.5, -1.0), "paired interval")
    assert text.startswith("LMF is below CE by 3.25 points, beyond the spread")


def test_difference_within_is_not_called_a_difference():
    text = reading.difference("LMF", "CE", 1.5, (-0.5, 3.5), "paired interval")
    assert text == ("LMF and CE differ by 1.50 points, within the spread (paired interval "
                    "-0.50 to 3.50 points, including 0)")
    assert "above" not in text and "beyond" not in text
    text = reading.difference("A", "B", 0.8, 1.2, "seed standard deviation")
    assert text == ("A and B differ by 0.80 points, within the spread (seed standard deviation "
                    "1.20 points)")
    assert "beyond" in reading.difference("A", "B", 1.3, 1.2, "seed standard deviation")


def test_difference_without_a_spread_calls_nothing():
    text = reading.difference("A", "B", 9.0, None, "one seed")
    assert "not called a difference" in text and "above" not in text


# --- notebook 01 ------------------------------------------------------------------------------

def test_imbalance_states_each_ratio_per_source():
    ratios = pd.DataFrame({"dataset": ["d1", "d1"], "largest": [100, 58], "smallest": [4, 1],
                           "imbalance_ratio": [25.0, 58.0], "source": ["this run", "published"]})
    text = reading.imbalance(ratios)
    assert "* this run: d1 25.0 (100 / 4)" in text
    assert "* published: d1 58.0 (58 / 1)" in text


# --- notebook 04 ------------------------------------------------------------------------------

def _overall(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"model_id": "m", "dataset_id": "d", "loss": list(values),
                         "macro_f1": list(values.values())})


def test_best_loss_within_overlapping_bootstrap_intervals():
    overall = _overall({"cce": 80.0, "lmf": 84.0, "focal": 82.0})
    intervals = pd.DataFrame({"model_id": "m", "dataset_id": "d", "loss": ["cce", "lmf", "focal"],
                              "low": [76.0, 80.0, 78.0], "high": [84.0, 88.0, 86.0]})
    text = reading.best_losses(overall, intervals)
    # best LMF 84, runner-up focal 82: intervals 80–88 and 78–86 allow 80−86 = −6 to 88−78 = 10
    assert "highest macro_f1 LMF (84.00), runner-up focal (82.00)" in text
    assert "LMF and focal differ by 2.00 points, within the spread" in text
    assert "-6.00 to 10.00 points, including 0" in text


def test_best_loss_beyond_disjoint_intervals():
    overall = _overall({"cce": 70.0, "lmf": 84.0})
    intervals = pd.DataFrame({"model_id": "m", "dataset_id": "d", "loss": ["cce", "lmf"],
                              "low": [66.0, 81.0], "high": [74.0, 87.0]})
    text = reading.best_losses(overall, intervals)
    assert "LMF is above CE by 14.00 points, beyond the spread" in text
    assert "7.00 to 21.00 points, not including 0" in text


def test_best_loss_uses_the_seed_std_when_there_are_seeds():
    overall = _overall({"cce": 80.0, "lmf": 83.0})
    seeds = pd.DataFrame({"model_id": "m", "dataset_id": "d", "loss": ["cce", "lmf"],
                          "macro_f1_std": [1.0, 2.5], "n_seeds": [3, 3]})
    text = reading.best_losses(overall, pd.DataFrame(columns=["model_id", "dataset_id", "loss",
                                                              "low", "high"]), seeds)
    assert "LMF is above CE by 3.00 points, beyond the spread (seed standard deviation 2.50" in text
    seeds.loc[1, "macro_f1_std"] = 3.5
    text = reading.best_losses(overall, None, seeds)
    assert "LMF and CE differ by 3.00 points, within the spread (seed standard deviation 3.50" in text


def test_fig1_best_against_the_error_bars():
    fig1 = pd.DataFrame({"dataset": "d", "source": ["this run"] * 3 + ["published"],
                         "loss": ["cce", "lmf", "focal", "cce"], "mean": [80.0, 86.0, 81.0, 99.0],
                         "mad": [1.0, 2.0, 1.5, 0.0], "n": 3})
    text = reading.fig1_best(fig1)
    # LMF 86 ± 2 (84–88) against focal 81 ± 1.5 (79.5–82.5): 84 − 82.5 = 1.5 > 0
    assert "highest mean LMF (86.00 ± 2.00, over 3 architectures), runner-up focal" in text
    assert "LMF is above focal by 5.00 points, beyond the spread" in text
    assert "1.50 to 8.50 points" in text
    assert "99" not in text  # the published rows are another source


def test_interval_widths():
    intervals = pd.DataFrame({"low": [50.0, 60.0, 70.0], "high": [54.0, 70.0, 76.0]})
    assert reading.interval_widths(intervals) == (
        "**Bootstrap intervals.** The 95% intervals of this run's macro-F1 are 4.00 to 10.00 "
        "points wide (median 6.00, 3 runs).")


def test_lmf_paired_counts_and_calls_only_what_excludes_zero():
    paired = pd.DataFrame({"model_id": "m", "dataset_id": "d", "seed": 23,
                           "baseline": ["cce", "focal", "ldam"],
                           "lmf_minus_baseline": [5.0, 1.0, -4.0],
                           "low": [1.0, -2.0, -7.0], "high": [9.0, 4.0, -1.0]})
    text = reading.lmf_paired(paired)
    assert ("Of 3 paired comparisons, LMF is above the baseline beyond the paired interval in 1, "
            "below it in 1, and within it in 1.") in text
    assert "LMF is above CE by 5.00 points, beyond" in text
    assert "LMF and focal differ by 1.00 points, within" in text
    assert "LMF is below LDAM by 4.00 points, beyond" in text


# --- notebook 06 ------------------------------------------------------------------------------

def test_fig4_settings_names_highest_lowest_and_steadiest():
    summary = pd.DataFrame({"setting": ["S1", "S2", "S3"], "mean": [85.0, 90.0, 80.0],
                            "mad": [0.5, 3.0, 1.0], "n": 3})
    text = reading.fig4_settings(summary)
    assert "highest mean: S2 (90.00 ± 3.00); lowest mean: S3 (80.00 ± 1.00); smallest " \
           "deviation: S1 (0.50)" in text
    # S2 87–93 against S1 84.5–85.5: beyond; against S3 79–81: beyond
    assert "S2 is above S1 by 5.00 points, beyond the spread" in text
    summary.loc[0, "mad"] = 2.5   # S1 82.5–87.5 now overlaps S2's 87–93
    assert "S2 and S1 differ by 5.00 points, within the spread" in reading.fig4_settings(summary)


def _hparam_runs(values, seeds=(23,)):
    rows = []
    for (alpha, beta), vals in values.items():
        for seed, val in zip(seeds, vals, strict=True):
            rows.append({"loss": "lmf", "dataset_id": "d", "model_id": "m", "alpha": alpha,
                         "beta": beta, "seed": seed, "val_macro_f1": val, "test_macro_f1": val})
    return pd.DataFrame(rows)


def test_table6_best_with_one_seed_names_the_pair_and_calls_no_difference():
    runs = _hparam_runs({(1.0, 1.0): [0.80], (1.0, 2.0): [0.90], (0.5, 1.0): [0.85]})
    table6 = pd.DataFrame({"dataset": ["d"], "model": ["m"], "alpha": [1.0], "beta": [2.0],
                           "val_macro_f1": [90.0], "test_macro_f1": [90.0], "settings_tried": [3],
                           "paper_dataset": ["ham10000"], "paper_alpha": [0.5],
                           "paper_beta": [1.0]})
    text = reading.table6_best(table6, runs)
    assert "best validation macro-F1 at α = 1, β = 2 (90.00; test 90.00), of 3 pairs" in text
    assert "the paper's pair for ham10000: α = 0.5, β = 1" in text
    assert "Runner-up α = 0.5, β = 1 (85.00)" in text
    assert "not called a difference" in text


def test_table6_best_with_seeds_uses_their_std():
    runs = _hparam_runs({(1.0, 2.0): [0.90, 0.92], (1.0, 1.0): [0.80, 0.82]}, seeds=(1, 2))
    table6 = pd.DataFrame({"dataset": ["d"], "model": ["m"], "alpha": [1.0], "beta": [2.0],
                           "val_macro_f1": [91.0], "test_macro_f1": [91.0], "settings_tried": [2]})
    text = reading.table6_best(table6, runs)
    # gap 91 − 81 = 10, std of (90, 92) = (80, 82) = 1.414…
    assert "the best pair is above the runner-up by 10.00 points, beyond the spread (seed " \
           "standard deviation 1.41 points)" in text


# --- notebook 08 ------------------------------------------------------------------------------

def _claim():
    rows = [
        # loss, sampler, ba, ba_low, ba_high, d_ba, d_low, d_high, mf1, lo, hi, d_mf1, d_lo, d_hi
        ("cce", "random", 94.0, 91.0, 96.0, None, None, None, 89.0, 82.0, 94.0, None, None, None),
        ("soft_mcc", "random", 68.0, 65.0, 71.0, -26.0, -29.0, -23.0, 0.0, 0.0, 0.0,
         -89.0, -94.0, -82.0),
        ("soft_mcc", "class-balanced", 95.0, 92.0, 97.0, 1.0, -1.0, 3.0, 88.0, 82.0, 93.0,
         -1.0, -5.0, 3.0),
        ("ce_soft_mcc", "random", 96.5, 94.0, 98.0, 2.5, 0.5, 4.0, 93.0, 88.0, 97.0,
         4.0, -1.0, 9.0),
    ]
    columns = ["loss", "sampler", "balanced_accuracy", "balanced_accuracy_low",
               "balanced_accuracy_high", "diff_balanced_accuracy", "diff_balanced_accuracy_low",
               "diff_balanced_accuracy_high", "minority_f1", "minority_f1_low", "minority_f1_high",
               "diff_minority_f1", "diff_minority_f1_low", "diff_minority_f1_high"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(dataset_id="d", seed=23, minority="9, 8")


def test_scholz_gains_reference_best_gain_and_counts():
    text = reading.scholz_gains(_claim())
    assert ("CE with random sampling: balanced accuracy 94.00 (bootstrap 95% interval 91.00 to "
            "96.00), minority F1 89.00 (82.00 to 94.00; minority classes 9, 8)") in text
    assert ("balanced accuracy: largest gain CE + soft MCC (random); CE + soft MCC (random) is "
            "above CE (random) by 2.50 points, beyond the spread") in text
    assert "Of 3 settings, 1 are above CE (random) and 1 below it beyond the paired interval, " \
           "1 within it. Claimed: up to 12 points." in text
    # minority F1: best gain 4 with a paired interval −1 to 9: within
    assert "CE + soft MCC (random) and CE (random) differ by 4.00 points, within the spread" in text
    assert "Claimed: up to 51 points." in text


def test_sampler_effect_for_one_loss():
    text = reading.sampler_effect(_claim())
    assert ("d, soft MCC: balanced accuracy from 68.00 (random) to 95.00 (class-balanced); "
            "class-balanced is above random by 27.00 points, beyond the spread") in text
    assert "21.00 to 32.00 points" in text  # 92 − 71, 97 − 65
    assert "Within the paired interval of CE (random): class-balanced" in text


def test_loss_versus_reference_and_separation():
    claim = _claim()
    text = reading.loss_versus_reference(claim, "soft_mcc")
    assert "soft MCC (random) is below CE (random) by 26.00 points, beyond" in text
    assert "soft MCC (class-balanced) and CE (random) differ by 1.00 points, within" in text
    separation = claim[["dataset_id", "loss", "sampler", "seed"]].assign(
        silhouette_minority=[0.20, -0.10, 0.19, 0.25], knn_purity_minority=[0.9, 0.1, 0.8, 0.95],
        scatter_ratio_minority=[1.0, 0.2, 0.9, 1.1])
    text = reading.separation(separation, claim)
    assert "d, minority silhouette: highest CE + soft MCC (random) 0.25" in text
    assert "differ by 0.05; the notebook reports no spread" in text
    # minority F1 ranks (3, 1, 2, 4) and silhouette ranks (3, 1, 2, 4): correlation 1
    assert "rank correlation with minority F1 over the 4 settings 1.00" in text


@pytest.mark.parametrize("loss,name", [("cce", "CE"), ("ce_soft_f1", "CE + soft F1"),
                                       ("other", "other")])
def test_loss_names(loss, name):
    assert reading.loss_name(loss) == name


def test_the_seed_spread_grid_is_the_paper_grid_of_one_model_over_the_profiles_seeds():
    from lmf.classification.report import tables, uncertainty
    from lmf.sweep import build_grid

    profile = tables.restrict_profile("cpu")
    spread = uncertainty.spread_profile(profile)
    assert list(spread.models) == ["densenet121"] and profile.spread_seeds == 3
    grid = build_grid("paper", spread, seeds=profile.spread_seeds)
    assert len(grid) == len(profile.losses) * 3
    assert sorted({c.seed for c in grid}) == [23, 24, 25]
    main = build_grid("paper", profile)  # its seed-23 runs are the main grid's, trained once
    assert {c.run_id for c in grid if c.seed == 23} <= {c.run_id for c in main}
    narrowed = tables.restrict_profile("cpu", models=["resnet50"])
    assert list(uncertainty.spread_profile(narrowed).models) == ["resnet50"]


def test_a_separation_score_no_setting_has_is_not_measured():
    claim = _claim()
    separation = claim[["dataset_id", "loss", "sampler", "seed"]].assign(
        silhouette_minority=[float("nan")] * 4, knn_purity_minority=[0.9, 0.1, 0.8, 0.95],
        scatter_ratio_minority=[1.0, 0.2, 0.9, 1.1])
    text = reading.separation(separation, claim)
    assert "minority silhouette: not measured" in text
    assert "minority k-NN purity: highest CE + soft MCC (random) 0.95" in text
