"""Images with masks: the sources of notebook 07, their checks, splits and cache.

==============  =================================================================================
source          layout
==============  =================================================================================
digits_seg      embedded, no download: canvases composed from scikit-learn's handwritten digits
                (:func:`digit_canvases`); the cpu profile's default
seg_folder      ``<root>/images/<stem>.<ext>`` with ``<root>/masks/<stem><mask_suffix>.<ext>``:
                BUS Dataset B, Kvasir-SEG, ISIC 2018 task 1 and most public sets
ham10000_seg    HAM10000 in the Kaggle layout the LMF paper cites: ``images/<id>.jpg``,
                ``masks/<id>_segmentation.png`` (lesion masks), ``GroundTruth.csv``; lesion ids
                from ``HAM10000_metadata.csv`` when present group the images of one lesion
covid19_seg     COVID-19 Radiography: ``<class>/images/<name>.png`` with the lung mask
                ``<class>/masks/<name>.png``; the release stores 299 px images and 256 px masks,
                so both are resized to ``size`` and their sizes are not compared
==============  =================================================================================

Masks are binary (values {0, 255} or {0, 1}: background and foreground) or label images (values
0 … K − 1 with ``class_names`` of K names); anything else, a missing mask, a mask of another size
than its image or an RGB mask with unequal channels is a :class:`~lmf.core.errors.DataError` naming
the file. Images are resized to ``size`` bilinearly, masks by nearest neighbour. Decoded arrays
are cached under ``lmf.core.paths.data_dir()/cache/seg-…`` keyed by source, options, size and the
data's fingerprint (relative ids and file sizes), so moving the data keeps the cache and the run
ids, and changing a file builds a new one.

Splits: ``paper`` is the project's stratified 70:15:15 rule (``lmf.data.splits.paper_split``)
on each image's rarest foreground class; ``cv`` is Cui et al.'s 5-fold cross-validation with
scikit-learn's ``StratifiedGroupKFold`` (shuffled, folds grouped by lesion where the data has
groups): fold ``k`` is the test part, fold ``k + 1`` (mod 5) the validation part, the other
three train.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold

from lmf.core.atomic import write_bytes
from lmf.core.errors import ConfigError, DataError, unknown_choice
from lmf.core.paths import data_dir
from lmf.core.validation import check_integer, check_number
from lmf.data.cache import cache_key
from lmf.data.content import file_digests
from lmf.data.decode import load_image
from lmf.data.registry import read_index
from lmf.data.sources.base import image_files

SEG_SOURCES = ("digits_seg", "seg_folder", "ham10000_seg", "covid19_seg")
SEG_SPLITS = ("paper", "cv")
CV_FOLDS = 5
BINARY_CLASSES = ("background", "foreground")
#: digits_seg: the digits whose strokes are the foreground classes, and the stroke threshold on
#: scikit-learn's 0–16 pixel values.
TARGET_DIGITS = {"zero": 0, "one": 1, "two": 2}
STROKE_THRESHOLD = 6
#: Options of each source and their defaults.
OPTIONS = {
    "digits_seg": {"n_images": 240, "imbalance": 10.0, "seed": 0},
    "seg_folder": {"mask_suffix": "", "class_names": None},
    "ham10000_seg": {},
    "covid19_seg": {"classes": None},
}
#: Where a source lives under ``lmf.core.paths.data_dir()`` when no root is given.
DEFAULT_FOLDERS = {"ham10000_seg": "ham10000", "covid19_seg": "covid19"}


@dataclass(frozen=True)
class SegData:
    """Images (uint8 N×H×W×3), masks (uint8 N×H×W, 0 = background), relative ``ids``, the K
    ``class_names`` (index 0 the background) and the ``groups`` (lesion or patient; the id where
    the data has none)."""

    images: np.ndarray
    masks: np.ndarray
    ids: tuple[str, ...]
    class_names: tuple[str, ...]
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def part(self, split: np.ndarray, name: str) -> SegData:
        """The samples whose ``split`` entry is ``name``."""
        rows = np.flatnonzero(np.asarray(split) == name)
        return SegData(self.images[rows], self.masks[rows], tuple(self.ids[i] for i in rows),
                       self.class_names, self.groups[rows])


# ------------------------------------------------------------------------------------ options


def check_seg_dataset(name: str, params: dict) -> None:
    """A ConfigError for an unknown source or an unknown or invalid option."""
    seg_dataset_options(name, params)


def seg_dataset_options(name: str, params: dict) -> dict:
    """``params`` checked and completed with the source's defaults."""
    if name not in OPTIONS:
        raise unknown_choice("segmentation dataset", name, SEG_SOURCES)
    unknown = sorted(set(params) - set(OPTIONS[name]))
    if unknown:
        raise ConfigError(f"{name}: unknown option(s) {', '.join(unknown)}; valid: "
                          f"{', '.join(OPTIONS[name]) or 'none'}")
    options = {**OPTIONS[name], **params}
    if name == "digits_seg":
        options["n_images"] = check_integer("n_images", options["n_images"], low=10)
        options["imbalance"] = check_number("imbalance", options["imbalance"], low=1.0)
        options["seed"] = check_integer("seed", options["seed"], low=0)
    for key in ("class_names", "classes"):
        if options.get(key) is not None:
            options[key] = [str(v) for v in options[key]]
    return options


def _root(name: str, root) -> Path | None:
    if name == "digits_seg":
        if root is not None:
            raise ConfigError("digits_seg is composed from scikit-learn's digits and takes no "
                              "root folder")
        return None
    if root is None:
        if name not in DEFAULT_FOLDERS:
            raise ConfigError(f"{name} needs the folder of the images and masks (root=...)")
        root = data_dir() / DEFAULT_FOLDERS[name]
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        download = (f"`lmf data download {DEFAULT_FOLDERS[name]}` fetches it; "
                    if name in DEFAULT_FOLDERS else "")
        raise DataError(f"{name}: no folder {root}. {download}put the dataset there (data/README.md "
                        "gives the source and its layout) or pass its folder as the root")
    return root


# ------------------------------------------------------------------------------------ loading


def load_seg_data(name: str, root=None, *, size: int, **params) -> SegData:
    """The images and masks of source ``name`` at ``size`` × ``size`` (see the module docstring)."""
    options = seg_dataset_options(name, params)
    folder = _root(name, root)
    size = check_integer("size", size, low=8)
    if folder is None:
        return _digits(size, options["n_images"], options["imbalance"], options["seed"])
    return _load_files(name, str(folder), size, json.dumps(options, sort_keys=True))


def seg_fingerprint(name: str, root=None, *, size: int, **params) -> str:
    """A digest of what the data is (never where it lives): source, options, and each sample's
    relative id with the sha256 of its image and mask files (``lmf.data.content``; for
    ``digits_seg``, of the arrays)."""
    options = seg_dataset_options(name, params)
    folder = _root(name, root)
    if folder is None:
        data = _digits(size, options["n_images"], options["imbalance"], options["seed"])
        return cache_key(name, options, hashlib.sha256(data.masks.tobytes()).hexdigest(),
                         hashlib.sha256(data.images.tobytes()).hexdigest())
    return _file_fingerprint(name, str(folder), json.dumps(options, sort_keys=True))


@functools.lru_cache(maxsize=32)
def _file_fingerprint(name: str, folder: str, options: str) -> str:
    samples, class_names = _samples(name, Path(folder), json.loads(options))
    images = file_digests([image for _, image, _, _ in samples])
    masks = file_digests([mask for _, _, mask, _ in samples])
    return cache_key(name, json.loads(options), class_names,
                     [(sample_id, image, mask) for (sample_id, *_), image, mask
                      in zip(samples, images, masks, strict=True)])


def _load_files(name: str, folder: str, size: int, options: str) -> SegData:
    """Decoded arrays of an on-disk source, from its cache when it has one."""
    fingerprint = _file_fingerprint(name, folder, options)
    cache = data_dir() / "cache" / f"seg-{name}-{size}px-{fingerprint[:16]}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            return SegData(stored["images"], stored["masks"], tuple(stored["ids"].tolist()),
                           tuple(stored["class_names"].tolist()), stored["groups"])
    samples, class_names = _samples(name, Path(folder), json.loads(options))
    images = np.stack([_read_image(image, size) for _, image, _, _ in samples])
    masks = np.stack([_read_mask(mask, image, size, len(class_names), name != "covid19_seg")
                      for _, image, mask, _ in samples])
    data = SegData(images, masks, tuple(s[0] for s in samples), tuple(class_names),
                   np.asarray([s[3] for s in samples], dtype=str))
    buffer = io.BytesIO()
    np.savez(buffer, images=data.images, masks=data.masks, ids=np.asarray(data.ids, dtype=str),
             class_names=np.asarray(class_names, dtype=str), groups=data.groups)
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(cache, buffer.getvalue())
    return data


def _samples(name: str, root: Path, options: dict) -> tuple[list[tuple], list[str]]:
    """(relative id, image path, mask path, group) per sample, and the class names."""
    if name == "seg_folder":
        return _folder_samples(root, options["mask_suffix"]), list(
            options["class_names"] or BINARY_CLASSES)
    if name == "ham10000_seg":
        index = read_index("ham10000", root)
        masks = [root / "masks" / f"{Path(p).stem}_segmentation.png" for p in index["path"]]
        classes = ["background", "lesion"]
    else:
        index = read_index("covid19", root)
        if options["classes"] is not None:
            index = index[index["class_name"].isin(options["classes"])]
        masks = [Path(str(p).replace("/images/", "/masks/")) for p in index["path"]]
        classes = ["background", "lung"]
    samples = [(Path(p).relative_to(root).as_posix(), Path(p), mask, str(group))
               for p, mask, group in zip(index["path"], masks, index["group"], strict=True)]
    if not samples:
        raise DataError(f"{name}: no images under {root}")
    return samples, classes


def _folder_samples(root: Path, suffix: str) -> list[tuple]:
    images_dir, masks_dir = root / "images", root / "masks"
    for folder in (images_dir, masks_dir):
        if not folder.is_dir():
            raise DataError(f"seg_folder: no folder {folder}; the layout is <root>/images/ and "
                            "<root>/masks/ with the same file stems")
    masks = {p.stem: p for p in image_files(masks_dir)}
    samples = []
    for image in image_files(images_dir):
        mask = masks.get(f"{image.stem}{suffix}")
        if mask is None:
            raise DataError(f"seg_folder: no mask for {image} (expected "
                            f"{masks_dir / (image.stem + suffix)}.<png|jpg|...>)")
        samples.append((image.relative_to(root).as_posix(), image, mask, image.stem))
    if not samples:
        raise DataError(f"seg_folder: no images in {images_dir}")
    return samples


def _read_image(path: Path, size: int) -> np.ndarray:
    try:
        return load_image(path, size)
    except OSError as error:
        raise DataError(f"cannot read image {path} ({error})") from error


def _read_mask(path: Path, image: Path, size: int, num_classes: int,
               same_size: bool) -> np.ndarray:
    """The mask at ``path`` as labels 0 … K − 1 at ``size`` (nearest neighbour), checked."""
    if not path.is_file():
        raise DataError(f"no mask {path} for image {image}")
    try:
        with Image.open(path) as mask_file:
            mask = np.asarray(mask_file)
            mask_size = mask_file.size
        if same_size:
            with Image.open(image) as image_file:
                image_size = image_file.size
    except OSError as error:
        raise DataError(f"cannot read mask {path} ({error})") from error
    if same_size and mask_size != image_size:
        raise DataError(f"mask {path} is {mask_size[0]}×{mask_size[1]} px but its image {image} "
                        f"is {image_size[0]}×{image_size[1]}")
    if mask.ndim == 3:
        if not (mask[..., :3] == mask[..., :1]).all():
            raise DataError(f"mask {path} is a colour image; masks must be grey or label images")
        mask = mask[..., 0]
    values = set(np.unique(mask).tolist())
    if values <= {0, 255} or (values <= {0, 1} and num_classes == 2):
        labels = (mask > 0).astype(np.uint8)
    elif max(values) < num_classes:
        labels = mask.astype(np.uint8)
    else:
        raise DataError(f"mask {path} holds the values {sorted(values)[:8]}: neither binary "
                        f"({{0, 255}} or {{0, 1}}) nor labels below {num_classes} classes")
    return np.asarray(Image.fromarray(labels).resize((size, size), Image.NEAREST))


# ----------------------------------------------------------------------------------- digits


@functools.lru_cache(maxsize=8)
def _digits(size: int, n_images: int, imbalance: float, seed: int) -> SegData:
    images, masks, labels = digit_canvases(n_images, imbalance, seed)
    if size != images.shape[1]:
        images = np.stack([np.asarray(Image.fromarray(i).resize((size, size), Image.BILINEAR))
                           for i in images])
        masks = np.stack([np.asarray(Image.fromarray(m).resize((size, size), Image.NEAREST))
                          for m in masks])
    ids = tuple(f"canvas/{n}" for n in range(n_images))
    return SegData(images, masks, ids, ("background", *TARGET_DIGITS),
                   np.asarray(ids, dtype=str))


def digit_canvases(n_images: int, imbalance: float = 10.0, seed: int = 0):
    r"""32×32 canvases of real handwriting: scikit-learn's digits (8×8 scans, 0–16), enlarged
    2× and placed in three of the four 16×16 quadrants: one *target* digit (0, 1 or 2, its strokes
    — values above ``STROKE_THRESHOLD`` — labelled 1, 2, 3) and two *distractors* (digits 3–9,
    their strokes background). The target classes come in proportions
    :math:`\propto \rho^{-c/2}` for c = 0, 1, 2 and ρ = ``imbalance``, so the foreground classes
    are long-tailed in images and in pixels; about 10 % of a canvas is foreground. Every scanned
    digit is used at most once (``n_images`` is capped by the 177 scans of the rarest target
    digit). Returns images (N×32×32×3 uint8), masks (N×32×32 uint8) and the target digits.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    rng = np.random.default_rng(seed)
    pools = {d: list(rng.permutation(np.flatnonzero(bunch.target == d))) for d in range(10)}
    weights = imbalance ** (-np.arange(len(TARGET_DIGITS)) / 2)
    need = np.round(n_images * weights / weights.sum()).astype(int)
    need[0] = n_images - need[1:].sum()
    targets = rng.permutation(np.repeat(np.arange(len(TARGET_DIGITS)), need))
    if any(need[d] > len(pools[d]) for d in range(len(TARGET_DIGITS))) or 2 * n_images > sum(
            len(pools[d]) for d in range(3, 10)):
        raise ConfigError(f"digits_seg: {n_images} canvases need more scans of a digit than "
                          "scikit-learn has; use fewer images (n_images)")
    distractors = [d for d in range(3, 10) for _ in pools[d]]
    distractor_order = [int(i) for i in rng.permutation(len(distractors))]
    images = np.zeros((n_images, 32, 32), dtype=np.uint8)
    masks = np.zeros((n_images, 32, 32), dtype=np.uint8)
    for n, target in enumerate(targets):
        digits = [(int(target), True)]
        for _ in range(2):
            digits.append((distractors[distractor_order.pop()], False))
        for (digit, is_target), quadrant in zip(digits, rng.permutation(4)[:3], strict=True):
            scan = bunch.images[pools[digit].pop()]
            big = np.kron(scan, np.ones((2, 2)))
            top, left = 16 * (quadrant // 2), 16 * (quadrant % 2)
            images[n, top:top + 16, left:left + 16] = np.round(big * 255 / 16).astype(np.uint8)
            if is_target:
                masks[n, top:top + 16, left:left + 16] = np.where(
                    big > STROKE_THRESHOLD, digit + 1, 0)
    return np.repeat(images[..., None], 3, axis=-1), masks, targets


# ------------------------------------------------------------------------------------ splits


def seg_split(data: SegData, split: str = "paper", fold: int = 0, seed: int = 0) -> np.ndarray:
    """``"train"`` / ``"val"`` / ``"test"`` per sample (see the module docstring)."""
    if split not in SEG_SPLITS:
        raise unknown_choice("segmentation split", split, SEG_SPLITS)
    labels = rarest_class_present(data.masks, len(data.class_names))
    if split == "paper":
        from lmf.data.splits import paper_split

        return paper_split(labels, seed)
    fold = check_integer("fold", fold, low=0)
    if fold >= CV_FOLDS:
        raise ConfigError(f"fold must be 0 … {CV_FOLDS - 1} for {CV_FOLDS}-fold "
                          f"cross-validation, got {fold}")
    folds = np.empty(len(data), dtype=np.int64)
    splitter = StratifiedGroupKFold(CV_FOLDS, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(data)), labels, data.groups)):
        folds[test] = k
    return np.where(folds == fold, "test",
                    np.where(folds == (fold + 1) % CV_FOLDS, "val", "train")).astype("<U5")


def rarest_class_present(masks: np.ndarray, num_classes: int) -> np.ndarray:
    """Per image, the foreground class with the fewest pixels over all masks among those it
    contains (0 for an image without foreground): the label the splits stratify by."""
    present = np.stack([(masks == c).reshape(len(masks), -1).any(axis=1)
                        for c in range(num_classes)], axis=1)
    totals = np.bincount(masks.ravel(), minlength=num_classes)
    order = [c for c in np.argsort(totals, kind="stable") if c != 0]
    labels = np.zeros(len(masks), dtype=np.int64)
    for c in reversed(order):  # the rarest class written last wins
        labels[present[:, c]] = c
    return labels
