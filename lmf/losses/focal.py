"""Focal loss (Lin et al. 2017) as the LMF paper uses it, and the class-balanced loss (Cui et al. 2019)."""

from __future__ import annotations

import torch

from lmf.core.validation import as_class_vector, check_choice, check_number
from lmf.losses.base import ClassLoss
from lmf.losses.ops import cross_entropy

CB_BASES = ("ce", "focal")


def focal_terms(ce: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""Per-sample focal loss :math:`(1 - p_t)^\gamma (-\log p_t)` from :math:`-\log p_t`.

    :math:`1 - p_t` is computed as ``-expm1(log p_t)`` (exact near :math:`p_t = 1`); for
    :math:`0 < \gamma < 1` it is clamped at the dtype's machine epsilon so that the gradient
    stays finite when :math:`p_t` rounds to 1. With :math:`\gamma = 0` it is
    :math:`-\log p_t`, computed without the factor.
    """
    if gamma == 0:
        return ce
    one_minus_pt = -torch.expm1(-ce)
    if gamma < 1:
        one_minus_pt = one_minus_pt.clamp_min(torch.finfo(ce.dtype).eps)
    return one_minus_pt.pow(gamma) * ce


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 1.5,
               alpha: torch.Tensor | None = None) -> torch.Tensor:
    r"""α-weighted focal loss with a plain batch mean, as behind the LMF paper's "Focal" results.

    .. math::
        L_{FL} = \frac{1}{B} \sum_i \alpha_{y_i} \, (1 - p_{i,t})^\gamma \, (-\log p_{i,t}),
        \qquad p_{i,t} = \operatorname{softmax}(z_i)_{y_i}

    LMF paper Eqs 6–7 (Lin et al. 2017). :math:`p_t` is the unweighted softmax probability of the
    true class and the mean is *not* divided by :math:`\sum_i \alpha_{y_i}` (the third-party
    multi-class focal loss the authors load). ``alpha`` is a vector of K class weights — the paper
    uses the LDAM margins — or None for Lin et al.'s unweighted loss; ``gamma = 0, alpha = None``
    is cross-entropy.
    """
    loss = focal_terms(cross_entropy(logits, targets, reduction="none"), gamma)
    if alpha is not None:
        loss = alpha.to(loss.dtype)[targets] * loss
    return loss.mean()


class FocalLoss(ClassLoss):
    """Focal loss (:func:`focal_loss`) with its class weights α as a buffer.

    Args:
        num_classes: K.
        gamma: focusing parameter γ ≥ 0 (1.5 in the LMF paper).
        alpha: K class weights α (the paper: the LDAM margins), or None for no weighting.
            Not the LMF weight α of :class:`lmf.losses.LMFLoss` — the paper uses α for both.
    """

    def __init__(self, num_classes: int, gamma: float = 1.5, alpha=None):
        super().__init__(num_classes)
        self.gamma = check_number("gamma", gamma, low=0.0)
        self.register_buffer(
            "alpha", None if alpha is None else as_class_vector("alpha", alpha, num_classes)
        )

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return focal_loss(logits, targets, self.gamma, self.alpha)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, gamma={self.gamma:g}, weighted={self.alpha is not None}"


class ClassBalancedLoss(FocalLoss):
    r"""Class-balanced loss of Cui et al. 2019 over cross-entropy or focal loss.

    .. math::
        L_{CB} = \frac{1}{B} \sum_i w_{y_i} \, \ell(z_i, y_i), \qquad
        w_j = \frac{K}{\sum_k 1/E_{n_k}} \cdot \frac{1}{E_{n_j}}, \qquad
        E_{n} = \frac{1 - \beta^{n}}{1 - \beta}

    with :math:`\ell` the softmax cross-entropy (``base="ce"``) or the focal term
    :math:`(1 - p_t)^\gamma (-\log p_t)` (``base="focal"``); weights from
    :func:`lmf.losses.class_balanced_weights`. A plain batch mean, as in Cui et al.'s code.
    :math:`\beta = 0` gives uniform weights, i.e. plain CE (or unweighted focal). Cui et al.'s
    focal variant uses sigmoid outputs; this one keeps the softmax of the rest of the package.

    Args:
        weight: K class-balanced weights.
        beta: the β the weights were computed with (kept for the record).
        base: ``"ce"`` or ``"focal"``.
        gamma: focusing parameter of the focal base (0 for ``"ce"``).
    """

    def __init__(self, weight, beta: float, base: str = "ce", gamma: float = 0.0):
        weight = as_class_vector("weight", weight)
        self.base = check_choice("base", base, CB_BASES)
        super().__init__(len(weight), gamma=gamma if base == "focal" else 0.0, alpha=weight)
        self.beta = check_number("beta", beta, low=0.0, high=1.0, high_open=True)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, beta={self.beta:g}, base={self.base!r}, gamma={self.gamma:g}"
