"""Fig 3's grid, its scores table and the saved files, from hand-made rows."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from lmf.classification.cam.figure import (
    CamRow,
    plot_figure3,
    save_figure3,
    score_rows,
    short_id,
    summarize_scores,
)
from lmf.classification.cam.scores import energy_share, uniform_share
from lmf.classification.plots import LOSS_COLOURS

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
    axes = np.array(fig.axes[:-1]).reshape(2, 3)  # the last axes is the colourbar
    assert axes[0, 0].get_title() == "image"
    assert axes[0, 0].get_ylabel() == "covid19\ntrue LO\nCOVID-1"
    assert axes[1, 0].get_ylabel() == "digits_lt\ntrue 0\n7"
    assert axes[0, 1].get_title() == "CCE\npred Normal ✗ / true LO"
    assert axes[0, 2].get_title() == "LMF\npred LO ✓ / true LO"
    assert all(sum(isinstance(p, Rectangle) for p in ax.patches) == 1 for ax in axes[0])
    assert all(len(ax.patches) == 0 for ax in axes[1])  # no region, nothing drawn
    plt.close(fig)


ISIC_ID = "ISIC_2019_Training_Input/ISIC_2019_Training_Input/ISIC_0000001_downsampled.jpg"


@pytest.mark.parametrize("sample_id, lines", [
    (ISIC_ID, ["ISIC_0000001_", "downsampled"]),  # the stem, broken after "_"
    ("HAM10000_images_part_1/ISIC_0027419.jpg", ["ISIC_0027419"]),
    ("Viral Pneumonia/images/Viral Pneumonia-1345.png", ["Viral Pneumonia-", "1345"]),
    ("a_" + "b" * 30, ["a_" + "b" * 16, "b" * 14]),  # a token longer than a line is cut
    ("x" * 50, ["x" * 18, "x" * 17 + "…"]),  # more than two lines: ellipsised
])
def test_short_id_is_the_stem_in_short_lines(sample_id, lines):
    assert short_id(sample_id) == lines


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_long_ids_do_not_run_into_the_titles(rows):
    long_ids = [ISIC_ID, "COVID-19_Radiography_Dataset/Viral Pneumonia/images/"
                "Viral Pneumonia-1345.png", "z" * 120]
    drawn = [dataclasses.replace(rows[0], sample_id=sample_id, dataset="isic2019")
             for sample_id in long_ids]
    fig = plot_figure3(drawn, LOSSES)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = np.array(fig.axes[:-1]).reshape(len(drawn), 1 + len(LOSSES))
    labels = [ax.yaxis.label.get_window_extent(renderer) for ax in axes[:, 0]]
    titles = [ax.title.get_window_extent(renderer) for ax in axes.flat]
    figure = fig.bbox
    for r, label in enumerate(labels):
        assert not any(boxes_overlap(label, title) for title in titles), r
        assert not any(boxes_overlap(label, other) for other in labels[r + 1:]), r
        assert not boxes_overlap(label, axes[r, 0].get_window_extent(renderer))
        assert figure.x0 <= label.x0 and label.y0 >= figure.y0 and label.y1 <= figure.y1
    for first, second in zip(titles, titles[1:], strict=False):  # titles side by side
        assert not boxes_overlap(first, second)
    assert axes[0, 0].get_ylabel().endswith("ISIC_0000001_\ndownsampled")
    plt.close(fig)


def test_scores_per_image_and_per_loss(rows):
    per_image = score_rows(rows, LOSSES)
    assert len(per_image) == 4
    boxed = per_image[per_image.image == "COVID-1"].set_index("loss")
    assert boxed.loc["lmf", "energy_share"] == 1.0 and boxed.loc["lmf", "pointing_game"] == 1.0
    assert boxed.loc["cce", "energy_share"] == 0.0 and boxed.loc["cce", "pointing_game"] == 0.0
    assert per_image[per_image.image == "7"].energy_share.isna().all()
    summary = summarize_scores(per_image).set_index("loss")
    # The region is the 4×4 top-left corner of an 8×8 map: a uniform map puts 16/64 on it.
    assert boxed["uniform_baseline"].tolist() == [16 / 64, 16 / 64]
    expected = pd.DataFrame({"images": [2, 2], "correct": [1, 2], "with_region": [1, 1],
                             "energy_share": [0.0, 1.0], "pointing_game": [0.0, 1.0],
                             "uniform_baseline": [0.25, 0.25]},
                            index=pd.Index(LOSSES, name="loss"))
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)


def test_uniform_baseline_is_what_a_uniform_map_scores(rows):
    region = np.zeros((5, 7), dtype=bool)
    region[1:3, 2:6] = True  # 2 × 4 of 5 × 7 pixels
    uniform = np.full((5, 7), 0.3)
    assert energy_share(uniform, region) == pytest.approx(8 / 35)
    assert uniform_share(region) == pytest.approx(8 / 35)
    row = dataclasses.replace(rows[0], image=np.zeros((5, 7, 3), np.uint8), region=region,
                              boxes=None, region_kind="mask",
                              maps={"cce": uniform, "lmf": np.zeros((5, 7))})
    per_image = score_rows([row], LOSSES).set_index("loss")
    assert per_image["uniform_baseline"].tolist() == pytest.approx([8 / 35, 8 / 35])
    summary = summarize_scores(per_image.reset_index()).set_index("loss")
    assert summary.loc["cce", "uniform_baseline"] == pytest.approx(8 / 35)
    # An all-zero map has no energy share, so its baseline is left out of the mean too.
    assert np.isnan(summary.loc["lmf", "energy_share"])
    assert np.isnan(summary.loc["lmf", "uniform_baseline"])


def test_maps_are_drawn_in_a_perceptual_colormap_with_a_colourbar(rows):
    fig = plot_figure3(rows, LOSSES)
    *grid, bar = fig.axes
    overlays = [ax.images[1] for ax in np.array(grid).reshape(2, 3)[:, 1:].flat]
    assert {image.get_cmap().name for image in overlays} == {"inferno"}
    assert bar.get_ylabel() == "Grad-CAM (normalised)"
    assert bar.get_ylim() == (0.0, 1.0)
    box = next(p for p in grid[0].patches if isinstance(p, Rectangle))
    assert to_hex(box.get_edgecolor()) == to_hex("cyan")
    plt.close(fig)


def test_loss_titles_take_the_loss_colour(rows):
    fig = plot_figure3(rows, LOSSES)
    axes = np.array(fig.axes[:-1]).reshape(2, 3)
    for c, loss in enumerate(LOSSES, start=1):
        assert to_hex(axes[0, c].title.get_color()) == to_hex(LOSS_COLOURS[loss])
    plt.close(fig)


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
