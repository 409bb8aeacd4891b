"""A run's identity: the same experiment on the same data is one run wherever the data lies and
however its path is spelled; other data, another loss parameter or another split is another run."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import lmf.classification.train
from lmf.classification.train import fit
from lmf.cli import main
from lmf.core import runs

from .conftest import tree_config


def test_moved_data_is_the_same_run_and_is_not_trained_again(image_tree, tmp_path, monkeypatch):
    a = image_tree(tmp_path / "A")
    b = shutil.copytree(a, tmp_path / "elsewhere" / "B")
    results = tmp_path / "results"
    first = fit(tree_config(a, epochs=1), results, quiet=True)
    assert tree_config(b).run_id == tree_config(a).run_id

    def no_training(*args, **kwargs):
        raise AssertionError("the run was trained again for data that only moved")

    monkeypatch.setattr(lmf.classification.train._Trainer, "__init__", no_training)
    again = fit(tree_config(b, epochs=1), results, quiet=True)
    assert again.run_dir == first.run_dir
    assert again.metrics == first.metrics
    assert [p.name for p in results.iterdir() if p.name != runs.LOGS] == [first.run_dir.name]


def test_relative_root_means_the_data_in_the_working_directory(image_tree, trees, tmp_path,
                                                               monkeypatch):
    image_tree(tmp_path / "one" / "tree")
    image_tree(tmp_path / "two" / "tree")
    trees.write_image(tmp_path / "two" / "tree" / "train" / "b" / "extra.png", 99, (8, 8))
    monkeypatch.chdir(tmp_path / "one")
    here = tree_config("tree").run_id
    monkeypatch.chdir(tmp_path / "two")
    there = tree_config("tree").run_id
    assert here != there
    assert there == tree_config(tmp_path / "two" / "tree").run_id


def test_spelling_of_the_root_is_not_part_of_the_identity(image_tree, tmp_path, monkeypatch):
    root = image_tree(tmp_path / "data" / "tree")
    (tmp_path / "link").symlink_to(root, target_is_directory=True)
    monkeypatch.chdir(tmp_path / "data")
    spellings = [str(root), f"{root}/", "./tree", "tree/", "../data/tree", str(tmp_path / "link")]
    assert {tree_config(spelling).run_id for spelling in spellings} == {tree_config(root).run_id}


def test_a_default_loss_parameter_written_out_is_the_default_run(tiny_config):
    default = tiny_config("focal")
    assert tiny_config("focal", loss_params={"gamma": 1.5}).run_id == default.run_id
    assert tiny_config("focal", loss_params={"gamma": 2.0}).run_id != default.run_id
    assert default.identity()["loss_params"]["gamma"] == 1.5


def test_the_split_seed_of_a_source_split_by_lmf_is_part_of_the_identity(trees, data_home,
                                                                        tmp_path, tiny_config):
    root = trees.covid(tmp_path / "covid")
    config = tiny_config(dataset="covid19", data_root=str(root))
    reseeded = dataclasses.replace(config, dataset_params={"seed": 1})
    assert dataclasses.replace(config, dataset_params={"seed": 0}).run_id == config.run_id
    assert reseeded.run_id != config.run_id


def test_cli_train_of_copied_data_reuses_the_run_directory(image_tree, tmp_path, capsys):
    a = image_tree(tmp_path / "A")
    b = shutil.copytree(a, tmp_path / "B")
    args = ["train", "--dataset", "imagefolder", "--model", "timm:test_resnet", "--loss", "cce",
            "--epochs", "1", "--image-size", "8", "--batch-size", "4", "--device", "cpu",
            "--results", str(tmp_path / "results"), "--quiet"]
    assert main([*args, "--root", str(a)]) == 0
    first = capsys.readouterr().out.strip().splitlines()[-1]
    assert main([*args, "--root", str(b)]) == 0
    second = capsys.readouterr().out.strip().splitlines()[-1]
    assert first == second
    config = json.loads((tmp_path / "results" / first.rsplit("/", 1)[1] / runs.CONFIG).read_text())
    assert config["data_root"] == str(a)  # the run records where it was trained


def test_the_store_imports_neither_the_engine_nor_torch():
    code = ("import sys, lmf.core.runs; "
            "print(sorted(m for m in ('lmf.classification.train', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"



#: HAM10000's classes, four images each: every class lands in train, val and test.
HAM = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")


def _ham_config(tiny_config, root):
    """The tiny run of the HAM10000 fixture tree at ``root``."""
    return tiny_config(dataset="ham10000", data_root=str(root))


def test_altered_pixels_under_the_same_file_names_are_another_run(trees, data_home, tmp_path,
                                                                   tiny_config):
    per_class = [c for c in HAM for _ in range(4)]
    first = trees.ham_ground_truth(tmp_path / "first" / "ham10000", per_class)
    second = shutil.copytree(first, tmp_path / "second" / "ham10000")
    for name in sorted((second / "images").iterdir())[:2]:
        trees.write_image(name, 1000 + len(name.name), (12, 9))  # same name, other pixels
    one, other = _ham_config(tiny_config, first), _ham_config(tiny_config, second)
    assert one.identity()["data"] != other.identity()["data"]
    assert one.run_id != other.run_id


def test_identical_copies_and_touched_files_are_the_same_run(trees, data_home, tmp_path,
                                                             tiny_config):
    per_class = [c for c in HAM for _ in range(4)]
    first = trees.ham_ground_truth(tmp_path / "first" / "ham10000", per_class)
    second = shutil.copytree(first, tmp_path / "second" / "ham10000")
    expected = _ham_config(tiny_config, first).run_id
    assert _ham_config(tiny_config, second).run_id == expected
    for image in sorted((second / "images").iterdir())[:3]:
        stat = image.stat()
        os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert _ham_config(tiny_config, second).run_id == expected
