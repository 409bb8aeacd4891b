"""Mask datasets: the four sources in their real layouts, the mask checks, the cache, the
fingerprint and the two splits."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

import lmf.seg.data
from lmf.core.errors import ConfigError, DataError
from lmf.seg.data import (
    load_seg_data,
    rarest_class_present,
    seg_dataset_options,
    seg_fingerprint,
    seg_split,
)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LMF_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def folder_tree(root, n=6, size=(12, 10), suffix=""):
    """``images/`` + ``masks/`` with a known rectangle of foreground in image ``i``."""
    for i in range(n):
        image = np.full((size[1], size[0], 3), 40 * i % 255, dtype=np.uint8)
        mask = np.zeros((size[1], size[0]), dtype=np.uint8)
        mask[1:1 + i % 4 + 1, 2:6] = 255
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "masks").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "images" / f"case{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"case{i}{suffix}.png")
    return root


def test_digit_canvases_have_long_tailed_foreground_and_distractors_as_background():
    data = load_seg_data("digits_seg", size=32)
    assert data.images.shape == (240, 32, 32, 3) and data.masks.shape == (240, 32, 32)
    assert data.class_names == ("background", "zero", "one", "two")
    counts = np.bincount(data.masks.ravel(), minlength=4)
    foreground = counts[1:].sum() / counts.sum()
    assert 0.05 < foreground < 0.15
    assert counts[1] > counts[2] > counts[3] > 0  # long-tailed in pixels
    # bright pixels outside the masks: the strokes of the distractor digits
    bright = data.images[..., 0] > 96
    assert (bright & (data.masks == 0)).sum() > (bright & (data.masks > 0)).sum()
    assert (data.masks > 0).reshape(240, -1).any(axis=1).all()  # a target in every canvas
    again = load_seg_data("digits_seg", size=32)
    assert np.array_equal(again.masks, data.masks)
    other = load_seg_data("digits_seg", size=32, seed=1)
    assert not np.array_equal(other.masks, data.masks)


def test_digit_canvases_resize_masks_by_nearest_neighbour():
    data = load_seg_data("digits_seg", size=16, n_images=20)
    assert data.masks.shape == (20, 16, 16)
    assert set(np.unique(data.masks)) <= {0, 1, 2, 3}


def test_a_folder_of_images_and_masks_loads_with_relative_ids(tmp_path):
    root = folder_tree(tmp_path / "bus", suffix="_mask")
    data = load_seg_data("seg_folder", root, size=8, mask_suffix="_mask")
    assert data.ids == tuple(f"images/case{i}.png" for i in range(6))
    assert data.class_names == ("background", "foreground")
    assert data.masks.dtype == np.uint8 and set(np.unique(data.masks)) == {0, 1}
    assert data.images.shape == (6, 8, 8, 3)


def test_ham10000_and_covid_masks_load_from_their_kaggle_layouts(tmp_path, trees):
    trees.ham_ground_truth(tmp_path / "ham", ["MEL", "NV", "NV", "BCC"])
    trees.covid(tmp_path / "covid", {"COVID": 2, "Lung_Opacity": 1, "Normal": 3,
                                     "Viral Pneumonia": 1})
    ham = load_seg_data("ham10000_seg", tmp_path / "ham", size=16)
    assert ham.class_names == ("background", "lesion") and len(ham) == 4
    assert all(i.startswith("images/") for i in ham.ids)
    assert ham.masks.reshape(4, -1).any(axis=1).all()
    covid = load_seg_data("covid19_seg", tmp_path / "covid", size=16)  # masks 8 px, images 10
    assert covid.class_names == ("background", "lung") and len(covid) == 7
    normal = load_seg_data("covid19_seg", tmp_path / "covid", size=16, classes=["Normal"])
    assert len(normal) == 3


def test_the_cache_is_read_the_second_time_and_moving_the_data_keeps_the_fingerprint(
        tmp_path, data_root, monkeypatch):
    root = folder_tree(tmp_path / "a")
    first = load_seg_data("seg_folder", root, size=8)
    fingerprint = seg_fingerprint("seg_folder", root, size=8)
    moved = tmp_path / "b"
    shutil.copytree(root, moved)
    lmf.seg.data._file_fingerprint.cache_clear()

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(lmf.seg.data, "_read_mask", no_decoding)
    again = load_seg_data("seg_folder", moved, size=8)
    assert np.array_equal(again.masks, first.masks) and again.ids == first.ids
    assert seg_fingerprint("seg_folder", moved, size=8) == fingerprint
    monkeypatch.undo()
    mask = np.zeros((10, 12), dtype=np.uint8)
    mask[:5] = 255
    Image.fromarray(mask).save(moved / "masks" / "case0.png")
    lmf.seg.data._file_fingerprint.cache_clear()
    assert seg_fingerprint("seg_folder", moved, size=8) != fingerprint


@pytest.mark.parametrize(("damage", "message"), [
    ("missing", "no mask for .*case2.png"),
    ("size", "mask .*case2.png is 5×5 px but its image"),
    ("values", "case2.png holds the values"),
    ("colour", "case2.png is a colour image"),
    ("unreadable", "cannot read mask .*case2.png"),
])
def test_bad_masks_are_named_in_the_error(tmp_path, damage, message):
    root = folder_tree(tmp_path / "bad")
    mask = root / "masks" / "case2.png"
    if damage == "missing":
        mask.unlink()
    elif damage == "size":
        Image.fromarray(np.zeros((5, 5), dtype=np.uint8)).save(mask)
    elif damage == "values":
        Image.fromarray(np.arange(120, dtype=np.uint8).reshape(10, 12)).save(mask)
    elif damage == "colour":
        colour = np.zeros((10, 12, 3), dtype=np.uint8)
        colour[..., 0] = 255
        Image.fromarray(colour).save(mask)
    else:
        mask.write_bytes(b"not a png")
    with pytest.raises(DataError, match=message):
        load_seg_data("seg_folder", root, size=8)


def test_label_masks_take_their_class_names(tmp_path):
    root = folder_tree(tmp_path / "labels", n=3)
    labels = np.zeros((10, 12), dtype=np.uint8)
    labels[0, 0], labels[5, 5] = 1, 2
    Image.fromarray(labels).save(root / "masks" / "case0.png")
    data = load_seg_data("seg_folder", root, size=12, class_names=["bg", "a", "b"])
    assert set(np.unique(data.masks[0])) == {0, 1, 2}
    with pytest.raises(DataError, match="neither binary"):
        load_seg_data("seg_folder", root, size=12)


def test_missing_folders_and_bad_options_say_what_to_do(tmp_path, data_root):
    with pytest.raises(DataError, match="data/README.md"):
        load_seg_data("ham10000_seg", size=16)
    with pytest.raises(DataError, match="images/ and <root>/masks/"):
        load_seg_data("seg_folder", tmp_path, size=16)
    with pytest.raises(ConfigError, match="valid: n_images, imbalance, seed"):
        seg_dataset_options("digits_seg", {"canvas": 48})
    with pytest.raises(ConfigError, match="valid choices"):
        seg_dataset_options("brats", {})
    with pytest.raises(ConfigError, match="takes no root"):
        load_seg_data("digits_seg", tmp_path, size=16)


def test_the_paper_split_stratifies_by_the_rarest_class_of_each_image():
    data = load_seg_data("digits_seg", size=32)
    split = seg_split(data, "paper")
    labels = rarest_class_present(data.masks, 4)
    for c in (1, 2, 3):
        n = (labels == c).sum()
        held_out = (15 * n + 50) // 100
        assert ((labels == c) & (split == "test")).sum() == held_out
        assert ((labels == c) & (split == "val")).sum() == held_out
    assert np.array_equal(split, seg_split(data, "paper"))


def test_rarest_class_present_is_the_images_class_with_fewest_pixels_overall():
    masks = np.zeros((3, 2, 2), dtype=np.uint8)
    masks[0] = [[1, 1], [1, 2]]  # class 1: 5 pixels overall, class 2: 1
    masks[1] = [[1, 1], [0, 0]]
    assert rarest_class_present(masks, 3).tolist() == [2, 1, 0]


def test_five_fold_cross_validation_tests_each_image_once_and_keeps_groups_together(tmp_path):
    data = load_seg_data("digits_seg", size=32, n_images=100)
    grouped = lmf.seg.data.SegData(data.images, data.masks, data.ids, data.class_names,
                                   np.asarray([f"patient{i // 4}" for i in range(100)]))
    tested = np.zeros(100, dtype=int)
    for fold in range(5):
        split = seg_split(grouped, "cv", fold, seed=3)
        tested += split == "test"
        assert set(split) == {"train", "val", "test"}
        for part in ("val", "test"):
            groups = set(grouped.groups[split == part])
            assert not groups & set(grouped.groups[split == "train"])
        following = seg_split(grouped, "cv", (fold + 1) % 5, seed=3)
        assert np.array_equal(split == "val", following == "test")
    assert (tested == 1).all()
    with pytest.raises(ConfigError, match="fold must be 0"):
        seg_split(grouped, "cv", 5)
