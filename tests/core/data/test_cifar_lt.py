"""Long-tailed CIFAR (cifar10_lt, cifar100_lt): the reference's counts and images, torchvision's
file format, on-device pad-crop-flip and the CIFAR normalisation.

The expectations re-implement kaidic/LDAM-DRW ``imbalance_cifar.py`` literally
(``get_img_num_per_cls``, ``gen_imbalanced_data`` with the global NumPy generator)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision import transforms

from lmf.core.errors import ConfigError, DataError
from lmf.data import pad_crop_flip, read_index, to_tensor
from lmf.data.sources.cifar_lt import long_tail_counts, long_tail_selection


def reference_counts(n_total, cls_num, imb_type, imb_factor):
    """``get_img_num_per_cls`` of the reference, as written there."""
    img_max = int(n_total / cls_num * 1.0)
    img_num_per_cls = []
    if imb_type == "exp":
        for cls_idx in range(cls_num):
            num = img_max * (imb_factor ** (cls_idx / (cls_num - 1.0)))
            img_num_per_cls.append(int(num))
    else:
        for _ in range(cls_num // 2):
            img_num_per_cls.append(int(img_max))
        for _ in range(cls_num // 2):
            img_num_per_cls.append(int(img_max * imb_factor))
    return img_num_per_cls


def reference_selection(targets, img_num_per_cls, rand_number=0):
    """``np.random.seed`` + ``gen_imbalanced_data`` of the reference, on the global generator."""
    state = np.random.get_state()
    try:
        np.random.seed(rand_number)
        targets_np = np.array(targets, dtype=np.int64)
        chosen = []
        for the_class, the_img_num in zip(np.unique(targets_np), img_num_per_cls,
                                          strict=False):
            idx = np.where(targets_np == the_class)[0]
            np.random.shuffle(idx)
            chosen.append(idx[:the_img_num])
        return np.concatenate(chosen)
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("rho", [10, 50, 100])
@pytest.mark.parametrize("profile", ["exp", "step"])
@pytest.mark.parametrize("classes", [10, 100])
def test_counts_follow_the_reference_formula(rho, profile, classes):
    assert long_tail_counts(50000 // classes, classes, rho, profile) == reference_counts(
        50000, classes, profile, 1.0 / rho)


def test_cifar10_rho_100_has_the_published_counts():
    counts = long_tail_counts(5000, 10, 100.0)
    assert counts == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert sum(counts) == 12406


@pytest.mark.parametrize("classes", [10, 100])
def test_selection_is_the_reference_one_on_the_real_label_layout(classes):
    labels = np.random.default_rng(7).permutation(np.repeat(np.arange(classes), 50000 // classes))
    counts = long_tail_counts(50000 // classes, classes, 100.0)
    state = np.random.get_state()
    chosen = long_tail_selection(labels, counts)
    assert np.array_equal(chosen, reference_selection(labels.tolist(), counts))
    assert all(np.array_equal(a, b) for a, b in zip(state, np.random.get_state(),
                                                              strict=True))  # untouched


def _train_labels(root, dataset):
    folder, files, key = (("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)],
                           "labels") if dataset == "cifar10"
                          else ("cifar-100-python", ["train"], "fine_labels"))
    labels = []
    for name in files:
        with open(root / folder / name, "rb") as handle:
            labels += pickle.load(handle, encoding="latin1")[key]
    return labels


@pytest.mark.parametrize(("dataset", "per_class", "profile"),
                         [("cifar10", 40, "exp"), ("cifar100", 4, "step")])
def test_index_holds_the_reference_subset_and_the_whole_test_set(cifar_tree, dataset, per_class,
                                                                  profile):
    root = cifar_tree(dataset, per_class=per_class, test_per_class=2)
    index = read_index(f"{dataset}_lt", root, imbalance=4, profile=profile)
    labels = _train_labels(root, dataset)
    classes = 10 if dataset == "cifar10" else 100
    expected = reference_selection(labels, reference_counts(len(labels), classes, profile, 0.25))
    train = index[index.split == "train"]
    assert train.path.tolist() == [f"{dataset}/train/{p:05d}" for p in expected]
    assert train.label.tolist() == [labels[p] for p in expected]
    assert (index.split == "test").sum() == 2 * classes and "val" not in set(index.split)
    assert index.attrs["class_names"][:2] == ["class_000", "class_001"]


def test_val_per_class_holds_out_the_end_of_each_class(cifar_tree):
    root = cifar_tree("cifar10", per_class=20, test_per_class=1)
    full = read_index("cifar10_lt", root, imbalance=2)
    held = read_index("cifar10_lt", root, imbalance=2, val_per_class=3)
    assert held.path.tolist() == full.path.tolist()
    for _, rows in held[held.split != "test"].groupby("label"):
        assert rows.split.tolist()[-3:] == ["val"] * 3 and set(rows.split[:-3]) == {"train"}
    with pytest.raises(ConfigError, match="val_per_class must be below"):
        read_index("cifar10_lt", root, imbalance=2, val_per_class=10)


def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="lmf data download cifar100_lt") as error:
        read_index("cifar100_lt", tmp_path)
    assert "cifar-100-python" in str(error.value)


def test_pad_crop_flip_gives_torchvision_crops_of_the_zero_padded_image():
    images = torch.randint(1, 256, (64, 8, 8, 3), dtype=torch.uint8)
    out = pad_crop_flip(images, torch.Generator().manual_seed(0), padding=2)
    seen = set()
    for image, result in zip(images.permute(0, 3, 1, 2), out.permute(0, 3, 1, 2),
                             strict=True):
        padded = TF.pad(image, 2, fill=0)
        matches = [(top, left, flip) for top in range(5) for left in range(5)
                   for flip in (False, True)
                   if torch.equal(result, (TF.hflip if flip else (lambda x: x))(
                       TF.crop(padded, top, left, 8, 8)))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert {flip for *_, flip in seen} == {False, True} and len(seen) > 20
    again = pad_crop_flip(images, torch.Generator().manual_seed(0), padding=2)
    assert torch.equal(out, again)


def test_cifar_normalisation_is_the_reference_one():
    images = torch.randint(0, 256, (3, 4, 4, 3), dtype=torch.uint8)
    reference = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
    expected = torch.stack([reference(TF.to_tensor(i.numpy())) for i in images])
    torch.testing.assert_close(to_tensor(images, normalize="cifar"), expected)


def test_folders_are_torchvisions_own():
    import torchvision

    from lmf.data.sources.cifar_lt import CIFAR

    for cifar in CIFAR.values():
        assert cifar.folder == cifar.dataset.base_folder
        assert cifar.dataset is getattr(torchvision.datasets, cifar.class_name)
