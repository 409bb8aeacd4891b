"""Losses for imbalanced classification: the LMF paper's five and the related work's.

``build_loss(name, class_counts, **params)`` builds any of :data:`LOSSES`; each loss is also a
functional form (``ldam_loss``, ``focal_loss``, ...) and a thin ``nn.Module`` whose per-class
tensors are registered buffers. Semantics follow the code that produced the published numbers
(Sadi et al., LMF paper; authors' repository Adnan-Sadi/LMFLOSS); see ``factory`` for the table
of names and parameters, :data:`LOSS_REGISTRY`.

Part of the shared core: it imports ``lmf.core`` only, and ``lmf.seg.losses`` builds its per-pixel
losses on the same terms (``focal_terms``, the unified focal loss, the LDAM margins). To add a
loss: a module here with its functional form and ``ClassLoss`` module, and one
``LOSS_REGISTRY.register`` line in ``factory`` (the name, its keyword defaults, a one-line doc),
which ``lmf list losses`` then prints.
"""

from lmf.losses.base import ClassLoss
from lmf.losses.cross_entropy import CrossEntropy
from lmf.losses.factory import (
    LOSS_REGISTRY,
    LOSSES,
    build_loss,
    check_loss_params,
    loss_parameters,
)
from lmf.losses.focal import ClassBalancedLoss, FocalLoss, focal_loss
from lmf.losses.lmf import LMFLoss, lmf_loss
from lmf.losses.margin import LDAMDRWLoss, LDAMLoss, ldam_loss
from lmf.losses.metric import SoftMetricLoss, soft_macro_f1, soft_mcc, soft_metric_loss
from lmf.losses.unified_focal import UnifiedFocalLoss, rare_classes, unified_focal_loss
from lmf.losses.weights import (
    bwcce_weights,
    class_balanced_weights,
    inverse_frequency_weights,
    ldam_margins,
)

__all__ = [
    "LOSSES",
    "LOSS_REGISTRY",
    "ClassBalancedLoss",
    "ClassLoss",
    "CrossEntropy",
    "FocalLoss",
    "LDAMDRWLoss",
    "LDAMLoss",
    "LMFLoss",
    "SoftMetricLoss",
    "UnifiedFocalLoss",
    "build_loss",
    "check_loss_params",
    "bwcce_weights",
    "class_balanced_weights",
    "focal_loss",
    "inverse_frequency_weights",
    "ldam_loss",
    "ldam_margins",
    "lmf_loss",
    "loss_parameters",
    "rare_classes",
    "soft_macro_f1",
    "soft_mcc",
    "soft_metric_loss",
    "unified_focal_loss",
]
