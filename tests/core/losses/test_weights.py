"""Per-class margins and weights against hand-computed values and scikit-learn."""

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from lmf.losses import (
    bwcce_weights,
    class_balanced_weights,
    inverse_frequency_weights,
    ldam_margins,
)


def test_ldam_margins_by_hand():
    # Δ_j = 0.5 · (n_min / n_j)^{1/4}: n = 16 → 0.5 · (1/16)^{1/4} = 0.25; rarest class → 0.5.
    margins = ldam_margins([16, 1, 81])
    assert margins.dtype == torch.float32
    assert margins.tolist() == pytest.approx([0.25, 0.5, 0.5 / 3])
    assert ldam_margins([16, 1], max_m=2.0).tolist() == pytest.approx([1.0, 2.0])


def test_bwcce_weights_by_hand():
    # w_j = (1 − n_j/N)/(K − 1): counts 1, 3 of N = 4 → 3/4, 1/4; counts 2, 3, 5 → (.8, .7, .5)/2.
    assert bwcce_weights([1, 3]).tolist() == pytest.approx([0.75, 0.25])
    weights = bwcce_weights([2, 3, 5])
    assert weights.tolist() == pytest.approx([0.4, 0.35, 0.25])
    assert float(weights.sum()) == pytest.approx(1.0)


def test_class_balanced_weights_by_hand():
    # β = 0.5: E_1 = 1, E_2 = (1 − 0.25)/0.5 = 1.5 → 1/E = (1, 2/3), normalised to sum K = 2.
    assert class_balanced_weights([1, 2], beta=0.5).tolist() == pytest.approx([1.2, 0.8])
    assert class_balanced_weights([5, 500, 7], beta=0.0).tolist() == pytest.approx([1.0] * 3)


def test_class_balanced_weights_tend_to_inverse_frequency():
    counts = np.array([10, 100, 1000])
    weights = class_balanced_weights(counts, beta=1 - 1e-9).numpy()
    expected = (1 / counts) / (1 / counts).sum() * 3
    np.testing.assert_allclose(weights, expected, rtol=1e-4)


def test_inverse_frequency_weights_match_scikit_learn_balanced():
    counts = [3, 10, 1, 6]
    labels = np.repeat(np.arange(4), counts)
    expected = compute_class_weight("balanced", classes=np.arange(4), y=labels)
    np.testing.assert_allclose(inverse_frequency_weights(counts).numpy(), expected, rtol=1e-6)


def test_helpers_accept_tensors_and_arrays():
    expected = bwcce_weights([4, 1]).tolist()
    assert bwcce_weights(torch.tensor([4, 1])).tolist() == expected
    assert bwcce_weights(np.array([4.0, 1.0])).tolist() == expected
