"""The numbers behind notebook 02: each loss against ``p_t`` and against class size, the per-class
factors (margins and weights) of each dataset, and closed-form gradients to check autograd.

Losses are evaluated through ``lmf.losses`` on logits built so that the softmax probability of
the true class is exactly ``p_t`` and the remaining mass is spread evenly over the other classes:
``z_y = log p_t``, ``z_j = log((1 − p_t)/(K − 1))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from lmf.classification.paper import split_counts
from lmf.losses import build_loss, bwcce_weights, inverse_frequency_weights, ldam_margins


def training_counts(dataset: str) -> pd.Series:
    """Training-split class counts of a paper dataset (sorted class order), from Table 1/5."""
    rows = split_counts().query("dataset == @dataset").sort_values("class")
    return pd.Series(rows.train.to_numpy(), index=rows["class"].astype(str), name=dataset)


def class_factors(counts: pd.Series, max_m: float = 0.5) -> pd.DataFrame:
    """Per class: training count, LDAM margin Δ_j (also the focal α_t and the LDAM CE weight in
    the authors' code), BWCCE weight and inverse-frequency (WCCE) weight."""
    n = counts.to_numpy()
    return pd.DataFrame({
        "class": counts.index,
        "n_train": n,
        "margin": ldam_margins(n, max_m).numpy(),
        "bwcce_weight": bwcce_weights(n).numpy(),
        "wcce_weight": inverse_frequency_weights(n).numpy(),
    })


def logits_for(p_t, num_classes: int, target: int = 0, dtype=torch.float64) -> torch.Tensor:
    """Logits (one row per value of ``p_t``) whose softmax gives ``p_t`` to class ``target`` and
    ``(1 − p_t)/(K − 1)`` to every other class."""
    p_t = torch.as_tensor(np.asarray(p_t, dtype=np.float64), dtype=dtype).reshape(-1, 1)
    logits = torch.log((1 - p_t) / (num_classes - 1)).repeat(1, num_classes)
    logits[:, target] = torch.log(p_t).squeeze(1)
    return logits


def per_sample(loss: torch.nn.Module, logits: torch.Tensor, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Loss of each row of ``logits`` as a batch of one sample of class ``target``, and its
    gradient with respect to the true-class logit ``z_y``."""
    values, grads = [], []
    for row in logits:
        z = row.unsqueeze(0).clone().requires_grad_(True)
        value = loss(z, torch.tensor([target]))
        (grad,) = torch.autograd.grad(value, z)
        values.append(value.item())
        grads.append(grad[0, target].item())
    return np.array(values), np.array(grads)


def loss_vs_pt(counts, losses: dict[str, dict], p_t=None, target: int | None = None) -> pd.DataFrame:
    """Long table (loss, p_t, value, grad_zy) of each loss for one sample of class ``target``.

    ``losses`` maps a display name to ``{"name": loss id, **params}`` for ``build_loss``;
    ``target`` defaults to the rarest class (where margins and weights are largest).
    """
    counts = np.asarray(counts)
    target = int(np.argmin(counts)) if target is None else target
    p_t = np.linspace(0.01, 0.99, 99) if p_t is None else np.asarray(p_t)
    logits = logits_for(p_t, len(counts), target)
    frames = []
    for label, spec in losses.items():
        spec = dict(spec)
        module = build_loss(spec.pop("name"), counts, **spec).double()
        value, grad = per_sample(module, logits, target)
        frames.append(pd.DataFrame({"loss": label, "p_t": p_t, "value": value, "grad_zy": grad}))
    return pd.concat(frames, ignore_index=True)


def loss_vs_class(counts: pd.Series, losses: dict[str, dict], p_t: float | None = None) -> pd.DataFrame:
    """Long table (loss, class, n_train, value, grad_zy) over the classes of one dataset, every
    sample at the same ``p_t`` (default ``1/K``: all logits equal, an untrained network): how
    margins and class weights depend on the class count.

    ``value`` is the loss of one sample of the class alone (a batch of one, where PyTorch's
    weighted mean cancels the CE class weights but the focal α_t and the margins remain);
    ``grad_zy`` is ``K`` times the gradient of the loss of a balanced batch (one sample per
    class) with respect to that sample's true-class logit, so class weights show as they act in
    training.
    """
    n = counts.to_numpy()
    k = len(n)
    p_t = 1.0 / k if p_t is None else p_t
    classes = torch.arange(k)
    batch = torch.cat([logits_for([p_t], k, target) for target in range(k)])
    frames = []
    for label, spec in losses.items():
        spec = dict(spec)
        module = build_loss(spec.pop("name"), n, **spec).double()
        value = [per_sample(module, batch[j:j + 1], j)[0][0] for j in range(k)]
        z = batch.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(module(z, classes), z)
        frames.append(pd.DataFrame({"loss": label, "class": counts.index, "n_train": n,
                                    "value": value, "grad_zy": k * grad[classes, classes].numpy()}))
    return pd.concat(frames, ignore_index=True)


def focal_gradient(logits: torch.Tensor, targets: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""Closed-form gradient of the per-sample focal loss :math:`-(1-p_t)^\gamma \log p_t`
    with respect to the logits (no class weights, one row per sample):

    .. math::
        \frac{\partial FL}{\partial z_j} = (\mathbb{1}[j = y] - p_j)\,
        \big(\gamma\, p_t (1 - p_t)^{\gamma - 1} \log p_t - (1 - p_t)^\gamma\big)

    from :math:`\partial p_t / \partial z_j = p_t(\mathbb{1}[j = y] - p_j)`. With
    :math:`\gamma = 0` this is the cross-entropy gradient :math:`p - \mathrm{onehot}(y)`.
    """
    p = torch.softmax(logits, dim=1)
    p_t = p.gather(1, targets.unsqueeze(1))
    factor = gamma * p_t * (1 - p_t) ** (gamma - 1) * torch.log(p_t) - (1 - p_t) ** gamma
    onehot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (onehot - p) * factor


def ldam_gradient(logits: torch.Tensor, targets: torch.Tensor, margins: torch.Tensor,
                  s: float) -> torch.Tensor:
    r"""Closed-form gradient of the per-sample, unweighted LDAM loss with respect to the logits:
    :math:`s\,(\mathrm{softmax}(s(z - \Delta_y \mathrm{onehot}(y))) - \mathrm{onehot}(y))`."""
    onehot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    shifted = s * (logits - margins.to(logits.dtype)[targets].unsqueeze(1) * onehot)
    return s * (torch.softmax(shifted, dim=1) - onehot)


def autograd_check(counts, gamma: float = 1.5, s: float = 30.0, batch: int = 8,
                   seed: int = 0) -> pd.DataFrame:
    """Largest absolute difference between autograd and the closed forms above, on random
    float64 logits, plus ``torch.autograd.gradcheck`` of every paper loss."""
    generator = torch.Generator().manual_seed(seed)
    k = len(counts)
    logits = torch.randn(batch, k, generator=generator, dtype=torch.float64) * 2
    targets = torch.randint(0, k, (batch,), generator=generator)
    margins = ldam_margins(counts).double()
    checks = {
        "focal (γ, no α)": (build_loss("focal", counts, gamma=gamma, alpha=None),
                            focal_gradient(logits, targets, gamma) / batch),
        "cross-entropy (focal, γ = 0)": (build_loss("focal", counts, gamma=0.0, alpha=None),
                                         focal_gradient(logits, targets, 0.0) / batch),
        "LDAM (no weights)": (build_loss("ldam", counts, s=s, weight=None),
                              ldam_gradient(logits, targets, margins, s) / batch),
    }
    rows = []
    for label, (module, expected) in checks.items():
        z = logits.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(module.double()(z, targets), z)
        rows.append((label, float((grad - expected).abs().max())))
    for name in ("cce", "bwcce", "ldam", "focal", "lmf"):
        module = build_loss(name, counts).double()
        z = logits.clone().requires_grad_(True)
        passed = torch.autograd.gradcheck(lambda x, m=module: m(x, targets), (z,))
        rows.append((f"gradcheck {name}", 0.0 if passed else float("nan")))
    return pd.DataFrame(rows, columns=["check", "max_abs_difference"])
