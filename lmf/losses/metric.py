"""Differentiable MCC and macro-F1 losses on the batch's soft confusion matrix (Scholz et al. 2024)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmf.core.errors import ConfigError
from lmf.core.validation import check_choice, check_number
from lmf.losses.base import ClassLoss
from lmf.losses.ops import log_softmax

EPS = 1e-8


def soft_mcc(probs: torch.Tensor, onehot: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    r"""Multi-class Matthews correlation coefficient of soft predictions.

    With class probabilities :math:`P` (B×K) and one-hot targets :math:`T`:
    :math:`c = \sum P \circ T`, :math:`s = B`, :math:`t_k = \sum_i T_{ik}`,
    :math:`p_k = \sum_i P_{ik}`,

    .. math::
        \mathrm{MCC} = \frac{c\,s - \sum_k t_k p_k}
        {\sqrt{s^2 - \sum_k p_k^2}\;\sqrt{s^2 - \sum_k t_k^2}}

    (Gorodkin 2004's form, used as a loss by Scholz et al. 2024). On one-hot predictions it is
    scikit-learn's ``matthews_corrcoef``. The ε of Scholz et al. is applied inside each square
    root (``clamp_min(eps)``) rather than added to the product, which keeps the gradient finite
    when every prediction or every target falls in one class; the MCC is then 0, as in
    scikit-learn.
    """
    s = probs.new_tensor(float(probs.shape[0]))
    correct = (probs * onehot).sum()
    true_per_class = onehot.sum(0)
    pred_per_class = probs.sum(0)
    numerator = correct * s - (true_per_class * pred_per_class).sum()
    pred_spread = (s * s - (pred_per_class * pred_per_class).sum()).clamp_min(eps).sqrt()
    true_spread = (s * s - (true_per_class * true_per_class).sum()).clamp_min(eps).sqrt()
    return numerator / (pred_spread * true_spread)


def soft_macro_f1(probs: torch.Tensor, onehot: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    r"""Macro-F1 of soft predictions over all K classes (Scholz et al. 2024).

    Per class :math:`tp_k = \sum_i P_{ik} T_{ik}`, :math:`fp_k = \sum_i P_{ik}(1 - T_{ik})`,
    :math:`fn_k = \sum_i (1 - P_{ik}) T_{ik}`, and

    .. math::
        F1_k = \frac{2\,tp_k}{2\,tp_k + fp_k + fn_k + \varepsilon}, \qquad
        \mathrm{F1} = \frac{1}{K} \sum_k F1_k

    (:math:`2tp + fp + fn = p_k + t_k`). On one-hot predictions it is scikit-learn's
    ``f1_score(average="macro", labels=range(K), zero_division=0)``.
    """
    tp = (probs * onehot).sum(0)
    return (2 * tp / (probs.sum(0) + onehot.sum(0) + eps)).mean()


SOFT_METRICS = {"mcc": soft_mcc, "f1": soft_macro_f1}


def soft_metric_loss(logits: torch.Tensor, targets: torch.Tensor, metric: str = "mcc",
                     alpha: float = 0.0, beta: float = 1.0) -> torch.Tensor:
    r"""``alpha · CE + beta · (1 − score)`` with score the soft MCC or macro-F1 of the batch.

    ``alpha = 0, beta = 1`` is Scholz et al.'s metric loss alone; ``alpha = beta = 1`` their
    CE + metric combination (1:1). The score is a batch statistic, so it depends on the batch
    composition (Scholz et al. pair it with class-balanced batch sampling).
    """
    log_probs = log_softmax(logits)
    probs = log_probs.exp()
    onehot = F.one_hot(targets, logits.shape[1]).to(probs.dtype)
    loss = beta * (1.0 - SOFT_METRICS[metric](probs, onehot))
    if alpha != 0:
        loss = loss + alpha * F.nll_loss(log_probs, targets)
    return loss


class SoftMetricLoss(ClassLoss):
    """Soft-MCC or soft-F1 loss, optionally plus cross-entropy (:func:`soft_metric_loss`).

    Args:
        num_classes: K.
        metric: ``"mcc"`` or ``"f1"``.
        alpha: weight of the cross-entropy term (0: metric loss alone).
        beta: weight of the metric term ``1 − score``.
    """

    def __init__(self, num_classes: int, metric: str = "mcc", alpha: float = 0.0, beta: float = 1.0):
        super().__init__(num_classes)
        self.metric = check_choice("metric", metric, tuple(SOFT_METRICS))
        self.alpha = check_number("alpha", alpha, low=0.0)
        self.beta = check_number("beta", beta, low=0.0)
        if self.alpha == 0 and self.beta == 0:
            raise ConfigError("alpha (CE weight) and beta (metric weight) cannot both be 0")

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return soft_metric_loss(logits, targets, self.metric, self.alpha, self.beta)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, metric={self.metric!r}, alpha={self.alpha:g}, beta={self.beta:g}"
