"""Fig 3 from the run store: one model × the five losses, one chosen test image per dataset.

``figure3`` reads finished runs (rows of ``lmf.core.runs.load_runs``), picks each dataset's image
(``lmf.classification.cam.selection``), computes every loss's Grad-CAM with ``lmf.classification.cam.gradcam`` for the class that
loss's model predicts (medcam's default, as in the paper), scores the maps against boxes or lung
masks (``lmf.classification.cam.scores``), draws the grid and writes figure and table (``lmf.classification.cam.figure``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from lmf.classification.cam.figure import (
    CamRow,
    plot_figure3,
    save_figure3,
    score_rows,
    summarize_scores,
)
from lmf.classification.cam.maps import BACKENDS, gradcam
from lmf.classification.cam.scores import (
    box_region,
    boxes_for,
    foreground_region,
    mask_path,
    mask_region,
    read_boxes,
    scale_boxes,
)
from lmf.classification.cam.selection import Pick, pick_image, resolve_class
from lmf.classification.profiles import Profile, get_profile
from lmf.core.errors import ConfigError, DataError, unknown_choice


def figure3(runs: pd.DataFrame, profile: Profile | str = "cpu", save: bool = True,
            boxes=None, backend: str = "gcam", ids: dict[str, list[str]] | None = None,
            layer=None, device: str | None = None, foreground: bool | None = None):
    """Regenerate Fig 3 and its scores table from finished runs.

    Args:
        runs: ``load_runs`` rows of one grid and one model, e.g. ``lmf.sweep.ensure``'s result
            filtered to EfficientNetV2-S as in the paper (with several seeds the lowest is
            used); every dataset in them gets one row of the figure (or one per id in ``ids``).
        profile: the profile (or its name) giving the class to show per dataset
            (``cam_classes``) and the loss order.
        save: write ``fig3_gradcam.{png,pdf}`` and ``table_fig3_scores.{csv,md}`` (plus the
            per-image scores) into ``lmf.core.paths.figures_dir(profile.name)``.
        boxes: optional CSV path or DataFrame ``image,x0,y0,x1,y1`` (original pixels).
        backend: medcam backend (``gcam``, ``gcampp``, ``ggcam``).
        ids: dataset id -> sample ids to show instead of the automatic choice.
        layer: Grad-CAM layer name (default ``lmf.classification.models.cam_target_layer``).
        device: torch device for the models (default: CUDA when available, else CPU).
        foreground: score images without boxes or masks against their bright pixels (the
            digits' strokes in the cpu profile; meaningless for photographs); ``None``: the
            profile's ``cam_foreground``.

    Returns:
        (figure, scores): the matplotlib figure and the per-loss scores table.
    """
    profile = get_profile(profile) if isinstance(profile, str) else profile
    if backend not in BACKENDS:
        raise unknown_choice("Grad-CAM backend", backend, BACKENDS)
    if ids is not None and not isinstance(ids, dict):
        raise ConfigError("ids maps dataset ids to lists of sample ids, e.g. "
                          "{'covid19': ['Lung_Opacity/Lung_Opacity-1']}")
    box_table = read_boxes(boxes) if boxes is not None else None
    foreground = profile.cam_foreground if foreground is None else foreground
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    chosen = _one_run_per_dataset_and_loss(runs)
    losses = [loss for loss in profile.losses if loss in set(chosen["loss"])]
    losses += sorted(set(chosen["loss"]) - set(losses))
    datasets = dict(_in_profile_order(chosen, profile))
    unknown = sorted(set(ids or {}) - set(datasets))
    if unknown:
        raise unknown_choice("dataset of the runs", unknown[0], datasets)
    rows = []
    for dataset, group in datasets.items():
        run_dirs = {row.loss: Path(row.run_dir) for row in group.itertuples()}
        rows += _dataset_rows(dataset, run_dirs, profile, box_table, backend,
                              (ids or {}).get(dataset), layer, device, foreground)
    fig = plot_figure3(rows, losses)
    per_image = score_rows(rows, losses)
    summary = summarize_scores(per_image)
    if save:
        save_figure3(fig, summary, per_image, profile.name)
    return fig, summary


def _one_run_per_dataset_and_loss(runs: pd.DataFrame) -> pd.DataFrame:
    if runs is None or len(runs) == 0:
        raise ConfigError("figure3 needs finished runs (rows of lmf.core.runs.load_runs); train them "
                          "first, e.g. with lmf.sweep.ensure('paper')")
    models = sorted(runs["model"].astype(str).unique())
    if len(models) != 1:
        raise ConfigError(f"figure3 shows one model, the runs hold {len(models)}: "
                          f"{', '.join(models)}; select one, e.g. runs[runs.model == "
                          f"{models[0]!r}]")
    return (runs.sort_values(["dataset", "loss", "seed"])
            .drop_duplicates(["dataset", "loss"], keep="first"))


def _in_profile_order(runs: pd.DataFrame, profile: Profile):
    """(dataset id, runs) per dataset, in the profile's order; dataset ids are the profile's keys
    (a run stores the source name, e.g. ``medmnist:dermamnist``)."""
    ids = {source: dataset_id for dataset_id, source in profile.datasets.items()}
    keyed = runs.assign(_id=runs["dataset"].map(lambda d: ids.get(d, d)))
    rank = {dataset_id: i for i, dataset_id in enumerate(profile.datasets)}
    for dataset in sorted(sorted(keyed["_id"].unique()), key=lambda d: rank.get(d, len(rank))):
        yield dataset, keyed[keyed["_id"] == dataset]


def _dataset_rows(dataset: str, run_dirs: dict[str, Path], profile: Profile, box_table,
                  backend: str, sample_ids, layer, device: str,
                  foreground: bool) -> list[CamRow]:
    from lmf.classification.config import RunConfig
    from lmf.classification.data import prepare_data
    from lmf.classification.train import load_model
    from lmf.core import runs as run_store
    from lmf.core.inputs import model_inputs

    config = RunConfig.from_dict(run_store.load_config(next(iter(run_dirs.values()))))
    data = prepare_data(config)
    test = data.part("test")
    position = {str(sample_id): i for i, sample_id in enumerate(test.ids)}
    picks = _picks(dataset, run_dirs, profile, data.class_names, test, sample_ids)
    unknown = [p.sample_id for p in picks if p.sample_id not in position]
    if unknown:
        raise DataError(f"{dataset}: no test image with id {', '.join(unknown)}; ids are like "
                        f"{', '.join(map(str, test.ids[:3]))}")
    rows_of_images = [position[p.sample_id] for p in picks]
    pixels = np.asarray(test.images[rows_of_images])
    inputs = model_inputs(pixels, config)
    maps, predicted = {}, {}
    for loss, run_dir in run_dirs.items():
        model = load_model(run_dir).to(device)
        with torch.no_grad():
            prediction = model(inputs.to(device)).argmax(1).cpu()
        maps[loss] = gradcam(model, inputs, labels=prediction, layer=layer,
                             backend=backend)[:, 0].numpy()
        predicted[loss] = [data.class_names[int(c)] for c in prediction]
    rows = []
    for i, pick in enumerate(picks):
        row = CamRow(dataset=dataset, sample_id=pick.sample_id, image=pixels[i],
                     true_class=data.class_names[pick.label], rule=pick.rule,
                     maps={loss: maps[loss][i] for loss in run_dirs},
                     predicted={loss: predicted[loss][i] for loss in run_dirs})
        _attach_region(row, box_table, data.source_path(pick.sample_id), foreground)
        rows.append(row)
    return rows


def _picks(dataset, run_dirs, profile, class_names, test, sample_ids) -> list[Pick]:
    from lmf.core import runs as run_store

    if sample_ids:
        labels = {str(s): int(label) for s, label in zip(test.ids, test.labels, strict=True)}
        return [Pick(str(s), labels.get(str(s), -1), "given by id") for s in sample_ids]
    if dataset not in profile.cam_classes:
        raise ConfigError(f"profile {profile.name!r} names no Fig 3 class for dataset "
                          f"{dataset!r}; give ids={{{dataset!r}: [...]}}")
    class_index = resolve_class(profile.cam_classes[dataset], class_names)
    predictions = {loss: run_store.load_predictions(d) for loss, d in run_dirs.items()}
    return [pick_image(predictions, class_index)]


def _attach_region(row: CamRow, box_table, source: Path | None, foreground: bool) -> None:
    """Boxes for the image if the table has any, else the mask its dataset ships for it (a lung
    or lesion mask, ``mask_path``) if there is one, else (when asked) the image's bright pixels."""
    map_size = row.image.shape[:2]
    corners = boxes_for(box_table, row.sample_id, source) if box_table is not None else None
    if corners is not None and len(corners):
        image_size = map_size
        if source is not None:
            with Image.open(source) as original:
                image_size = original.size[::-1]
        row.region = box_region(corners, image_size, map_size, sample=row.sample_id)
        row.boxes = scale_boxes(corners, image_size, map_size)
        row.region_kind = "box"
    elif source is not None and (mask := mask_path(source)) is not None:
        row.region = mask_region(mask, map_size)
        row.region_kind = "mask"
    elif foreground:
        row.region = foreground_region(row.image)
        row.region_kind = "foreground"
