"""``odir5k``: ODIR-5K fundus photographs, 6,392 eye images of 3,358 patients, 8 classes.

Layout (Kaggle ``andrewmvd/ocular-disease-recognition-odir5k``): ``full_df.csv``, one row per eye
image, and ``preprocessed_images/<filename>``. The label is the eye's own ``labels`` entry (a list
string such as ``['N']`` holding exactly one class); the ``N…O`` columns describe the patient
(both eyes) and are not used. ``group`` is the patient ``ID``, which holds both eyes.
"""

from __future__ import annotations

import ast
from pathlib import Path

from lmf.core.errors import DataError
from lmf.data.sources.base import (
    Source,
    duplicates_error,
    files_by_name,
    locate,
    make_index,
    read_csv,
    require_dir,
    require_file,
)

CLASS_NAMES = ("A", "C", "D", "G", "H", "M", "N", "O")
TABLE = "full_df.csv"
HEADER = ("ID,Patient Age,Patient Sex,Left-Fundus,Right-Fundus,Left-Diagnostic Keywords,"
          "Right-Diagnostic Keywords,N,D,G,C,A,H,M,O,filepath,labels,target,filename")
IMAGES = "preprocessed_images"


def _single_label(text: str, filename: str, path: Path) -> str:
    try:
        labels = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError) as error:
        raise DataError(f"{path}: row {filename!r} has labels {text!r}; expected a list "
                        f"string such as ['N']") from error
    if not isinstance(labels, list | tuple) or len(labels) != 1:
        what = "no label" if not labels else "several labels"
        raise DataError(f"{path}: row {filename!r} has {what} ({text!r}); each eye needs "
                        f"exactly one label such as ['N']")
    return str(labels[0]).strip()


def read_index(root: Path):
    """The ODIR-5K index, one row per eye image."""
    require_dir(SOURCE, root, root)
    path = require_file(SOURCE, root / TABLE, root)
    table = read_csv(path, ("ID", "labels", "filename"), HEADER)
    duplicates_error(path, table["filename"])
    classes = [_single_label(t, f, path) for t, f in zip(table["labels"], table["filename"],
                                                          strict=True)]
    images = require_dir(SOURCE, root / IMAGES, root)
    paths = locate(table["filename"], files_by_name([images]), str(images))
    return make_index(paths, classes, CLASS_NAMES, table["ID"].str.strip().tolist())


SOURCE = Source(
    name="odir5k",
    summary="ODIR-5K fundus photographs, 8 classes, 6,392 eye images",
    read_index=read_index,
    class_names=CLASS_NAMES,
    kaggle="andrewmvd/ocular-disease-recognition-odir5k",
    layout=f"{TABLE} and {IMAGES}/",
    paper_id="odir5k",
)
