"""``build_loss(name, class_counts, **params)``: every loss of the package by name.

=================  =========================================================  =====================================
name               loss                                                       parameters (defaults)
=================  =========================================================  =====================================
``cce``            cross-entropy                                              —
``wcce``           CE, inverse-frequency weights ``N / (K n_j)``              —
``bwcce``          CE, BWCCE weights ``(1 − n_j/N)/(K − 1)``, weighted mean   —
``ldam``           LDAM, CE weighted by the margins (authors' code)           s=30, max_m=0.5, weight="margins"
``focal``          α-weighted focal loss, plain mean                          gamma=1.5, alpha="margins", max_m=0.5
``lmf``            alpha·LDAM + beta·focal                                    alpha=1, beta=1, gamma=1.5, s=30,
                                                                              max_m=0.5, weight="margins"
``cb``             class-balanced CE or focal (Cui et al. 2019)               beta=0.9999, base="ce", gamma (focal
                                                                              only, default 1.5)
``ldam_drw``       LDAM, class-balanced weights from ``drw_epoch`` on         s=30, max_m=0.5, beta=0.9999,
                                                                              drw_epoch=80
``soft_mcc``       1 − soft MCC (Scholz et al. 2024)                          —
``soft_f1``        1 − soft macro-F1 (Scholz et al. 2024)                     —
``ce_soft_mcc``    alpha·CE + beta·(1 − soft MCC)                             alpha=1, beta=1
``ce_soft_f1``     alpha·CE + beta·(1 − soft macro-F1)                        alpha=1, beta=1
``unified_focal``  asymmetric unified focal loss (Yeung et al. 2022)          lam=0.5, delta=0.6, gamma=0.5
=================  =========================================================  =====================================

The same parameter name means different things in different losses, as in the papers:
``alpha``/``beta`` are the two term weights of ``lmf`` and ``ce_soft_*``, ``alpha`` is the vector
of class weights of ``focal``, and ``beta`` is the effective-number β of ``cb`` and ``ldam_drw``.

Class weights (``weight`` of ``ldam``/``lmf``, ``alpha`` of ``focal``) are given as
``"margins"`` (the LDAM margins, the authors' choice and the default), ``None`` (unweighted), or
an explicit sequence of K non-negative numbers.

The table is :data:`LOSS_REGISTRY` (an :class:`lmf.core.registry.Registry`): ``lmf list losses``
prints it, with the defaults as registered.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lmf.core.errors import ConfigError
from lmf.core.registry import Registry
from lmf.core.validation import as_class_vector, as_counts, check_choice
from lmf.losses.cross_entropy import CrossEntropy
from lmf.losses.focal import ClassBalancedLoss, FocalLoss
from lmf.losses.lmf import LMFLoss
from lmf.losses.margin import LDAMDRWLoss, LDAMLoss
from lmf.losses.metric import SoftMetricLoss
from lmf.losses.unified_focal import UnifiedFocalLoss, rare_classes
from lmf.losses.weights import (
    bwcce_weights,
    class_balanced_weights,
    inverse_frequency_weights,
    ldam_margins,
)

MARGINS = "margins"

#: Every loss of the table above: ``builder(counts, **params)`` with the checked class counts.
#: Registered in listing order, the paper's five first (``lmf.classification.paper.PAPER_LOSSES`` order).
LOSS_REGISTRY = Registry("loss")


def _class_weights(name: str, spec, margins: torch.Tensor) -> torch.Tensor | None:
    """Resolve a class-weight spec: "margins", None, or K explicit numbers."""
    if spec is None:
        return None
    if isinstance(spec, str):
        check_choice(name, spec, (MARGINS,))
        return margins
    return as_class_vector(name, spec, len(margins))


@LOSS_REGISTRY.register("cce", doc="cross-entropy")
def _cce(counts):
    return CrossEntropy(len(counts))


@LOSS_REGISTRY.register("focal", doc="α-weighted focal loss, plain mean",
                        defaults={"gamma": 1.5, "alpha": MARGINS, "max_m": 0.5})
def _focal(counts, *, gamma, alpha, max_m):
    margins = ldam_margins(counts, max_m)
    return FocalLoss(len(counts), gamma=gamma, alpha=_class_weights("alpha", alpha, margins))


@LOSS_REGISTRY.register("ldam", doc="LDAM, CE weighted by the margins (authors' code)",
                        defaults={"s": 30.0, "max_m": 0.5, "weight": MARGINS})
def _ldam(counts, *, s, max_m, weight):
    margins = ldam_margins(counts, max_m)
    return LDAMLoss(margins, s=s, weight=_class_weights("weight", weight, margins))


@LOSS_REGISTRY.register("bwcce", doc="CE, BWCCE weights (1 − n_j/N)/(K − 1), weighted mean")
def _bwcce(counts):
    return CrossEntropy(len(counts), weight=bwcce_weights(counts))


@LOSS_REGISTRY.register("lmf", doc="alpha·LDAM + beta·focal (Sadi et al.)",
                        defaults={"alpha": 1.0, "beta": 1.0, "gamma": 1.5, "s": 30.0,
                                  "max_m": 0.5, "weight": MARGINS})
def _lmf(counts, *, alpha, beta, gamma, s, max_m, weight):
    margins = ldam_margins(counts, max_m)
    return LMFLoss(margins, alpha=alpha, beta=beta, gamma=gamma, s=s,
                   weight=_class_weights("weight", weight, margins))


@LOSS_REGISTRY.register("wcce", doc="CE, inverse-frequency weights N / (K n_j)")
def _wcce(counts):
    return CrossEntropy(len(counts), weight=inverse_frequency_weights(counts))


@LOSS_REGISTRY.register("cb", doc="class-balanced CE or focal (Cui et al. 2019); gamma only "
                        "with base='focal' (None: 1.5)",
                        defaults={"beta": 0.9999, "base": "ce", "gamma": None})
def _cb(counts, *, beta, base, gamma):
    check_choice("base", base, ("ce", "focal"))
    if base == "ce" and gamma is not None:
        raise ConfigError("gamma applies only with base='focal'; drop it or set base='focal'")
    gamma = 1.5 if gamma is None else gamma
    return ClassBalancedLoss(class_balanced_weights(counts, beta), beta, base=base, gamma=gamma)


@LOSS_REGISTRY.register("ldam_drw",
                        doc="LDAM, class-balanced weights from drw_epoch on (Cao et al. 2019)",
                        defaults={"s": 30.0, "max_m": 0.5, "beta": 0.9999, "drw_epoch": 80})
def _ldam_drw(counts, *, s, max_m, beta, drw_epoch):
    return LDAMDRWLoss(ldam_margins(counts, max_m), class_balanced_weights(counts, beta),
                       s=s, drw_epoch=drw_epoch)


@LOSS_REGISTRY.register("soft_mcc", doc="1 − soft MCC (Scholz et al. 2024)")
def _soft_mcc(counts):
    return SoftMetricLoss(len(counts), "mcc")


@LOSS_REGISTRY.register("soft_f1", doc="1 − soft macro-F1 (Scholz et al. 2024)")
def _soft_f1(counts):
    return SoftMetricLoss(len(counts), "f1")


@LOSS_REGISTRY.register("ce_soft_mcc", doc="alpha·CE + beta·(1 − soft MCC)",
                        defaults={"alpha": 1.0, "beta": 1.0})
def _ce_soft_mcc(counts, *, alpha, beta):
    return SoftMetricLoss(len(counts), "mcc", alpha=alpha, beta=beta)


@LOSS_REGISTRY.register("ce_soft_f1", doc="alpha·CE + beta·(1 − soft macro-F1)",
                        defaults={"alpha": 1.0, "beta": 1.0})
def _ce_soft_f1(counts, *, alpha, beta):
    return SoftMetricLoss(len(counts), "f1", alpha=alpha, beta=beta)


@LOSS_REGISTRY.register("unified_focal", doc="asymmetric unified focal loss (Yeung et al. 2022)",
                        defaults={"lam": 0.5, "delta": 0.6, "gamma": 0.5})
def _unified_focal(counts, *, lam, delta, gamma):
    return UnifiedFocalLoss(rare_classes(counts), lam=lam, delta=delta, gamma=gamma)


#: Names of every loss :func:`build_loss` knows; the paper's five come first, in
#: ``lmf.classification.paper.PAPER_LOSSES`` order.
LOSSES: tuple[str, ...] = LOSS_REGISTRY.names()


def loss_parameters(name: str) -> dict[str, object]:
    """The parameters ``name`` accepts, with their defaults (``{}`` for losses without any)."""
    return LOSS_REGISTRY.defaults(name)


def stand_in_counts(params: dict) -> np.ndarray:
    """Class counts to range-check loss parameters on before any data is read: as many classes
    as an explicit per-class vector among ``params`` has (two otherwise), all different."""
    sizes = [len(v) for v in params.values() if isinstance(v, list | tuple)]
    return np.arange(max(sizes, default=2), 0, -1, dtype=np.float64) * 10


def build_for_counts(registry: Registry, name: str, counts, **params) -> nn.Module:
    """``registry``'s loss ``name`` for ``counts`` (one per class, label order): the name and
    the parameter names are checked before the counts, the values by the loss's builder."""
    registry.params(name, params)
    return registry.build(name, as_counts(counts), **params)


def check_without_data(registry: Registry, name: str, params: dict) -> dict:
    """``params`` of ``registry``'s loss ``name`` checked and completed with the defaults before
    any data is read: the values are range-checked by building the loss on
    :func:`stand_in_counts`, so the message is the one building it for real gives. Class-vector
    lengths are checked again against the real class count when the loss is built."""
    completed = registry.params(name, params)
    build_for_counts(registry, name, stand_in_counts(completed), **params)
    return completed


def check_loss_params(name: str, params: dict) -> dict:
    """``params`` of loss ``name`` checked and completed with the defaults, without class counts
    (:func:`check_without_data`), with the message ``build_loss`` gives."""
    return check_without_data(LOSS_REGISTRY, name, params)


def build_loss(name: str, class_counts, **params) -> nn.Module:
    """The loss ``name`` for training-split ``class_counts`` (one count per class, label order).

    Returns an ``nn.Module`` called as ``loss(logits, targets)`` → scalar. Losses that change
    over training (``ldam_drw``) have ``set_epoch(epoch)``. Raises ConfigError (a ValueError)
    for an unknown name, a parameter the loss does not take, an invalid value, or invalid
    counts; the message lists what is valid.
    """
    return build_for_counts(LOSS_REGISTRY, name, class_counts, **params)
