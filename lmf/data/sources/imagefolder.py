"""``imagefolder``: an already split tree ``train/ val/ test/``, each with one folder per class.

This is the format the authors' code reads (torchvision ``ImageFolder`` per part). Class names
are the folder names, sorted; every part must use the same class folders as ``train`` (a part may
lack a class). The split is the tree's own.
"""

from __future__ import annotations

from pathlib import Path

from lmf.core.errors import DataError
from lmf.data.sources.base import Source, image_files, make_index, require_dir

PARTS = ("train", "val", "test")


def read_index(root: Path):
    """The index of a ``train/ val/ test/`` class-folder tree, with its ``split``."""
    require_dir(SOURCE, root, root)
    for part in PARTS:
        require_dir(SOURCE, root / part, root)
    class_names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    if not class_names:
        raise DataError(f"imagefolder: no class folders in {root / 'train'}; "
                        f"{SOURCE.how_to_get(root)}")
    paths, classes, split = [], [], []
    for part in PARTS:
        folders = sorted(p.name for p in (root / part).iterdir() if p.is_dir())
        extra = sorted(set(folders) - set(class_names))
        if extra:
            raise DataError(f"imagefolder: {root / part} has class folder(s) {', '.join(extra)} "
                            f"that train/ lacks; every part must use train/'s classes")
        for class_name in folders:
            files = image_files(root / part / class_name)
            paths.extend(str(f) for f in files)
            classes.extend([class_name] * len(files))
            split.extend([part] * len(files))
    for part in PARTS:
        if part not in split:
            raise DataError(f"imagefolder: no images under {root / part}")
    return make_index(paths, classes, class_names, split=split)


SOURCE = Source(
    name="imagefolder",
    summary="your own already split tree: train/ val/ test/, one folder per class",
    read_index=read_index,
    presplit=True,
    layout="train/, val/ and test/, each with one folder of images per class",
)
