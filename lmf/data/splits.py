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

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from lmf.core.errors import ConfigError

PARTS = ("train", "val", "test")
#: group_split cuts the data into this many stratified group folds: 3 for val, 3 for test
#: (fewer folds when a class has fewer groups, see ``group_fold_count``).
GROUP_FOLDS = 20
#: The fewest folds with a val and a test fold (``held_out_count(4) == 1``), and so the fewest
#: groups a class needs in ``group_split``.
MIN_GROUP_FOLDS = 4


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

    The rule holds for every class size: ``train = n − 2·round(0.15·n) ≥ 1``, so every class keeps
    a training image. A class of 1-3 images has ``round(0.15·n) = 0`` and stays wholly in train
    (it is trained on but has no val or test image); from 4 images on it has one of each.

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


def group_fold_count(labels, groups) -> int:
    """The number of folds ``group_split`` cuts: ``GROUP_FOLDS``, or fewer for small classes.

    A class of ``g`` groups can reach at most ``g`` folds, so the fold count is
    ``min(GROUP_FOLDS, fewest groups of any class)``. Then every class has a group in every
    fold, and so in every part: ``StratifiedGroupKFold`` puts a one-class group into the fold
    with the fewest images of its class (groups of mixed labels are placed by all their labels,
    so there this holds only approximately). A class with fewer than ``MIN_GROUP_FOLDS`` groups
    leaves no val or test fold and raises ``ConfigError`` naming it.
    """
    labels = _as_labels(labels)
    groups = np.asarray(groups)
    if groups.shape != labels.shape:
        raise ConfigError("labels and groups must have the same length")
    values = np.unique(labels)
    group_counts = [len(np.unique(groups[labels == value])) for value in values]
    small = [f"{value} (groups: {count}, images: {int((labels == value).sum())})"
             for value, count in zip(values, group_counts, strict=True)
             if count < MIN_GROUP_FOLDS]
    if small:
        raise ConfigError(
            f"the group split needs at least {MIN_GROUP_FOLDS} groups (patients, lesions) in "
            f"every class, one each for val and test and two for train; too few in class "
            f"{'; '.join(small)}. Use the per-image split (split='paper'), merge or drop these "
            f"classes, or add data")
    return min(GROUP_FOLDS, min(group_counts))


def group_split(labels, groups, seed: int = 0) -> np.ndarray:
    """A 70:15:15 split that keeps every group (lesion, patient) inside one part.

    scikit-learn's ``StratifiedGroupKFold`` cuts the data into ``k = group_fold_count(...)``
    group folds whose class mixes are as close as its greedy search can make them; a seeded
    permutation of the folds gives the first ``held_out_count(k)`` to val, the next as many to
    test and the rest to train. On real data every class has at least 20 groups, so ``k = 20``
    and the parts are 3, 3 and 14 folds: 15:15:70. A dataset whose smallest class has
    ``g < 20`` groups is cut into ``k = g`` folds, the paper's rounding applied to folds: val
    and test get ``round(0.15·g)`` folds each, 1 for g = 4-9 (1/4 to 1/9 of the data), 2 for
    10-16, 3 for 17-19; below 4 groups ``group_fold_count`` raises ``ConfigError``.

    Group sizes make the per-class proportions approximate, unlike ``paper_split`` which is
    exact: on HAM10000's class totals with lesions of 1-4 images every class landed within 2
    images of the paper's val/test counts (about 3 s for 10k images). A group is placed by its
    images' labels; groups with mixed labels (ODIR patients whose eyes differ) are kept whole
    as well.

    Returns:
        array of ``"train"`` / ``"val"`` / ``"test"``, aligned with ``labels``.
    """
    n_folds = group_fold_count(labels, groups)
    labels, groups = np.asarray(labels), np.asarray(groups)
    folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_members = [fold for _, fold in folds.split(np.zeros(len(labels)), labels, groups)]
    # Folds are taken in a seeded order so that val and test are not always the first folds.
    order = np.random.default_rng(seed).permutation(n_folds)
    held_out = held_out_count(n_folds)
    split = np.full(len(labels), "train", dtype="<U5")
    for rank, fold_number in enumerate(order[:2 * held_out]):
        split[fold_members[fold_number]] = "val" if rank < held_out else "test"
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
