"""Every bad input of a dataset ends in one clear error, and never in a half-built cache."""

import pytest

from lmf.core.errors import ConfigError, DataError
from lmf.data import prepare, read_index


def test_missing_root_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DataError) as error:
        read_index("isic2019", tmp_path / "absent")
    message = str(error.value)
    assert "lmf data download isic2019" in message and "andrewmvd/isic-2019" in message
    assert str(tmp_path / "absent") in message


def test_default_root_is_under_lmf_data(data_home):
    with pytest.raises(DataError, match=str(data_home / "odir5k")):
        read_index("odir5k")


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ConfigError) as error:
        read_index("ham1000")
    assert "digits_lt" in str(error.value) and "medmnist:<flag>" in str(error.value)
    with pytest.raises(ConfigError, match="medmnist:dermamnist"):
        read_index("medmnist")


def test_csv_missing_columns_shows_the_expected_header(tmp_path, trees):
    root = trees.ham_ground_truth(tmp_path / "ham", ["NV", "MEL"])
    text = (root / "GroundTruth.csv").read_text().replace(",VASC", "")
    (root / "GroundTruth.csv").write_text(text)
    with pytest.raises(DataError) as error:
        read_index("ham10000", root)
    assert "VASC" in str(error.value) and "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC" in str(error.value)


@pytest.mark.parametrize("row, problem", [("0.0,0.0,0.0,0.0,0.0,0.0,0.0", "no label"),
                                          ("1.0,1.0,0.0,0.0,0.0,0.0,0.0", "several labels")])
def test_one_hot_row_with_no_or_several_labels(tmp_path, trees, row, problem):
    root = trees.ham_ground_truth(tmp_path / "ham", ["NV", "MEL"])
    with open(root / "GroundTruth.csv", "a") as table:
        table.write(f"ISIC_0099999,{row}\n")
    trees.write_image(root / "images" / "ISIC_0099999.jpg", 9)
    with pytest.raises(DataError, match=f"{problem}.*ISIC_0099999"):
        read_index("ham10000", root)


@pytest.mark.parametrize("labels, problem", [("[]", "no label"), ("['N', 'D']", "several")])
def test_odir_labels_with_no_or_several_entries(tmp_path, trees, labels, problem):
    root = trees.odir(tmp_path / "odir", [(0, "C", "N")])
    table = root / "full_df.csv"
    table.write_text(table.read_text().replace("['N']", f'"{labels}"'))
    with pytest.raises(DataError, match=f"0_right.jpg.*{problem}"):
        read_index("odir5k", root)


def test_unknown_dx_value(tmp_path, trees):
    root = trees.ham_metadata(tmp_path / "ham", [("HAM_1", "nv"), ("HAM_2", "scc")])
    with pytest.raises(DataError, match="unknown dx value.*scc"):
        read_index("ham10000", root)


def test_image_listed_twice(tmp_path, trees):
    root = trees.ham_metadata(tmp_path / "ham", [("HAM_1", "nv"), ("HAM_2", "bcc")])
    table = root / "HAM10000_metadata.csv"
    table.write_text(table.read_text() + table.read_text().splitlines()[1] + "\n")
    with pytest.raises(DataError, match="more than once"):
        read_index("ham10000", root)


def test_listed_image_missing_on_disk(tmp_path, trees):
    root = trees.isic(tmp_path / "isic", ["MEL", "NV", "DF"])
    (root / "ISIC_2019_Training_Input" / "ISIC_2019_Training_Input" / "ISIC_0000001.jpg").unlink()
    with pytest.raises(DataError, match="1 listed image.*missing.*ISIC_0000001.jpg"):
        read_index("isic2019", root)


def _cache_entries(data_home):
    cache = data_home / "cache"
    return sorted(p.name for p in cache.glob("*/*")) if cache.exists() else []


def test_truncated_image_fails_by_path_and_leaves_no_cache(tmp_path, data_home, trees):
    root = trees.covid(tmp_path / "covid")
    bad = trees.truncate(root / "COVID-19_Radiography_Dataset" / "Normal" / "images" /
                         "Normal-3.png")
    with pytest.raises(DataError, match=f"unreadable image {bad}"):
        prepare("covid19", root, size=4, progress=False, workers=2)
    assert not any(name.startswith(("images-", ".images-")) for name in _cache_entries(data_home))


def test_truncated_image_is_skipped_on_request(tmp_path, trees):
    root = trees.covid(tmp_path / "covid")
    bad = trees.truncate(root / "COVID-19_Radiography_Dataset" / "Normal" / "images" /
                         "Normal-3.png")
    data = prepare("covid19", root, size=4, progress=False, on_error="skip")
    skipped = "COVID-19_Radiography_Dataset/Normal/images/Normal-3.png"
    assert list(data.skipped) == [skipped]
    assert skipped not in data.index["id"].tolist() and len(data.index) == 13
    assert data.source_path(data.index["id"].iloc[0]).is_file()
    assert bad.is_file()
    # The skip is recorded with the cache and honoured by every later call (training included).
    again = prepare("covid19", root, size=4, progress=False)
    assert list(again.skipped) == [skipped] and again.index["id"].tolist() == data.index["id"].tolist()


def test_not_an_image_at_all(tmp_path, trees):
    root = trees.imagefolder(tmp_path / "tree", {"train": {"a": 2}, "val": {"a": 1},
                                                 "test": {"a": 1}})
    (root / "train" / "a" / "img0.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="img0.png"):
        prepare("imagefolder", root, size=4, progress=False)


@pytest.mark.parametrize("bad", [{"split": "random"}, {"size": 0}, {"on_error": "ignore"}])
def test_bad_prepare_arguments(bad):
    with pytest.raises(ConfigError):
        prepare("digits_lt", progress=False, **bad)
