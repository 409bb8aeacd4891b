"""The paper's split rule against the published counts, the group split, the leakage report."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from lmf import paper
from lmf.data import group_split, paper_split, split_leakage
from lmf.data.splits import held_out_count
from lmf.errors import ConfigError


def test_held_out_count_rounds_half_up():
    for n in range(1, 3000):
        expected = int((Decimal(15 * n) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert held_out_count(n) == expected, n


@pytest.mark.parametrize("dataset", paper.PAPER_DATASETS)
def test_paper_split_reproduces_every_published_count(dataset):
    table = paper.split_counts().query("dataset == @dataset")
    labels = np.repeat(table["class"].to_numpy(), table["total"].to_numpy())
    split = paper_split(labels, seed=3)
    counts = pd.crosstab(labels, split)
    for row in table.itertuples():
        assert counts.loc[row._2, "train"] == row.train
        assert counts.loc[row._2, "val"] == row.val
        assert counts.loc[row._2, "test"] == row.test
    published = paper.table1().query("dataset == @dataset").iloc[0]
    assert (split == "train").sum() == published.train
    assert (split == "val").sum() == published.val
    assert (split == "test").sum() == published.test


def test_paper_split_is_deterministic_per_seed():
    labels = np.repeat(np.arange(4), [40, 25, 13, 7])
    assert np.array_equal(paper_split(labels, seed=1), paper_split(labels, seed=1))
    assert not np.array_equal(paper_split(labels, seed=1), paper_split(labels, seed=2))
    assert set(paper_split(labels, seed=1)) == {"train", "val", "test"}


def test_paper_split_rejects_empty_labels():
    with pytest.raises(ConfigError):
        paper_split([])


def _lesions(seed=0, n_groups=900):
    """HAM-like data: lesions of 1-4 images, one class per lesion, skewed class sizes."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 1, 1, 2, 2, 3, 4], n_groups)
    classes = rng.choice(5, n_groups, p=[0.6, 0.2, 0.1, 0.06, 0.04])
    groups = np.repeat(np.arange(n_groups), sizes)
    labels = np.repeat(classes, sizes)
    return labels, groups


def test_group_split_keeps_groups_whole_and_approximates_the_proportions():
    labels, groups = _lesions()
    split = group_split(labels, groups, seed=0)
    parts_per_group = pd.Series(split).groupby(groups).nunique()
    assert (parts_per_group == 1).all()
    for value in np.unique(labels):
        n = (labels == value).sum()
        for part in ("val", "test"):
            share = ((labels == value) & (split == part)).sum() / n
            assert abs(share - 0.15) < 0.06, (value, part, share)
    assert abs((split == "train").mean() - 0.70) < 0.03


def test_group_split_is_deterministic_per_seed():
    labels, groups = _lesions()
    assert np.array_equal(group_split(labels, groups, seed=4), group_split(labels, groups, seed=4))
    assert not np.array_equal(group_split(labels, groups, seed=4),
                              group_split(labels, groups, seed=5))


def test_group_split_needs_enough_groups():
    with pytest.raises(ConfigError, match="at least"):
        group_split([0, 1] * 5, [0, 1] * 5)


def test_split_leakage_counts_by_hand():
    groups = np.array(["a", "a", "b", "b", "c", "d", "d", "e"])
    split = np.array(["train", "test", "train", "val", "test", "test", "test", "train"])
    assert split_leakage(groups, split) == {
        "groups": 5, "multi_image_groups": 3, "leaked_groups": 1, "leaked_test_images": 1,
        "leaked_val_groups": 1,
    }


def test_per_image_split_leaks_and_group_split_does_not():
    labels, groups = _lesions()
    leaky = split_leakage(groups, paper_split(labels, seed=0))
    clean = split_leakage(groups, group_split(labels, groups, seed=0))
    assert leaky["leaked_groups"] > 0
    assert clean["leaked_groups"] == clean["leaked_test_images"] == 0
