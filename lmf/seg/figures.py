"""Notebook 07's figures: Cui et al.'s Fig 3 (training curves per loss, DSC against λ) and
Figs 4–5 (predicted masks over test images), drawn from the run store.

Each function returns a matplotlib ``Figure``; saving is ``lmf.core.outputs.save_figure``. Masks are
drawn as outlines over the image so that prediction and truth stay visible together: the truth
in white, the prediction in the colour of its class.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap

from lmf.core.runs import load_config, load_history, load_predictions
from lmf.seg.profiles import get_seg_profile
from lmf.seg.tables import LOSS_NAMES, pick_setting, study_frame

#: Foreground class colours (Okabe–Ito: vermillion, bluish green, sky blue, yellow).
CLASS_COLOURS = ("#D55E00", "#009E73", "#56B4E9", "#F0E442")


def training_curves(runs: pd.DataFrame, profile, losses) -> plt.Figure:
    """Fig 3(a–e): validation DSC and training loss per epoch of each loss on the attention
    model with everything else the baseline's (no attention, fixed size; one run each)."""
    profile = get_seg_profile(profile)
    frame = study_frame(runs, profile)
    frame = frame[frame["model_id"] == profile.attention_model]
    fig, (dsc_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for loss in losses:
        rows = pick_setting(frame, loss)
        if rows.empty:
            continue
        history = load_history(rows.iloc[0]["run_dir"])
        dsc_ax.plot(history["epoch"] + 1, history["val_dsc"], marker="o", ms=3,
                    label=LOSS_NAMES[loss])
        loss_ax.plot(history["epoch"] + 1, history["train_loss"] / history["train_loss"].iloc[0],
                     marker="o", ms=3, label=LOSS_NAMES[loss])
    dsc_ax.set(xlabel="epoch", ylabel="validation DSC", title="Validation DSC per epoch")
    loss_ax.set(xlabel="epoch", ylabel="training loss / first epoch's",
                title="Training loss (relative)")
    dsc_ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def dsc_against_lambda(study: pd.DataFrame) -> plt.Figure:
    """Fig 3(f): test DSC of the unified focal loss against λ, one line per dataset."""
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    for dataset_id, rows in study.groupby("dataset_id", sort=False):
        ax.plot(rows["lam"], rows["dsc"], marker="o", label=dataset_id)
    ax.set(xlabel="λ (weight of the focal part)", ylabel="test DSC",
           title="Unified focal loss: DSC against λ")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def mask_overlays(panels: dict[str, str], images: np.ndarray, ids, title: str) -> plt.Figure:
    """One row per test image: the image with its true mask, then each run's predicted mask.

    ``panels`` maps a column title to a run directory; ``images`` and ``ids`` are the test images
    (uint8 N×H×W×3) of those runs' split and their ids; the first ``len(images)`` ids are drawn.
    """
    predictions = {name: load_predictions(path) for name, path in panels.items()}
    first = next(iter(predictions.values()))
    position = {str(i): n for n, i in enumerate(first["ids"])}
    rows = [position[str(i)] for i in ids]
    fig, axes = plt.subplots(len(rows), 1 + len(panels), squeeze=False,
                             figsize=(1.9 * (1 + len(panels)), 1.9 * len(rows)))
    for r, (image, n) in enumerate(zip(images, rows, strict=True)):
        truth = first["true"][n]
        _overlay(axes[r, 0], image, truth, truth)
        for c, prediction in enumerate(predictions.values(), start=1):
            _overlay(axes[r, c], image, prediction["pred"][n], truth)
    for c, name in enumerate(["ground truth", *panels]):
        axes[0, c].set_title(name, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _overlay(ax, image: np.ndarray, mask: np.ndarray, truth: np.ndarray) -> None:
    ax.imshow(image, interpolation="nearest")
    colours = ListedColormap(["none", *CLASS_COLOURS[: max(1, int(mask.max()))]])
    ax.imshow(np.ma.masked_equal(mask, 0), cmap=colours, vmin=0,
              vmax=max(1, int(mask.max())), alpha=0.55, interpolation="nearest")
    ax.contour(truth > 0, levels=[0.5], colors="white", linewidths=0.6)
    ax.set_axis_off()


def overlay_runs(runs: pd.DataFrame, profile, settings: dict[str, dict]) -> dict[str, str]:
    """Column title -> run directory of the first-seed run matching each setting's fields
    (e.g. ``{"baseline": {"model_id": "UNet", "loss": "ce", "progressive": False}}``)."""
    frame = study_frame(runs, profile)
    frame = frame[frame["first_seed"]]
    chosen = {}
    for name, fields in settings.items():
        match = frame
        for column, value in fields.items():
            match = match[match[column] == value]
        if not match.empty:
            chosen[name] = match.iloc[0]["run_dir"]
    return chosen


def test_images(run_dir: str, count: int) -> tuple[np.ndarray, list[str]]:
    """``count`` test images of a run with foreground, from the smallest foreground to the
    largest (evenly spaced in that order), and their ids."""
    from lmf.seg.config import SegConfig
    from lmf.seg.train import run_data

    test = run_data(SegConfig.from_dict(load_config(run_dir)))["test"]
    foreground = (test.masks > 0).reshape(len(test.masks), -1).mean(axis=1)
    ranked = [n for n in np.argsort(foreground, kind="stable") if foreground[n] > 0]
    chosen = [ranked[int(i)] for i in np.linspace(0, len(ranked) - 1, min(count, len(ranked)))]
    return test.images[chosen], [test.ids[n] for n in chosen]
