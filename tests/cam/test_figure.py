"""Fig 3's grid, its scores table and the saved files, from hand-made rows."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from lmf.cam.figure import CamRow, plot_figure3, save_figure3, score_rows, summarize_scores

LOSSES = ["cce", "lmf"]


def peak_at(row, col, size=8):
    attention = np.zeros((size, size))
    attention[row, col] = 1.0
    return attention


@pytest.fixture
def rows():
    region = np.zeros((8, 8), dtype=bool)
    region[:4, :4] = True
    boxed = CamRow(dataset="covid19", sample_id="COVID-1", image=np.zeros((8, 8, 3), np.uint8),
                   true_class="LO", rule="LMF right, 1 of 1 baselines wrong",
                   maps={"cce": peak_at(6, 6), "lmf": peak_at(1, 1)},
                   predicted={"cce": "Normal", "lmf": "LO"}, region=region,
                   boxes=np.array([[0, 0, 4, 4]]), region_kind="box")
    plain = CamRow(dataset="digits_lt", sample_id="7", image=np.zeros((8, 8, 3), np.uint8),
                   true_class="0", maps={"cce": peak_at(0, 0), "lmf": peak_at(0, 0)},
                   predicted={"cce": "0", "lmf": "0"})
    return [boxed, plain]


def test_grid_titles_and_boxes(rows):
    fig = plot_figure3(rows, LOSSES)
    axes = np.array(fig.axes).reshape(2, 3)
    assert axes[0, 0].get_title() == "covid19: COVID-1\ntrue LO"
    assert axes[0, 1].get_title() == "CCE\npred Normal ✗ / true LO"
    assert axes[0, 2].get_title() == "LMF\npred LO ✓ / true LO"
    assert all(sum(isinstance(p, Rectangle) for p in ax.patches) == 1 for ax in axes[0])
    assert all(len(ax.patches) == 0 for ax in axes[1])  # no region, nothing drawn
    plt.close(fig)


def test_scores_per_image_and_per_loss(rows):
    per_image = score_rows(rows, LOSSES)
    assert len(per_image) == 4
    boxed = per_image[per_image.image == "COVID-1"].set_index("loss")
    assert boxed.loc["lmf", "energy_share"] == 1.0 and boxed.loc["lmf", "pointing_game"] == 1.0
    assert boxed.loc["cce", "energy_share"] == 0.0 and boxed.loc["cce", "pointing_game"] == 0.0
    assert per_image[per_image.image == "7"].energy_share.isna().all()
    summary = summarize_scores(per_image).set_index("loss")
    expected = pd.DataFrame({"images": [2, 2], "correct": [1, 2], "with_region": [1, 1],
                             "energy_share": [0.0, 1.0], "pointing_game": [0.0, 1.0]},
                            index=pd.Index(LOSSES, name="loss"))
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)


def test_saved_files_are_named_for_fig3(rows, tmp_path, monkeypatch):
    monkeypatch.setenv("LMF_FIGURES", str(tmp_path))
    fig = plot_figure3(rows, LOSSES)
    per_image = score_rows(rows, LOSSES)
    summary = summarize_scores(per_image)
    paths = save_figure3(fig, summary, per_image, "cpu")
    plt.close(fig)
    names = sorted(p.name for p in paths)
    assert names == ["fig3_gradcam.pdf", "fig3_gradcam.png", "table_fig3_scores.csv",
                     "table_fig3_scores.md", "table_fig3_scores_per_image.csv",
                     "table_fig3_scores_per_image.md"]
    assert all(p.parent == tmp_path / "cpu" and p.stat().st_size > 0 for p in paths)
    assert not list((tmp_path / "cpu").glob(".*tmp"))
    table = pd.read_csv(tmp_path / "cpu" / "table_fig3_scores.csv")
    assert table.loss.tolist() == LOSSES and table.energy_share.tolist() == [0.0, 1.0]
    assert "| loss" in (tmp_path / "cpu" / "table_fig3_scores.md").read_text()
