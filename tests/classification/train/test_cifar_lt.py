"""The long-tailed CIFAR protocol: ResNet-32, the cosine head, SGD with warm-up and multi-step
decay, the cifar_lt profile and grid, a two-epoch run on a torchvision-format fixture, and the
tables beside Cao et al. 2019."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from lmf.classification.models import build_model
from lmf.classification.profiles import get_profile
from lmf.classification.report.cifar_lt import error_table, per_class_accuracy
from lmf.classification.resnet_cifar import NormedLinear
from lmf.classification.train import fit, load_model
from lmf.core import runs
from lmf.core.errors import ConfigError, RunError
from lmf.core.optim import build_optimizer, build_scheduler
from lmf.sweep import build_grid


def test_resnet32_has_the_parameters_of_the_architecture():
    conv = lambda cin, cout: 9 * cin * cout  # noqa: E731 - 3×3, no bias
    bn = lambda c: 2 * c  # noqa: E731
    block = lambda cin, cout: conv(cin, cout) + conv(cout, cout) + 2 * bn(cout)  # noqa: E731
    expected = conv(3, 16) + bn(16)
    for cin, cout in ((16, 16), (16, 32), (32, 64)):  # option A shortcuts have no parameters
        expected += block(cin, cout) + 4 * block(cout, cout)
    expected += 64 * 10 + 10
    model = build_model("resnet32_cifar", 10)
    assert sum(p.numel() for p in model.parameters()) == expected == 464_154


@pytest.mark.parametrize("arch", ["resnet32_cifar", "timm:test_resnet"])
def test_normed_head_gives_cosines(arch):
    torch.manual_seed(0)
    model = build_model(arch, 7, head="normed").eval()
    heads = [m for m in model.modules() if isinstance(m, NormedLinear)]
    assert len(heads) == 1 and not [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    features = []
    heads[0].register_forward_hook(lambda _m, inputs, _o: features.append(inputs[0]))
    with torch.no_grad():
        logits = model(torch.rand(4, 3, 32, 32))
    expected = F.cosine_similarity(features[0][:, :, None], heads[0].weight[None], dim=1)
    torch.testing.assert_close(logits, expected)
    assert logits.abs().max() <= 1.0 + 1e-6


def reference_lr(epoch, lr=0.1):
    """``adjust_learning_rate`` of kaidic/LDAM-DRW ``cifar_train.py`` (after its epoch + 1)."""
    if epoch <= 5:
        return lr * epoch / 5
    if epoch > 180:
        return lr * 0.0001
    if epoch > 160:
        return lr * 0.01
    return lr


def test_sgd_and_schedule_are_the_reference_ones():
    config = get_profile("cifar_lt").config("cifar10_lt", "resnet32", "ldam_drw")
    optimizer = build_optimizer(config, [torch.nn.Parameter(torch.zeros(1))])
    assert isinstance(optimizer, torch.optim.SGD)
    group = optimizer.param_groups[0]
    assert (group["momentum"], group["weight_decay"]) == (0.9, 2e-4)
    scheduler = build_scheduler(config, optimizer)
    lrs = []
    for _ in range(200):  # lmf's 0-based epoch e is the reference's epoch e + 1
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    for epoch in (1, 5, 6, 160, 161, 181):
        assert lrs[epoch - 1] == pytest.approx(reference_lr(epoch), rel=1e-12), epoch
    assert config.loss_params["drw_epoch"] == 160  # the reference's epoch // 160, 0-based


def test_profile_and_grid():
    profile = get_profile("cifar_lt")
    grid = build_grid("cifar_lt", profile, seeds=2)
    assert len(grid) == 2 * 1 * 6 * 2
    by_loss = {c.loss: c for c in grid if c.seed == 23 and c.dataset == "cifar10_lt"}
    assert set(by_loss) == {"cce", "focal", "ldam", "ldam_drw", "cb", "lmf"}
    assert {loss for loss, c in by_loss.items() if c.head == "normed"} == {"ldam", "ldam_drw"}
    assert by_loss["cb"].loss_params == {"base": "focal", "gamma": 1.0}
    assert (by_loss["cce"].epochs, by_loss["cce"].batch_size, by_loss["cce"].selection) == (
        200, 128, "test")
    with pytest.raises(ConfigError, match="--profile cifar_lt"):
        build_grid("cifar_lt", "cpu")


SMOKE = {"epochs": 2, "device": "cpu", "batch_size": 64, "warmup_epochs": 1,
         "lr_milestones": (1,), "dataset_params": {"imbalance": 5}}


def test_two_epoch_run_on_the_fixture(cifar_tree, tmp_path):
    root = cifar_tree("cifar10", per_class=30, test_per_class=3)
    config = get_profile("cifar_lt").config("cifar10_lt", "resnet32", "ldam_drw",
                                             data_root=str(root), **SMOKE,
                                             loss_params={"drw_epoch": 1})
    result = fit(config, tmp_path / "results", quiet=True)
    history = result.history
    assert history["lr"].tolist() == pytest.approx([0.1, 0.001])
    assert "val_macro_f1" not in history and "val" not in result.metrics
    assert result.metrics["best_epoch"] == int(history["test_accuracy"].idxmax())
    assert result.metrics["class_counts"]["train"]["class_000"] == 30
    model = load_model(result.run_dir)
    assert isinstance(model.linear, NormedLinear)

    rows = runs.load_runs(tmp_path / "results")
    table = error_table(rows)
    predictions = np.load(result.run_dir / runs.PREDICTIONS)
    error = 100 * np.mean(predictions["logits"].argmax(1) != predictions["labels"])
    assert table.loc[0, "top1_error"] == pytest.approx(error)
    per_class = per_class_accuracy(rows)
    assert per_class["train_images"].tolist() == [int(30 * 0.2 ** (i / 9)) for i in range(10)]
    hits = predictions["logits"].argmax(1) == predictions["labels"]
    expected = [100 * hits[predictions["labels"] == c].mean() for c in range(10)]
    assert per_class["accuracy"].tolist() == pytest.approx(expected)


def test_val_selection_needs_val_images(cifar_tree, tmp_path):
    root = cifar_tree("cifar10", per_class=10, test_per_class=1)
    config = get_profile("cifar_lt").config("cifar10_lt", "resnet32", "cce", data_root=str(root),
                                             **{**SMOKE, "selection": "val"})
    with pytest.raises(RunError, match="val_per_class"):
        fit(config, tmp_path / "results", quiet=True)


def _row(loss, seed, accuracy, head="linear"):
    return {"dataset": "cifar10_lt", "dataset_params": "{}", "loss": loss, "head": head,
            "selection": "test", "seed": seed, "test_accuracy": accuracy,
            "class_counts": {"train": {"a": 100, "b": 10}},
            "test_per_class_recall": {"a": 0.9 + seed / 100, "b": 0.5}}


def test_error_table_lays_seeds_beside_the_published_numbers():
    rows = pd.DataFrame([_row("ldam_drw", 0, 0.76, "normed"), _row("ldam_drw", 1, 0.78, "normed"),
                         _row("lmf", 0, 0.70)])
    table = error_table(rows).set_index("loss")
    assert table.loc["ldam_drw", "top1_error"] == pytest.approx(23.0)
    assert table.loc["ldam_drw", "top1_error_std"] == pytest.approx(np.std([24, 22], ddof=1))
    assert table.loc["ldam_drw", "paper_top1_error"] == 22.97
    assert table.loc["ldam_drw", "method"] == "LDAM-DRW" and table.loc["ldam_drw", "seeds"] == 2
    assert table.loc["ldam_drw", "diff_top1_error"] == pytest.approx(23.0 - 22.97)
    assert np.isnan(table.loc["lmf", "paper_top1_error"]) and table.loc["lmf", "method"] == "lmf"
    per_class = per_class_accuracy(rows).set_index(["loss", "class"])
    assert per_class.loc[("ldam_drw", "a"), "accuracy"] == pytest.approx(90.5)
    assert per_class.loc[("ldam_drw", "b"), "train_images"] == 10


@pytest.mark.parametrize("profile, loss", [("cpu", "lmf"), ("cifar_lt", "ldam_drw")])
def test_the_fused_optimiser_takes_the_steps_of_the_per_tensor_one(profile, loss):
    """The fused kernels (one pass over all tensors) apply the same update rule as PyTorch's
    per-tensor loop: after 20 steps the weights agree to float32 rounding."""
    config = get_profile(profile).config(next(iter(get_profile(profile).datasets)),
                                         next(iter(get_profile(profile).models)), loss)
    generator = torch.Generator().manual_seed(0)
    start = [torch.randn(64, 32, generator=generator), torch.randn(32, generator=generator)]
    grads = [[torch.randn_like(t) for t in start] for _ in range(20)]

    def train(make):
        weights = [torch.nn.Parameter(t.clone()) for t in start]
        optimizer = make(weights)
        for step in grads:
            for weight, grad in zip(weights, step, strict=True):
                weight.grad = grad.clone()
            optimizer.step()
        return optimizer, weights

    fused, fused_weights = train(lambda w: build_optimizer(config, w))
    group = fused.param_groups[0]
    assert group["fused"] is True
    reference_class = type(fused)
    options = {k: group[k] for k in ("lr", "weight_decay") } | (
        {"momentum": group["momentum"]} if reference_class is torch.optim.SGD else {})
    _, loop_weights = train(lambda w: reference_class(w, foreach=False, **options))
    for got, expected in zip(fused_weights, loop_weights, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
