"""Grad-CAM for Fig 3 of the LMF paper: maps via medcam, image choice, region scores.

``gradcam`` computes the maps; ``figure3`` builds the paper's figure and its scores table from
finished runs; the pieces (``pick_image``, ``read_boxes``, ``energy_share``, ``pointing_game``,
``plot_figure3``) are usable on their own.
"""

from lmf.classification.cam.figure import (
    CamRow,
    plot_figure3,
    save_figure3,
    score_rows,
    summarize_scores,
)
from lmf.classification.cam.from_runs import figure3
from lmf.classification.cam.maps import BACKENDS, gradcam
from lmf.classification.cam.scores import (
    box_region,
    energy_share,
    foreground_region,
    mask_path,
    mask_region,
    pointing_game,
    read_boxes,
)
from lmf.classification.cam.selection import Pick, pick_image, resolve_class

__all__ = [
    "BACKENDS", "CamRow", "Pick", "box_region", "energy_share", "figure3", "foreground_region",
    "gradcam", "mask_path", "mask_region", "pick_image", "plot_figure3", "pointing_game",
    "read_boxes", "resolve_class", "save_figure3", "score_rows", "summarize_scores",
]
