"""The paper's split rule against the published counts, the group split, the leakage report."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedGroupKFold

from lmf.classification import paper
from lmf.classification.report import tables
from lmf.core.errors import ConfigError
from lmf.data import group_split, paper_split, split_leakage
from lmf.data.splits import group_fold_count, held_out_count


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


def test_paper_split_of_tiny_classes():
    # round(0.15·n) is 0 for n ≤ 3: the class stays in train; at n = 4 it is 2 / 1 / 1.
    labels = np.repeat(["a", "b", "c", "d"], [1, 2, 3, 4])
    counts = pd.crosstab(labels, paper_split(labels, seed=0)).reindex(
        columns=["train", "val", "test"], fill_value=0)
    assert counts.to_numpy().tolist() == [[1, 0, 0], [2, 0, 0], [3, 0, 0], [2, 1, 1]]


def test_paper_split_keeps_a_training_image_in_every_class():
    sizes = np.arange(1, 301)
    labels = np.repeat(sizes, sizes)
    train = pd.Series(paper_split(labels, seed=2) == "train").groupby(labels).sum()
    assert (train >= 1).all() and (train >= 0.7 * sizes - 1).all()


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


def test_group_split_is_the_20_fold_construction_when_every_class_has_20_groups():
    labels, groups = _lesions()
    folds = StratifiedGroupKFold(n_splits=20, shuffle=True, random_state=7)
    members = [fold for _, fold in folds.split(labels, labels, groups)]
    order = np.random.default_rng(7).permutation(20)
    expected = np.full(len(labels), "train", dtype=object)
    expected[np.concatenate([members[f] for f in order[:3]])] = "val"
    expected[np.concatenate([members[f] for f in order[3:6]])] = "test"
    assert group_fold_count(labels, groups) == 20
    assert np.array_equal(group_split(labels, groups, seed=7), expected)


def _single_image_groups(sizes: dict[str, int]):
    labels = np.repeat(list(sizes), list(sizes.values()))
    return labels, np.arange(len(labels))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_split_of_small_classes_uses_fewer_folds(seed):
    # Fewest groups 5: five folds, each holding one "b" and two "a"; val and test one fold each.
    labels, groups = _single_image_groups({"a": 10, "b": 5})
    assert group_fold_count(labels, groups) == 5
    counts = pd.crosstab(labels, group_split(labels, groups, seed=seed))
    assert counts.loc["a"].to_dict() == {"train": 6, "val": 2, "test": 2}
    assert counts.loc["b"].to_dict() == {"train": 3, "val": 1, "test": 1}


def test_group_fold_count_follows_the_smallest_class():
    for fewest, folds in [(4, 4), (7, 7), (19, 19), (20, 20), (35, 20)]:
        labels, groups = _single_image_groups({"big": 60, "small": fewest})
        assert group_fold_count(labels, groups) == folds
    # Groups, not images, count: 12 images of "b" in 3 lesions are 3 groups.
    labels = np.repeat(["a", "b"], [12, 12])
    groups = np.concatenate([np.arange(12), 100 + np.arange(12) // 4])
    with pytest.raises(ConfigError, match=r"b \(groups: 3, images: 12\)"):
        group_fold_count(labels, groups)


def test_group_split_names_the_classes_with_too_few_groups():
    labels, groups = _single_image_groups({"NV": 30, "DF": 2, "MEL": 8, "VASC": 1})
    with pytest.raises(ConfigError) as caught:
        group_split(labels, groups)
    message = str(caught.value)
    assert "DF (groups: 2, images: 2)" in message and "VASC (groups: 1, images: 1)" in message
    assert "NV" not in message and "MEL" not in message
    assert "at least 4 groups" in message and "split='paper'" in message


def test_group_split_keeps_mixed_label_groups_whole_on_small_data():
    # ODIR-like: 12 patients, two eyes each, some with two different labels.
    eyes = ["NN", "ND", "DD", "GN", "GG", "DG", "NN", "DN", "GD", "NG", "NN", "DD"]
    labels = np.array([label for pair in eyes for label in pair])
    groups = np.repeat(np.arange(len(eyes)), 2)
    assert group_fold_count(labels, groups) == 5  # G is in 5 patients, D in 6, N in 7
    for seed in range(5):
        split = group_split(labels, groups, seed=seed)
        assert (pd.Series(split).groupby(groups).nunique() == 1).all()
        assert set(split) == {"train", "val", "test"}


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


def _index(labels, groups, split) -> pd.DataFrame:
    return pd.DataFrame({"class_name": labels, "group": groups, "split": split})


def test_leakage_table_counts_both_splits():
    labels, groups = _lesions(n_groups=300)
    split = paper_split(labels, seed=0)
    table = tables.leakage({"ham": _index(labels, groups, split)}, "paper")
    assert table["split"].tolist() == ["paper", "group (re-split)"]
    assert "note" not in table.columns
    per_image = split_leakage(groups, split)
    assert table.iloc[0].drop(["dataset", "split"]).to_dict() == per_image
    assert per_image["leaked_groups"] > 0
    regrouped = table.iloc[1]
    assert regrouped["groups"] == per_image["groups"] == len(np.unique(groups))
    assert regrouped["leaked_groups"] == regrouped["leaked_test_images"] == 0
    assert regrouped["leaked_val_groups"] == 0


def test_leakage_table_says_why_when_no_group_split_is_possible():
    labels = np.array(["NV"] * 12 + ["DF"] * 3)
    groups = np.concatenate([np.arange(12), [20, 20, 21]])
    table = tables.leakage({"tiny": _index(labels, groups, paper_split(labels))}, "paper")
    first, second = table.iloc[0], table.iloc[1]
    assert pd.isna(first["note"]) and first["groups"] == 14
    assert second["split"] == "group (re-split)"
    assert "DF (groups: 2, images: 3)" in second["note"] and "split='paper'" in second["note"]
    assert second.drop(["dataset", "split", "note"]).isna().all()
    assert "DF (groups: 2" in table.to_string(index=False)
