"""Train/val/test splits: the paper's per-image rule, a group-aware option, and a leakage report.

The paper (Sadi et al., LMF paper, Table 1) gives split sizes but no rule, seed or file list. The
rule ``val_c = test_c = round(0.15 · n_c)``, ``train_c = n_c − 2·val_c`` per class c reproduces
every count of Table 1 and every training count of Table 5 from the public class totals
(``data/paper/split_counts.tsv``). Ties (``0.15·n`` ending in .5) are rounded half up, computed
in integers as ``(15·n + 50) // 100``; none of the 27 published classes has a tie, so Python's
``round`` (half to even) gives the same numbers there.

The paper splits per image, but HAM10000 has several images per lesion and ODIR two eyes per
patient, so near-duplicates land on both sides. ``group_split`` keeps every group inside one
split; ``split_leakage`` measures how much a given split leaks.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from lmf.errors import ConfigError

PARTS = ("train", "val", "test")
#: group_split cuts the data into this many stratified group folds: 3 for val, 3 for test.
GROUP_FOLDS = 20


def held_out_count(n: int) -> int:
    """Images of a class of size ``n`` that go to val (and as many to test): round-half-up 0.15·n."""
    return (15 * int(n) + 50) // 100


def _as_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ConfigError("labels must be a non-empty 1-D sequence")
    return labels


def paper_split(labels, seed: int = 0) -> np.ndarray:
    """The paper's stratified 70:15:15 split, per image.

    Per class (in sorted order) the images are shuffled with ``numpy.random.default_rng(seed)``;
    the first ``held_out_count(n)`` go to val, the next as many to test, the rest to train.

    Returns:
        array of ``"train"`` / ``"val"`` / ``"test"``, aligned with ``labels``.
    """
    labels = _as_labels(labels)
    rng = np.random.default_rng(seed)
    split = np.full(len(labels), "train", dtype="<U5")
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        k = held_out_count(len(members))
        split[members[:k]] = "val"
        split[members[k:2 * k]] = "test"
    return split


def group_split(labels, groups, seed: int = 0) -> np.ndarray:
    """A 70:15:15 split that keeps every group (lesion, patient) inside one part.

    scikit-learn's ``StratifiedGroupKFold`` cuts the data into 20 group folds whose class mixes
    are as close as its greedy search can make them; 3 folds (chosen with the seed) become val,
    3 test, 14 train. Group sizes make the per-class proportions approximate, unlike
    ``paper_split`` which is exact: on HAM10000's class totals with lesions of 1-4 images every
    class landed within 2 images of the paper's val/test counts (about 3 s for 10k images). A
    group is placed by its images' labels; groups with mixed labels (ODIR patients whose eyes
    differ) are kept whole as well.

    Returns:
        array of ``"train"`` / ``"val"`` / ``"test"``, aligned with ``labels``.
    """
    labels = _as_labels(labels)
    groups = np.asarray(groups)
    if groups.shape != labels.shape:
        raise ConfigError("labels and groups must have the same length")
    n_groups = len(np.unique(groups))
    if n_groups < GROUP_FOLDS:
        raise ConfigError(f"group_split needs at least {GROUP_FOLDS} groups, got {n_groups}")
    folds = StratifiedGroupKFold(n_splits=GROUP_FOLDS, shuffle=True, random_state=seed)
    split = np.full(len(labels), "train", dtype="<U5")
    # Folds are taken in a seeded order so that val and test are not always the first folds.
    order = np.random.default_rng(seed).permutation(GROUP_FOLDS)
    with warnings.catch_warnings():  # classes smaller than 20 still get spread as well as possible
        warnings.filterwarnings("ignore", message="The least populated class")
        fold_members = [fold for _, fold in folds.split(np.zeros(len(labels)), labels, groups)]
    for rank, fold_number in enumerate(order[:6]):
        split[fold_members[fold_number]] = "val" if rank < 3 else "test"
    return split


def split_leakage(groups, split) -> dict[str, int]:
    """How many groups a split spreads over more than one part.

    Returns:
        ``groups`` (number of groups), ``multi_image_groups`` (groups with more than one image),
        ``leaked_groups`` (groups in both train and test), ``leaked_test_images`` (test images
        whose group also has a training image), ``leaked_val_groups`` (groups in train and val).
    """
    groups = np.asarray(groups)
    split = np.asarray(split)
    if groups.shape != split.shape:
        raise ConfigError("groups and split must have the same length")
    in_part = {part: set(groups[split == part]) for part in PARTS}
    leaked = in_part["train"] & in_part["test"]
    _, sizes = np.unique(groups, return_counts=True)
    return {
        "groups": int(len(sizes)),
        "multi_image_groups": int((sizes > 1).sum()),
        "leaked_groups": len(leaked),
        "leaked_test_images": int(np.isin(groups[split == "test"], list(leaked)).sum()),
        "leaked_val_groups": len(in_part["train"] & in_part["val"]),
    }
