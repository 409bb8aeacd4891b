"""``ham10000``: HAM10000 (Tschandl et al. 2018), 10,015 dermatoscopic images, 7 classes.

Two layouts are read (``data/README.md``):

1. the Kaggle copy the paper cites (``surajghuwalewala/ham1000-segmentation-and-classification``):
   ``images/<image>.jpg`` and ``GroundTruth.csv`` (``image,MEL,NV,BCC,AKIEC,BKL,DF,VASC``,
   one-hot as ``0/1`` or ``0.0/1.0``);
2. the ISIC archive / Kaggle ``kmader/skin-cancer-mnist-ham10000``: ``HAM10000_metadata.csv``
   (``lesion_id,image_id,dx,...``) with images in ``HAM10000_images_part_1/`` and ``_part_2/``.
   That zip also holds lower-case copies ``ham10000_images_part_1/2``; each image is listed once
   by the metadata and taken from the first folder that has it, so copies never count twice.

``group`` is the ``lesion_id`` (layout 2, or layout 1 when ``HAM10000_metadata.csv`` lies beside
``GroundTruth.csv``), else the image itself.
"""

from __future__ import annotations

from pathlib import Path

from lmf.core.errors import DataError
from lmf.data.sources.base import (
    Source,
    duplicates_error,
    files_by_name,
    locate,
    make_index,
    one_hot_class,
    read_csv,
    require_dir,
)

CLASS_NAMES = ("AKIEC", "BCC", "BKL", "DF", "MEL", "NV", "VASC")
GROUND_TRUTH = "GroundTruth.csv"
GROUND_TRUTH_HEADER = "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC"
METADATA = "HAM10000_metadata.csv"
METADATA_HEADER = "lesion_id,image_id,dx,dx_type,age,sex,localization"
PART_FOLDERS = ("HAM10000_images_part_1", "HAM10000_images_part_2",
                "ham10000_images_part_1", "ham10000_images_part_2")


def _lesions(root: Path) -> dict[str, str]:
    """image_id -> lesion_id from the metadata CSV."""
    meta = read_csv(root / METADATA, ("lesion_id", "image_id"), METADATA_HEADER)
    return dict(zip(meta["image_id"], meta["lesion_id"], strict=True))


def _from_ground_truth(root: Path):
    path = root / GROUND_TRUTH
    table = read_csv(path, GROUND_TRUTH_HEADER.split(","), GROUND_TRUTH_HEADER)
    duplicates_error(path, table["image"])
    classes = one_hot_class(table, list(CLASS_NAMES), "image", path)
    images = require_dir(SOURCE, root / "images", root)
    names = [f"{image}.jpg" for image in table["image"]]
    paths = locate(names, files_by_name([images]), str(images))
    lesions = _lesions(root) if (root / METADATA).is_file() else {}
    groups = [lesions.get(image, image) for image in table["image"]]
    return paths, classes.tolist(), groups


def _from_metadata(root: Path):
    path = root / METADATA
    table = read_csv(path, ("lesion_id", "image_id", "dx"), METADATA_HEADER)
    duplicates_error(path, table["image_id"])
    classes = table["dx"].str.strip().str.upper()
    unknown = sorted(set(classes) - set(CLASS_NAMES))
    if unknown:
        raise DataError(f"{path}: unknown dx value(s) {', '.join(unknown).lower()}; expected "
                        f"{', '.join(c.lower() for c in CLASS_NAMES)}")
    folders = [root / name for name in PART_FOLDERS]
    if not any(folder.is_dir() for folder in folders):
        require_dir(SOURCE, folders[0], root)
    names = [f"{image}.jpg" for image in table["image_id"]]
    paths = locate(names, files_by_name(folders), f"{root}/HAM10000_images_part_1|2")
    return paths, classes.tolist(), table["lesion_id"].tolist()


def read_index(root: Path):
    """The HAM10000 index from either layout (the metadata layout when both are present)."""
    require_dir(SOURCE, root, root)
    if (root / METADATA).is_file():
        paths, classes, groups = _from_metadata(root)
    elif (root / GROUND_TRUTH).is_file():
        paths, classes, groups = _from_ground_truth(root)
    else:
        raise DataError(f"ham10000: neither {GROUND_TRUTH} nor {METADATA} in {root}; "
                        f"{SOURCE.how_to_get(root)}")
    return make_index(paths, classes, CLASS_NAMES, groups)


SOURCE = Source(
    name="ham10000",
    summary="HAM10000 dermatoscopy, 7 classes, 10,015 images (paper: HAM-10K)",
    read_index=read_index,
    class_names=CLASS_NAMES,
    kaggle="surajghuwalewala/ham1000-segmentation-and-classification",
    layout=(f"either images/ + {GROUND_TRUTH} (the Kaggle copy the paper cites) or {METADATA} + "
            f"HAM10000_images_part_1/ and HAM10000_images_part_2/ (ISIC archive, Kaggle "
            f"kmader/skin-cancer-mnist-ham10000)"),
    paper_id="ham10000",
)
