"""Cross-entropy, plain (``cce``) and class-weighted (``wcce``, ``bwcce``)."""

from __future__ import annotations

import torch

from lmf.core.validation import as_class_vector
from lmf.losses.base import ClassLoss
from lmf.losses.ops import cross_entropy


class CrossEntropy(ClassLoss):
    r"""Cross-entropy with optional class weights, PyTorch's weighted mean.

    .. math::
        L = \frac{\sum_i w_{y_i} \, (-\log p_{i, y_i})}{\sum_i w_{y_i}},
        \qquad p = \operatorname{softmax}(z)

    Without weights this is the CCE of LMF paper Eq 1 (a plain batch mean). With the BWCCE
    weights :func:`lmf.losses.bwcce_weights` it is the paper's BWCCE (Roy et al. 2022) as the
    authors' code computes it (``nn.CrossEntropyLoss(weight=...)``); with
    :func:`lmf.losses.inverse_frequency_weights` it is WCCE. The paper's Eq 2 writes a plain
    ``1/N`` mean; the weighted mean of the code is used for both weighted forms.

    Args:
        num_classes: K.
        weight: K non-negative class weights, or None for plain CE.
    """

    def __init__(self, num_classes: int, weight=None):
        super().__init__(num_classes)
        self.register_buffer(
            "weight", None if weight is None else as_class_vector("weight", weight, num_classes)
        )

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.to(logits.dtype)
        return cross_entropy(logits, targets, weight)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, weighted={self.weight is not None}"
