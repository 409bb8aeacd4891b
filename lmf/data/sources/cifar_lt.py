"""``cifar10_lt`` and ``cifar100_lt``: long-tailed CIFAR exactly as Cao et al. 2019 build it.

The protocol of LDAM-DRW (kaidic/LDAM-DRW, ``imbalance_cifar.py``), reused by most later
long-tail work. From the K classes of the CIFAR training set (n = 5,000 images per class for
CIFAR-10, 500 for CIFAR-100), class i keeps

    exp:   n_i = int(n_max · ρ^(−i/(K−1)))
    step:  n_i = n_max for the first K/2 classes, int(n_max / ρ) for the others

with ``n_max = int(N / K)`` and ρ the imbalance ratio (``imbalance``; the reference's
``imb_factor`` is 1/ρ). The images of each class are those the reference keeps: NumPy's global
generator seeded with 0 (``np.random.seed(rand_number)``, rand_number = 0), then, class by class
in label order, the positions of the class in the training set shuffled with
``np.random.shuffle`` and the first ``n_i`` kept. The same stream comes from
``np.random.RandomState(0)`` here, which leaves the global generator alone. ρ = 100 on CIFAR-10
gives 5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50 images (12,406). The test set is
CIFAR's balanced 10,000 images.

Model selection: the reference picks the epoch of the best *test* accuracy; ``RunConfig(selection
="test")`` does the same, for the published comparison only. The honest alternative holds
``val_per_class`` images of every class out of the long-tailed subset (the last ones of its
shuffled selection, so the remaining training images are the reference's first ``n_i −
val_per_class``) as a balanced validation split, with the default ``selection="val"``. With
``val_per_class=0`` (the default, the reference's subset) the val split is empty.

Files: torchvision's own format, ``<root>/cifar-10-batches-py/`` (``data_batch_1`` …
``data_batch_5``, ``test_batch``, ``batches.meta``) and ``<root>/cifar-100-python/`` (``train``,
``test``, ``meta``), the folders ``torchvision.datasets.CIFAR10/100(root, download=True)`` unpack.
They are read as torchvision reads them (its file lists, ``pickle`` with latin-1, rows of
3×32×32 bytes) but without its MD5 check, so the tests' random stand-in files can be read. The
default root is ``lmf.core.paths.data_dir()/cifar``; ``lmf data download cifar10_lt`` calls
torchvision's download where the network allows.

Sample ids are ``cifar10/train/<position>`` and ``cifar10/test/<position>`` (position in
torchvision's ``data`` array), so a run's data fingerprint does not depend on the root.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lmf.core.errors import ConfigError, DataError
from lmf.core.paths import data_dir
from lmf.core.validation import check_choice, check_integer, check_number
from lmf.data.sources.base import Source, make_index

PROFILES = ("exp", "step")
#: Both sets live under ``lmf.core.paths.data_dir()/cifar`` unless a root is given.
DEFAULT_FOLDER = "cifar"
#: The reference's seed of the subset (``--rand_number``, default 0).
SUBSET_SEED = 0


@dataclass(frozen=True)
class Cifar:
    """One CIFAR set as torchvision lays it out (``torchvision.datasets.CIFAR10/100``, imported
    on first use so that listing datasets does not import torch)."""

    name: str
    class_name: str
    folder: str  # torchvision's ``base_folder`` of the class (a test checks they agree)

    @property
    def dataset(self) -> type:
        import torchvision

        return getattr(torchvision.datasets, self.class_name)

    def files(self, part: str) -> list[str]:
        return [name for name, _ in getattr(self.dataset, f"{part}_list")]


CIFAR = {"cifar10": Cifar("cifar10", "CIFAR10", "cifar-10-batches-py"),
         "cifar100": Cifar("cifar100", "CIFAR100", "cifar-100-python")}


def long_tail_counts(n_max: int, num_classes: int, imbalance: float,
                     profile: str = "exp") -> list[int]:
    """Images per class of the long-tailed subset (``get_img_num_per_cls`` of the reference).

    ``exp``: ``int(n_max · (1/ρ)^(i/(K−1)))``; ``step``: ``n_max`` for the first ``K // 2``
    classes and ``int(n_max · (1/ρ))`` for the next ``K // 2``, computed with ``1/ρ`` as the
    reference does (its ``imb_factor``), so the floats, and the counts, are the same.
    """
    factor = 1.0 / imbalance
    if profile == "exp":
        return [int(n_max * factor ** (i / (num_classes - 1.0))) for i in range(num_classes)]
    half = num_classes // 2
    return [int(n_max)] * half + [int(n_max * factor)] * half


def long_tail_selection(labels: np.ndarray, counts: list[int],
                        seed: int = SUBSET_SEED) -> np.ndarray:
    """Positions of the long-tailed subset in the training set, class by class in label order.

    For each class: its positions, shuffled by one shared ``RandomState(seed)`` (the stream of
    the reference's ``np.random.seed(seed)`` + ``np.random.shuffle``), the first ``n_i`` kept.
    """
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.RandomState(seed)
    chosen = []
    for the_class, number in zip(np.unique(labels), counts, strict=False):
        positions = np.where(labels == the_class)[0]
        rng.shuffle(positions)
        chosen.append(positions[:number])
    return np.concatenate(chosen)


def _unpickle(file: Path) -> dict:
    try:
        with open(file, "rb") as handle:
            return pickle.load(handle, encoding="latin1")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as error:
        raise DataError(f"{file} is not a readable CIFAR batch ({error}); download it again "
                        f"(`lmf data download`)") from error


@lru_cache(maxsize=4)
def _arrays(cifar: Cifar, folder: Path) -> dict:
    """``train``/``test`` images (uint8 N×32×32×3) and labels, and the class names."""
    out = {}
    for part in ("train", "test"):
        entries = [_unpickle(folder / name) for name in cifar.files(part)]
        try:
            data = np.vstack([e["data"] for e in entries]).reshape(-1, 3, 32, 32)
            labels = np.concatenate([e["labels"] if "labels" in e else e["fine_labels"]
                                     for e in entries]).astype(np.int64)
        except (KeyError, ValueError) as error:
            raise DataError(f"{folder}: the {part} batches lack the 'data' or labels of "
                            f"torchvision's CIFAR format ({error}); download them again") from error
        out[part] = (np.ascontiguousarray(data.transpose(0, 2, 3, 1), dtype=np.uint8), labels)
    meta = cifar.dataset.meta
    try:
        names = list(_unpickle(folder / meta["filename"])[meta["key"]])
    except KeyError as error:
        raise DataError(f"{folder / meta['filename']} lacks {meta['key']!r}; download the "
                        f"data again") from error
    out["class_names"] = names
    return out


def _class_names(names: list[str]) -> tuple[str, ...]:
    """CIFAR's names when they sort in label order (they do), else ``"<label> <name>"``, so that
    a class's position among the sorted names is its label."""
    if names == sorted(names):
        return tuple(names)
    width = len(str(len(names) - 1))
    return tuple(f"{i:0{width}d} {name}" for i, name in enumerate(names))


#: source name -> the folder its last ``read_index`` read, for ``load_images``.
_FOLDERS: dict[str, Path] = {}


def make_source(cifar: Cifar) -> Source:
    """The long-tailed Source of ``cifar``."""
    name = f"{cifar.name}_lt"

    def folder_of(root) -> Path:
        folder = Path(root if root is not None else data_dir() / DEFAULT_FOLDER).expanduser() / cifar.folder
        missing = [f for f in (*cifar.files("train"), *cifar.files("test"),
                               cifar.dataset.meta["filename"]) if not (folder / f).is_file()]
        if missing:
            raise DataError(f"{name}: {', '.join(missing)} not found in {folder}; "
                            f"{how_to_get(folder.parent)}")
        return folder.resolve()

    def read_index(root=None, *, imbalance: float = 100.0, profile: str = "exp",
                   val_per_class: int = 0) -> pd.DataFrame:
        """The long-tailed training subset (+ held-out val) and the balanced test set."""
        imbalance = check_number(f"{name} imbalance", imbalance, low=1.0)
        check_choice(f"{name} profile", profile, PROFILES)
        val_per_class = check_integer(f"{name} val_per_class", val_per_class, low=0)
        folder = folder_of(root)
        arrays = _arrays(cifar, folder)
        _FOLDERS[name] = folder
        images, labels = arrays["train"]
        num_classes = len(arrays["class_names"])
        counts = long_tail_counts(len(images) // num_classes, num_classes, imbalance, profile)
        if val_per_class and val_per_class >= min(counts):
            raise ConfigError(f"{name}: val_per_class must be below the smallest class of the "
                              f"subset ({min(counts)} images at ρ = {imbalance:g}), got "
                              f"{val_per_class}")
        chosen = long_tail_selection(labels, counts)
        ends = np.cumsum(counts)
        held_out = np.zeros(len(chosen), dtype=bool)
        for end in ends:
            held_out[end - val_per_class:end] = True
        names = _class_names(arrays["class_names"])
        test_labels = arrays["test"][1]
        paths = ([f"{cifar.name}/train/{p:05d}" for p in chosen]
                 + [f"{cifar.name}/test/{p:05d}" for p in range(len(test_labels))])
        classes = [names[c] for c in np.concatenate([labels[chosen], test_labels])]
        split = np.where(held_out, "val", "train").tolist() + ["test"] * len(test_labels)
        return make_index(paths, classes, names, split=split)

    def load_images(index: pd.DataFrame, size: int) -> np.ndarray:
        if name not in _FOLDERS:
            raise DataError(f"{name}: read the index (lmf.data.read_index) before its images")
        arrays = _arrays(cifar, _FOLDERS[name])
        out = np.empty((len(index), size, size, 3), dtype=np.uint8)
        for i, sample in enumerate(index["path"]):
            _, part, position = sample.split("/")
            pixels = arrays[part][0][int(position)]
            if size != pixels.shape[0]:
                pixels = np.asarray(Image.fromarray(pixels).resize((size, size), Image.BILINEAR))
            out[i] = pixels
        return out

    def how_to_get(root: Path) -> str:
        return (f"run `lmf data download {name} --root {root}` where the network allows, or "
                f"download {cifar.dataset.url} and unpack it into {root} (it must then hold "
                f"{cifar.folder}/)")

    def fetch(root: Path) -> Path:
        try:
            cifar.dataset(str(root), train=True, download=True)
        except Exception as error:  # noqa: BLE001 - any network or disk failure means the same
            raise DataError(f"{name}: torchvision could not download CIFAR ({error}); "
                            f"{how_to_get(root)}") from error
        return root / cifar.folder

    return Source(
        name=name,
        summary=f"long-tailed {cifar.name.upper()} (Cao et al. 2019), torchvision's files",
        read_index=read_index,
        on_disk=False,
        presplit=True,
        load_images=load_images,
        layout=f"{cifar.folder}/ as torchvision unpacks it",
        fetch=fetch,
        default_folder=DEFAULT_FOLDER,
    )


SOURCES = {f"{key}_lt": make_source(cifar) for key, cifar in CIFAR.items()}
