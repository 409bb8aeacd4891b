"""A rehearsal of the ``paper`` profile: every notebook, every figure and table, on fixture copies
of the four datasets and random-init checkpoints of the three ImageNet models, shrunk to 32 px,
one epoch and a two-value Fig 4 grid, so the first GPU run is not the first run of this code.

What runs is what a user runs: ``lmf reproduce --profile paper`` in a subprocess, the datasets
in their Kaggle layouts under ``LMF_DATA``, the weights in the torch hub cache under
``TORCH_HOME``; only the sizes (images, epochs, grid) are the rehearsal's.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image

from lmf.classification import paper
from lmf.classification.models import ARCHITECTURES
from lmf.classification.profiles import PAPER_CAM_CLASSES, get_profile
from lmf.core.parameters import notebook_parameters
from lmf.reproduce import find_notebooks

#: ``lmf reproduce -p`` values of the rehearsal (the README's rehearsal uses 64 px on real data),
#: fewer bootstrap resamples, notebook 08's Scholz grid with the random sampler only (its
#: CE and LMF runs are notebook 04's; the other samplers are the same code path, 48 more runs),
#: and notebook 07's study on the UNet only, with one λ and one seed (every setting of the
#: attention model, on both mask datasets; the other networks are built in tests/seg).
REHEARSAL = ["-p", "EPOCHS=1", "-p", "IMAGE_SIZE=32", "-p", "GRID=[0.5, 1.0]", "-p", "N_BOOT=100",
             "-p", 'SAMPLERS=["none"]', "-p", 'SEG_MODELS=["UNet"]', "-p", "LAMBDAS=[0.5]",
             "-p", "SPREAD_SEEDS=1"]
#: The notebooks the second ``lmf reproduce`` runs, to find every run of the paper grid (04) and
#: of the segmentation study (07) finished: the run identities of real files in their layouts
#: are the same in another process (the cpu profile's reproduce test covers the rest).
AGAIN = "04,07"
#: Images per class in train / val / test of the fixture data under the paper's split
#: (4 per class: round(0.15 · 4) = 1 to val, 1 to test, 2 to train).
PER_CLASS_SPLIT = {"train": 2, "val": 1, "test": 1}
CLASSES = {"ham10000": 7, "isic2019": 8, "odir5k": 8, "covid19": 4}
FIGURES = ["fig1_macro_f1", "fig2_class_counts", "fig3_gradcam", "fig4_hparam_settings",
           "fig1short_smallest_classes_f1_this_run",
           *(f"feat_embedding_{d}" for d in ("odir5k", "ham10000", "isic2019", "covid19")),
           "seg_fig3_training_curves", "seg_fig3_dsc_lambda", "seg_fig4_overlays_full_strategy",
           "seg_fig5_overlays_losses"]
TABLES = ["table1_split_sizes", "table1_per_class_split", "table2_efficientnetv2_s",
          "table3_resnet50", "table4_densenet121", "table5_classwise_f1", "table6_lmf_alpha_beta",
          "fig1_macro_f1", "fig1short_smallest_classes_f1", "fig4_hparam_settings",
          "table_fig3_scores", "table_fig3_scores_per_image", "feat_separation_summary",
          "scholz_table_loss_sampler", "seg_table1_models", "seg_table2_sas",
          "seg_table3_losses", "seg_table3_all_losses_unet", "seg_table4_resizing",
          "seg_table5_attention", "seg_table6_balancing", "seg_table_seed_spread",
          *(f"seg_table{n}_{name}_beside_published" for n, name in (
              (1, "models"), (2, "sas"), (3, "losses"), (4, "resizing"), (5, "attention"),
              (6, "balancing")))]


def declared(overrides: list[str], only: str) -> list[str]:
    """The ``-p NAME=VALUE`` pairs of ``overrides`` whose parameter one of the notebooks ``only``
    declares (``lmf reproduce`` refuses the others)."""
    names = set().union(*(notebook_parameters(path) for path in find_notebooks(only=only)))
    pairs = [overrides[i:i + 2] for i in range(0, len(overrides), 2)]
    return [word for pair in pairs if pair[1].split("=")[0] in names for word in pair]


def _done_markers(results):
    return {p.name: (p / "done").stat().st_mtime_ns for p in results.iterdir()
            if (p / "done").exists()}


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory, rehearsal_env, run_lmf_in):
    """``lmf reproduce --profile paper`` with the rehearsal's sizes, then again for the notebooks
    of the two largest grids (``AGAIN``); the run store (gigabytes of checkpoints) is removed
    afterwards."""
    root = tmp_path_factory.mktemp("rehearsal")
    env = rehearsal_env(root)
    results = root / "results"
    first = run_lmf_in(env, root, "reproduce", "--profile", "paper", "--results", str(results),
                       *REHEARSAL)
    trained = _done_markers(results) if results.is_dir() else {}
    second = run_lmf_in(env, root, "reproduce", "--profile", "paper", "--results", str(results),
                        "--only", AGAIN, *declared(REHEARSAL, AGAIN)
                        ) if first[0].returncode == 0 else None
    yield {"first": first, "second": second, "trained": trained, "results": results,
           "figures": root / "figures" / "paper"}
    shutil.rmtree(results, ignore_errors=True)


def test_fixture_checkpoints_load_through_torchvision_as_the_published_files_do(torch_home,
                                                                                monkeypatch):
    """torchvision's own builders (which rename DenseNet's old keys) accept the fixture files,
    so they have the published files' names and key layout."""
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    stored = torch_home / "hub" / "checkpoints"
    for preset in ARCHITECTURES.values():
        weights = torchvision.models.get_weight(preset.weights)
        saved = torch.load(stored / weights.url.rsplit("/", 1)[1], weights_only=True)
        model = torchvision.models.get_model(preset.builder, weights=weights)
        loaded = model.state_dict()
        name = next(k for k in saved if k.endswith("running_var"))
        assert len(saved) <= len(loaded)
        if preset.family is torchvision.models.DenseNet:
            assert "features.denseblock1.denselayer1.norm.1.weight" in saved
            assert not any(k.endswith("num_batches_tracked") for k in saved)
            name = "features.denseblock1.denselayer1.norm.1.running_var"
            assert torch.equal(saved[name],
                               loaded["features.denseblock1.denselayer1.norm1.running_var"])
        else:
            assert torch.equal(saved[name], loaded[name])


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_reproduce_paper_profile_writes_every_figure_and_table(rehearsal):
    result, seconds = rehearsal["first"]
    assert result.returncode == 0, result.stderr[-4000:]
    print(f"rehearsal of the paper profile: {seconds:.0f} s")
    figures = rehearsal["figures"]
    for name in FIGURES:
        for suffix in (".png", ".pdf"):
            assert (figures / f"{name}{suffix}").stat().st_size > 0, f"{name}{suffix}"
        with Image.open(figures / f"{name}.png") as image:
            pixels = np.asarray(image.convert("L"))
        assert min(pixels.shape) > 100 and pixels.std() > 1, f"{name}.png is blank"
    for name in TABLES:
        assert pd.read_csv(figures / f"{name}.csv").shape[0] > 0, name
        assert (figures / f"{name}.md").read_text().strip(), name


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_every_run_used_the_rehearsal_sizes_and_the_paper_grid(rehearsal):
    import json

    assert rehearsal["first"][0].returncode == 0
    every = [json.loads((rehearsal["results"] / run / "config.json").read_text())
             for run in rehearsal["trained"]]
    configs = [c for c in every if c.get("task", "classification") == "classification"]
    assert {c["image_size"] for c in configs} == {32}
    assert {c["epochs"] for c in configs} == {1}
    assert {c["pretrained"] for c in configs} == {True}
    grid = {(c["dataset"], c["model"], c["loss"]) for c in configs}
    profile = get_profile("paper")
    scholz = {(d, "resnet50", loss) for d in profile.datasets  # notebook 08, random sampler
              for loss in ("cce", "soft_mcc", "soft_f1", "ce_soft_mcc", "ce_soft_f1", "lmf")}
    assert grid == scholz | {(d, m, loss) for d in profile.datasets for m in profile.models
                             for loss in paper.PAPER_LOSSES}
    assert {c["sampler"] for c in configs} == {"none"}
    fig4 = {(c["loss_params"]["alpha"], c["loss_params"]["beta"]) for c in configs
            if c["dataset"] == "ham10000" and c["model"] == "efficientnetv2_s"
            and c["loss"] == "lmf"}
    table6 = paper.table6().set_index(["dataset", "model"]).loc[("ham10000", "efficientnetv2_s")]
    assert fig4 == {(0.5, 0.5), (1.0, 0.5), (0.5, 1.0), (1.0, 1.0),
                    (table6.alpha, table6.beta)}


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_tables_lay_the_published_numbers_beside_the_regenerated_ones(rehearsal):
    assert rehearsal["first"][0].returncode == 0
    figures = rehearsal["figures"]
    table1 = pd.read_csv(figures / "table1_split_sizes.csv").set_index("dataset")
    for dataset, k in CLASSES.items():
        for part, n in PER_CLASS_SPLIT.items():
            assert table1.loc[dataset, part] == k * n
    assert table1[[f"paper_{p}" for p in PER_CLASS_SPLIT]].notna().all().all()
    per_class = pd.read_csv(figures / "table1_per_class_split.csv")
    assert len(per_class) == sum(CLASSES.values())
    assert per_class[["paper_train", "paper_val", "paper_test"]].notna().all().all()
    metrics = ["accuracy", "precision", "recall", "macro_f1"]
    for number, model in ((2, "efficientnetv2_s"), (3, "resnet50"), (4, "densenet121")):
        table = pd.read_csv(figures / f"table{number}_{model}.csv")
        assert sorted(zip(table.dataset, table.loss, strict=True)) == sorted(
            (d, loss) for d in CLASSES for loss in paper.PAPER_LOSSES), model
        columns = [*metrics, *(f"paper_{m}" for m in metrics)]
        assert table[columns].notna().all().all(), model
        assert table[metrics].apply(lambda c: c.between(0, 100)).all().all()
    fig1 = pd.read_csv(figures / "fig1_macro_f1.csv")
    for source in ("this run", "published"):
        rows = fig1[fig1.source == source]
        assert sorted(zip(rows.dataset, rows.loss, strict=True)) == sorted(
            (d, loss) for d in CLASSES for loss in paper.PAPER_LOSSES), source
        assert rows["mean"].notna().all() and set(rows.n) == {3}
    table5 = pd.read_csv(figures / "table5_classwise_f1.csv")
    assert len(table5) == sum(CLASSES.values())
    columns = [*paper.PAPER_LOSSES, *(f"paper_{loss}" for loss in paper.PAPER_LOSSES)]
    assert table5[columns].notna().all().all()
    assert (table5.train_samples == PER_CLASS_SPLIT["train"]).all()
    smallest = pd.read_csv(figures / "fig1short_smallest_classes_f1.csv")
    assert set(smallest.source) == {"this run", "published"} and smallest.f1.notna().all()
    table6 = pd.read_csv(figures / "table6_lmf_alpha_beta.csv")
    assert table6[["paper_alpha", "paper_beta", "val_macro_f1"]].notna().all().all()
    assert set(table6.settings_tried) == {4}  # the grid's four pairs (no more, no fewer)
    fig4 = pd.read_csv(figures / "fig4_hparam_settings.csv")
    assert fig4.groupby("setting").size().to_dict() == {
        "Setting 1 (α = β)": 2, "Setting 2 (α = 1)": 2, "Setting 3 (β = 1)": 2}


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_fig3_shows_the_papers_classes_scored_against_the_masks(rehearsal):
    assert rehearsal["first"][0].returncode == 0
    per_image = pd.read_csv(rehearsal["figures"] / "table_fig3_scores_per_image.csv")
    shown = per_image.drop_duplicates("dataset").set_index("dataset")
    assert sorted(shown.index) == sorted(PAPER_CAM_CLASSES)
    for dataset, cls in PAPER_CAM_CLASSES.items():
        assert shown.loc[dataset, "true"] == cls, dataset
    regions = per_image.drop_duplicates("dataset").set_index("dataset")["region"]
    assert regions["covid19"] == "mask" and regions["ham10000"] == "mask"
    assert set(per_image.loss) == set(paper.PAPER_LOSSES)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_a_second_reproduce_trains_nothing(rehearsal):
    assert rehearsal["first"][0].returncode == 0
    result, seconds = rehearsal["second"]
    assert result.returncode == 0, result.stderr[-4000:]
    print(f"second lmf reproduce --profile paper --only {AGAIN}: {seconds:.0f} s")
    assert f"{len(AGAIN.split(','))} notebook(s)" in result.stdout
    assert rehearsal["trained"], "the first call trained nothing"
    assert _done_markers(rehearsal["results"]) == rehearsal["trained"]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_segmentation_runs_used_the_paper_recipe_on_both_mask_datasets(rehearsal):
    import json

    from lmf.seg.profiles import SEG_PROFILES, restrict_seg_profile

    assert rehearsal["first"][0].returncode == 0
    configs = [json.loads((rehearsal["results"] / run / "config.json").read_text())
               for run in rehearsal["trained"]]
    seg = [c for c in configs if c.get("task") == "segmentation"]
    profile = SEG_PROFILES["paper"]
    assert {c["dataset"] for c in seg} == {source for source, _ in profile.datasets.values()}
    assert {c["model"] for c in seg} == {profile.models["UNet"]}
    assert {c["split"] for c in seg} == {"cv"} and {c["image_size"] for c in seg} == {32}
    assert {c["epochs"] for c in seg} == {1} and {c["patience"] for c in seg} == {10}
    scaled = restrict_seg_profile("paper", models=["UNet"], image_size=32).progressive
    assert scaled == ((0, 16), (20, 16), (40, 32))  # 8 and 16 px, as multiples of 16
    assert {json.dumps(c["resize_schedule"]) for c in seg} == {"null", json.dumps(scaled)}
    table = pd.read_csv(rehearsal["figures"] / "seg_table1_models.csv")
    assert set(table["dataset_id"]) == set(profile.datasets)
    assert table[["iou", "dsc", "precision", "recall"]].apply(lambda s: s.between(0, 1)).all().all()

