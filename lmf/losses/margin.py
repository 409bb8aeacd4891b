"""LDAM (Cao et al. 2019) as the LMF authors use it, and LDAM with deferred re-weighting (DRW)."""

from __future__ import annotations

import torch

from lmf.core.validation import as_class_vector, check_integer, check_number
from lmf.losses.base import ClassLoss
from lmf.losses.ops import cross_entropy


def margin_logits(logits: torch.Tensor, targets: torch.Tensor, margins: torch.Tensor,
                  s: float) -> torch.Tensor:
    r"""The LDAM logits :math:`s \, (z - \Delta_y \, \mathrm{onehot}(y))`.

    The margin of the true class is subtracted from the true-class logit only; every logit is
    then scaled by ``s``.
    """
    scaled_margins = margins.to(logits.dtype) * -s
    return (s * logits).scatter_add(1, targets.unsqueeze(1), scaled_margins[targets].unsqueeze(1))


def ldam_loss(logits: torch.Tensor, targets: torch.Tensor, margins: torch.Tensor,
              s: float = 30.0, weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""LDAM loss as in the LMF authors' code (Adnan-Sadi/LMFLOSS, ``loss_functions.py``).

    .. math::
        L_{LDAM} = \mathrm{CE}\big(s \, (z - \Delta_y \, \mathrm{onehot}(y)),\; y;\;
        \mathrm{weight} = w\big)

    i.e. per sample :math:`-\log \frac{u}{u + \sum_{j \ne y} e^{s z_j}}` with
    :math:`u = e^{s (z_y - \Delta_y)}`, averaged with PyTorch's weighted mean
    :math:`\sum_i w_{y_i} \ell_i / \sum_i w_{y_i}` (a plain mean when ``weight`` is None).
    Margins :math:`\Delta_j` from :func:`lmf.losses.ldam_margins`.

    The paper's Eq 5 (and Eq 8) prints :math:`e^{z_y}` inside the denominator's sum where
    :math:`e^{z_j}` is meant (the short version has it right), and mentions neither the scale
    ``s`` nor the class weights; the authors' code uses ``s = 30`` and ``weight = Δ``. Cao et
    al. pair ``s = 30`` with a normalised (cosine) classifier; the LMF code, like this one, uses
    the plain linear head.
    """
    adjusted = margin_logits(logits, targets, margins, s)
    return cross_entropy(adjusted, targets, None if weight is None else weight.to(logits.dtype))


class LDAMLoss(ClassLoss):
    """LDAM loss (:func:`ldam_loss`) with its margins and class weights as buffers.

    Args:
        margins: K margins :math:`\\Delta_j` (see :func:`lmf.losses.ldam_margins`).
        s: logit scale (30 in the authors' code).
        weight: K class weights of the cross-entropy, or None for plain LDAM. The factory's
            default (``weight="margins"``) passes the margins, as the authors' code does.
    """

    def __init__(self, margins, s: float = 30.0, weight=None):
        margins = as_class_vector("margins", margins)
        super().__init__(len(margins))
        self.s = check_number("s", s, low=0.0, low_open=True)
        self.register_buffer("margins", margins)
        self.register_buffer(
            "weight", None if weight is None else as_class_vector("weight", weight, len(margins))
        )

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return ldam_loss(logits, targets, self.margins, self.s, self.weight)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, s={self.s:g}, weighted={self.weight is not None}"


class LDAMDRWLoss(LDAMLoss):
    r"""LDAM with deferred re-weighting (Cao et al. 2019, kaidic/LDAM-DRW).

    Plain (unweighted) LDAM before epoch ``drw_epoch``; from that epoch on, LDAM with the
    class-balanced weights of Cui et al. 2019 (:func:`lmf.losses.class_balanced_weights`,
    β = 0.9999) in PyTorch's weighted mean, as in the official code. The training loop calls
    :meth:`set_epoch` with the 0-based epoch before each epoch; a fresh loss is at epoch 0.

    Args:
        margins: K margins.
        drw_weight: K class weights used from ``drw_epoch`` on.
        s: logit scale.
        drw_epoch: first (0-based) epoch with re-weighting. Cao et al. use 160 of 200 epochs; the
            factory's default, 80, is the same fraction of the paper's 100 epochs.
    """

    def __init__(self, margins, drw_weight, s: float = 30.0, drw_epoch: int = 80):
        super().__init__(margins, s=s, weight=None)
        self.register_buffer("drw_weight", as_class_vector("drw_weight", drw_weight, self.num_classes))
        self.drw_epoch = check_integer("drw_epoch", drw_epoch)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Switch to the re-weighted loss once ``epoch`` (0-based) reaches ``drw_epoch``."""
        self.epoch = int(epoch)

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        weight = self.drw_weight if self.epoch >= self.drw_epoch else None
        return ldam_loss(logits, targets, self.margins, self.s, weight)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, s={self.s:g}, drw_epoch={self.drw_epoch}, "
                f"epoch={self.epoch}")
