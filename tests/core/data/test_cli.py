"""``lmf data``: exit codes and output of list, check, download and prepare."""

import pytest

from lmf.cli import main


def test_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("ham10000", "isic2019", "odir5k", "covid19", "imagefolder", "digits_lt",
                 "medmnist:<flag>", "andrewmvd/isic-2019"):
        assert name in out


def test_check_a_complete_tree_passes(tmp_path, capsys, trees):
    root = trees.imagefolder(tmp_path / "tree", {"train": {"a": 2, "b": 1}, "val": {"a": 1},
                                                 "test": {"b": 1}})
    assert main(["data", "check", "imagefolder", "--root", str(root), "--quiet"]) == 0
    assert "5 images, ok" in capsys.readouterr().out


def test_check_reports_counts_against_the_paper_totals(tmp_path, capsys, trees):
    root = trees.ham_ground_truth(tmp_path / "ham", ["NV", "MEL", "DF"])
    assert main(["data", "check", "ham10000", "--root", str(root), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "class NV: 1 images, expected 6705" in out and "class BCC: 0 images, expected 514" in out


def test_check_reports_unreadable_images(tmp_path, capsys, trees):
    root = trees.imagefolder(tmp_path / "tree", {"train": {"a": 2}, "val": {"a": 1},
                                                 "test": {"a": 1}})
    bad = trees.truncate(root / "train" / "a" / "img1.png")
    assert main(["data", "check", "imagefolder", "--root", str(root), "--quiet"]) == 1
    assert f"unreadable image {bad}" in capsys.readouterr().out


def test_truncated_jpeg_is_unreadable(tmp_path, trees):
    from lmf.classification.dataset_check import readable

    image = trees.write_image(tmp_path / "x.jpg", 0, (64, 48))
    assert readable(image) is None
    assert "truncated" in readable(trees.truncate(image))


def test_check_missing_root_exits_2(tmp_path, capsys):
    assert main(["data", "check", "covid19", "--root", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tawsifurrahman/covid19-radiography-database" in err


def test_download_without_kaggle_credentials_prints_the_manual_steps(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["data", "download", "odir5k", "--root", str(tmp_path / "odir")]) == 1
    out = capsys.readouterr().out
    assert "https://www.kaggle.com/datasets/andrewmvd/ocular-disease-recognition-odir5k" in out
    assert f"unzip archive.zip -d '{tmp_path / 'odir'}'" in out and "kaggle.json" in out


def test_download_digits_needs_nothing(capsys):
    assert main(["data", "download", "digits_lt"]) == 0


def test_prepare_prints_the_split_and_cache(capsys, data_home):
    assert main(["data", "prepare", "digits_lt", "--size", "8", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "train=413, val=300, test=300" in out and str(data_home / "cache") in out


def test_prepare_with_on_error_skip(tmp_path, capsys, trees):
    root = trees.covid(tmp_path / "covid")
    trees.truncate(root / "COVID-19_Radiography_Dataset" / "COVID" / "images" / "COVID-2.png")
    args = ["data", "prepare", "covid19", "--root", str(root), "--size", "4", "--quiet"]
    assert main(args) == 2
    assert "COVID-2.png" in capsys.readouterr().err
    assert main([*args, "--on-error", "skip"]) == 0
    assert "skipped: COVID-19_Radiography_Dataset/COVID/images/COVID-2.png" in \
        capsys.readouterr().out


def test_prepare_group_split_of_too_few_lesions_exits_2(tmp_path, capsys, trees):
    root = trees.ham_metadata(tmp_path / "ham", [(f"HAM_{i % 6}", ["nv", "df"][i % 2])
                                                 for i in range(12)])
    args = ["data", "prepare", "ham10000", "--root", str(root), "--size", "4", "--quiet"]
    assert main([*args, "--split", "group"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DF (groups: 3, images: 6); NV (groups: 3, images: 6)" in err


def test_unknown_dataset_exits_2(capsys):
    assert main(["data", "prepare", "cifar10"]) == 2
    assert "valid choices" in capsys.readouterr().err


def test_unknown_split_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["data", "prepare", "digits_lt", "--split", "random"])
    assert stop.value.code == 2
