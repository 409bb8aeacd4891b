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
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch import nn

from lmf.errors import ConfigError, unknown_choice
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
from lmf.validation import as_class_vector, as_counts, check_choice

MARGINS = "margins"


def _class_weights(name: str, spec, margins: torch.Tensor) -> torch.Tensor | None:
    """Resolve a class-weight spec: "margins", None, or K explicit numbers."""
    if spec is None:
        return None
    if isinstance(spec, str):
        check_choice(name, spec, (MARGINS,))
        return margins
    return as_class_vector(name, spec, len(margins))


def _cce(counts):
    return CrossEntropy(len(counts))


def _wcce(counts):
    return CrossEntropy(len(counts), weight=inverse_frequency_weights(counts))


def _bwcce(counts):
    return CrossEntropy(len(counts), weight=bwcce_weights(counts))


def _ldam(counts, *, s=30.0, max_m=0.5, weight=MARGINS):
    margins = ldam_margins(counts, max_m)
    return LDAMLoss(margins, s=s, weight=_class_weights("weight", weight, margins))


def _focal(counts, *, gamma=1.5, alpha=MARGINS, max_m=0.5):
    margins = ldam_margins(counts, max_m)
    return FocalLoss(len(counts), gamma=gamma, alpha=_class_weights("alpha", alpha, margins))


def _lmf(counts, *, alpha=1.0, beta=1.0, gamma=1.5, s=30.0, max_m=0.5, weight=MARGINS):
    margins = ldam_margins(counts, max_m)
    return LMFLoss(margins, alpha=alpha, beta=beta, gamma=gamma, s=s,
                   weight=_class_weights("weight", weight, margins))


def _cb(counts, *, beta=0.9999, base="ce", gamma=None):
    check_choice("base", base, ("ce", "focal"))
    if base == "ce" and gamma is not None:
        raise ConfigError("gamma applies only with base='focal'; drop it or set base='focal'")
    gamma = 1.5 if gamma is None else gamma
    return ClassBalancedLoss(class_balanced_weights(counts, beta), beta, base=base, gamma=gamma)


def _ldam_drw(counts, *, s=30.0, max_m=0.5, beta=0.9999, drw_epoch=80):
    return LDAMDRWLoss(ldam_margins(counts, max_m), class_balanced_weights(counts, beta),
                       s=s, drw_epoch=drw_epoch)


def _soft_mcc(counts):
    return SoftMetricLoss(len(counts), "mcc")


def _soft_f1(counts):
    return SoftMetricLoss(len(counts), "f1")


def _ce_soft_mcc(counts, *, alpha=1.0, beta=1.0):
    return SoftMetricLoss(len(counts), "mcc", alpha=alpha, beta=beta)


def _ce_soft_f1(counts, *, alpha=1.0, beta=1.0):
    return SoftMetricLoss(len(counts), "f1", alpha=alpha, beta=beta)


def _unified_focal(counts, *, lam=0.5, delta=0.6, gamma=0.5):
    return UnifiedFocalLoss(rare_classes(counts), lam=lam, delta=delta, gamma=gamma)


_BUILDERS = {
    "cce": _cce,
    "focal": _focal,
    "ldam": _ldam,
    "bwcce": _bwcce,
    "lmf": _lmf,
    "wcce": _wcce,
    "cb": _cb,
    "ldam_drw": _ldam_drw,
    "soft_mcc": _soft_mcc,
    "soft_f1": _soft_f1,
    "ce_soft_mcc": _ce_soft_mcc,
    "ce_soft_f1": _ce_soft_f1,
    "unified_focal": _unified_focal,
}

#: Names of every loss :func:`build_loss` knows; the paper's five come first, in
#: ``lmf.paper.PAPER_LOSSES`` order.
LOSSES: tuple[str, ...] = tuple(_BUILDERS)


def loss_parameters(name: str) -> dict[str, object]:
    """The parameters ``name`` accepts, with their defaults (``{}`` for losses without any)."""
    if name not in _BUILDERS:
        raise unknown_choice("loss", name, LOSSES)
    signature = inspect.signature(_BUILDERS[name])
    return {
        p.name: p.default for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY
    }


def check_loss_params(name: str, params: dict) -> dict:
    """``params`` of loss ``name`` checked and completed with the defaults, without class counts.

    The values are range-checked by the loss's own constructor on a stand-in with as many
    classes as an explicit per-class vector has (two otherwise), so a config is rejected before
    any data is read, with the same message ``build_loss`` gives. Class-vector lengths are
    checked again against the real class count when the loss is built.
    """
    valid = loss_parameters(name)
    reject_unknown_params(name, params, valid)
    completed = {**valid, **params}
    sizes = [len(v) for v in completed.values() if isinstance(v, list | tuple)]
    stand_in = np.arange(max(sizes, default=2), 0, -1, dtype=np.float64) * 10
    build_loss(name, stand_in, **params)
    return completed


def reject_unknown_params(name: str, params: dict, valid: dict) -> None:
    """A ConfigError naming the parameters of ``name`` that are not in ``valid``."""
    unknown = sorted(set(params) - set(valid))
    if unknown:
        accepted = ", ".join(valid) if valid else "none"
        raise ConfigError(
            f"loss {name!r} takes no parameter {', '.join(map(repr, unknown))}; "
            f"valid parameters: {accepted}"
        )


def build_loss(name: str, class_counts, **params) -> nn.Module:
    """The loss ``name`` for training-split ``class_counts`` (one count per class, label order).

    Returns an ``nn.Module`` called as ``loss(logits, targets)`` → scalar. Losses that change
    over training (``ldam_drw``) have ``set_epoch(epoch)``. Raises ConfigError (a ValueError)
    for an unknown name, a parameter the loss does not take, an invalid value, or invalid
    counts; the message lists what is valid.
    """
    reject_unknown_params(name, params, loss_parameters(name))
    counts = as_counts(class_counts)
    try:
        return _BUILDERS[name](counts, **params)
    except ConfigError as error:
        raise ConfigError(f"loss {name!r}: {error}") from None
