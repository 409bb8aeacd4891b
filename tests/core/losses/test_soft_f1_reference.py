"""lmf's soft-F1 loss pinned, and why Scholz et al.'s released PyTorch multi-class version differs.

The loss is ``1 − (1/K) Σ_k 2·tp_k / (p_k + t_k + ε)`` on the batch's softmax probabilities
(Scholz et al. 2024; their TensorFlow ``soft_f1`` computes it with ``y_true`` and ``y_pred`` in
this role). Their PyTorch ``SoftF1LossMulti`` calls its binary loss with the one-hot target
column where the logits belong and the softmax column where the target belongs, so the sigmoid
is applied to the target and the loss stays far from 0 on a perfect batch. That variant is
written here only, as the counter-example.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lmf.losses import build_loss

K = 4


def _loss(logits, targets) -> float:
    return float(build_loss("soft_f1", np.ones(K))(torch.as_tensor(logits),
                                                    torch.as_tensor(targets)))


def _numpy_soft_f1_loss(logits, targets, eps=1e-8) -> float:
    z = np.asarray(logits, dtype=np.float64)
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    onehot = np.eye(K)[targets]
    tp = (probs * onehot).sum(axis=0)
    return float(1 - np.mean(2 * tp / (probs.sum(axis=0) + onehot.sum(axis=0) + eps)))


def _binary_f1_loss_with_logits(pred, target):
    """The released binary loss: sigmoid of its first argument, F1 from precision and recall."""
    pred = torch.sigmoid(pred)
    tp = (target * pred).sum()
    fp = ((1 - target) * pred).sum()
    fn = (target * (1 - pred)).sum()
    precision, recall = tp / (tp + fp + 1e-16), tp / (tp + fn + 1e-16)
    return 1 - 2 * precision * recall / (precision + recall + 1e-16)


def _swapped_multiclass(logits, onehot):
    """The released multi-class loss: softmax, then per class the binary loss called with
    (target column, probability column), i.e. prediction and target swapped."""
    probs = torch.softmax(logits, dim=1)
    return sum(_binary_f1_loss_with_logits(onehot[:, k], probs[:, k]) for k in range(K)) / K


def _perfect_batch():
    targets = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    return 50.0 * F.one_hot(targets, K).double(), targets  # softmax is one-hot to 1e-21


def test_soft_f1_loss_is_zero_on_a_perfect_batch():
    logits, targets = _perfect_batch()
    assert _loss(logits, targets) == pytest.approx(0.0, abs=1e-8)


def test_soft_f1_loss_on_a_fixed_random_batch_is_the_formula():
    rng = np.random.default_rng(2024)
    logits = np.round(rng.normal(0, 2, (16, K)), 3)
    targets = rng.integers(0, K, 16)
    assert _loss(logits, targets) == pytest.approx(_numpy_soft_f1_loss(logits, targets),
                                                   abs=1e-12)
    assert _loss(logits, targets) == pytest.approx(0.79216897, abs=1e-7)  # pinned value


def test_swapped_arguments_do_not_reach_zero_on_a_perfect_batch():
    logits, targets = _perfect_batch()
    onehot = F.one_hot(targets, K).double()
    swapped = float(_swapped_multiclass(logits, onehot))
    # by hand: "prediction" sigmoid(1) on the 2 own samples of a class, sigmoid(0) = 0.5 on the
    # 6 others; "target" the (one-hot) softmax: tp = 2σ(1), fp = 6·0.5, fn = 2(1 − σ(1))
    s = 1 / (1 + np.exp(-1.0))
    tp, fp, fn = 2 * s, 3.0, 2 * (1 - s)
    assert swapped == pytest.approx(1 - 2 * tp / (2 * tp + fp + fn), abs=1e-9)
    assert swapped > 0.5
    # in the right roles (probabilities as prediction, one-hot as target) the per-class F1
    # 2·tp / (2·tp + fp + fn) is lmf's loss, 0 up to its ε
    probs = torch.softmax(logits, dim=1)
    correct = np.mean([1 - 2 * float((probs[:, k] * onehot[:, k]).sum())
                       / float(probs[:, k].sum() + onehot[:, k].sum()) for k in range(K)])
    assert correct == pytest.approx(0.0, abs=1e-12)
    assert correct == pytest.approx(_loss(logits, targets), abs=1e-8)
