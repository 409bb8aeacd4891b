"""Asymmetric unified focal loss (Yeung et al. 2022, as used by Cui et al.) for classification."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from lmf.core.errors import ConfigError
from lmf.core.validation import as_counts, check_number
from lmf.losses.base import ClassLoss
from lmf.losses.ops import log_softmax

EPS = 1e-7


def rare_classes(counts) -> torch.Tensor:
    """Which classes count as "rare": a training count below the mean count ``N / K``.

    Yeung et al. treat segmentation's foreground classes as rare and the background as common;
    for classification this package's assumption is that a class is rare when it has fewer
    training examples than it would have in a balanced set of the same size.
    """
    n = as_counts(counts)
    return torch.as_tensor(n < n.mean(), dtype=torch.bool)


def unified_focal_loss(logits: torch.Tensor, targets: torch.Tensor, rare: torch.Tensor,
                       lam: float = 0.5, delta: float = 0.6, gamma: float = 0.5,
                       eps: float = EPS) -> torch.Tensor:
    r"""Asymmetric unified focal loss on the batch's soft counts, multi-class classification form.

    .. math::
        L = \lambda \, L_{aF} + (1 - \lambda) \, L_{aFT}

    Asymmetric focal part (per sample, mean over the batch): rare classes keep the plain CE,
    common classes are focally suppressed,

    .. math::
        L_{aF} = \frac{1}{B} \sum_i w_i (-\log p_{i,t}), \quad
        w_i = \begin{cases} \delta & y_i \text{ rare} \\
        (1 - \delta)(1 - p_{i,t})^{\gamma} & \text{otherwise} \end{cases}

    Asymmetric focal Tversky part (per class, mean over the K classes), with soft counts over
    the batch :math:`tp_c = \sum_i P_{ic} T_{ic}`, :math:`fn_c = \sum_i (1 - P_{ic}) T_{ic}`,
    :math:`fp_c = \sum_i P_{ic} (1 - T_{ic})` and the Tversky index
    :math:`TI_c = (tp_c + \varepsilon) / (tp_c + \delta fn_c + (1 - \delta) fp_c + \varepsilon)`:
    rare classes are enhanced, :math:`(1 - TI_c)^{1 - \gamma}`, common ones enter as
    :math:`1 - TI_c`.

    Source: Yeung et al. 2022, "Unified Focal loss" (Comput. Med. Imaging Graph. 95), Eqs for
    :math:`\mathcal{L}_{maF}`, :math:`\mathcal{L}_{maFT}`, :math:`\mathcal{L}_{aUF}` and their
    reference code (ε = 1e-7), which Cui et al. adopt for MR segmentation with λ = 0.5,
    δ = 0.6 and tune γ. Cui et al.'s own equations (their Eqs 6–12) are garbled (e.g. Eq 9 and
    Eq 12 weight the terms by δ and τ), so this follows Yeung et al.; the defaults λ = 0.5,
    δ = 0.6, γ = 0.5 are assumed values. Which classes are rare is an assumption too, see
    :func:`rare_classes`. :math:`1 - TI_c` and :math:`1 - p_t` are clamped at ε before the
    powers so that the gradient stays finite when they reach 0.
    """
    # Per-class constants: focal weight and exponent (rare vs common).
    class_weight = torch.where(rare, delta, 1 - delta).to(logits.dtype)
    focal_exponent = torch.where(rare, 0.0, gamma).to(logits.dtype)

    log_probs = log_softmax(logits)
    ce = F.nll_loss(log_probs, targets, reduction="none")
    focal = asymmetric_focal_terms(ce, class_weight[targets], focal_exponent[targets], eps).mean()

    probs = log_probs.exp()
    onehot = F.one_hot(targets, logits.shape[1]).to(probs.dtype)
    tversky = tversky_index((probs * onehot).sum(0), onehot.sum(0), probs.sum(0), delta, eps)
    return lam * focal + (1 - lam) * focal_tversky_terms(tversky, rare, gamma, eps).mean()


def asymmetric_focal_terms(ce: torch.Tensor, weight, exponent, eps: float = EPS) -> torch.Tensor:
    r"""Per-sample terms :math:`w \, (1 - p_t)^{e} \, (-\log p_t)` from ``ce`` :math:`= -\log p_t`.

    ``weight`` and ``exponent`` are numbers or tensors broadcast against ``ce`` (per sample).
    :math:`1 - p_t` is ``-expm1(-ce)``, clamped at ε so that the power's gradient stays finite.
    """
    one_minus_pt = (-torch.expm1(-ce)).clamp_min(eps)
    return weight * one_minus_pt.pow(exponent) * ce


def tversky_index(tp: torch.Tensor, count: torch.Tensor, mass: torch.Tensor, delta: float,
                  eps: float = EPS) -> torch.Tensor:
    r"""Soft Tversky index from soft counts: ``tp`` :math:`= \sum P T`, ``count``
    :math:`= \sum T` (the true members), ``mass`` :math:`= \sum P` (the predicted mass).

    .. math::
        TI = \frac{tp + \varepsilon}{tp + \delta \, fn + (1 - \delta) \, fp + \varepsilon}
           = \frac{tp + \varepsilon}{\delta \, count + (1 - \delta) \, mass + \varepsilon}

    as :math:`fn = \sum (1 - P) T = count - tp` and :math:`fp = \sum P (1 - T) = mass - tp`.
    """
    return (tp + eps) / (delta * count + (1 - delta) * mass + eps)


def focal_tversky_terms(tversky: torch.Tensor, rare: torch.Tensor, gamma: float,
                        eps: float = EPS) -> torch.Tensor:
    r"""Asymmetric focal Tversky terms: :math:`(1 - TI_c)^{1 - \gamma}` for rare classes,
    :math:`1 - TI_c` for common ones; ``rare`` (K booleans) broadcasts over the last dimension.

    :math:`1 - TI_c` is clamped at ε before the power so that the gradient stays finite.
    """
    exponent = torch.where(rare, 1 - gamma, 1.0).to(tversky.dtype)
    return (1 - tversky).clamp_min(eps).pow(exponent)


class UnifiedFocalLoss(ClassLoss):
    """Asymmetric unified focal loss (:func:`unified_focal_loss`); the rare-class mask is a buffer.

    Args:
        rare: K booleans, True for the rare classes (see :func:`rare_classes`).
        lam: weight λ ∈ [0, 1] of the focal part (the Tversky part gets 1 − λ).
        delta: δ ∈ [0, 1], weight of rare classes / false negatives.
        gamma: γ ∈ [0, 1], focal suppression of common classes and enhancement of rare ones.
    """

    def __init__(self, rare, lam: float = 0.5, delta: float = 0.6, gamma: float = 0.5):
        rare = torch.as_tensor(np.asarray(rare, dtype=bool))
        if rare.dim() != 1 or rare.numel() < 2:
            raise ConfigError(f"rare must hold one boolean per class (K ≥ 2), got {rare.tolist()}")
        super().__init__(len(rare))
        self.lam = check_number("lam", lam, low=0.0, high=1.0)
        self.delta = check_number("delta", delta, low=0.0, high=1.0)
        self.gamma = check_number("gamma", gamma, low=0.0, high=1.0)
        self.register_buffer("rare", rare)

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return unified_focal_loss(logits, targets, self.rare, self.lam, self.delta, self.gamma)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, lam={self.lam:g}, delta={self.delta:g}, "
                f"gamma={self.gamma:g}, rare={self.rare.nonzero().flatten().tolist()}")
