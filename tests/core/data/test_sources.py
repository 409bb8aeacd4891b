"""Each on-disk source read from a fixture tree in its real layout."""

import numpy as np
import pytest

from lmf.core.errors import ConfigError, DataError
from lmf.data import prepare, read_index


def test_ham_ground_truth_layout_with_float_and_int_one_hot(tmp_path, trees):
    labels = ["NV", "MEL", "AKIEC", "VASC", "NV"]
    for floats in (True, False):
        root = trees.ham_ground_truth(tmp_path / f"ham{floats}", labels, floats=floats)
        index = read_index("ham10000", root)
        assert index["class_name"].tolist() == labels
        order = ["AKIEC", "BCC", "BKL", "DF", "MEL", "NV", "VASC"]
        assert index["label"].tolist() == [order.index(c) for c in labels]
        assert index.attrs["class_names"] == order
        assert index["path"].str.endswith(".jpg").all()
        assert all("/images/" in p for p in index["path"])  # never the masks
        assert index["group"].nunique() == len(labels)


def test_ham_metadata_layout_counts_lower_case_copies_once(tmp_path, trees):
    samples = [("HAM_0000118", "bkl"), ("HAM_0000118", "bkl"), ("HAM_0002730", "nv"),
               ("HAM_0001466", "mel"), ("HAM_0001466", "mel"), ("HAM_0002761", "df")]
    root = trees.ham_metadata(tmp_path / "ham", samples)
    index = read_index("ham10000", root)
    assert len(index) == len(samples) and index["path"].is_unique
    assert index["class_name"].tolist() == ["BKL", "BKL", "NV", "MEL", "MEL", "DF"]
    assert index["group"].tolist() == [lesion for lesion, _ in samples]
    assert not any("/ham10000_images_part" in p for p in index["path"])


def test_ham_metadata_layout_finds_images_only_in_a_lower_case_folder(tmp_path, trees):
    root = trees.ham_metadata(tmp_path / "ham", [("HAM_1", "nv"), ("HAM_2", "bcc")])
    (root / "HAM10000_images_part_2" / "ISIC_0027420.jpg").unlink()
    index = read_index("ham10000", root)
    assert index["path"].iloc[1].endswith("ham10000_images_part_2/ISIC_0027420.jpg")


def test_isic_drops_unk_reads_floats_nested_folder_and_lesions(tmp_path, trees):
    labels = ["MEL", "NV", "SCC", "AK", "UNK", "VASC"]
    lesions = ["IL_1", "IL_1", "", "IL_2", "IL_3", ""]
    root = trees.isic(tmp_path / "isic", labels, lesions=lesions)
    with pytest.warns(UserWarning, match="1 image\\(s\\) labelled UNK are left out"):
        index = read_index("isic2019", root)
    assert index["class_name"].tolist() == ["MEL", "NV", "SCC", "AK", "VASC"]
    assert index.attrs["class_names"] == ["AK", "BCC", "BKL", "DF", "MEL", "NV", "SCC", "VASC"]
    assert index["label"].tolist() == [4, 5, 6, 0, 7]
    assert index["group"].iloc[:2].tolist() == ["IL_1", "IL_1"]
    assert index["group"].iloc[2] == "ISIC_0000002"  # no lesion id: the image itself
    assert index["path"].iloc[0].endswith("_downsampled.jpg")
    flat = read_index("isic2019", trees.isic(tmp_path / "flat", ["DF", "BKL"], nested=False))
    assert flat["class_name"].tolist() == ["DF", "BKL"]


def test_odir_uses_each_eyes_own_label_and_groups_patients(tmp_path, trees):
    root = trees.odir(tmp_path / "odir", [(0, "C", "N"), (1, "D", "D"), (4, "G", "H")])
    index = read_index("odir5k", root)
    assert index["class_name"].tolist() == ["C", "N", "D", "D", "G", "H"]
    assert index["group"].tolist() == ["0", "0", "1", "1", "4", "4"]
    assert index["path"].iloc[1].endswith("preprocessed_images/0_right.jpg")
    assert index.attrs["class_names"] == list("ACDGHMNO")


def test_covid_reads_images_not_masks_with_the_papers_names(tmp_path, trees):
    root = trees.covid(tmp_path / "covid")
    for where in (root, root / "COVID-19_Radiography_Dataset"):
        index = read_index("covid19", where)
        assert index["class_name"].value_counts().to_dict() == {"Normal": 5, "LO": 4,
                                                                 "Covid": 3, "VP": 2}
        assert not any("/masks/" in p for p in index["path"])
        assert any("Viral Pneumonia/images/Viral Pneumonia-1.png" in p for p in index["path"])


def test_covid_grayscale_pngs_become_three_equal_channels(tmp_path, trees):
    data = prepare("covid19", trees.covid(tmp_path / "covid", {"COVID": 10, "Lung_Opacity": 10,
                                                         "Normal": 10, "Viral Pneumonia": 10}),
                   size=6, progress=False)
    images = data.part("train").images
    assert images.shape == (24, 6, 6, 3)  # per class 10 - 2·round_half_up(1.5)
    assert np.array_equal(images[..., 0], images[..., 1])


def test_imagefolder_keeps_its_own_split(tmp_path, trees):
    root = trees.imagefolder(tmp_path / "tree", {"train": {"benign": 4, "malign": 2},
                                           "val": {"benign": 1, "malign": 1},
                                           "test": {"malign": 2}})
    index = read_index("imagefolder", root)
    assert index.groupby(["split", "class_name"]).size().to_dict() == {
        ("test", "malign"): 2, ("train", "benign"): 4, ("train", "malign"): 2,
        ("val", "benign"): 1, ("val", "malign"): 1}
    data = prepare("imagefolder", root, split="group", size=4, progress=False)
    assert [len(data.part(p)) for p in ("train", "val", "test")] == [6, 2, 2]
    assert data.class_counts("test").tolist() == [0, 2]
    sample = data.part("test").ids[0]
    assert data.source_path(sample) == root / sample


def test_imagefolder_rejects_a_class_train_lacks(tmp_path, trees):
    root = trees.imagefolder(tmp_path / "tree", {"train": {"a": 1}, "val": {"a": 1, "b": 1},
                                           "test": {"a": 1}})
    with pytest.raises(DataError, match="train/ lacks"):
        read_index("imagefolder", root)


def test_medmnist_npz_from_root(tmp_path, trees):
    trees.medmnist_npz(tmp_path / "mm" / "dermamnist_64.npz", size=64)
    index = read_index("medmnist:dermamnist", tmp_path / "mm", resolution=64)
    assert index["split"].value_counts().to_dict() == {"train": 20, "test": 8, "val": 5}
    assert index.attrs["class_names"] == ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]
    # prepare picks the 64 px file for a 48 px request and resizes it.
    data = prepare("medmnist:dermamnist", tmp_path / "mm", size=48, progress=False)
    assert data.part("val").images.shape == (5, 48, 48, 3)
    assert data.part("train").labels.tolist() == [i % 7 for i in range(20)]


def test_medmnist_default_location_and_grayscale(tmp_path, data_home, trees):
    trees.medmnist_npz(data_home / "medmnist" / "dermamnist.npz", rgb=False)
    data = prepare("medmnist:dermamnist", size=28, progress=False)
    images = data.part("test").images
    assert images.shape == (8, 28, 28, 3) and np.array_equal(images[..., 0], images[..., 2])
    from lmf.data.sources.medmnist import _arrays

    raw = _arrays(data_home.resolve() / "medmnist" / "dermamnist.npz")["test_images"]
    assert np.array_equal(images[..., 0], raw)


def test_medmnist_rejects_multi_label_and_missing_files(tmp_path, trees):
    trees.medmnist_npz(tmp_path / "mm" / "dermamnist.npz", multi_label=True)
    with pytest.raises(ConfigError, match="multi-label"):
        read_index("medmnist:dermamnist", tmp_path / "mm")
    with pytest.raises(DataError, match="lmf data download medmnist:dermamnist"):
        read_index("medmnist:dermamnist", tmp_path / "nowhere", resolution=128)


def test_medmnist_package_label_names(tmp_path, trees):
    pytest.importorskip("medmnist")
    trees.medmnist_npz(tmp_path / "mm" / "bloodmnist.npz", num_classes=8)
    index = read_index("medmnist:bloodmnist", tmp_path / "mm")
    from medmnist import INFO

    names = [INFO["bloodmnist"]["label"][str(i)] for i in range(8)]
    expected = names if names == sorted(names) else [f"{i} {n}" for i, n in enumerate(names)]
    assert index.attrs["class_names"] == expected
    assert index.attrs["class_names"] == sorted(index.attrs["class_names"])
