"""``digits_lt``: the embedded default, a long-tailed version of scikit-learn's bundled digits.

scikit-learn ships 1,797 handwritten digits (8×8, values 0..16, about 180 per class) inside the
package, so this source needs no network. Per class, ``val_per_class`` and ``test_per_class``
images are set aside first (balanced, so every class can be scored, as in the balanced test sets
of the long-tailed CIFAR protocol); the training portion is then made long-tailed with the
exponential profile of Cao et al. 2019 (LDAM-DRW, ``IMBALANCECIFAR``):

    n_i = floor(n_max · ρ^(−i/(K−1))),   i = 0 … K−1 (class i = digit i),

with ``n_max`` the smallest number of images any class has left after val/test (114) and ρ the
imbalance ratio ``imbalance``. The default ρ = 15 gives 114, 84, 62, 46, 34, 25, 18, 13, 10, 7
training images (413 in all): a handful in the rarest class, like DF in HAM10000. Everything is
drawn with ``numpy.random.default_rng(split_seed)``, so the data are fixed given the seed (the
seed of a training run does not change them, as the paper's split did not change between runs).

Images are scaled to 0..255, resized to ``size`` px (PIL bilinear) and repeated to 3 channels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from PIL import Image

from lmf.core.errors import ConfigError, DataError
from lmf.data.sources.base import Source, make_index

CLASS_NAMES = tuple(str(d) for d in range(10))
DEFAULT_IMBALANCE = 15.0


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def long_tail_counts(n_max: int, num_classes: int, imbalance: float) -> list[int]:
    """Cao et al.'s exponential profile ``floor(n_max · ρ^(−i/(K−1)))`` for ``i = 0 … K−1``."""
    return [int(n_max * imbalance ** (-i / (num_classes - 1))) for i in range(num_classes)]


def read_index(root=None, *, imbalance: float = DEFAULT_IMBALANCE, val_per_class: int = 30,
               test_per_class: int = 30, split_seed: int = 0) -> pd.DataFrame:
    """The index of digits-LT with its built-in ``split``; ``path`` is ``digits/<position>``."""
    if root is not None:
        raise ConfigError("digits_lt is embedded in scikit-learn and takes no root folder")
    if imbalance < 1:
        raise ConfigError(f"digits_lt: imbalance must be >= 1 (ratio of largest to smallest "
                          f"training class), got {imbalance}")
    _, targets = _digits()
    per_class = np.bincount(targets)
    n_max = int(per_class.min()) - val_per_class - test_per_class
    if val_per_class < 1 or test_per_class < 1 or n_max < 1:
        raise ConfigError(f"digits_lt: val_per_class and test_per_class must be >= 1 and leave "
                          f"training images (each class has at least {per_class.min()})")
    train_counts = long_tail_counts(n_max, len(CLASS_NAMES), imbalance)
    rng = np.random.default_rng(split_seed)
    rows, split = [], []
    for digit, n_train in enumerate(train_counts):
        members = rng.permutation(np.flatnonzero(targets == digit))
        parts = (("val", val_per_class), ("test", test_per_class), ("train", n_train))
        start = 0
        for name, count in parts:
            rows.extend(members[start:start + count])
            split.extend([name] * count)
            start += count
    rows = np.asarray(rows)
    paths = [f"digits/{r:04d}" for r in rows]
    return make_index(paths, [CLASS_NAMES[t] for t in targets[rows]], CLASS_NAMES, split=split)


def load_images(index: pd.DataFrame, size: int) -> np.ndarray:
    """uint8 images N×size×size×3 of the rows of ``index`` (values 0..16 scaled to 0..255)."""
    images, _ = _digits()
    try:
        positions = [int(p.split("/", 1)[1]) for p in index["path"]]
    except (IndexError, ValueError) as error:
        raise DataError(f"digits_lt: sample ids look like 'digits/0123' ({error})") from error
    out = np.empty((len(positions), size, size, 3), dtype=np.uint8)
    for i, position in enumerate(positions):
        pixels = np.rint(images[position] * (255.0 / 16.0)).astype(np.uint8)
        resized = Image.fromarray(pixels).resize((size, size), Image.BILINEAR)
        out[i] = np.asarray(resized)[:, :, None]
    return out


SOURCE = Source(
    name="digits_lt",
    summary="embedded default: scikit-learn digits, long-tailed train, balanced val/test",
    read_index=read_index,
    class_names=CLASS_NAMES,
    on_disk=False,
    presplit=True,
    load_images=load_images,
)
