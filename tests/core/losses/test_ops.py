"""The class-major CPU route of log-softmax / cross-entropy computes the same function."""

import pytest
import torch
import torch.nn.functional as F

from lmf.losses import LOSSES, build_loss, ops

# 400 × 5 logits: above the routing threshold (B·K ≥ 1024, K < 16).
B, K = 400, 5
COUNTS = [200, 90, 40, 12, 3]


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(B, K, dtype=torch.float64, generator=generator) * 3
    targets = torch.randint(0, K, (B,), generator=generator)
    return logits, targets


def test_large_cpu_batches_take_the_class_major_route(batch):
    assert ops._transposed(batch[0])
    assert not ops._transposed(batch[0][:32])
    assert not ops._transposed(torch.zeros(400, 16))


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_routed_cross_entropy_equals_pytorch(batch, reduction, weighted):
    logits, targets = batch
    weight = torch.tensor([0.1, 0.2, 0.3, 0.5, 1.0], dtype=torch.float64) if weighted else None
    z = logits.clone().requires_grad_()
    got = ops.cross_entropy(z, targets, weight, reduction)
    got.sum().backward()
    z_ref = logits.clone().requires_grad_()
    expected = F.cross_entropy(z_ref, targets, weight=weight, reduction=reduction)
    expected.sum().backward()
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(z.grad, z_ref.grad)


def test_routed_log_softmax_equals_pytorch(batch):
    torch.testing.assert_close(ops.log_softmax(batch[0]), F.log_softmax(batch[0], dim=1))


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_agrees_on_both_routes(name, batch, monkeypatch):
    logits, targets = batch
    loss = build_loss(name, COUNTS).to(torch.float64)
    routed = loss(logits, targets)
    monkeypatch.setattr(ops, "TRANSPOSED_MIN_NUMEL", 10**9)
    assert not ops._transposed(logits)
    torch.testing.assert_close(routed, loss(logits, targets))
