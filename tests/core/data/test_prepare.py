"""prepare(): saved splits, cache keys, parts, group split, paths back to the source files."""

import numpy as np
import pandas as pd
import pytest

from lmf.core.errors import ConfigError
from lmf.data import paper_split, prepare, read_index
from lmf.data.decode import load_image


def _ham(trees, root, n_lesions=40):
    """A HAM layout-2 tree of ``n_lesions`` lesions with 1-3 images each."""
    rng = np.random.default_rng(0)
    dx = ["nv", "nv", "nv", "mel", "bkl", "bcc", "akiec", "df", "vasc"]
    samples = [(f"HAM_{lesion:07d}", dx[lesion % len(dx)])
               for lesion in range(n_lesions) for _ in range(rng.integers(1, 4))]
    return trees.ham_metadata(root, samples, lower_case_copies=False)


def test_parts_are_disjoint_cover_the_index_and_match_the_rule(tmp_path, trees):
    root = _ham(trees, tmp_path / "ham")
    data = prepare("ham10000", root, size=8, seed=5, progress=False)
    ids = {p: data.part(p).ids for p in ("train", "val", "test")}
    assert sum(map(len, ids.values())) == len(data.index) == len(set().union(*ids.values()))
    index = read_index("ham10000", root)
    expected = paper_split(index["label"].to_numpy(), seed=5)
    assert pd.Series(expected).value_counts().to_dict() == \
        data.index["split"].value_counts().to_dict()
    assert data.class_counts().tolist() == np.bincount(data.part("train").labels,
                                                       minlength=7).tolist()


def test_images_are_the_decoded_source_files(tmp_path, trees):
    root = _ham(trees, tmp_path / "ham", n_lesions=10)
    data = prepare("ham10000", root, size=5, progress=False)
    part = data.part("val")
    for i, sample in enumerate(part.ids):
        path = data.source_path(sample)
        assert path.parent.parent == root.resolve()
        assert np.array_equal(part.images[i], load_image(path, 5))
    assert part.labels.tolist() == data.index.set_index("id").loc[part.ids, "label"].tolist()


def test_split_file_is_saved_and_reused(tmp_path, trees):
    root = _ham(trees, tmp_path / "ham")
    first = prepare("ham10000", root, size=4, progress=False)
    saved = pd.read_csv(first.split_file)
    assert saved.columns.tolist() == ["id", "split"] and len(saved) == len(first.index)
    # Edit the saved split: a later call must use the file, not recompute.
    saved.loc[0, "split"] = {"train": "val", "val": "test", "test": "train"}[saved.loc[0, "split"]]
    saved.to_csv(first.split_file, index=False)
    again = prepare("ham10000", root, size=4, progress=False)
    assert dict(zip(again.index["id"], again.index["split"], strict=True)) == \
        dict(zip(saved["id"], saved["split"], strict=True))
    other_seed = prepare("ham10000", root, size=4, seed=1, progress=False)
    assert other_seed.split_file != first.split_file


def test_cache_is_rebuilt_when_the_file_list_or_a_file_changes(tmp_path, trees):
    root = trees.ham_ground_truth(tmp_path / "ham", ["NV"] * 8 + ["MEL"] * 4)
    first = prepare("ham10000", root, size=4, progress=False)
    assert prepare("ham10000", root, size=4, progress=False).cache_dir == first.cache_dir
    assert prepare("ham10000", root, size=6, progress=False).cache_dir != first.cache_dir
    trees.write_image(root / "images" / "ISIC_0024306.jpg", 99, (12, 9))  # a file replaced
    replaced = prepare("ham10000", root, size=4, progress=False)
    assert replaced.cache_dir != first.cache_dir
    with open(root / "GroundTruth.csv", "a") as table:  # an image added
        table.write("ISIC_0099999,0.0,0.0,1.0,0.0,0.0,0.0,0.0\n")
    trees.write_image(root / "images" / "ISIC_0099999.jpg", 7)
    added = prepare("ham10000", root, size=4, progress=False)
    assert len(added.index) == 13 and added.cache_dir.parent != first.cache_dir.parent
    assert "BCC" in set(added.index["class_name"])


def test_group_split_keeps_lesions_whole(tmp_path, trees):
    root = _ham(trees, tmp_path / "ham", n_lesions=60)
    data = prepare("ham10000", root, split="group", size=4, progress=False)
    assert (data.index.groupby("group")["split"].nunique() == 1).all()
    assert "split-group-seed0.csv" == data.split_file.name
    # The smallest classes have 6 lesions: 6 folds, each class in every one, so in every part.
    assert (data.index.groupby("class_name")["split"].nunique() == 3).all()


def _tiny_ham(trees, root):
    """20 images: NV 8 in 5 lesions, MEL 4 in 4, BKL 3 in 2, DF 2 in 1, VASC, BCC, AKIEC 1."""
    lesions = {"nv": [1, 2, 2, 1, 2], "mel": [1, 1, 1, 1], "bkl": [2, 1], "df": [2],
               "vasc": [1], "bcc": [1], "akiec": [1]}
    samples = [(f"HAM_{dx}{lesion}", dx) for dx, sizes in lesions.items()
               for lesion, size in enumerate(sizes) for _ in range(size)]
    return trees.ham_metadata(root, samples, lower_case_copies=False)


def test_group_split_of_a_tiny_tree_names_the_small_classes(tmp_path, trees):
    root = _tiny_ham(trees, tmp_path / "ham")
    with pytest.raises(ConfigError) as caught:
        prepare("ham10000", root, split="group", size=4, progress=False)
    too_few = str(caught.value).split("too few in class ")[1].split(". ")[0]
    assert too_few == ("AKIEC (groups: 1, images: 1); BCC (groups: 1, images: 1); "
                       "BKL (groups: 2, images: 3); DF (groups: 1, images: 2); "
                       "VASC (groups: 1, images: 1)")
    # The advice holds: the per-image split of the same tree works.
    paper = prepare("ham10000", root, split="paper", size=4, progress=False)
    # n − 2·round(0.15·n) per class, in sorted order AKIEC BCC BKL DF MEL NV VASC
    assert paper.class_counts("train").tolist() == [1, 1, 3, 2, 4 - 2, 8 - 2, 1]


def test_non_contiguous_parts_are_loaded_correctly(tmp_path, trees):
    root = _ham(trees, tmp_path / "ham", n_lesions=60)
    paper = prepare("ham10000", root, split="paper", size=4, progress=False)
    group = prepare("ham10000", root, split="group", size=4, progress=False)
    assert group.cache_dir == paper.cache_dir  # same files, same cache, other order
    for name in ("train", "test"):
        part = group.part(name)
        assert part.images.shape == (len(part), 4, 4, 3)
        for i in (0, len(part) - 1):
            path = group.source_path(part.ids[i])
            assert np.array_equal(part.images[i], load_image(path, 4))


def test_unknown_part_name(tmp_path):
    data = prepare("digits_lt", size=4, progress=False)
    with pytest.raises(ValueError, match="unknown part 'validation'; valid choices: test, train, val"):
        data.part("validation")
    with pytest.raises(ValueError, match="unknown sample id"):
        data.source_path("digits/99999")
