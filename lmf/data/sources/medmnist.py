"""``medmnist:<flag>``: a MedMNIST v3 set (Yang et al. 2023), e.g. ``medmnist:dermamnist``.

MedMNIST ships each set as one ``.npz`` (keys ``train_images``, ``train_labels``, ``val_…``,
``test_…``) named ``<flag>.npz`` at 28 px and ``<flag>_<size>.npz`` at 64, 128 and 224 px. The
file is looked for in ``root`` (default ``lmf.core.paths.data_dir()/medmnist``, then the ``medmnist``
package's own ``~/.medmnist``); ``download=True`` (or ``lmf data download medmnist:<flag>``)
fetches it with the ``medmnist`` package (optional extra ``pip install -e .[medmnist]``, needs
internet). The split is MedMNIST's own. DermaMNIST is HAM10000 at low resolution.

Class names: DermaMNIST uses HAM10000's diagnosis codes (``akiec`` … ``vasc``, in label order);
other sets use the package's label names when they sort in label order, else
``"<zero-padded label> <name>"``; without the package, the zero-padded label numbers.
"""

from __future__ import annotations

import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lmf.core.errors import ConfigError, DataError
from lmf.core.paths import data_dir
from lmf.data.sources.base import Source, make_index

RESOLUTIONS = (28, 64, 128, 224)
PARTS = ("train", "val", "test")
#: DermaMNIST's labels 0..6 are HAM10000's dx codes in sorted order.
SHORT_NAMES = {"dermamnist": ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")}
#: (flag, resolution) -> the .npz read by the last read_index, for load_images.
_FILES: dict[tuple[str, int], Path] = {}


def _info(flag: str) -> dict | None:
    try:
        from medmnist import INFO
    except ImportError:
        return None
    if flag not in INFO:
        raise ConfigError(f"unknown MedMNIST flag {flag!r}; valid choices: "
                          f"{', '.join(sorted(INFO))}")
    return INFO[flag]


def file_name(flag: str, resolution: int) -> str:
    """MedMNIST's file name: ``<flag>.npz`` at 28 px, ``<flag>_<size>.npz`` otherwise."""
    return f"{flag}.npz" if resolution == 28 else f"{flag}_{resolution}.npz"


def _class_names(flag: str, num_classes: int) -> tuple[str, ...]:
    if flag in SHORT_NAMES:
        return SHORT_NAMES[flag]
    info = _info(flag)
    if info is None:
        return tuple(f"{i:0{len(str(num_classes - 1))}d}" for i in range(num_classes))
    names = [info["label"][str(i)] for i in range(len(info["label"]))]
    if names == sorted(names):
        return tuple(names)
    width = len(str(len(names) - 1))
    return tuple(f"{i:0{width}d} {name}" for i, name in enumerate(names))


def download(flag: str, resolution: int, root: Path) -> Path:
    """Fetch ``<flag>`` at ``resolution`` px into ``root`` with the medmnist package."""
    info = _info(flag)
    if info is None:
        raise DataError("downloading MedMNIST needs the medmnist package: "
                        "pip install -e '.[medmnist]' (or pip install medmnist)")
    import medmnist

    root.mkdir(parents=True, exist_ok=True)
    getattr(medmnist, info["python_class"])(split="train", download=True, root=str(root),
                                            size=resolution)
    return root / file_name(flag, resolution)


def _locate(flag: str, resolution: int, root, fetch: bool) -> Path:
    name = file_name(flag, resolution)
    candidates = [Path(root).expanduser()] if root is not None else [data_dir() / "medmnist"]
    if root is None and _info(flag) is not None:
        from medmnist.info import DEFAULT_ROOT

        candidates.append(Path(DEFAULT_ROOT))
    for folder in candidates:
        if (folder / name).is_file():
            return (folder / name).resolve()
    if fetch:
        return download(flag, resolution, candidates[0])
    raise DataError(f"medmnist:{flag}: {name} not found in {' or '.join(map(str, candidates))}; "
                    f"run `lmf data download medmnist:{flag} --size {resolution}` or pass "
                    f"download=True (needs internet and the medmnist package), or put the file "
                    f"there")


@lru_cache(maxsize=2)
def _arrays(file: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(file) as npz:
            missing = [f"{p}_{k}" for p in PARTS for k in ("images", "labels")
                       if f"{p}_{k}" not in npz.files]
            if missing:
                raise DataError(f"{file}: missing array(s) {', '.join(missing)}; expected a "
                                f"MedMNIST .npz with train/val/test _images and _labels")
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(f"{file}: not a readable .npz ({error}); download it again") from error


def make_source(flag: str) -> Source:
    """The Source of MedMNIST set ``flag``."""

    def read_index(root=None, *, resolution: int = 28, download: bool = False) -> pd.DataFrame:
        if resolution not in RESOLUTIONS:
            raise ConfigError(f"medmnist resolution must be one of {RESOLUTIONS}, "
                              f"got {resolution}")
        info = _info(flag)
        if info is not None and not info["task"].startswith(("multi-class", "binary", "ordinal")):
            raise ConfigError(f"medmnist:{flag} is a {info['task']} task; only single-label "
                              f"sets are supported")
        file = _locate(flag, resolution, root, download)
        arrays = _arrays(file)
        _FILES[(flag, resolution)] = file
        labels = {p: np.asarray(arrays[f"{p}_labels"]) for p in PARTS}
        if any(v.ndim > 1 and v.shape[1] > 1 for v in labels.values()):
            raise ConfigError(f"medmnist:{flag} is multi-label; only single-label sets are "
                              f"supported")
        labels = {p: v.reshape(-1).astype(np.int64) for p, v in labels.items()}
        num_classes = int(max(v.max() for v in labels.values())) + 1
        names = _class_names(flag, num_classes)
        paths, classes, split = [], [], []
        for part in PARTS:
            paths.extend(f"{flag}_{resolution}/{part}/{i:06d}" for i in range(len(labels[part])))
            classes.extend(names[label] for label in labels[part])
            split.extend([part] * len(labels[part]))
        return make_index(paths, classes, names, split=split)

    def load_images(index: pd.DataFrame, size: int) -> np.ndarray:
        out = np.empty((len(index), size, size, 3), dtype=np.uint8)
        for i, sample in enumerate(index["path"]):
            tag, part, position = sample.split("/")
            resolution = int(tag.rsplit("_", 1)[1])
            pixels = _arrays(_FILES[(flag, resolution)])[f"{part}_images"][int(position)]
            image = Image.fromarray(np.asarray(pixels, dtype=np.uint8))
            if image.size != (size, size):
                image = image.resize((size, size), Image.BILINEAR)
            out[i] = np.asarray(image.convert("RGB"))
        return out

    def params_for_size(size: int, params: dict) -> dict:
        """Read the smallest MedMNIST resolution at least ``size`` unless one is given."""
        params.setdefault("resolution", next((r for r in RESOLUTIONS if r >= size), 224))
        return params

    return Source(
        name=f"medmnist:{flag}",
        summary=f"MedMNIST {flag} (medmnist package)",
        read_index=read_index,
        on_disk=False,
        presplit=True,
        load_images=load_images,
        params_for_size=params_for_size,
        layout=f"{file_name(flag, 28)} (or {flag}_64/128/224.npz)",
    )


source = lru_cache(maxsize=None)(make_source)
