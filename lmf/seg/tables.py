"""Notebook 07's tables: Cui et al.'s Tables 1–6 regenerated from the run store, LMF beside.

Every function takes the rows ``lmf.sweep.ensure`` returns for the segmentation grid
(``lmf.seg.grids``) and gives one row per setting with the **test** scores of
``lmf.seg.metrics.segmentation_scores`` (foreground per image, averaged over images): ``iou``,
``dsc``, ``precision``, ``recall``. A setting is read from the run's fields (network, loss,
attention, resizing, sampler), never from the experiment that asked for it, so a run that
serves several tables is the same row in each. Only the profile's first seed enters Tables
1–6; :func:`seed_spread` summarises the seeds.

:func:`beside_published` stacks a table over the published one of the same number
(``lmf.seg.paper.published_table``), with a ``source`` column: the datasets differ (Cui et al.
used BUS2017, DDTI, LiTS, ATLAS and BRATS 2015), so the two are read side by side, not
subtracted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lmf.seg.losses import seg_loss_parameters
from lmf.seg.paper import published_table
from lmf.seg.profiles import FULL_LOSSES, SegProfile, get_seg_profile

SCORES = ("iou", "dsc", "precision", "recall")
#: How a setting is named in the tables.
LOSS_NAMES = {"ce": "cross-entropy", "focal": "focal", "dice": "Dice", "tversky": "Tversky",
              "combo": "combo", "unified_focal": "unified focal", "lmf": "LMF"}
#: The published tables' model ids as the paper names the networks.
PUBLISHED_MODELS = {"unet": "UNet", "fcn": "FCN", "rcnn": "RCNN", "segnet": "SegNet",
                    "deeplabv3": "DeepLab-V3"}
ATTENTION_NAMES = {"none": "none", "spatial": "spatial", "channel": "channel",
                   "scse": "hybrid (scSE)", "sas": "SAS"}


def study_frame(runs: pd.DataFrame, profile: str | SegProfile) -> pd.DataFrame:
    """The runs with the columns the tables select on: ``progressive`` (trained with the
    profile's resize schedule), ``lam`` (the unified focal loss's λ, NaN for other losses) and
    the test scores under their short names."""
    profile = get_seg_profile(profile)
    frame = runs.copy()
    frame["progressive"] = frame["resize_schedule"].notna()
    default_lam = seg_loss_parameters("unified_focal")["lam"]
    lam = frame["lam"] if "lam" in frame else pd.Series(np.nan, index=frame.index)
    frame["lam"] = np.where(frame["loss"] == "unified_focal", lam.fillna(default_lam), np.nan)
    for score in SCORES:
        frame[score] = frame[f"test_{score}"]
    frame["first_seed"] = frame["seed"] == profile.seed
    return frame


def pick_setting(frame: pd.DataFrame, loss="ce", attention="none", progressive=False, sampler="none",
          lam=None) -> pd.DataFrame:
    """The first-seed runs of one setting in a :func:`study_frame` (the baseline's values where
    not given)."""
    chosen = ((frame["loss"] == loss) & (frame["attention"] == attention)
              & (frame["progressive"] == progressive) & (frame["sampler"] == sampler)
              & frame["first_seed"])
    if loss == "unified_focal":
        chosen &= np.isclose(frame["lam"], lam if lam is not None else
                             seg_loss_parameters("unified_focal")["lam"])
    return frame[chosen]


def _rows(frame: pd.DataFrame, setting: str, models=None) -> pd.DataFrame:
    if models is not None:
        frame = frame[frame["model_id"].isin(models)]
    rows = frame[["dataset_id", "model_id", *SCORES]].copy()
    rows.insert(2, "setting", setting)
    return rows


def _table(parts: list[pd.DataFrame], profile: SegProfile) -> pd.DataFrame:
    """Rows ordered by dataset, then network in the profile's order, then setting as listed."""
    table = pd.concat(parts, ignore_index=True)
    order = {model: i for i, model in enumerate(profile.models)}
    table["_order"] = table["model_id"].map(order)
    table["_part"] = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    table = table.sort_values(["dataset_id", "_order", "_part"], kind="stable")
    return table.drop(columns=["_order", "_part"]).reset_index(drop=True)


def table1_models(runs, profile) -> pd.DataFrame:
    """Table 1: every network before (baseline) and after the full strategy (progressive
    resizing, SAS where the network takes it, the unified focal loss), and with LMF in the
    unified focal loss's place."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    parts = [_rows(pick_setting(frame), "baseline")]
    for loss in FULL_LOSSES:
        for model_id in profile.models:
            attention = "sas" if model_id == profile.attention_model else "none"
            parts.append(_rows(pick_setting(frame, loss, attention, progressive=True),
                               f"full strategy, {LOSS_NAMES[loss]}", [model_id]))
    return _table(parts, profile)


def table2_sas(runs, profile) -> pd.DataFrame:
    """Table 2: SAS alone (cross-entropy, fixed size) on the network that takes it."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    model = [profile.attention_model]
    return _table([_rows(pick_setting(frame), "no attention", model),
                   _rows(pick_setting(frame, attention="sas"), "SAS", model)], profile)


def table3_losses(runs, profile) -> pd.DataFrame:
    """Table 3: the loss alone (no attention, fixed size): cross-entropy, the unified focal loss
    and LMF on every network."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    return _table([_rows(pick_setting(frame, loss), LOSS_NAMES[loss])
                   for loss in ("ce", *FULL_LOSSES)], profile)


def loss_study(runs, profile) -> pd.DataFrame:
    """Every loss of the profile on the attention model (no attention, fixed size): the losses
    Cui et al. compare in Fig 3 and Fig 5."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    model = [profile.attention_model]
    return _table([_rows(pick_setting(frame, loss), LOSS_NAMES[loss], model)
                   for loss in profile.losses], profile)


def table4_resizing(runs, profile) -> pd.DataFrame:
    """Table 4: progressive resizing alone (cross-entropy, no attention) on every network."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    return _table([_rows(pick_setting(frame), "fixed size"),
                   _rows(pick_setting(frame, progressive=True), "progressive resizing")], profile)


def table5_attention(runs, profile) -> pd.DataFrame:
    """Table 5: the attention variants at the same place, the skip connections of the
    attention model (cross-entropy, fixed size)."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    model = [profile.attention_model]
    return _table([_rows(pick_setting(frame, attention=a), ATTENTION_NAMES[a], model)
                   for a in ATTENTION_NAMES], profile)


def table6_balancing(runs, profile) -> pd.DataFrame:
    """Table 6: data-level balancing (random oversampling of the images with the rarest class)
    against SAS, both with cross-entropy at a fixed size."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    model = [profile.attention_model]
    return _table([_rows(pick_setting(frame), "none", model),
                   _rows(pick_setting(frame, sampler="oversample"), "random oversampling", model),
                   _rows(pick_setting(frame, attention="sas"), "SAS", model)], profile)


def lambda_study(runs, profile) -> pd.DataFrame:
    """Test scores of the unified focal loss per λ on the attention model (Fig 3(f))."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    parts = []
    for lam in profile.lambdas:
        rows = _rows(pick_setting(frame, "unified_focal", lam=lam), "unified focal",
                     [profile.attention_model])
        rows.insert(3, "lam", lam)
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def seed_spread(runs, profile) -> pd.DataFrame:
    """Mean, standard deviation (n − 1), minimum and maximum over seeds of the test DSC and IoU
    of cross-entropy, the unified focal loss and LMF on the attention model."""
    profile, frame = get_seg_profile(profile), study_frame(runs, profile)
    frame = frame[(frame["model_id"] == profile.attention_model) & (frame["attention"] == "none")
                  & ~frame["progressive"] & (frame["sampler"] == "none")
                  & frame["loss"].isin(("ce", *FULL_LOSSES))]
    frame = frame[(frame["loss"] != "unified_focal") | np.isclose(
        frame["lam"], seg_loss_parameters("unified_focal")["lam"])]
    summary = (frame.groupby(["dataset_id", "loss"], sort=False)[["dsc", "iou"]]
               .agg(["mean", "std", "min", "max", "count"]))
    summary.columns = [f"{score}_{stat}" for score, stat in summary.columns]
    summary = summary.reset_index().rename(columns={"dsc_count": "seeds"})
    summary["loss"] = summary["loss"].map(LOSS_NAMES)
    return summary.drop(columns=["iou_count"])


def beside_published(table: pd.DataFrame, number: int, profile_name: str) -> pd.DataFrame:
    """``table`` (this profile's runs) stacked over Cui et al.'s Table ``number``."""
    ours = table.assign(source=f"lmf ({profile_name} profile)")
    printed = published_table(number)
    published = pd.DataFrame({"dataset_id": printed["dataset_as_printed"],
                              "model_id": printed["model"].map(PUBLISHED_MODELS),
                              "setting": printed["setting"],
                              **{score: printed[score] for score in SCORES},
                              "source": "Cui et al. 2024 (published)"})
    columns = ["source", "dataset_id", "model_id", "setting", *SCORES]
    return pd.concat([ours[columns], published[columns]], ignore_index=True)
