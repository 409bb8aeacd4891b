"""Notebook 07's grid and tables: which settings are trained, and which run each table row reads.

The tables are checked on a run frame built from the grid itself with a distinct, known score per
run, so every row can be traced back to the one config it must come from."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lmf.core.errors import ConfigError
from lmf.seg import tables
from lmf.seg.grids import seg_grid
from lmf.seg.profiles import SEG_PROFILES, restrict_seg_profile
from lmf.sweep.grids import build_grid

PROFILE = SEG_PROFILES["cpu"]


def fake_runs(configs) -> pd.DataFrame:
    """``load_runs``-shaped rows of ``configs``: test DSC = position / 1000, IoU = DSC / 2."""
    rows = []
    for n, config in enumerate(configs):
        data = config.to_dict()
        row = {key: (json.dumps(value) if isinstance(value, list | tuple) else value)
               for key, value in data.items() if key not in ("loss_params", "labels")}
        row.update(config.loss_params)
        row.update(config.labels)
        row["resize_schedule"] = (json.dumps(config.resize_schedule)
                                  if config.resize_schedule else None)
        row.update(run_id=config.run_id, run_dir=f"/runs/{n}", test_dsc=n / 1000,
                   test_iou=n / 2000, test_precision=0.5, test_recall=0.5)
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def grid():
    return seg_grid("cpu")


@pytest.fixture(scope="module")
def frame(grid):
    return fake_runs(grid)


def position(grid, **fields) -> int:
    """The grid position of the one first-seed config with these fields (shuffled batches unless
    a sampler is given)."""
    fields = {"sampler": "none", **fields}
    found = [n for n, c in enumerate(grid) if c.seed == PROFILE.seed
             and all(getattr(c, k) == v for k, v in fields.items())]
    assert len(found) == 1, (fields, found)
    return found[0]


def test_the_grid_trains_each_setting_once(grid):
    models, losses = len(PROFILE.models), len(PROFILE.losses)
    # baseline M, full 2M, sas 1, losses 2M + (K - 3), resizing M, attention 3, oversampling 1,
    # lambda (L - 1), spread 3 · (seeds - 1)
    expected = (models + 2 * models + 1 + 2 * models + (losses - 3) + models + 3 + 1
                + (len(PROFILE.lambdas) - 1) + 3 * (PROFILE.spread_seeds - 1))
    assert len(grid) == expected == len({c.run_id for c in grid})
    assert {c.model for c in grid} == set(PROFILE.models.values())
    assert {c.attention for c in grid if c.model != PROFILE.models["UNet"]} == {"none"}
    assert build_grid("seg", "cpu") == grid
    assert {c.loss_params["s"] for c in grid if c.loss == "lmf"} == {1.0}


def test_table1_reads_the_baseline_and_the_full_strategy_of_each_network(grid, frame):
    table = tables.table1_models(frame, PROFILE)
    assert len(table) == 3 * len(PROFILE.models)
    for model_id, model in PROFILE.models.items():
        rows = table[table.model_id == model_id].set_index("setting")
        attention = "sas" if model_id == "UNet" else "none"
        assert rows.loc["baseline", "dsc"] == position(
            grid, model=model, loss="ce", attention="none", resize_schedule=None) / 1000
        for loss, name in (("unified_focal", "unified focal"), ("lmf", "LMF")):
            expected = position(grid, model=model, loss=loss, attention=attention,
                                resize_schedule=PROFILE.progressive)
            assert rows.loc[f"full strategy, {name}", "dsc"] == expected / 1000


def test_the_single_part_tables_change_one_thing_of_the_baseline(grid, frame):
    unet = PROFILE.models["UNet"]
    sas = tables.table2_sas(frame, PROFILE).set_index("setting")
    assert sas.loc["SAS", "dsc"] == position(grid, model=unet, loss="ce", attention="sas",
                                             resize_schedule=None) / 1000
    resizing = tables.table4_resizing(frame, PROFILE)
    assert len(resizing) == 2 * len(PROFILE.models)
    attention = tables.table5_attention(frame, PROFILE)
    assert list(attention.setting) == ["none", "spatial", "channel", "hybrid (scSE)", "SAS"]
    balancing = tables.table6_balancing(frame, PROFILE).set_index("setting")
    assert balancing.loc["random oversampling", "dsc"] == position(
        grid, model=unet, sampler="oversample") / 1000
    losses = tables.loss_study(frame, PROFILE)
    assert len(losses) == len(PROFILE.losses)
    lam = tables.lambda_study(frame, PROFILE)
    assert list(lam["lam"]) == list(PROFILE.lambdas)
    assert lam["dsc"].is_unique


def test_fig3_draws_each_loss_on_the_attention_model_at_the_baseline_setting(grid, frame,
                                                                           monkeypatch):
    import lmf.seg.figures

    drawn = []

    def history(run_dir):
        drawn.append(run_dir)
        return pd.DataFrame({"epoch": [0, 1], "val_dsc": [0.1, 0.2], "train_loss": [1.0, 0.5]})

    monkeypatch.setattr(lmf.seg.figures, "load_history", history)
    lmf.seg.figures.training_curves(frame, PROFILE, PROFILE.losses)
    unet = PROFILE.models["UNet"]
    expected = [[n for n, c in enumerate(grid) if c.model == unet and c.loss == loss
                 and c.attention == "none" and c.resize_schedule is None and c.sampler == "none"
                 and c.seed == PROFILE.seed and c.loss_params.get("lam", 0.5) == 0.5]
                for loss in PROFILE.losses]
    assert all(len(found) == 1 for found in expected)
    assert drawn == [f"/runs/{found[0]}" for found in expected]


def test_the_seed_spread_summarises_every_seed_of_the_three_losses(grid, frame):
    spread = tables.seed_spread(frame, PROFILE).set_index("loss")
    assert set(spread["seeds"]) == {PROFILE.spread_seeds}
    unet = PROFILE.models["UNet"]
    ce = [n / 1000 for n, c in enumerate(grid) if c.model == unet and c.loss == "ce"
          and c.attention == "none" and c.resize_schedule is None and c.sampler == "none"]
    assert spread.loc["cross-entropy", "dsc_mean"] == pytest.approx(np.mean(ce))
    assert spread.loc["cross-entropy", "dsc_std"] == pytest.approx(np.std(ce, ddof=1))


def test_tables_stand_beside_the_published_ones(frame):
    table = tables.beside_published(tables.table1_models(frame, PROFILE), 1, "cpu")
    assert set(table["source"]) == {"lmf (cpu profile)", "Cui et al. 2024 (published)"}
    published = table[table.source.str.startswith("Cui")]
    assert "BUS2017" in set(published["dataset_id"])


def test_restricting_the_profile_keeps_the_attention_model_and_scales_the_stages():
    small = restrict_seg_profile("cpu", models=["FCN"], image_size=64)
    assert list(small.models) == ["UNet", "FCN"]
    assert small.progressive == ((0, 32), (4, 64)) and small.run["image_size"] == 64
    with pytest.raises(ConfigError, match="unknown model"):
        restrict_seg_profile("cpu", models=["RCNN"])
    with pytest.raises(ConfigError, match="segmentation profile"):
        seg_grid("medmnist")
