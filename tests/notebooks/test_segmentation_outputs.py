"""Notebook 07's tables, read back from the session's execution of the notebooks: each row is the test
score of the one run of its setting in the store, the scores are the masks' own, and every
network and loss of the cpu profile is there."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from lmf.core import runs
from lmf.seg.profiles import SEG_PROFILES

PROFILE = SEG_PROFILES["cpu"]


def store_runs(results_dir) -> list[tuple[dict, dict, object]]:
    """(config, metrics, run folder) of every finished segmentation run."""
    found = []
    for path in sorted(p for p in results_dir.iterdir() if runs.is_done(p)):
        config = json.loads((path / "config.json").read_text())
        if config.get("task") == "segmentation":
            found.append((config, runs.load_metrics(path), path))
    return found


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_table1_rows_are_the_test_scores_of_their_runs(regenerated, figures_dir, results_dir):
    assert regenerated.ok, regenerated.error
    table = pd.read_csv(figures_dir / "seg_table1_models.csv")
    assert len(table) == 3 * len(PROFILE.models)
    assert list(table["model_id"].unique()) == list(PROFILE.models)
    stored = store_runs(results_dir)
    for row in table.itertuples():
        model = PROFILE.models[row.model_id]
        full = row.setting != "baseline"
        loss = ("lmf" if "LMF" in row.setting else "unified_focal") if full else "ce"
        attention = "sas" if full and row.model_id == PROFILE.attention_model else "none"
        matches = [m for c, m, _ in stored if c["model"] == model and c["loss"] == loss
                   and c["attention"] == attention and (c["resize_schedule"] is not None) == full
                   and c["sampler"] == "none" and c["seed"] == PROFILE.seed]
        assert len(matches) == 1, row
        assert row.dsc == pytest.approx(matches[0]["test"]["dsc"], abs=5e-4)  # 3 decimals
        assert row.iou == pytest.approx(matches[0]["test"]["iou"], abs=5e-4)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_stored_dsc_is_the_per_image_f1_of_the_predicted_masks(regenerated, results_dir):
    assert regenerated.ok, regenerated.error
    config, metrics, path = store_runs(results_dir)[0]
    predictions = runs.load_predictions(path)
    per_image = []
    for pred, true in zip(predictions["pred"], predictions["true"], strict=True):
        present = [c for c in np.unique(true) if c > 0]
        if present:
            per_image.append(np.mean([f1_score(true.ravel() == c, pred.ravel() == c)
                                      for c in present]))
    assert metrics["test"]["dsc"] == pytest.approx(np.mean(per_image), abs=1e-9)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_every_loss_and_the_seed_spread_are_in_the_tables(regenerated, figures_dir):
    assert regenerated.ok, regenerated.error
    losses = pd.read_csv(figures_dir / "seg_table3_all_losses_unet.csv")
    assert len(losses) == len(PROFILE.losses)
    spread = pd.read_csv(figures_dir / "seg_table_seed_spread.csv")
    assert set(spread["seeds"]) == {PROFILE.spread_seeds}
    assert (spread["dsc_min"] <= spread["dsc_mean"]).all()
    assert (spread["dsc_mean"] <= spread["dsc_max"]).all()
    beside = pd.read_csv(figures_dir / "seg_table1_models_beside_published.csv")
    assert beside["source"].str.startswith("Cui").sum() == 46  # the published Table 1's rows
