"""``benchmarks/gpu_check.py`` on a machine without a GPU: the skip message, and a CPU smoke run."""

import dataclasses
import importlib.util
import json
import runpy
import sys

import pytest
import torch

from lmf.classification.paper import lmf_weights
from lmf.core.paths import repo_root
from lmf.losses import LOSSES

SCRIPT = repo_root() / "benchmarks" / "gpu_check.py"
SMOKE = ["--allow-cpu", "--profile", "cpu", "--models", "resnet50", "--image-size", "32",
         "--batch-size", "8", "--steps", "2", "--warmup", "1", "--modes", "eager"]


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a CPU-only machine")
def test_without_a_gpu_it_says_so_measures_nothing_and_exits_0(tmp_path, monkeypatch, capsys):
    target = tmp_path / "results.json"
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--json", str(target)])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip().splitlines() == [
        "gpu_check: no GPU (CUDA) is present on this machine; nothing was measured. "
        "Run it on a GPU machine, or pass --allow-cpu for a smoke run of the script."]
    assert not target.exists()


def test_cpu_smoke_run_writes_every_result(gpu_check, tmp_path, capsys):
    target = tmp_path / "out" / "results.json"
    code = gpu_check.main([*SMOKE, "--tests", "tests/core/losses/test_gradients.py",
                           "--json", str(target)])
    assert code == 0
    results = json.loads(target.read_text())
    assert results["settings"] == {"profile": "cpu", "dataset": "ham10000", "loss": "lmf",
                                   "modes": ["eager"], "steps": 2, "warmup": 1,
                                   "batch_size": 8, "image_size": 32}
    (row,) = results["models"]
    # the cpu profile's stand-in for ResNet50, with the paper run's LMF weights (Table 6)
    assert (row["model_id"], row["arch"], row["pretrained"]) == ("resnet50", "timm:resnet10t", False)
    alpha, beta = lmf_weights("ham10000", "resnet50")
    assert row["loss_params"] == {"alpha": alpha, "beta": beta}
    for side in ("lmf", "bare"):
        timing = row[side]["eager"]
        assert timing["images_per_second"] > 0 and timing["first_step_s"] > 0
        assert timing["step_ms"] * timing["images_per_second"] == pytest.approx(8 * 1000)
        assert timing["peak_memory_gib"] is None  # no CUDA allocator on the CPU
    assert row["ratio"]["eager"] == pytest.approx(
        row["lmf"]["eager"]["images_per_second"] / row["bare"]["eager"]["images_per_second"])
    assert "compile" not in row  # needs both modes
    # the CUDA-only tests were collected and skipped: one per loss
    tests = results["tests"]
    assert (tests["passed"], tests["failed"], tests["skipped"]) == (0, 0, len(LOSSES))
    out = capsys.readouterr().out
    assert "| timm:resnet10t | eager |" in out
    assert f"0 passed, 0 failed, {len(LOSSES)} skipped" in out


def test_lmf_step_trains_the_paper_run(gpu_check):
    args = gpu_check.parse_args([*SMOKE, "--loss", "cce"])
    config = gpu_check.paper_run("resnet50", args)
    assert (config.lr, config.weight_decay, config.batch_size) == (1e-4, 5e-4, 8)
    counts = gpu_check.train_counts("ham10000")
    # HAM10000's training split (Table 1): 7 classes, 7011 images, NV the largest
    assert len(counts) == 7 and counts.sum() == 7011 and counts.max() == 4693
    # a tiny timm model and a larger step memorise the fixed batch in a few steps
    config = dataclasses.replace(config, model="timm:test_resnet", image_size=16, lr=1e-2)
    torch.manual_seed(0)
    with gpu_check.cpu_threads(config.threads):
        step = gpu_check.lmf_step(config, counts, compile=False)
        losses = [float(step()) for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0]  # a fixed batch is memorised


def test_compiling_pays_when_its_time_is_recovered_within_a_paper_run(gpu_check):
    config = gpu_check.paper_run("resnet50", gpu_check.parse_args([]))
    counts = gpu_check.train_counts("ham10000")
    eager = {"first_step_s": 1.0, "step_ms": 100.0, "images_per_second": 320.0}
    faster = {"first_step_s": 11.0, "step_ms": 60.0, "images_per_second": 533.3}
    verdict = gpu_check.compile_verdict({"eager": eager, "compiled": faster}, config, counts)
    # 10 s of compilation saved back at 40 ms a step: 250 steps; 100 epochs of ceil(7011/32)
    assert verdict["seconds"] == pytest.approx(10.0)
    assert verdict["break_even_steps"] == 250
    assert verdict["paper_run_steps"] == 100 * 220
    assert verdict["speedup"] == pytest.approx(533.3 / 320.0) and verdict["pays"]
    slower = {**faster, "step_ms": 120.0, "images_per_second": 266.7}
    verdict = gpu_check.compile_verdict({"eager": eager, "compiled": slower}, config, counts)
    assert verdict["break_even_steps"] is None and not verdict["pays"]
