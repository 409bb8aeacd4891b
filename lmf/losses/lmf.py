"""The LMF loss of Sadi et al.: a weighted sum of LDAM and focal loss on the same logits."""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from lmf.core.errors import ConfigError
from lmf.core.validation import as_class_vector, check_number
from lmf.losses.base import ClassLoss
from lmf.losses.margin import margin_logits
from lmf.losses.ops import log_softmax


def lmf_loss(logits: torch.Tensor, targets: torch.Tensor, margins: torch.Tensor,
             alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.5, s: float = 30.0,
             weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Large-margin-aware focal loss, LMF paper Eq 8, as the authors' code computes it.

    .. math::
        L_{LMF} = \alpha \, L_{LDAM}(z, y; \Delta, s, w) + \beta \, L_{FL}(z, y; \gamma, w)

    Both terms see the same logits: LDAM (:func:`lmf.losses.margin.ldam_loss`) the scaled,
    margin-shifted :math:`s (z - \Delta_y)`, focal (:func:`lmf.losses.focal.focal_loss`) the raw
    :math:`z`. The class weights ``weight`` serve both terms — the CE weights of LDAM and the
    :math:`\alpha_t` of the focal term — as in the authors' code, which passes one ``weight`` (the
    margins) to both.

    The value is exactly that sum; it is computed as one autograd node with the closed-form
    gradient (see :class:`_LMFFunction`), which on CPU takes about a third less time than
    composing the two losses (``benchmarks/bench_losses.py``). Second derivatives are not
    supported; compose :func:`lmf.losses.ldam_loss` and :func:`lmf.losses.focal_loss` if you
    need them.

    Symbol clash (in the paper too): ``alpha``/``beta`` here are the LMF term weights, while the
    focal loss's class weight is also called :math:`\alpha_t`, and the focal :math:`\gamma` is not
    the margin :math:`\gamma_j` of Eq 4. Eq 8 repeats Eq 5's typo (:math:`e^{z_y}` for
    :math:`e^{z_j}` in the denominator).
    """
    return _LMFFunction.apply(logits, targets, margins, weight, alpha, beta, gamma, s)


class _LMFFunction(torch.autograd.Function):
    r"""α·LDAM + β·focal as one autograd node.

    With :math:`q = \operatorname{softmax}(s (z - \Delta_y e_y))`, :math:`p = \operatorname{softmax}(z)`,
    :math:`\ell_i = \log p_{i,y_i}` and :math:`f(\ell) = -(1 - e^\ell)^\gamma \ell`:

    .. math::
        \frac{\partial L}{\partial z_i} = \alpha \, s \, \frac{w_{y_i}}{\sum_k w_{y_k}} (q_i - e_{y_i})
        + \beta \, \frac{w_{y_i}}{B} \, f'(\ell_i) \, (e_{y_i} - p_i), \qquad
        f'(\ell) = -(1 - e^\ell)^\gamma + \gamma \, \ell \, e^\ell (1 - e^\ell)^{\gamma - 1}

    (the margin shift does not depend on :math:`z`). For :math:`0 < \gamma < 1`,
    :math:`1 - p_t` is clamped at machine epsilon as in :func:`lmf.losses.focal.focal_terms`.
    """

    @staticmethod
    def forward(ctx, logits, targets, margins, weight, alpha, beta, gamma, s):
        batch = logits.shape[0]
        index = targets.unsqueeze(1)
        w_y = logits.new_ones(batch) if weight is None else weight.to(logits.dtype)[targets]
        w_sum = w_y.sum()
        log_q = log_softmax(margin_logits(logits, targets, margins, s))
        log_p = log_softmax(logits)
        log_q_t = log_q.gather(1, index).squeeze(1)
        log_p_t = log_p.gather(1, index).squeeze(1)
        one_minus_p_t = -torch.expm1(log_p_t)
        if 0 < gamma < 1:
            one_minus_p_t = one_minus_p_t.clamp_min(torch.finfo(logits.dtype).eps)
        modulation = one_minus_p_t.pow(gamma)
        ldam = -(w_y * log_q_t).sum() / w_sum
        focal = -(w_y * modulation * log_p_t).sum() / batch
        ctx.save_for_backward(targets, w_y, w_sum, log_q, log_p, log_p_t, one_minus_p_t, modulation)
        ctx.constants = (alpha, beta, gamma, s)
        return alpha * ldam + beta * focal

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        targets, w_y, w_sum, log_q, log_p, log_p_t, one_minus_p_t, modulation = ctx.saved_tensors
        alpha, beta, gamma, s = ctx.constants
        slope = -modulation
        if gamma != 0:
            slope = slope + gamma * log_p_t * log_p_t.exp() * one_minus_p_t.pow(gamma - 1)
        ldam_coef = (alpha * s / w_sum) * w_y
        focal_coef = (beta / len(w_y)) * w_y * slope
        grad = log_q.exp() * ldam_coef.unsqueeze(1) - log_p.exp() * focal_coef.unsqueeze(1)
        grad.scatter_add_(1, targets.unsqueeze(1), (focal_coef - ldam_coef).unsqueeze(1))
        return grad * grad_output, None, None, None, None, None, None, None


class LMFLoss(ClassLoss):
    """LMF loss (:func:`lmf_loss`) with margins and class weights as buffers.

    Args:
        margins: K LDAM margins.
        alpha: weight of the LDAM term (≥ 0). The authors' code defaults to 1.5; Table 6 lists
            the values behind each published result; the factory's default is 1.0 (α = β).
        beta: weight of the focal term (≥ 0).
        gamma: focal γ (1.5).
        s: LDAM logit scale (30).
        weight: K class weights shared by both terms, or None (the factory's default
            ``weight="margins"`` passes the margins, as the authors' code does).
    """

    def __init__(self, margins, alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.5,
                 s: float = 30.0, weight=None):
        margins = as_class_vector("margins", margins)
        super().__init__(len(margins))
        self.alpha = check_number("alpha", alpha, low=0.0)
        self.beta = check_number("beta", beta, low=0.0)
        if self.alpha == 0 and self.beta == 0:
            raise ConfigError("alpha and beta of the LMF loss cannot both be 0")
        self.gamma = check_number("gamma", gamma, low=0.0)
        self.s = check_number("s", s, low=0.0, low_open=True)
        self.register_buffer("margins", margins)
        self.register_buffer(
            "weight", None if weight is None else as_class_vector("weight", weight, len(margins))
        )

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return lmf_loss(logits, targets, self.margins, self.alpha, self.beta, self.gamma,
                        self.s, self.weight)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, alpha={self.alpha:g}, beta={self.beta:g}, "
                f"gamma={self.gamma:g}, s={self.s:g}, weighted={self.weight is not None}")
