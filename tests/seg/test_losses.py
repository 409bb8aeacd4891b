"""Segmentation losses against float64 references written here, MONAI's parts and lmf.losses."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.losses import FocalLoss, TverskyLoss
from monai.losses.unified_focal_loss import AsymmetricFocalLoss, AsymmetricFocalTverskyLoss

from lmf.core.errors import ConfigError
from lmf.losses import build_loss
from lmf.seg import SEG_LOSSES as LAZY_SEG_LOSSES
from lmf.seg import build_seg_loss as lazy_build_seg_loss
from lmf.seg.losses import SEG_LOSSES, build_seg_loss, check_seg_loss_params, seg_loss_parameters

COUNTS4 = np.array([5000.0, 300.0, 40.0, 8.0])  # background first, long-tailed foreground
COUNTS2 = np.array([5000.0, 120.0])


def batch(k, seed=0, shape=(3, 6, 7), scale=2.0):
    """Logits (B, K, H, W) and masks (B, H, W) with every class present."""
    generator = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(shape[0], k, *shape[1:], generator=generator)
    masks = torch.randint(0, k, shape, generator=generator)
    masks[:, 0, :k] = torch.arange(k)
    return logits, masks


# ---- float64 references, written from the papers' formulas and Yeung et al.'s code -----------

def softmax64(logits):
    z = logits.double().numpy()
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def onehot64(masks, k):
    return (masks.numpy()[:, None] == np.arange(k)[None, :, None, None]).astype(np.float64)


def soft_counts_ref(p, t):
    """tp, fn, fp per image and class, (B, K), summed over each image's pixels."""
    return (p * t).sum((2, 3)), ((1 - p) * t).sum((2, 3)), (p * (1 - t)).sum((2, 3))


def focal_ref(logits, masks, gamma):
    p, t = softmax64(logits), onehot64(masks, logits.shape[1])
    pt = (p * t).sum(1)
    return np.mean((1 - pt) ** gamma * -np.log(pt))


def dice_ref(logits, masks, include_background=True, smooth=1e-5):
    p, t = softmax64(logits), onehot64(masks, logits.shape[1])
    tp, fn, fp = soft_counts_ref(p, t)
    dice = (2 * tp + smooth) / (2 * tp + fn + fp + smooth)
    return np.mean(1 - (dice if include_background else dice[:, 1:]))


def tversky_ref(logits, masks, alpha, beta, smooth=1e-5):
    p, t = softmax64(logits), onehot64(masks, logits.shape[1])
    tp, fn, fp = soft_counts_ref(p, t)
    return np.mean(1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth))


def combo_ref(logits, masks, alpha=0.5, beta=0.5):
    """Taghanaki et al.'s Combo loss in Yeung et al.'s softmax form: β on foreground CE."""
    k = logits.shape[1]
    p, t = softmax64(logits), onehot64(masks, k)
    class_weight = np.array([1 - beta] + [beta] * (k - 1))[None, :, None, None]
    cross_entropy = np.mean(np.sum(class_weight * -t * np.log(p), axis=1))
    tp, fn, fp = soft_counts_ref(p, t)
    dice = np.mean((tp + 1e-6) / (tp + 0.5 * fn + 0.5 * fp + 1e-6))
    return alpha * cross_entropy - (1 - alpha) * dice


def unified_focal_parts_ref(logits, masks, delta=0.6, gamma=0.5, eps=1e-7):
    """Focal and Tversky parts, pixel by pixel and image by image (class 0 background)."""
    k = logits.shape[1]
    p, y = softmax64(logits), masks.numpy()
    focal = 0.0
    for b, i, j in np.ndindex(*y.shape):
        c = y[b, i, j]
        pc = p[b, c, i, j]
        focal += (delta * -np.log(pc) if c > 0
                  else (1 - delta) * (1 - pc) ** gamma * -np.log(pc))
    focal /= y.size
    tversky = 0.0
    for b in range(y.shape[0]):
        for c in range(k):
            member = y[b] == c
            tp = p[b, c][member].sum()
            fn = (1 - p[b, c][member]).sum()
            fp = p[b, c][~member].sum()
            ti = (tp + eps) / (tp + delta * fn + (1 - delta) * fp + eps)
            tversky += (1 - ti) ** (1 - gamma) if c > 0 else 1 - ti
    return focal, tversky / (y.shape[0] * k)


def unified_focal_ref(logits, masks, lam=0.5, delta=0.6, gamma=0.5):
    focal, tversky = unified_focal_parts_ref(logits, masks, delta, gamma)
    return lam * focal + (1 - lam) * tversky


def value(name, logits, masks, counts=COUNTS4, **params):
    return build_seg_loss(name, counts[:logits.shape[1]], **params)(logits, masks).item()


# ---- the registry --------------------------------------------------------------------------

def test_names_and_lazy_exports():
    assert SEG_LOSSES == ("ce", "focal", "dice", "tversky", "combo", "unified_focal", "lmf")
    assert LAZY_SEG_LOSSES is SEG_LOSSES and lazy_build_seg_loss is build_seg_loss


@pytest.mark.parametrize("name", SEG_LOSSES)
@pytest.mark.parametrize("k", [2, 4])
def test_every_loss_gives_a_finite_scalar_and_gradient(name, k):
    logits, masks = batch(k)
    logits.requires_grad_()
    loss = build_seg_loss(name, COUNTS4[:k])(logits, masks)
    loss.backward()
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


@pytest.mark.parametrize("name", SEG_LOSSES)
def test_confident_logits_keep_finite_gradients(name):
    """Near-perfect and near-hopeless predictions: the ε-clamps keep the powers differentiable."""
    _, masks = batch(3, seed=1)
    logits = F.one_hot(masks, 3).permute(0, 3, 1, 2).double() * 60.0
    logits[0] = -logits[0]  # image 0 confidently wrong
    logits.requires_grad_()
    build_seg_loss(name, COUNTS4[:3])(logits, masks).backward()
    assert torch.isfinite(logits.grad).all()


def test_uint8_masks_give_the_int64_value():
    logits, masks = batch(4)
    for name in SEG_LOSSES:
        loss = build_seg_loss(name, COUNTS4)
        assert loss(logits, masks.to(torch.uint8)).item() == loss(logits, masks).item()


@pytest.mark.parametrize("name", ["focal", "unified_focal", "lmf"])
def test_bfloat16_logits_are_computed_in_float32(name):
    logits, masks = batch(4)
    loss = build_seg_loss(name, COUNTS4)
    low = loss(logits.bfloat16(), masks)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, loss(logits.bfloat16().float(), masks))


# ---- each loss against its reference -------------------------------------------------------

def test_ce_is_pixelwise_cross_entropy():
    logits, masks = batch(4)
    torch.testing.assert_close(build_seg_loss("ce", COUNTS4)(logits, masks),
                               F.cross_entropy(logits, masks))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_matches_the_formula(gamma):
    logits, masks = batch(4, seed=2)
    assert value("focal", logits.double(), masks, gamma=gamma) == pytest.approx(
        focal_ref(logits, masks, gamma), rel=1e-10)


def test_focal_is_k_times_monai_focal_loss():
    """MONAI's softmax focal loss has the same terms but also averages over the K channels."""
    for k in (2, 4):
        logits, masks = batch(k, seed=3)
        monai = FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0)(logits, masks[:, None])
        assert value("focal", logits, masks) == pytest.approx(k * monai.item(), rel=1e-5)


def test_focal_with_gamma_0_is_cross_entropy():
    logits, masks = batch(4, seed=4)
    assert value("focal", logits, masks, gamma=0.0) == pytest.approx(
        F.cross_entropy(logits, masks).item(), rel=1e-6)


@pytest.mark.parametrize("include_background", [True, False])
def test_dice_matches_the_formula(include_background):
    logits, masks = batch(4, seed=5)
    assert value("dice", logits.double(), masks, include_background=include_background) == \
        pytest.approx(dice_ref(logits, masks, include_background), rel=1e-10)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("include_background", [True, False])
def test_tversky_is_monais(k, include_background):
    logits, masks = batch(k, seed=14)
    monai = TverskyLoss(include_background=include_background, to_onehot_y=True, softmax=True,
                        alpha=0.2, beta=0.9)(logits, masks[:, None])
    assert value("tversky", logits, masks, alpha=0.2, beta=0.9,
                 include_background=include_background) == pytest.approx(monai.item(), rel=1e-5)


def test_tversky_alpha_weighs_false_positives_and_beta_false_negatives():
    logits, masks = batch(4, seed=6)
    got = value("tversky", logits.double(), masks, alpha=0.3, beta=0.7)
    assert got == pytest.approx(tversky_ref(logits, masks, 0.3, 0.7), rel=1e-10)
    assert got != pytest.approx(tversky_ref(logits, masks, 0.7, 0.3), rel=1e-3)
    # α = β = 0.5 is the Dice loss (up to where the smoothing constant enters)
    assert value("tversky", logits.double(), masks, alpha=0.5, beta=0.5) == pytest.approx(
        dice_ref(logits, masks), rel=1e-5)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("params", [{}, {"alpha": 0.3, "beta": 0.8}])
def test_combo_matches_the_formula(k, params):
    logits, masks = batch(k, seed=7)
    assert value("combo", logits.double(), masks, **params) == pytest.approx(
        combo_ref(logits, masks, **params), rel=1e-10)


def test_combo_beta_above_half_penalises_missed_foreground():
    """All foreground predicted as background: the loss rises with β (Taghanaki et al.)."""
    _, masks = batch(2, seed=8)
    logits = torch.zeros(3, 2, 6, 7)
    logits[:, 0] = 3.0
    losses = [value("combo", logits, masks, beta=beta) for beta in (0.3, 0.5, 0.7)]
    assert losses[0] < losses[1] < losses[2]


@pytest.mark.parametrize("params, rel", [
    ({}, 1e-10),
    # lmf.losses.unified_focal builds the exponent 1 − γ in float32 (bitwise as the
    # classification loss has it), so 0.8 differs from float64's 0.8 by 1e-8 relative
    ({"lam": 0.3, "delta": 0.7, "gamma": 0.2}, 1e-7),
])
def test_unified_focal_matches_the_formula_for_four_classes(params, rel):
    logits, masks = batch(4, seed=9, shape=(2, 5, 6))
    assert value("unified_focal", logits.double(), masks, **params) == pytest.approx(
        unified_focal_ref(logits, masks, **params), rel=rel)


def test_unified_focal_enhances_every_foreground_class():
    """Class 2 counts as foreground: relabelling it as background changes the loss."""
    logits, masks = batch(3, seed=10)
    relabelled = torch.where(masks == 2, 0, masks)
    assert value("unified_focal", logits.double(), relabelled) == pytest.approx(
        unified_focal_ref(logits, relabelled), rel=1e-10)
    assert value("unified_focal", logits, masks) != pytest.approx(
        value("unified_focal", logits, relabelled), rel=1e-3)


@pytest.mark.parametrize("delta, gamma", [(0.6, 0.5), (0.7, 0.2)])
def test_unified_focal_parts_match_monai_for_two_classes(delta, gamma):
    """λ = 0 is MONAI's asymmetric focal Tversky loss; λ = 1 is twice MONAI's asymmetric focal
    loss (MONAI averages the two class terms of a pixel, Yeung et al.'s code sums them)."""
    logits, masks = batch(2, seed=11, shape=(4, 16, 16))
    probs = logits.softmax(1)  # MONAI's asymmetric losses take probabilities
    onehot = F.one_hot(masks, 2).permute(0, 3, 1, 2).float()
    tversky = AsymmetricFocalTverskyLoss(delta=delta, gamma=gamma)(probs, onehot).item()
    focal = AsymmetricFocalLoss(delta=delta, gamma=gamma)(probs, onehot).item()
    params = {"delta": delta, "gamma": gamma}
    assert value("unified_focal", logits, masks, COUNTS2, lam=0.0, **params) == \
        pytest.approx(tversky, rel=1e-5)
    assert value("unified_focal", logits, masks, COUNTS2, lam=1.0, **params) == \
        pytest.approx(2 * focal, rel=1e-5)
    assert value("unified_focal", logits, masks, COUNTS2, lam=0.5, **params) == \
        pytest.approx(0.5 * tversky + focal, rel=1e-5)


@pytest.mark.parametrize("params", [{}, {"alpha": 1.5, "beta": 0.5, "gamma": 2.0, "s": 10.0,
                                         "max_m": 0.3, "weight": [1.0, 2.0, 3.0, 4.0]}])
def test_lmf_is_the_classification_lmf_on_every_pixel(params):
    logits, masks = batch(4, seed=12)
    pixels = logits.permute(0, 2, 3, 1).reshape(-1, 4).clone().requires_grad_()
    expected = build_loss("lmf", COUNTS4, **params)(pixels, masks.reshape(-1))
    expected.backward()
    logits.requires_grad_()
    got = build_seg_loss("lmf", COUNTS4, **params)(logits, masks)
    got.backward()
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(logits.grad.permute(0, 2, 3, 1).reshape(-1, 4), pixels.grad)


def test_lmf_margins_come_from_the_pixel_counts():
    logits, masks = batch(4, seed=13)
    rarer = COUNTS4 * np.array([1.0, 1.0, 1.0, 0.01])
    assert value("lmf", logits, masks) != pytest.approx(value("lmf", logits, masks, rarer))


# ---- parameters ------------------------------------------------------------------------------

def test_parameters_and_defaults():
    assert seg_loss_parameters("ce") == {}
    assert seg_loss_parameters("focal") == {"gamma": 2.0}
    assert seg_loss_parameters("dice") == {"include_background": True}
    assert seg_loss_parameters("tversky") == {"alpha": 0.3, "beta": 0.7,
                                              "include_background": True}
    assert seg_loss_parameters("combo") == {"alpha": 0.5, "beta": 0.5}
    assert seg_loss_parameters("unified_focal") == {"lam": 0.5, "delta": 0.6, "gamma": 0.5}
    assert seg_loss_parameters("lmf") == {"alpha": 1.0, "beta": 1.0, "gamma": 1.5, "s": 30.0,
                                          "max_m": 0.5, "weight": "margins"}


def test_check_params_completes_them_without_counts():
    assert check_seg_loss_params("unified_focal", {"gamma": 0.3}) == {
        "lam": 0.5, "delta": 0.6, "gamma": 0.3}
    assert check_seg_loss_params("lmf", {"alpha": 2.0})["alpha"] == 2.0
    assert check_seg_loss_params("ce", {}) == {}


def test_unknown_name_lists_the_losses():
    for call in (lambda: build_seg_loss("bce", COUNTS2), lambda: seg_loss_parameters("bce"),
                 lambda: check_seg_loss_params("bce", {})):
        with pytest.raises(ConfigError, match="unknown segmentation loss 'bce'.*combo, dice"):
            call()


@pytest.mark.parametrize("name, params, valid", [
    ("ce", {"gamma": 2.0}, "valid parameters: none"),
    ("focal", {"alpha": 0.5}, "valid parameters: gamma"),
    ("unified_focal", {"weight": 0.5}, "valid parameters: lam, delta, gamma"),
    ("lmf", {"delta": 0.5}, "valid parameters: alpha, beta, gamma, s, max_m, weight"),
])
def test_unknown_parameters_list_the_valid_ones(name, params, valid):
    for call in (lambda: build_seg_loss(name, COUNTS2, **params),
                 lambda: check_seg_loss_params(name, params)):
        with pytest.raises(ConfigError, match=f"takes no parameter .*{valid}"):
            call()


@pytest.mark.parametrize("name, params, message", [
    ("focal", {"gamma": -1.0}, r"gamma must be a number in \[0, inf\)"),
    ("dice", {"include_background": "yes"}, "include_background must be true or false"),
    ("tversky", {"alpha": 0.0, "beta": 0.0}, "cannot both be 0"),
    ("tversky", {"beta": -0.1}, "beta must be"),
    ("combo", {"alpha": 1.5}, r"alpha must be a number in \[0, 1\]"),
    ("unified_focal", {"lam": 2.0}, r"lam must be a number in \[0, 1\]"),
    ("unified_focal", {"gamma": 1.5}, "gamma must be"),
    ("lmf", {"s": 0.0}, "s must be"),
    ("lmf", {"weight": [1.0, -2.0]}, "weight must be a sequence"),
])
def test_invalid_values_are_rejected_before_and_at_build(name, params, message):
    for call in (lambda: build_seg_loss(name, COUNTS2, **params),
                 lambda: check_seg_loss_params(name, params)):
        with pytest.raises(ConfigError, match=f"loss '{name}': .*{message}"):
            call()


def test_class_weights_of_lmf_must_match_the_pixel_counts():
    assert check_seg_loss_params("lmf", {"weight": [1.0, 2.0, 3.0]})["weight"] == [1.0, 2.0, 3.0]
    with pytest.raises(ConfigError, match="weight must be a sequence of 2"):
        build_seg_loss("lmf", COUNTS2, weight=[1.0, 2.0, 3.0])


def test_invalid_pixel_counts_are_rejected():
    for counts in ([100.0], [100.0, 0.0], [[1.0, 2.0]]):
        with pytest.raises(ConfigError, match="class_counts"):
            build_seg_loss("ce", counts)


# ---- inputs --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEG_LOSSES)
def test_bad_inputs_are_config_errors(name):
    loss = build_seg_loss(name, COUNTS4[:3])
    logits, masks = batch(3)
    with pytest.raises(ConfigError, match=r"logits must have shape \(batch, 3, height, width\)"):
        loss(logits[:, :2], masks)  # K mismatch
    with pytest.raises(ConfigError, match="logits must have shape"):
        loss(logits.flatten(2), masks)  # no spatial layout
    with pytest.raises(ConfigError, match=r"masks must have shape \(3, 6, 7\)"):
        loss(logits, masks[:, :5])
    with pytest.raises(ConfigError, match="masks must be integer class indices"):
        loss(logits, masks.float())
    with pytest.raises(ConfigError, match="masks must be integer class indices"):
        loss(logits, masks > 0)
    with pytest.raises(ConfigError, match=r"0\.\.2 \(0 = background\), got values from 0 to 3"):
        loss(logits, torch.where(masks == 2, 3, masks))
    with pytest.raises(ConfigError, match="got values from -1 to 2"):
        loss(logits, torch.where(masks == 1, -1, masks))
