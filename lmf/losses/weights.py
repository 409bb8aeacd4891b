"""Per-class margins and class weights computed from the training-split class counts ``n_j``.

Every helper takes the counts (any sequence, array or tensor; one positive count per class, in
label order) and returns a tensor of the default float dtype (float32), ready to be a loss's
buffer or the ``weight`` of :func:`torch.nn.functional.cross_entropy`. The arithmetic is done in
float64.
"""

from __future__ import annotations

import numpy as np
import torch

from lmf.core.validation import as_counts, check_number


def ldam_margins(counts, max_m: float = 0.5) -> torch.Tensor:
    r"""LDAM margins :math:`\Delta_j = \text{max\_m} \cdot (n_{\min} / n_j)^{1/4}`.

    Cao et al. 2019 (LDAM-DRW) define :math:`\Delta_j = C / n_j^{1/4}`; the LMF paper repeats it
    as Eq 4 (which prints :math:`n_i` for :math:`n_j`, a typo) and never gives ``C``. The code of
    both papers (kaidic/LDAM-DRW, Adnan-Sadi/LMFLOSS) scales the margins so that the rarest class
    gets ``max_m`` = 0.5, i.e. :math:`C = \text{max\_m} \cdot n_{\min}^{1/4}`.
    """
    n = as_counts(counts)
    max_m = check_number("max_m", max_m, low=0.0)
    return _tensor(max_m * (n.min() / n) ** 0.25)


def bwcce_weights(counts) -> torch.Tensor:
    r"""Balanced class weights of BWCCE: :math:`w_j = (1 - n_j / \sum_k n_k) / (K - 1)`.

    Roy et al. 2022, LMF paper Eq 3. The weights sum to 1 and stay close to each other even
    under extreme imbalance.
    """
    n = as_counts(counts)
    return _tensor((1.0 - n / n.sum()) / (n.size - 1))


def inverse_frequency_weights(counts) -> torch.Tensor:
    r"""Inverse-frequency class weights :math:`w_j = N / (K n_j)`, :math:`N = \sum_k n_k`.

    The weights of WCCE (LMF paper Eq 2, "inversely proportional to the number of images"),
    scaled like scikit-learn's ``class_weight="balanced"`` so that a balanced set gets weight 1.
    """
    n = as_counts(counts)
    return _tensor(n.sum() / (n.size * n))


def class_balanced_weights(counts, beta: float = 0.9999) -> torch.Tensor:
    r"""Class-balanced weights of Cui et al. 2019, :math:`w_j \propto 1 / E_{n_j}`.

    The effective number of samples is :math:`E_{n_j} = (1 - \beta^{n_j}) / (1 - \beta)`; the
    weights are normalised to sum to ``K``. :math:`\beta = 0` gives uniform weights (plain
    loss), :math:`\beta \to 1` inverse-frequency weights. ``beta`` must lie in [0, 1).
    """
    n = as_counts(counts)
    beta = check_number("beta", beta, low=0.0, high=1.0, high_open=True)
    inverse_effective = (1.0 - beta) / (1.0 - np.power(beta, n))
    return _tensor(inverse_effective * n.size / inverse_effective.sum())


def _tensor(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.get_default_dtype())
