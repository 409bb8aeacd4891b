"""``isic2019``: the ISIC 2019 training set, 25,331 dermoscopic images, 8 usable classes.

Layout (official archive or Kaggle ``andrewmvd/isic-2019``): ``ISIC_2019_Training_Input/``
(``<image>.jpg``; the Kaggle zip nests it once more, which is accepted) and
``ISIC_2019_Training_GroundTruth.csv`` (``image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK``, one-hot,
written ``1.0`` in the official file and ``1`` in some copies). ``UNK`` has no training images;
rows labelled UNK would be dropped, leaving 8 classes. ``group`` is the ``lesion_id`` of
``ISIC_2019_Training_Metadata.csv`` when that file is present and has one, else the image.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from lmf.data.sources.base import (
    Source,
    duplicates_error,
    files_by_name,
    locate,
    make_index,
    one_hot_class,
    read_csv,
    require_dir,
    require_file,
)

CLASS_NAMES = ("AK", "BCC", "BKL", "DF", "MEL", "NV", "SCC", "VASC")
IMAGES = "ISIC_2019_Training_Input"
GROUND_TRUTH = "ISIC_2019_Training_GroundTruth.csv"
GROUND_TRUTH_HEADER = "image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK"
METADATA = "ISIC_2019_Training_Metadata.csv"
METADATA_HEADER = "image,age_approx,anatom_site_general,lesion_id,sex"


def read_index(root: Path):
    """The ISIC 2019 index; rows labelled UNK are dropped with a warning that counts them."""
    require_dir(SOURCE, root, root)
    path = require_file(SOURCE, root / GROUND_TRUTH, root)
    table = read_csv(path, GROUND_TRUTH_HEADER.split(","), GROUND_TRUTH_HEADER)
    duplicates_error(path, table["image"])
    classes = one_hot_class(table, GROUND_TRUTH_HEADER.split(",")[1:], "image", path)
    keep = (classes != "UNK").to_numpy()
    if not keep.all():
        warnings.warn(f"{path}: {int((~keep).sum())} image(s) labelled UNK are left out (the "
                      "paper's 8 classes have no UNK)", stacklevel=2)
    table, classes = table[keep], classes[keep]
    images = require_dir(SOURCE, root / IMAGES, root)
    if (images / IMAGES).is_dir():
        images = images / IMAGES
    paths = locate([f"{image}.jpg" for image in table["image"]], files_by_name([images]),
                   str(images))
    lesions = {}
    if (root / METADATA).is_file():
        meta = read_csv(root / METADATA, ("image", "lesion_id"), METADATA_HEADER)
        lesions = {image: lesion for image, lesion in zip(meta["image"], meta["lesion_id"],
                                                          strict=True) if lesion}
    groups = [lesions.get(image, image) for image in table["image"]]
    return make_index(paths, classes.tolist(), CLASS_NAMES, groups)


SOURCE = Source(
    name="isic2019",
    summary="ISIC 2019 dermoscopy, 8 classes, 25,331 images",
    read_index=read_index,
    class_names=CLASS_NAMES,
    kaggle="andrewmvd/isic-2019",
    layout=f"{IMAGES}/ (the .jpg images) and {GROUND_TRUTH} (optionally {METADATA})",
    paper_id="isic2019",
)
