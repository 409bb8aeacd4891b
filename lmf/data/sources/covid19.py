"""``covid19``: COVID-19 Radiography Database, 21,165 chest X-rays (299×299 PNG), 4 classes.

Layout (Kaggle ``tawsifurrahman/covid19-radiography-database``): ``COVID-19_Radiography_Dataset/``
with one folder per class (``COVID``, ``Lung_Opacity``, ``Normal``, ``Viral Pneumonia`` — note
the space), each holding ``images/`` and ``masks/``. Masks are lung segmentations, not samples.
The root may be the folder holding ``COVID-19_Radiography_Dataset/`` or that folder itself; class
folders without an ``images/`` subfolder (older releases) are read directly. Class names are the
paper's: Covid, LO, Normal, VP.
"""

from __future__ import annotations

from pathlib import Path

from lmf.core.errors import DataError
from lmf.data.sources.base import Source, image_files, make_index, require_dir

DATASET_FOLDER = "COVID-19_Radiography_Dataset"
FOLDERS = {"COVID": "Covid", "Lung_Opacity": "LO", "Normal": "Normal", "Viral Pneumonia": "VP"}
CLASS_NAMES = tuple(sorted(FOLDERS.values()))


def read_index(root: Path):
    """The COVID-19 Radiography index (images only, never masks)."""
    require_dir(SOURCE, root, root)
    base = root / DATASET_FOLDER if (root / DATASET_FOLDER).is_dir() else root
    paths, classes = [], []
    for folder, class_name in FOLDERS.items():
        class_dir = require_dir(SOURCE, base / folder, root)
        images_dir = class_dir / "images" if (class_dir / "images").is_dir() else class_dir
        files = image_files(images_dir)
        if not files:
            raise DataError(f"covid19: no images in {images_dir}; unpack the complete dataset")
        paths.extend(str(f) for f in files)
        classes.extend([class_name] * len(files))
    return make_index(paths, classes, CLASS_NAMES)


SOURCE = Source(
    name="covid19",
    summary="COVID-19 Radiography Database, 4 classes, 21,165 chest X-rays",
    read_index=read_index,
    class_names=CLASS_NAMES,
    kaggle="tawsifurrahman/covid19-radiography-database",
    layout=(f"{DATASET_FOLDER}/ with COVID/, Lung_Opacity/, Normal/ and 'Viral Pneumonia'/, "
            f"each holding images/"),
    paper_id="covid19",
)
