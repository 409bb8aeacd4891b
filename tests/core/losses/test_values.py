"""Loss values against independent float64 references (NumPy, written here), PyTorch and sklearn."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score, matthews_corrcoef

from lmf.losses import build_loss, soft_macro_f1, soft_mcc

COUNTS = np.array([120.0, 40.0, 9.0, 3.0, 60.0])
K = len(COUNTS)


# ---- float64 references, written from the papers' formulas -----------------------------------

def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def margins_ref(max_m=0.5):
    return max_m * (COUNTS.min() / COUNTS) ** 0.25


def cb_weights_ref(beta):
    effective = (1 - beta ** COUNTS) / (1 - beta)
    return (1 / effective) / (1 / effective).sum() * K


def weighted_ce_ref(z, y, w=None):
    rows = np.arange(len(y))
    ce = -log_softmax(z)[rows, y]
    wy = np.ones(len(y)) if w is None else w[y]
    return (wy * ce).sum() / wy.sum()


def ldam_ref(z, y, s=30.0, max_m=0.5, weighted=True):
    margins = margins_ref(max_m)
    shifted = z.copy()
    shifted[np.arange(len(y)), y] -= margins[y]
    return weighted_ce_ref(s * shifted, y, margins if weighted else None)


def focal_ref(z, y, gamma=1.5, alpha=None):
    p_t = np.exp(log_softmax(z)[np.arange(len(y)), y])
    a = np.ones(K) if alpha is None else alpha
    return np.mean(a[y] * (1 - p_t) ** gamma * -np.log(p_t))


def lmf_ref(z, y, alpha=1.0, beta=1.0):
    return alpha * ldam_ref(z, y) + beta * focal_ref(z, y, alpha=margins_ref())


def soft_counts_ref(z, y):
    probs = np.exp(log_softmax(z))
    onehot = np.eye(K)[y]
    return probs, onehot


def soft_mcc_ref(z, y):
    probs, onehot = soft_counts_ref(z, y)
    s, c = len(y), (probs * onehot).sum()
    t, p = onehot.sum(0), probs.sum(0)
    return (c * s - t @ p) / (np.sqrt(s**2 - p @ p) * np.sqrt(s**2 - t @ t))


def soft_f1_ref(z, y):
    probs, onehot = soft_counts_ref(z, y)
    f1 = []
    for k in range(K):
        tp = (probs[:, k] * onehot[:, k]).sum()
        fp = (probs[:, k] * (1 - onehot[:, k])).sum()
        fn = ((1 - probs[:, k]) * onehot[:, k]).sum()
        f1.append(2 * tp / (2 * tp + fp + fn + 1e-8))  # ε of Scholz et al.
    return np.mean(f1)


def unified_focal_ref(z, y, lam=0.5, delta=0.6, gamma=0.5):
    probs, onehot = soft_counts_ref(z, y)
    rare = COUNTS < COUNTS.mean()
    focal = 0.0
    for i, label in enumerate(y):
        p_t = probs[i, label]
        weight = delta if rare[label] else (1 - delta) * (1 - p_t) ** gamma
        focal += weight * -np.log(p_t)
    focal /= len(y)
    tversky_terms = []
    for k in range(K):
        tp = (probs[:, k] * onehot[:, k]).sum()
        fn = ((1 - probs[:, k]) * onehot[:, k]).sum()
        fp = (probs[:, k] * (1 - onehot[:, k])).sum()
        ti = (tp + 1e-7) / (tp + delta * fn + (1 - delta) * fp + 1e-7)
        tversky_terms.append((1 - ti) ** (1 - gamma) if rare[k] else 1 - ti)
    return lam * focal + (1 - lam) * np.mean(tversky_terms)


CASES = {
    "cce": ({}, lambda z, y: weighted_ce_ref(z, y)),
    "wcce": ({}, lambda z, y: weighted_ce_ref(z, y, COUNTS.sum() / (K * COUNTS))),
    "bwcce": ({}, lambda z, y: weighted_ce_ref(z, y, (1 - COUNTS / COUNTS.sum()) / (K - 1))),
    "ldam": ({}, ldam_ref),
    "ldam-plain": ({"weight": None, "s": 10.0}, lambda z, y: ldam_ref(z, y, s=10.0, weighted=False)),
    "focal": ({}, lambda z, y: focal_ref(z, y, alpha=margins_ref())),
    "focal-plain": ({"alpha": None, "gamma": 2.0}, lambda z, y: focal_ref(z, y, gamma=2.0)),
    "focal-explicit": ({"alpha": [1, 2, 3, 4, 5]},
                       lambda z, y: focal_ref(z, y, alpha=np.arange(1.0, 6.0))),
    "lmf": ({}, lmf_ref),
    "lmf-table6": ({"alpha": 1.5, "beta": 0.7}, lambda z, y: lmf_ref(z, y, 1.5, 0.7)),
    "cb": ({}, lambda z, y: np.mean(cb_weights_ref(0.9999)[y] * -log_softmax(z)[np.arange(len(y)), y])),
    "cb-focal": ({"base": "focal", "gamma": 2.0, "beta": 0.99},
                 lambda z, y: focal_ref(z, y, gamma=2.0, alpha=cb_weights_ref(0.99))),
    "ldam_drw": ({}, lambda z, y: ldam_ref(z, y, weighted=False)),
    "soft_mcc": ({}, lambda z, y: 1 - soft_mcc_ref(z, y)),
    "soft_f1": ({}, lambda z, y: 1 - soft_f1_ref(z, y)),
    "ce_soft_mcc": ({"alpha": 0.5}, lambda z, y: 0.5 * weighted_ce_ref(z, y) + 1 - soft_mcc_ref(z, y)),
    "ce_soft_f1": ({}, lambda z, y: weighted_ce_ref(z, y) + 1 - soft_f1_ref(z, y)),
    "unified_focal": ({}, unified_focal_ref),
    "unified_focal-custom": ({"lam": 0.3, "delta": 0.7, "gamma": 0.2},
                             lambda z, y: unified_focal_ref(z, y, 0.3, 0.7, 0.2)),
}


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(24, K))
    y = np.concatenate([np.arange(K), rng.integers(0, K, size=24 - K)])
    return z, y


@pytest.fixture
def float64_default():
    """Build losses with float64 buffers, so a float64 comparison is not limited by float32 margins."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_matches_float64_reference(case, batch, float64_default):
    params, reference = CASES[case]
    z, y = batch
    loss = build_loss(case.split("-")[0], COUNTS, **params)
    expected = reference(z, y)
    got64 = loss(torch.from_numpy(z), torch.from_numpy(y))
    assert got64.dtype == torch.float64
    assert float(got64) == pytest.approx(expected, rel=1e-10, abs=1e-12)
    got32 = loss.float()(torch.from_numpy(z).float(), torch.from_numpy(y))
    assert got32.dtype == torch.float32
    assert float(got32) == pytest.approx(expected, rel=2e-5, abs=1e-6)


def test_focal_without_focusing_or_weights_is_cross_entropy(batch):
    z, y = (torch.from_numpy(a) for a in batch)
    focal = build_loss("focal", COUNTS, gamma=0.0, alpha=None)
    torch.testing.assert_close(focal(z, y), F.cross_entropy(z, y), rtol=1e-12, atol=0)


def test_lmf_without_focal_term_is_scaled_ldam(batch):
    z, y = (torch.from_numpy(a) for a in batch)
    lmf = build_loss("lmf", COUNTS, alpha=1.7, beta=0.0)
    torch.testing.assert_close(lmf(z, y), 1.7 * build_loss("ldam", COUNTS)(z, y))


def test_class_balanced_with_beta_zero_is_cross_entropy(batch):
    z, y = (torch.from_numpy(a) for a in batch)
    torch.testing.assert_close(build_loss("cb", COUNTS, beta=0.0)(z, y), F.cross_entropy(z, y))
    torch.testing.assert_close(
        build_loss("cb", COUNTS, beta=0.0, base="focal", gamma=1.0)(z, y),
        build_loss("focal", COUNTS, gamma=1.0, alpha=None)(z, y),
    )


def test_bwcce_is_pytorch_weighted_cross_entropy_and_the_hand_formula():
    # Two classes, counts 1 and 3 → weights 3/4, 1/4. Logits 0 everywhere → CE_i = log 2 for every
    # sample, so the weighted mean is log 2; with logits (0, log 3) for class 1 samples CE = log(4/3).
    counts = [1, 3]
    z = torch.tensor([[0.0, 0.0], [0.0, np.log(3.0)], [0.0, np.log(3.0)]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1])
    hand = (0.75 * np.log(2) + 2 * 0.25 * np.log(4 / 3)) / (0.75 + 2 * 0.25)
    loss = build_loss("bwcce", counts)(z, y)
    assert float(loss) == pytest.approx(hand, rel=1e-12)
    weight = torch.tensor([0.75, 0.25], dtype=torch.float64)
    torch.testing.assert_close(loss, F.cross_entropy(z, y, weight=weight))


def test_ldam_drw_switches_to_class_balanced_weights_at_drw_epoch(batch, float64_default):
    z, y = batch
    loss = build_loss("ldam_drw", COUNTS, drw_epoch=3)
    plain = ldam_ref(z, y, weighted=False)
    shifted = z.copy()
    shifted[np.arange(len(y)), y] -= margins_ref()[y]
    reweighted = weighted_ce_ref(30 * shifted, y, cb_weights_ref(0.9999))
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
    for epoch, expected in [(0, plain), (2, plain), (3, reweighted), (7, reweighted)]:
        loss.set_epoch(epoch)
        assert float(loss(zt, yt)) == pytest.approx(expected, rel=1e-10), epoch
    assert plain != pytest.approx(reweighted)


@pytest.mark.parametrize("seed", range(3))
def test_soft_scores_on_one_hot_predictions_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, K, size=40)
    y_pred = np.where(rng.random(40) < 0.6, y_true, rng.integers(0, K, size=40))
    probs = torch.from_numpy(np.eye(K)[y_pred])
    onehot = torch.from_numpy(np.eye(K)[y_true])
    assert float(soft_mcc(probs, onehot)) == pytest.approx(matthews_corrcoef(y_true, y_pred), abs=1e-9)
    expected_f1 = f1_score(y_true, y_pred, average="macro", labels=range(K), zero_division=0)
    assert float(soft_macro_f1(probs, onehot)) == pytest.approx(expected_f1, abs=1e-9)
    # Through the losses: logits 200·onehot give exactly one-hot softmax in float64.
    logits = 200.0 * probs
    targets = torch.from_numpy(y_true)
    mcc_loss = build_loss("soft_mcc", np.ones(K))(logits, targets)
    f1_loss = build_loss("soft_f1", np.ones(K))(logits, targets)
    assert 1 - float(mcc_loss) == pytest.approx(matthews_corrcoef(y_true, y_pred), abs=1e-9)
    assert 1 - float(f1_loss) == pytest.approx(expected_f1, abs=1e-9)


def test_soft_mcc_is_zero_when_all_predictions_fall_in_one_class():
    y_true = np.array([0, 1, 2, 1])
    probs = torch.from_numpy(np.eye(3)[[1, 1, 1, 1]])
    assert matthews_corrcoef(y_true, [1, 1, 1, 1]) == 0
    assert float(soft_mcc(probs, torch.from_numpy(np.eye(3)[y_true]))) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["lmf", "focal", "soft_f1"])
def test_half_precision_logits_under_autocast_give_float32_loss(name, batch):
    z, y = batch
    logits = torch.from_numpy(z).to(torch.bfloat16)
    loss = build_loss(name, COUNTS)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = loss(logits, torch.from_numpy(y))
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, loss(logits.float(), torch.from_numpy(y)))
