"""lmf.classification.report, lmf.core.outputs and lmf.classification.plots against hand-computed values and the published tables."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from lmf.classification import paper, plots
from lmf.classification.profiles import get_profile
from lmf.classification.report import loss_analysis, tables, uncertainty
from lmf.core.errors import ConfigError, DataError
from lmf.core.outputs import display_path, save_figure, save_table
from lmf.core.paths import paper_dir

matplotlib.use("Agg")


def _runs(profile_name: str, rows: list[dict]) -> pd.DataFrame:
    """A load_runs-like frame: source/architecture names and the paper ids (the runs' labels)
    as the run store holds them."""
    profile = get_profile(profile_name)
    out = []
    for i, row in enumerate(rows):
        out.append({"run_id": f"r{i}", "run_dir": f"r{i}", "seed": row.get("seed", 23),
                    "dataset": profile.datasets[row["dataset"]],
                    "model": profile.models[row["model"]], "loss": row["loss"],
                    "dataset_id": row["dataset"], "model_id": row["model"],
                    **{k: v for k, v in row.items() if k not in ("dataset", "model", "loss")}})
    return pd.DataFrame(out)


# --- tables -------------------------------------------------------------------------------------

def test_mean_absolute_deviation_by_hand():
    assert tables.mean_absolute_deviation([1, 2, 6]) == pytest.approx((2 + 1 + 3) / 3)


def test_published_split_counts_reproduce_table1_exactly():
    table = tables.table1(tables.published_split_counts(), "paper")
    assert list(table.dataset) == list(paper.PAPER_DATASETS)
    assert (table[["diff_train", "diff_val", "diff_test", "diff_total"]] == 0).all().all()
    assert table.set_index("dataset").loc["ham10000", ["train", "val", "test"]].tolist() == \
        [7011, 1502, 1502]


def test_split_counts_from_an_index():
    index = pd.DataFrame({"class_name": ["b", "a", "a", "a", "b"],
                          "split": ["train", "train", "train", "test", "val"]})
    counts = tables.split_counts({"toy": index})
    wide = counts.pivot(index="class", columns="part", values="count")
    assert wide.loc["a"].to_dict() == {"train": 2, "val": 0, "test": 1}
    assert wide.loc["b"].to_dict() == {"train": 1, "val": 1, "test": 0}
    ratio = tables.imbalance(counts).iloc[0]
    assert ratio.imbalance_ratio == 2.0 and ratio.images == 3


def test_fig1_published_means_match_tables_2_to_4():
    overall = pd.DataFrame({"dataset_id": ["ham10000"], "model_id": ["resnet50"], "loss": ["lmf"],
                            "macro_f1": [80.0], "paper_dataset": ["ham10000"]})
    data = tables.fig1_data(overall)
    lmf = data[(data.source == "published") & (data.loss == "lmf")].iloc[0]
    values = [84.61, 82.43, 83.31]  # Tables 2, 3, 4: HAM10000, LMF
    mean = sum(values) / 3
    assert lmf["mean"] == pytest.approx(mean)
    assert lmf["mad"] == pytest.approx(sum(abs(v - mean) for v in values) / 3)
    ours = data[data.source == "this run"].iloc[0]
    assert (ours["mean"], ours["mad"]) == (80.0, 0.0)


def test_overall_maps_ids_scales_to_percent_and_sits_beside_the_paper():
    runs = _runs("paper", [
        {"dataset": "odir5k", "model": "resnet50", "loss": "ldam", "test_accuracy": 0.6,
         "test_precision": 0.5, "test_recall": 0.4, "test_macro_f1": 0.5},
        {"dataset": "odir5k", "model": "resnet50", "loss": "ldam", "seed": 1,
         "test_accuracy": 0.7, "test_precision": 0.5, "test_recall": 0.4, "test_macro_f1": 0.6},
    ])
    row = tables.overall(runs, "paper").iloc[0]
    assert (row.model_id, row.dataset_id, row.loss, row.n_seeds) == ("resnet50", "odir5k", "ldam", 2)
    assert row.accuracy == pytest.approx(65.0)
    assert row.paper_macro_f1 == 55.16  # journal version (the short version prints 56.01)
    assert row.diff_macro_f1 == pytest.approx(55.0 - 55.16)


def test_cpu_rows_map_to_paper_model_ids_and_the_counterpart_dataset():
    runs = _runs("cpu", [{"dataset": "digits_lt", "model": "efficientnetv2_s", "loss": "cce"}])
    mapped = tables.with_paper_ids(runs, "cpu").iloc[0]
    assert (mapped.model, mapped.model_id) == ("timm:tinynet_e", "efficientnetv2_s")
    assert mapped.paper_dataset == "ham10000"
    assert "NOT expected" in tables.comparison_note("cpu")


def _scores(macro_f1: float) -> dict:
    return {"test_accuracy": 0.9, "test_precision": 0.8, "test_recall": 0.7,
            "test_macro_f1": macro_f1}


def test_counterpart_tables_have_no_differences_and_the_paper_profile_has():
    assert tables.shows_differences("paper") and not tables.shows_differences("cpu")
    cpu = tables.overall(_runs("cpu", [{"dataset": "digits_lt", "model": "resnet50",
                                        "loss": "cce", **_scores(0.5)}]), "cpu")
    assert not [c for c in cpu.columns if c.startswith("diff_")]
    assert cpu.iloc[0].paper_macro_f1 == 79.95  # HAM10000, ResNet-50, CCE (Table 3)
    assert "diff_macro_f1" not in tables.model_table(cpu, "resnet50").columns
    counts = tables.published_split_counts(["ham10000"]).assign(dataset="digits_lt")
    table1 = tables.table1(counts, "cpu")
    assert not [c for c in table1.columns if c.startswith("diff_")]
    assert table1.iloc[0].paper_total == 7011 + 1502 + 1502


def test_compact_model_table_lays_one_metric_ours_beside_the_paper_per_loss():
    runs = _runs("paper", [
        {"dataset": "ham10000", "model": "resnet50", "loss": "lmf", **_scores(0.80)},
        {"dataset": "ham10000", "model": "resnet50", "loss": "cce", **_scores(0.70)},
        {"dataset": "odir5k", "model": "resnet50", "loss": "cce", **_scores(0.50)},
        {"dataset": "odir5k", "model": "densenet121", "loss": "cce", **_scores(0.10)},
    ])
    compact = tables.compact_model_table(tables.overall(runs, "paper"), "resnet50")
    assert list(compact.columns) == ["dataset", "cce", "paper_cce", "lmf", "paper_lmf"]
    table = compact.set_index("dataset")
    assert list(table.index) == ["odir5k", "ham10000"]  # the paper's dataset order
    assert table.loc["ham10000"].tolist() == pytest.approx([70.0, 79.95, 80.0, 82.43])
    assert table.loc["odir5k", "cce"] == pytest.approx(50.0)
    assert np.isnan(table.loc["odir5k", "lmf"])
    accuracy = tables.compact_model_table(tables.overall(runs, "paper"), "resnet50", "accuracy")
    assert accuracy.set_index("dataset").loc["ham10000", "paper_lmf"] == 89.35
    with pytest.raises(ConfigError, match="metric"):
        tables.compact_model_table(tables.overall(runs, "paper"), "resnet50", "f1")


def test_compact_model_table_names_the_counterpart_dataset():
    runs = _runs("cpu", [{"dataset": "digits_lt", "model": "resnet50", "loss": "lmf",
                          **_scores(0.5)}])
    compact = tables.compact_model_table(tables.overall(runs, "cpu"), "resnet50")
    assert compact.to_dict("records") == [{"dataset": "digits_lt", "paper_dataset": "ham10000",
                                           "lmf": 50.0, "paper_lmf": 82.43}]


def test_table5_and_smallest_classes_of_isic_as_in_the_short_version():
    per_class = pd.DataFrame([
        ("isic2019", "efficientnetv2_s", loss, 23, c, 50.0)
        for loss in paper.PAPER_LOSSES for c in ("AK", "DF", "SCC", "VASC")],
        columns=["dataset_id", "model_id", "loss", "seed", "class", "f1"])
    train_counts = tables.published_split_counts(["isic2019"]).query("part == 'train'")
    t5 = tables.table5(per_class, train_counts)
    df = t5.set_index("class").loc["DF"]
    assert df.train_samples == 167 and df.paper_lmf == 78.26
    assert df.diff_lmf == pytest.approx(50.0 - 78.26)
    smallest = tables.smallest_classes_f1(per_class, train_counts, "isic2019")
    assert list(dict.fromkeys(smallest["class"])) == ["DF (n=167)", "VASC (n=177)", "SCC (n=440)"]
    published = smallest[smallest.source == "published"].set_index(["class", "loss"]).f1
    assert published[("SCC (n=440)", "lmf")] == 69.27
    assert set(smallest.loss) == {"cce", "focal", "ldam", "lmf"}


def test_table6_chooses_on_validation_not_test():
    runs = _runs("paper", [
        {"dataset": "ham10000", "model": "efficientnetv2_s", "loss": "lmf", "alpha": 1.0,
         "beta": 0.5, "val_macro_f1": 0.80, "test_macro_f1": 0.70},
        {"dataset": "ham10000", "model": "efficientnetv2_s", "loss": "lmf", "alpha": 1.0,
         "beta": 2.0, "val_macro_f1": 0.75, "test_macro_f1": 0.90},
    ])
    row = tables.table6(runs, "paper").iloc[0]
    assert (row.alpha, row.beta, row.settings_tried) == (1.0, 0.5, 2)
    assert row.test_macro_f1 == pytest.approx(70.0)
    assert (row.paper_alpha, row.paper_beta) == (1.0, 2.0)


def _published_classes(dataset: str) -> list[str]:
    """A dataset's classes in the order of the published Table 5 TSV."""
    published = pd.read_csv(paper_dir() / "table5_classwise_f1_efficientnetv2_s.tsv",
                            sep="\t")
    return published.loc[published.dataset == dataset, "class"].tolist()


def test_per_class_split_lists_datasets_and_classes_as_published():
    # HAM10000 comes first and shares BCC, BKL, ... with ISIC 2019: a table ordered by first
    # appearance of the class would put ISIC's own classes AK and SCC last.
    counts = tables.published_split_counts()
    shuffled = counts.sample(frac=1.0, random_state=0)
    extra = pd.DataFrame({"dataset": ["toy", "isic2019"], "class": ["z", "UNK"],
                          "part": "train", "count": [1, 1]})
    table = tables.per_class_split(pd.concat([extra, shuffled], ignore_index=True))
    assert list(dict.fromkeys(table.dataset)) == [*paper.PAPER_DATASETS, "toy"]
    isic = table[table.dataset == "isic2019"]["class"].tolist()
    assert isic == [*_published_classes("isic2019"), "UNK"]
    assert isic[:1] == ["AK"] and isic[-3:] == ["SCC", "VASC", "UNK"]
    for dataset in ("odir5k", "ham10000", "covid19"):
        assert table[table.dataset == dataset]["class"].tolist() == _published_classes(dataset)
    assert list(tables.table1(shuffled, "paper").dataset) == list(paper.PAPER_DATASETS)


def test_split_counts_of_indexes_follow_the_paper_order():
    isic = pd.DataFrame({"class_name": ["VASC", "SCC", "AK", "BCC"], "split": "train"})
    covid = pd.DataFrame({"class_name": ["VP", "Covid", "Covid"], "split": "train"})
    counts = tables.split_counts({"covid19": covid, "isic2019": isic})
    assert list(dict.fromkeys(counts.dataset)) == ["isic2019", "covid19"]
    published = _published_classes("isic2019")
    expected = [c for c in published if c in {"VASC", "SCC", "AK", "BCC"}]
    assert list(dict.fromkeys(counts[counts.dataset == "isic2019"]["class"])) == expected
    assert list(tables.imbalance(counts).dataset) == ["isic2019", "covid19"]


def test_table5_rows_in_the_published_order():
    rows = [("covid19", c) for c in ("VP", "Normal", "LO", "Covid")]
    rows += [("isic2019", c) for c in ("BCC", "BKL", "DF", "MEL", "NV", "VASC", "AK", "SCC")]
    per_class = pd.DataFrame([(d, "efficientnetv2_s", loss, 23, c, 50.0)
                              for d, c in rows for loss in paper.PAPER_LOSSES],
                             columns=["dataset_id", "model_id", "loss", "seed", "class", "f1"])
    train_counts = tables.published_split_counts(["covid19", "isic2019"]).query("part == 'train'")
    t5 = tables.table5(per_class, train_counts)
    assert list(dict.fromkeys(t5.dataset)) == ["isic2019", "covid19"]
    assert t5[t5.dataset == "isic2019"]["class"].tolist() == _published_classes("isic2019")
    assert t5[t5.dataset == "covid19"]["class"].tolist() == _published_classes("covid19")
    assert t5.set_index("class").loc["AK", "paper_lmf"] == 68.12


def test_table6_breaks_ties_by_the_grid_order_not_the_run_order():
    from lmf.sweep import build_grid

    tied = [(1.0, 2.0), (0.5, 0.5)]  # load_runs order (run-folder hashes), opposite to the grid
    grid = [(c.loss_params["alpha"], c.loss_params["beta"]) for c in build_grid("hparams", "paper")]
    assert grid.index(tied[1]) < grid.index(tied[0])
    rows = [{"dataset": dataset, "model": "efficientnetv2_s", "loss": "lmf", "alpha": a,
             "beta": b, "val_macro_f1": 0.8, "test_macro_f1": test}
            for dataset in ("isic2019", "ham10000")
            for (a, b), test in zip(tied, (0.7, 0.6), strict=True)]
    table = tables.table6(_runs("paper", rows), "paper")
    assert table[["alpha", "beta"]].to_numpy().tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert table.dataset.tolist() == ["ham10000", "isic2019"]
    assert table.test_macro_f1.tolist() == pytest.approx([60.0, 60.0])


def test_fig4_settings_share_the_point_one_one():
    pairs = [(0.5, 0.5), (1.0, 1.0), (2.0, 2.0), (1.0, 0.5), (1.0, 2.0), (0.5, 1.0), (2.0, 1.0)]
    runs = pd.DataFrame({"loss": "lmf", "alpha": [a for a, _ in pairs],
                         "beta": [b for _, b in pairs],
                         "test_macro_f1": [0.1 * i for i in range(1, 8)]})
    summary, per_value = tables.fig4_data(runs)
    assert per_value.groupby("setting").size().tolist() == [3, 3, 3]
    setting2 = per_value[per_value.setting.str.startswith("Setting 2")]
    assert setting2.value.tolist() == [0.5, 1.0, 2.0]
    assert setting2.macro_f1.tolist() == pytest.approx([40.0, 20.0, 50.0])
    s2 = summary.set_index("setting").loc[setting2.setting.iloc[0]]
    assert s2["mean"] == pytest.approx(110 / 3)
    assert s2["mad"] == pytest.approx(tables.mean_absolute_deviation([40, 20, 50]))


# --- uncertainty ----------------------------------------------------------------------------

def test_paired_tests_match_test_images_by_id():
    labels = np.tile([0, 1, 2, 0, 1, 2, 0, 1], 10)  # every class in every resample
    ids = [f"s{i}" for i in range(len(labels))]
    reference = labels.copy()
    baseline = np.tile([0, 1, 2, 0, 0, 0, 0, 1], 10)
    perm = np.random.default_rng(0).permutation(len(labels))

    def onehot(pred):
        return np.eye(3)[pred]

    store = {
        "r0": {"labels": labels, "logits": onehot(reference), "ids": ids},
        "r1": {"labels": labels[perm], "logits": onehot(baseline)[perm],
               "ids": [ids[i] for i in perm]},
    }
    runs = _runs("paper", [
        {"dataset": "covid19", "model": "resnet50", "loss": "lmf", "test_macro_f1": 1.0},
        {"dataset": "covid19", "model": "resnet50", "loss": "cce", "test_macro_f1": 0.5},
    ])
    paired = uncertainty.paired_tests(runs, "paper", store.__getitem__, n_boot=200).iloc[0]
    from sklearn.metrics import f1_score
    expected = 100 * (1.0 - f1_score(labels, baseline, average="macro"))
    assert paired.baseline == "cce"
    assert paired.lmf_minus_baseline == pytest.approx(expected)
    assert paired.low <= paired.lmf_minus_baseline <= paired.high
    intervals = uncertainty.run_intervals(runs, "paper", store.__getitem__, n_boot=100)
    assert intervals.set_index("loss").loc["lmf", ["low", "high"]].tolist() == [100.0, 100.0]
    store["r1"] = {**store["r1"], "labels": np.zeros(len(labels), dtype=int)}
    with pytest.raises(DataError, match="different labels"):
        uncertainty.paired_tests(runs, "paper", store.__getitem__, n_boot=10)


def test_bootstrap_tables_list_datasets_in_the_paper_order():
    labels = np.array([0, 1, 0, 1])
    store = {f"r{i}": {"labels": labels, "logits": np.eye(2)[labels], "ids": list("abcd")}
             for i in range(8)}
    alphabetical = sorted(paper.PAPER_DATASETS)
    runs = _runs("paper", [{"dataset": d, "model": "resnet50", "loss": loss,
                            "test_macro_f1": 1.0, "test_accuracy": 1.0, "test_precision": 1.0,
                            "test_recall": 1.0}
                           for d in alphabetical for loss in ("lmf", "cce")])
    expected = list(paper.PAPER_DATASETS)
    intervals = uncertainty.run_intervals(runs, "paper", store.__getitem__, n_boot=5)
    assert intervals.dataset_id.tolist() == [d for d in expected for _ in range(2)]
    assert intervals.loss.tolist() == ["cce", "lmf"] * 4
    paired = uncertainty.paired_tests(runs, "paper", store.__getitem__, n_boot=5)
    assert paired.dataset_id.tolist() == expected
    assert uncertainty.over_seeds(runs, "paper").dataset_id.tolist() == \
        [d for d in expected for _ in range(2)]


# --- loss analysis --------------------------------------------------------------------------

def test_logits_give_the_requested_probability():
    logits = loss_analysis.logits_for([0.1, 0.7], num_classes=4, target=2)
    p = torch.softmax(logits, dim=1)
    assert p[:, 2].tolist() == pytest.approx([0.1, 0.7])
    assert p[0, 0].item() == pytest.approx(0.3)


def test_class_factors_by_hand():
    factors = loss_analysis.class_factors(pd.Series([100, 400, 1600], index=["a", "b", "c"]))
    assert factors.margin.tolist() == pytest.approx([0.5, 0.5 / math.sqrt(2), 0.25])
    assert factors.bwcce_weight.sum() == pytest.approx(1.0)
    assert factors.bwcce_weight.iloc[0] == pytest.approx((1 - 100 / 2100) / 2)


def test_loss_vs_pt_cross_entropy_is_minus_log_pt():
    curves = loss_analysis.loss_vs_pt([10, 20, 30], {"CCE": {"name": "cce"}}, p_t=[0.2, 0.9])
    assert curves.value.tolist() == pytest.approx([-math.log(0.2), -math.log(0.9)])
    assert curves.grad_zy.tolist() == pytest.approx([0.2 - 1, 0.9 - 1])


def test_closed_form_gradients_agree_with_autograd():
    checks = loss_analysis.autograd_check([10, 50, 200, 900], batch=4)
    assert (checks.max_abs_difference < 1e-10).all(), checks


# --- outputs --------------------------------------------------------------------------------

def test_save_table_and_figure_write_both_formats_atomically(monkeypatch, tmp_path):
    monkeypatch.setenv("LMF_FIGURES", str(tmp_path))
    csv, md = save_table(pd.DataFrame({"a": [1.234567]}), "table9_demo", "cpu")
    assert csv.read_text().splitlines() == ["a", "1.23"]
    assert "1.23" in md.read_text()
    fig = plots.confusion_matrix([[3, 1], [0, 4]], ["x", "y"])
    png, pdf = save_figure(fig, "fig9_demo", "cpu")
    assert png.read_bytes().startswith(b"\x89PNG") and pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "cpu").iterdir()) == [
        "fig9_demo.pdf", "fig9_demo.png", "table9_demo.csv", "table9_demo.md"]
    assert display_path(png) == "$LMF_FIGURES/cpu/fig9_demo.png"
    with pytest.raises(ConfigError):
        save_table(pd.DataFrame(), "../escape", "cpu")


def test_display_path_is_relative_to_the_repository(monkeypatch):
    monkeypatch.delenv("LMF_FIGURES", raising=False)
    from lmf.core.paths import figures_dir
    assert display_path(figures_dir("cpu") / "fig1_x.png") == "figures/cpu/fig1_x.png"


# --- plots ----------------------------------------------------------------------------------

def test_fig1_points_are_the_means_with_deviation_intervals():
    data = pd.DataFrame({"dataset": "d", "source": "this run", "loss": ["cce", "lmf"],
                         "mean": [70.0, 75.0], "mad": [1.0, 2.0]})
    fig = plots.fig1_macro_f1(data)
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert [float(line.get_ydata()[0]) for line in points] == [70.0, 75.0]
    caps = [sorted(line.get_ydata() for line in c.lines[1]) for c in ax.containers]
    assert [[float(y[0]) for y in cap] for cap in caps] == [[69.0, 71.0], [73.0, 77.0]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CCE", "LMF"]


def test_fig2_stacks_parts_to_the_class_totals():
    counts = tables.published_split_counts(["ham10000"])
    fig = plots.fig2_class_counts(counts)
    ax = fig.axes[0]
    tops = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0), bar.get_y() + bar.get_height())
    assert sorted(tops.values()) == sorted(paper.class_totals("ham10000").values())


def test_restrict_profile_narrows_what_build_grid_sees():
    from lmf.sweep import build_grid

    narrowed = tables.restrict_profile("cpu", models=["resnet50"], losses=["cce", "lmf"],
                                       hparam_grid=(0.5, 1.0), hparam_epochs=None)
    grid = build_grid("paper", narrowed)
    assert sorted((c.model, c.loss) for c in grid) == [("timm:resnet10t", "cce"),
                                                       ("timm:resnet10t", "lmf")]
    assert narrowed.hparam_epochs == get_profile("cpu").hparam_epochs  # None keeps the value
    assert len(build_grid("hparams", narrowed)) == 4  # (.5,.5) (1,.5) (.5,1) (1,1)
    with pytest.raises(ConfigError, match="valid choices: densenet121"):
        tables.restrict_profile("cpu", models=["vgg16"])
