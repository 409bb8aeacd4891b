"""The figures of ``lmf.classification.plots`` read as they should: one colour per loss in every figure, no
bars on a cut-off axis, readable learning curves and loss curves that do not hide each other."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.container import ErrorbarContainer

from lmf.classification import plots
from lmf.classification.plots import LOSS_COLOURS, LOSS_LABELS

LOSSES = list(LOSS_LABELS)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def lab(colour) -> np.ndarray:
    """CIELAB (D65 white) of an sRGB colour: IEC 61966-2-1 linearisation, the sRGB → XYZ matrix,
    CIE 1976 L*a*b*."""
    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_every_loss_has_its_own_clearly_different_colour():
    """CIE76 colour difference above 30 for every pair (a just-noticeable difference is about
    2.3; the former BWCCE and LMF reds were 27.6 apart)."""
    assert set(LOSS_COLOURS) == set(LOSS_LABELS)
    assert lab("white") == pytest.approx([100, 0, 0], abs=0.05)
    for a in LOSSES:
        for b in LOSSES[LOSSES.index(a) + 1:]:
            assert np.linalg.norm(lab(LOSS_COLOURS[a]) - lab(LOSS_COLOURS[b])) > 30, (a, b)


def fig1_data() -> pd.DataFrame:
    return pd.DataFrame({"dataset": "d", "source": "this run", "loss": LOSSES,
                         "mean": [80.0, 81.0, 82.0, 80.5, 83.0], "mad": [0.5] * 5})


def line_colours_by_label(ax) -> dict[str, str]:
    return {line.get_label(): to_hex(line.get_color()) for line in ax.lines
            if not line.get_label().startswith("_")}


def test_fig1_draws_each_loss_in_its_colour():
    ax = plots.fig1_macro_f1(fig1_data()).axes[0]
    drawn = [to_hex(container.lines[0].get_color()) for container in ax.containers]
    assert drawn == [to_hex(LOSS_COLOURS[loss]) for loss in LOSSES]


def test_minority_f1_bars_take_the_loss_colours():
    data = pd.DataFrame({"class": ["a (n=3)"] * 5, "loss": LOSSES, "f1": [10, 20, 30, 40, 50]})
    ax = plots.minority_f1(data).axes[0]
    drawn = {to_hex(bar.get_facecolor()) for bar in ax.patches if bar.get_height() > 0}
    assert drawn == {to_hex(LOSS_COLOURS[loss]) for loss in LOSSES}


def curve_data(x: str) -> pd.DataFrame:
    grid = np.linspace(0.05, 0.95, 19)
    return pd.concat([pd.DataFrame({"loss": LOSS_LABELS[loss], x: grid, "value": 1 - grid,
                                    "grad_zy": grid - 1, "class": "c", "n_train": grid * 100})
                      for loss in LOSSES], ignore_index=True)


@pytest.mark.parametrize("draw, x", [(plots.loss_curves, "p_t"),
                                     (plots.class_size_effect, "n_train")])
def test_loss_curves_stay_visible_when_they_coincide(draw, x):
    """Five identical curves: each still has its own colour, dash pattern and marker."""
    fig = draw(curve_data(x))
    for ax in fig.axes:
        lines = [line for line in ax.lines if not line.get_label().startswith("_")]
        assert line_colours_by_label(ax) == {LOSS_LABELS[loss]: to_hex(LOSS_COLOURS[loss])
                                             for loss in LOSSES}
        assert len({line.get_marker() for line in lines}) == len(LOSSES)
        assert len({str(line.get_markevery()) for line in lines}) == len(LOSSES)  # staggered
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == list(
        LOSS_LABELS.values())


def test_loss_curve_labels_write_math_as_math():
    fig = plots.loss_curves(curve_data("p_t"))
    assert "$p_t$" in fig.axes[0].get_xlabel()
    assert fig.axes[1].get_ylabel().startswith("$") and "z_y" in fig.axes[1].get_ylabel()


def test_fig4_draws_points_with_intervals_not_bars_on_a_cut_axis():
    summary = pd.DataFrame({"setting": ["Setting 1", "Setting 2", "Setting 3"],
                            "mean": [70.0, 71.0, 70.5], "mad": [1.0, 0.5, 0.8]})
    per_value = pd.DataFrame({"setting": ["Setting 1", "Setting 2", "Setting 3"] * 2,
                              "value": [0.5] * 3 + [1.0] * 3,
                              "macro_f1": [70, 71, 70, 71, 72, 71]})
    left = plots.fig4_settings(summary, per_value).axes[0]
    assert not left.patches  # no bars
    containers = [c for c in left.containers if isinstance(c, ErrorbarContainer)]
    assert len(containers) == 3
    assert [float(c.lines[0].get_ydata()[0]) for c in containers] == [70.0, 71.0, 70.5]


def history(train_loss) -> pd.DataFrame:
    n = len(train_loss)
    return pd.DataFrame({"epoch": range(n), "train_loss": train_loss,
                         "val_loss": np.linspace(2, 1, n), "val_macro_f1": np.linspace(.2, .6, n)})


def test_learning_curves_use_a_log_loss_axis_and_count_epochs_from_one():
    fig = plots.learning_curves(history([1.0, 500.0, 0.9, 0.8]), best_epoch=2)
    left, right = fig.axes
    assert left.get_yscale() == "log"
    assert [list(line.get_xdata()) for line in left.lines[:2]] == [[1, 2, 3, 4]] * 2
    best = [line for line in left.lines if line.get_linestyle() == "--"
            and to_hex(line.get_color()) == to_hex("grey")]
    assert [list(line.get_xdata()) for line in best] == [[3, 3]]  # epoch 2 of 0..3 is the third
    train, val = left.lines[:2]
    assert (train.get_linestyle(), train.get_marker()) != (val.get_linestyle(), val.get_marker())


def test_learning_curves_keep_a_linear_axis_for_a_loss_that_is_not_positive():
    left = plots.learning_curves(history([0.5, -0.1, 0.2])).axes[0]
    assert left.get_yscale() == "linear"
