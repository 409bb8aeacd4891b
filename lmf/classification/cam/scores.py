"""How much of a Grad-CAM map falls on an annotated region: boxes from a CSV, or lung masks.

The LMF paper (Sadi et al., Fig 3) lays a clinician's boxes over the maps and compares them by eye;
the boxes are not public. Two numbers make the comparison measurable for anyone who has regions:

* energy share (Wang et al., 2020, Score-CAM's "energy-based pointing game"): the fraction of the
  map's mass inside the region, ``Σ_{p∈R} L(p) / Σ_p L(p)``; 1 = all attention on the region;
  the area fraction of the region is what a uniform map would score (``uniform_share``, the
  baseline the scores table gives beside them);
* pointing game (Zhang et al., 2018, "Top-down neural attention by excitation backprop"), without
  tolerance: 1 if the map's maximum lies in the region (a tie counts as a hit when any maximising
  pixel is inside), else 0.

Both are NaN for a map that is zero everywhere.

Boxes come as a CSV ``image,x0,y0,x1,y1`` in the pixels of the original image file: ``image`` is a
sample id or the image's file name, ``(x0, y0)`` the top-left and ``(x1, y1)`` the bottom-right
corner in continuous pixel coordinates (a box covers ``x0 ≤ x < x1``). Several rows for one image
form the union of their boxes. A box is scaled to the map's resolution (the prepared images are
resized without cropping) and covers the map pixels whose centres fall inside it.

Two of the paper's datasets ship a segmentation per image, found by ``mask_path`` next to the
image's folder: the COVID-19 Radiography Database a lung mask (``<class>/masks/`` beside
``<class>/images/``, same file name) and HAM10000 a lesion mask (``masks/<image>_segmentation.png``
beside ``images/`` in the Kaggle copy the paper cites; in the ISIC-archive layout
``HAM10000_segmentations_lesion_tschandl/<image>_segmentation.png``, the Harvard Dataverse
segmentation zip unpacked beside ``HAM10000_images_part_1/2``). Resized to the map (nearest
neighbour), the mask serves as the region when no boxes are given. For the embedded digits (cpu profile) the bright pixels, i.e. the digit's strokes,
can serve as the region (``foreground_region``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lmf.core.errors import ConfigError, DataError

BOX_COLUMNS = ("image", "x0", "y0", "x1", "y1")


def read_boxes(source) -> pd.DataFrame:
    """Boxes from a CSV path or a DataFrame, checked: columns ``image,x0,y0,x1,y1``, numbers,
    ``x0 < x1``, ``y0 < y1``, no negative corner. Raises DataError naming the bad row."""
    if isinstance(source, pd.DataFrame):
        boxes, origin = source.copy(), "the box table"
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"box file {path} does not exist; give a CSV with columns "
                            f"{','.join(BOX_COLUMNS)}")
        boxes, origin = pd.read_csv(path), str(path)
    missing = [c for c in BOX_COLUMNS if c not in boxes.columns]
    if missing:
        raise DataError(f"{origin} lacks the column(s) {', '.join(missing)}; a box CSV needs "
                        f"the header {','.join(BOX_COLUMNS)} (corners in original pixels)")
    boxes = boxes.loc[:, list(BOX_COLUMNS)]
    boxes["image"] = boxes["image"].astype(str)
    corners = boxes[list(BOX_COLUMNS[1:])].apply(pd.to_numeric, errors="coerce")
    for row, (_, box) in enumerate(corners.iterrows(), start=1):
        name = boxes["image"].iloc[row - 1]
        where = f"{origin}, row {row} (image {name!r})"
        if not np.isfinite(box.to_numpy(dtype=float)).all():
            raise DataError(f"{where}: box corners must be numbers, got {box.tolist()}")
        if box.x1 <= box.x0 or box.y1 <= box.y0:
            raise DataError(f"{where}: box ({box.x0}, {box.y0}, {box.x1}, {box.y1}) needs "
                            "x0 < x1 and y0 < y1 (top-left corner first)")
        if box.x0 < 0 or box.y0 < 0:
            raise DataError(f"{where}: box ({box.x0}, {box.y0}, {box.x1}, {box.y1}) starts "
                            "outside the image (negative corner)")
    boxes[list(BOX_COLUMNS[1:])] = corners.astype(float)
    return boxes.reset_index(drop=True)


def boxes_for(boxes: pd.DataFrame, sample_id: str, source: Path | None = None) -> np.ndarray:
    """The (n, 4) corners of the boxes given for a sample, matched by id or by file name."""
    keys = {str(sample_id)}
    if source is not None:
        keys |= {Path(source).name, Path(source).stem}
    rows = boxes[boxes["image"].isin(keys)]
    return rows[list(BOX_COLUMNS[1:])].to_numpy(dtype=float)


def box_region(corners: np.ndarray, image_size: tuple[int, int],
               map_size: tuple[int, int], sample: str = "") -> np.ndarray:
    """Boolean (H, W) map-resolution region covered by the boxes ``corners`` (n, 4).

    ``image_size`` is the original (height, width) the corners refer to; a box reaching beyond it
    raises DataError. A box too small to cover a map pixel centre covers the pixel holding its
    centre, so every box counts.
    """
    height, width = image_size
    map_h, map_w = map_size
    region = np.zeros(map_size, dtype=bool)
    for x0, y0, x1, y1 in np.asarray(corners, dtype=float).reshape(-1, 4):
        if x1 > width or y1 > height:
            raise DataError(f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) of image {sample!r} reaches "
                            f"outside the {width}×{height} image; corners are in the original "
                            "image's pixels")
        cols = (np.arange(map_w) + 0.5) * width / map_w
        rows = (np.arange(map_h) + 0.5) * height / map_h
        inside = np.outer((rows >= y0) & (rows < y1), (cols >= x0) & (cols < x1))
        if not inside.any():
            cy = min(int((y0 + y1) / 2 * map_h / height), map_h - 1)
            cx = min(int((x0 + x1) / 2 * map_w / width), map_w - 1)
            inside[cy, cx] = True
        region |= inside
    return region


def scale_boxes(corners: np.ndarray, image_size: tuple[int, int],
                map_size: tuple[int, int]) -> np.ndarray:
    """Box corners (n, 4) from original pixels to map pixels (for drawing)."""
    (height, width), (map_h, map_w) = image_size, map_size
    scale = np.array([map_w / width, map_h / height] * 2)
    return np.asarray(corners, dtype=float).reshape(-1, 4) * scale


#: Where a mask lies relative to the folder above the image's folder: (folder, file name pattern
#: of the image file's ``name`` and ``stem``), tried in this order.
MASK_LOCATIONS = (
    ("masks", "{name}"),  # COVID-19 Radiography: <class>/masks/<same name>
    ("masks", "{stem}_segmentation.png"),  # HAM10000, Kaggle copy: masks/ beside images/
    ("HAM10000_segmentations_lesion_tschandl", "{stem}_segmentation.png"),  # HAM10000, archive
)


def mask_path(image_path: Path) -> Path | None:
    """The segmentation mask shipped for an image file (``MASK_LOCATIONS``), None if it has none."""
    image_path = Path(image_path)
    for folder, pattern in MASK_LOCATIONS:
        candidate = image_path.parent.parent / folder / pattern.format(name=image_path.name,
                                                                       stem=image_path.stem)
        if candidate.is_file():
            return candidate
    return None


def mask_region(mask_file: Path, map_size: tuple[int, int]) -> np.ndarray:
    """Boolean (H, W) region of a mask image (non-zero = inside), resized to ``map_size``."""
    try:
        with Image.open(mask_file) as mask:
            resized = mask.convert("L").resize(map_size[::-1], Image.Resampling.NEAREST)
    except OSError as error:
        raise DataError(f"cannot read the mask {mask_file}: {error}") from error
    return np.asarray(resized) > 127


def foreground_region(image: np.ndarray) -> np.ndarray:
    """Boolean (H, W) region of an image's bright pixels (at least half its maximum brightness):
    the strokes of the embedded digits, so the cpu profile has a region to score against."""
    gray = np.asarray(image, dtype=np.float64)
    gray = gray.mean(axis=-1) if gray.ndim == 3 else gray
    return gray >= 0.5 * gray.max() if gray.max() > 0 else np.zeros(gray.shape, dtype=bool)


def energy_share(attention: np.ndarray, region: np.ndarray) -> float:
    """Fraction of the map's total value inside ``region`` (NaN for an all-zero map)."""
    attention, region = _checked(attention, region)
    total = float(attention.sum())
    return float(attention[region].sum()) / total if total > 0 else float("nan")


def uniform_share(region: np.ndarray) -> float:
    """The energy share of a uniform map: the region's share of the map's area,
    ``|R| / |map|``; the score a map that attends to nothing in particular gets, and equally the
    chance that a pointing game with a randomly placed maximum hits the region."""
    region = np.asarray(region, dtype=bool)
    return float(region.mean())


def pointing_game(attention: np.ndarray, region: np.ndarray) -> float:
    """1.0 if a maximum of the map lies inside ``region``, else 0.0 (NaN for an all-zero map)."""
    attention, region = _checked(attention, region)
    peak = attention.max()
    if peak <= 0:
        return float("nan")
    return float(bool(region.any() and attention[region].max() == peak))


def _checked(attention, region) -> tuple[np.ndarray, np.ndarray]:
    attention = np.asarray(attention, dtype=np.float64).squeeze()
    region = np.asarray(region, dtype=bool).squeeze()
    if attention.shape != region.shape:
        raise ConfigError(f"map {attention.shape} and region {region.shape} differ in shape")
    return attention, region
