"""``lmf train`` and ``lmf bench`` from the command line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lmf.cli import build_parser
from lmf.commands.train import config_from_args

LMF = [sys.executable, "-m", "lmf.cli"]


def lmf(*args, **kwargs):
    return subprocess.run([*LMF, *args], capture_output=True, text=True, **kwargs)


@pytest.mark.slow
def test_train_prints_the_finished_run_directory_last(tmp_path):
    result = lmf("train", "--loss", "lmf", "--alpha", "1.5", "--epochs", "1", "--image-size", "16",
                 "--results", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.parent == tmp_path and (run_dir / "done").is_file()
    config = json.loads((run_dir / "config.json").read_text())
    # profile values, then the flags given: cpu profile's dataset and first model, α from the flag
    assert config["dataset"] == "digits_lt" and config["epochs"] == 1 and config["image_size"] == 16
    assert config["loss_params"] == {"alpha": 1.5, "beta": 1.0}
    test_f1 = json.loads((run_dir / "metrics.json").read_text())["test"]["macro_f1"]
    assert f"test macro-F1 {test_f1:.4f}" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--loss", "nope"), "valid choices: bwcce, cb, cce"),
    (("--loss", "cce", "--alpha", "2"), "takes no parameter alpha"),
    (("--model", "timm:no_such_net"), "no_such_net"),
    (("--profile", "gpu"), "invalid choice"),
    (("--weights", "no/such/weights.pth"), "weights file no/such/weights.pth does not exist"),
])
def test_train_rejects_bad_input_with_one_clear_message(tmp_path, args, message):
    result = lmf("train", *args, "--results", str(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr
    assert not any(tmp_path.iterdir())  # nothing half-written


def train_config(*args):
    """The RunConfig that ``lmf train ARGS`` would train."""
    return config_from_args(build_parser().parse_args(["train", *args]))


@pytest.mark.parametrize(("args", "pretrained"), [
    ((), False),  # the cpu profile trains from scratch
    (("--pretrained",), True),
    (("--profile", "paper"), True),  # the paper profile starts from ImageNet weights
    (("--profile", "paper", "--no-pretrained"), False),
])
def test_pretrained_flag_overrides_the_profile(args, pretrained):
    config = train_config(*args)
    assert config.pretrained is pretrained
    assert config.weights is None


def test_weights_flag_reaches_the_run_config(tmp_path):
    path = tmp_path / "densenet121-a639ec97.pth"
    torch.save({}, path)
    config = train_config("--profile", "paper", "--model", "densenet121", "--weights", str(path),
                          "--no-pretrained")
    assert (config.model, config.weights, config.pretrained) == ("densenet121", str(path), False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a CPU-only machine")
def test_bench_on_a_machine_without_cuda_says_so():
    result = lmf("bench")
    assert result.returncode == 2
    assert "CUDA is not available" in result.stderr


def test_bench_on_cpu_prints_a_table():
    result = lmf("bench", "--device", "cpu", "--models", "timm:resnet10t", "--image-size", "16",
                 "--batch-size", "4", "--steps", "1")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("| timm:resnet10t"))
    assert float(row.split("|")[2].replace(",", "")) > 0
