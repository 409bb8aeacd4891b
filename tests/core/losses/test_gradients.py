"""Gradients (float64 gradcheck), stability at extreme logits, buffers following .to()."""

import pytest
import torch

from lmf.losses import LOSSES, build_loss

COUNTS = [50, 20, 6, 2]
K = len(COUNTS)
# Parameters that make every term of a loss active (ldam_drw past its re-weighting epoch).
ACTIVE = {"ldam_drw": {"drw_epoch": 0}, "cb": {"base": "focal", "gamma": 0.7}}


def built(name):
    return build_loss(name, COUNTS, **ACTIVE.get(name, {}))


@pytest.mark.parametrize("name", LOSSES)
def test_gradcheck_float64(name):
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(6, K, dtype=torch.float64, generator=generator, requires_grad=True)
    targets = torch.tensor([0, 1, 2, 3, 1, 0])
    loss = built(name).to(torch.float64)
    # LDAM's scale s = 30 makes the loss steep; a small step keeps finite differences accurate.
    assert torch.autograd.gradcheck(lambda z: loss(z, targets), (logits,), eps=1e-7, atol=1e-5)


def extreme_batches():
    """Logits ±100: confident right, confident wrong, and every prediction in one class."""
    targets = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    right = torch.full((8, K), -100.0).scatter(1, targets[:, None], 100.0)
    wrong = torch.full((8, K), -100.0).scatter(1, ((targets + 1) % K)[:, None], 100.0)
    one_class = torch.full((8, K), -100.0)
    one_class[:, 2] = 100.0
    return [(right, targets), (wrong, targets), (one_class, targets),
            (one_class, torch.full((8,), 2))]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_value_and_gradient_at_extreme_logits(name, dtype):
    loss = built(name).to(dtype)
    for logits, targets in extreme_batches():
        logits = logits.to(dtype).requires_grad_()
        value = loss(logits, targets)
        value.backward()
        assert torch.isfinite(value), (name, value)
        assert torch.isfinite(logits.grad).all(), (name, logits.grad)


def float_buffers(module):
    return {name: b for name, b in module.named_buffers() if b.is_floating_point()}


@pytest.mark.parametrize("name", ["wcce", "bwcce", "ldam", "focal", "lmf", "cb", "ldam_drw"])
def test_per_class_tensors_are_buffers_that_follow_dtype_and_device(name):
    loss = built(name)
    buffers = float_buffers(loss)
    assert buffers and all(b.dtype == torch.float32 for b in buffers.values())
    assert set(buffers) <= set(loss.state_dict())
    assert all(b.dtype == torch.float64 for b in float_buffers(loss.to(torch.float64)).values())
    assert all(b.device.type == "meta" for b in loss.to("meta").buffers())


def test_unified_focal_rare_mask_follows_device():
    loss = build_loss("unified_focal", COUNTS)
    # Mean count 19.5: classes with 6 and 2 examples are rare.
    assert loss.rare.tolist() == [False, False, True, True]
    assert loss.to("meta").rare.device.type == "meta"


@pytest.mark.cuda
@pytest.mark.parametrize("name", LOSSES)
def test_losses_run_on_cuda_under_autocast(name):
    loss = built(name).cuda()
    logits = torch.randn(16, K, device="cuda", requires_grad=True)
    targets = torch.arange(16, device="cuda") % K
    with torch.autocast("cuda", dtype=torch.float16):
        value = loss(logits.half(), targets)
    value.backward()
    assert value.dtype == torch.float32 and torch.isfinite(logits.grad).all()
    expected = built(name)(logits.detach().half().float().cpu(), targets.cpu())
    torch.testing.assert_close(value.cpu(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("params", "gamma"), [
    ({}, 1.5), ({"alpha": 0.6, "beta": 1.3, "weight": None}, 0.5), ({"alpha": 2.0}, 0.0),
    ({"beta": 0.0, "s": 10.0, "max_m": 1.0}, 1.0),
])
def test_fused_lmf_matches_the_composed_losses_in_value_and_gradient(params, gamma):
    # LMF runs as one autograd node with a hand-derived gradient; autograd through the two
    # composed losses is the reference.
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(64, K, dtype=torch.float64, generator=generator) * 2
    targets = torch.randint(0, K, (64,), generator=generator)
    lmf = build_loss("lmf", COUNTS, gamma=gamma, **params).to(torch.float64)
    ldam_params = {k: v for k, v in params.items() if k in ("s", "max_m", "weight")}
    ldam = build_loss("ldam", COUNTS, **ldam_params).to(torch.float64)
    focal = build_loss("focal", COUNTS, gamma=gamma, max_m=params.get("max_m", 0.5),
                       alpha=params.get("weight", "margins")).to(torch.float64)
    z_fused = logits.clone().requires_grad_()
    fused = lmf(z_fused, targets)
    fused.backward()
    z_ref = logits.clone().requires_grad_()
    reference = lmf.alpha * ldam(z_ref, targets) + lmf.beta * focal(z_ref, targets)
    reference.backward()
    torch.testing.assert_close(fused, reference, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(z_fused.grad, z_ref.grad, rtol=1e-10, atol=1e-12)
