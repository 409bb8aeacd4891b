"""Fig 3 of the LMF paper: Grad-CAM of each loss on chosen test images, with region scores.

Rows are images (one per dataset in the paper), columns the original image and one map per loss,
each titled with the predicted and the true class. A row is labelled on its left (the y-label of
its first panel) with the dataset, the true class and the image's file stem, wrapped into short
lines (``short_id``), so that a long id never runs into the titles beside it. Boxes (or a lung mask's outline) are drawn on
every panel; the scores table gives, per loss, the mean energy share and pointing-game hit rate
over the images that have a region, beside what a uniform map scores there (see
``lmf.classification.cam.scores``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from lmf.classification.cam.scores import energy_share, pointing_game, uniform_share
from lmf.classification.plots import LOSS_LABELS, loss_colour
from lmf.core.outputs import save_figure, save_table

#: The maps' colormap: perceptually uniform (brightness grows with the value) and readable in
#: grey and under colour-vision deficiencies, unlike "jet".
CAM_COLORMAP = "inferno"
#: The region's outline: cyan stays visible on inferno's black, purple, orange and yellow.
REGION_COLOUR = "cyan"

FIGURE_NAME = "fig3_gradcam"
TABLE_NAME = "table_fig3_scores"
PER_IMAGE_NAME = "table_fig3_scores_per_image"


@dataclass
class CamRow:
    """One row of Fig 3: an image, its true class, and per loss the map and predicted class.

    ``image`` is (H, W, 3) uint8 at the maps' resolution; ``maps[loss]`` (H, W) in [0, 1];
    ``region`` a boolean (H, W) mask or None; ``boxes`` (n, 4) corners in map pixels or None;
    ``region_kind`` says where the region came from (``"box"``, ``"mask"``, ``"none"``).
    """

    dataset: str
    sample_id: str
    image: np.ndarray
    true_class: str
    maps: dict[str, np.ndarray]
    predicted: dict[str, str]
    rule: str = ""
    region: np.ndarray | None = None
    boxes: np.ndarray | None = None
    region_kind: str = "none"
    extra: dict = field(default_factory=dict)


def short_id(sample_id: str, width: int = 18, max_lines: int = 2) -> list[str]:
    """A sample id as at most ``max_lines`` lines of at most ``width`` characters: the file's stem
    (folders and extension dropped), broken after ``_``, ``-``, ``.`` or a space where it can
    be, else mid-word; what does not fit ends in "…"."""
    stem = PurePosixPath(str(sample_id).replace("\\", "/")).stem or str(sample_id)
    lines = [""]
    for token in re.split(r"(?<=[_.\- ])", stem):
        if lines[-1] and len(lines[-1]) + len(token) > width >= len(token):
            lines.append("")  # the token fits on a line of its own
        while len(lines[-1]) + len(token) > width:  # a token longer than a line is cut
            room = width - len(lines[-1])
            lines[-1], token = lines[-1] + token[:room], token[room:]
            lines.append("")
        lines[-1] += token
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:width - 1] + "…"
    return lines


def row_label(row: CamRow) -> str:
    """The label on the left of a Fig 3 row: dataset, true class and the short id."""
    return "\n".join([row.dataset, f"true {row.true_class}", *short_id(row.sample_id)])


def plot_figure3(rows: list[CamRow], losses: list[str], panel_size: float = 2.2,
                 alpha: float = 0.5):
    """The Fig 3 grid: the original image, then each loss's map laid over it
    (``CAM_COLORMAP``, ``alpha``), titled in the loss's colour, with a colourbar of the map's
    scale on the right (the figure's last axes)."""
    columns = len(losses) + 1
    fig, axes = plt.subplots(len(rows), columns, squeeze=False,
                             figsize=(panel_size * columns + 0.8, panel_size * len(rows)))
    for r, row in enumerate(rows):
        axes[r, 0].imshow(row.image)
        axes[r, 0].set_title("image", fontsize=8)
        axes[r, 0].set_ylabel(row_label(row), fontsize=7)
        for c, loss in enumerate(losses, start=1):
            axes[r, c].imshow(row.image)
            axes[r, c].imshow(row.maps[loss], cmap=CAM_COLORMAP, alpha=alpha, vmin=0.0,
                              vmax=1.0)
            mark = "✓" if row.predicted[loss] == row.true_class else "✗"
            axes[r, c].set_title(f"{LOSS_LABELS.get(loss, loss)}\npred {row.predicted[loss]} "
                                 f"{mark} / true {row.true_class}", fontsize=8,
                                 color=loss_colour(loss) or "black")
        for ax in axes[r]:
            _draw_region(ax, row)
            ax.set_xticks([])
            ax.set_yticks([])
    room = 0.8 / fig.get_figwidth()  # the colourbar's strip on the right
    fig.tight_layout(rect=(0, 0, 1 - room, 1))
    top, bottom = axes[0, -1].get_position().y1, axes[-1, -1].get_position().y0
    bar = fig.add_axes((1 - 0.8 * room, bottom, 0.15 * room, top - bottom))
    fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), cmap=CAM_COLORMAP), cax=bar,
                 label="Grad-CAM (normalised)")
    return fig


def _draw_region(ax, row: CamRow) -> None:
    if row.boxes is not None:
        for x0, y0, x1, y1 in row.boxes:
            # imshow puts pixel centres at integers, so pixel edges sit at -0.5.
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                                   edgecolor=REGION_COLOUR, linewidth=1.2))
    elif row.region is not None and row.region.any():
        ax.contour(row.region.astype(float), levels=[0.5], colors=REGION_COLOUR, linewidths=1.0)


def score_rows(rows: list[CamRow], losses: list[str]) -> pd.DataFrame:
    """One line per image × loss: prediction, correctness, region kind, the two scores and
    ``uniform_baseline``, the energy share a uniform map gets (the region's area share,
    ``lmf.classification.cam.scores.uniform_share``)."""
    records = []
    for row in rows:
        for loss in losses:
            has_region = row.region is not None
            records.append({
                "dataset": row.dataset, "image": row.sample_id, "rule": row.rule,
                "loss": loss, "true": row.true_class, "predicted": row.predicted[loss],
                "correct": row.predicted[loss] == row.true_class, "region": row.region_kind,
                "energy_share": energy_share(row.maps[loss], row.region) if has_region
                else np.nan,
                "pointing_game": pointing_game(row.maps[loss], row.region) if has_region
                else np.nan,
                "uniform_baseline": uniform_share(row.region) if has_region else np.nan,
            })
    return pd.DataFrame.from_records(records)


def summarize_scores(per_image: pd.DataFrame) -> pd.DataFrame:
    """Per loss (in the order given): images, correct predictions, images with a region, and the
    mean energy share and pointing-game hit rate over those images (an all-zero map, which has
    neither score, is left out of the means), and ``uniform_baseline``, what a uniform map scores
    on the same images: the mean region area share, which is a uniform map's energy share and a
    random maximum's pointing-game hit rate. A score above it means the map favours the region."""
    scored = per_image["energy_share"].notna()
    grouped = per_image.assign(
        with_region=per_image["region"] != "none",
        uniform_baseline=per_image["uniform_baseline"].where(scored)).groupby("loss", sort=False)
    return pd.DataFrame({
        "images": grouped.size(),
        "correct": grouped["correct"].sum().astype(int),
        "with_region": grouped["with_region"].sum().astype(int),
        "energy_share": grouped["energy_share"].mean(),
        "pointing_game": grouped["pointing_game"].mean(),
        "uniform_baseline": grouped["uniform_baseline"].mean(),
    }).reset_index()


def save_figure3(fig, summary: pd.DataFrame, per_image: pd.DataFrame,
                 profile: str | None = None) -> list[Path]:
    """Write Fig 3 (``fig3_gradcam.png/.pdf``), the per-loss scores
    (``table_fig3_scores.csv/.md``) and the per-image scores (``table_fig3_scores_per_image``)
    into ``lmf.core.paths.figures_dir(profile)`` through ``lmf.core.outputs`` (written atomically)."""
    return [*save_figure(fig, FIGURE_NAME, profile),
            *save_table(summary, TABLE_NAME, profile, float_format="%.3f"),
            *save_table(per_image, PER_IMAGE_NAME, profile, float_format="%.3f")]
