r"""Segmentation losses by name: ``build_seg_loss(name, pixel_counts, **params)``.

Every loss is called as ``loss(logits, masks)`` with float logits (B, K, H, W) and integer masks
(B, H, W) holding class indices 0..K−1, class 0 the background; it returns a scalar.

=================  ===================================================  ========================
name               loss                                                 parameters (defaults)
=================  ===================================================  ========================
``ce``             pixel-wise cross-entropy, mean over pixels           —
``focal``          softmax focal loss per pixel (Lin et al. 2017)       gamma=2.0
``dice``           soft Dice per image and class (MONAI ``DiceLoss``)   include_background=True
``tversky``        Tversky loss (Salehi et al. 2017)                    alpha=0.3, beta=0.7,
                                                                        include_background=True
``combo``          Combo loss (Taghanaki et al. 2019), Yeung's form     alpha=0.5, beta=0.5
``unified_focal``  asymmetric unified focal loss (Yeung et al. 2022)    lam=0.5, delta=0.6,
                                                                        gamma=0.5
``lmf``            the classification ``lmf`` applied per pixel         alpha=1, beta=1,
                                                                        gamma=1.5, s=30,
                                                                        max_m=0.5,
                                                                        weight="margins"
=================  ===================================================  ========================

``pixel_counts`` holds the K per-class pixel counts of the training masks: ``lmf`` takes its
LDAM margins and class weights from them, the other losses only their number K.

What comes from where: the Dice loss is MONAI's. The Tversky loss has MONAI's value in a form
twice as fast on a CPU (:func:`tversky_loss`); the focal loss reuses the package's focal terms
(MONAI's ``FocalLoss`` has the same terms but also averages over the K channels, see
:class:`PixelFocalLoss`). The Combo and asymmetric unified focal losses are written here: MONAI
has no Combo loss, and its ``AsymmetricUnifiedFocalLoss`` handles two classes only (it reads
channels 0 and 1 and ignores the others). Their tests check them against MONAI where MONAI has
the same quantity.

The table is :data:`SEG_LOSS_REGISTRY` (an :class:`lmf.core.registry.Registry`); ``lmf list
seg-losses`` prints it.

Cui et al. 2024 (IEEE Access, "A Unified Approach Addressing Class Imbalance in Magnetic
Resonance Image for Deep Learning Models") compare CE, focal, Tversky, Combo and their "unified"
loss, which is Yeung et al.'s asymmetric unified focal loss; :func:`seg_unified_focal_loss`
lists the corrections of their Eqs 6–12.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.losses import DiceLoss

from lmf.core.errors import ConfigError
from lmf.core.registry import Registry
from lmf.core.validation import check_flag, check_number
from lmf.losses import LOSS_REGISTRY
from lmf.losses.base import ClassLoss, check_class_indices
from lmf.losses.factory import build_for_counts, check_without_data
from lmf.losses.focal import focal_terms
from lmf.losses.unified_focal import (
    EPS,
    asymmetric_focal_terms,
    focal_tversky_terms,
    tversky_index,
)

#: Smoothing of the Dice coefficient in Yeung et al.'s Combo loss (their ``dice_coefficient``).
COMBO_SMOOTH = 1e-6
#: Smoothing of the Tversky index, MONAI's ``smooth_nr`` and ``smooth_dr`` defaults.
TVERSKY_SMOOTH = 1e-5


class SegLoss(ClassLoss):
    """A loss over per-pixel logits: ``loss(logits, masks)`` with logits (B, K, H, W) and masks
    (B, H, W) of class indices 0..K−1.

    The frame of :class:`lmf.losses.ClassLoss` (half-precision logits computed in float32 with
    autocast off) with the input checks of this layout: shapes, integer masks and mask values
    in range (one ``aminmax`` over the masks; on a GPU this waits for its result).
    """

    def check_inputs(self, logits: torch.Tensor, masks: torch.Tensor) -> None:
        k = self.num_classes
        if logits.dim() != 4 or logits.shape[1] != k or 0 in logits.shape:
            raise ConfigError(
                f"logits must have shape (batch, {k}, height, width), none of them 0, for a loss "
                f"built from {k} pixel counts, got {tuple(logits.shape)}; pass one pixel count "
                "per output class"
            )
        expected = (logits.shape[0], *logits.shape[2:])
        if tuple(masks.shape) != expected:
            raise ConfigError(
                f"masks must have shape {expected} (one class index per pixel of the logits), "
                f"got {tuple(masks.shape)}"
            )
        check_class_indices("masks", masks)
        low, high = (int(v) for v in torch.aminmax(masks))
        if low < 0 or high >= k:
            raise ConfigError(
                f"masks must hold class indices 0..{k - 1} (0 = background), got values from "
                f"{low} to {high}"
            )

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"


def pixel_log_probs(logits: torch.Tensor, masks: torch.Tensor):
    """``log_softmax`` over the classes (B, K, H, W) and ``-log p_t`` of each pixel (B, H, W)."""
    log_probs = F.log_softmax(logits, dim=1)
    return log_probs, -log_probs.gather(1, masks.unsqueeze(1)).squeeze(1)


def onehot_masks(masks: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """The masks (B, H, W) one-hot as (B, K, H, W) ``dtype``, by one comparison with the class
    indices (vectorised, unlike ``F.one_hot``'s int64 scatter and permute)."""
    classes = torch.arange(num_classes, device=masks.device).view(1, -1, 1, 1)
    return (masks.unsqueeze(1) == classes).to(dtype)


def image_soft_counts(probs: torch.Tensor, onehot: torch.Tensor):
    r"""Soft counts per image and class, each (B, K), summed over the image's pixels:
    :math:`tp = \sum P T`, :math:`count = \sum T`, :math:`mass = \sum P`, from the softmax
    probabilities :math:`P` and the one-hot masks :math:`T`, both (B, K, H, W).

    Sums are plain reductions, deterministic on every device (a scatter by class is not on a
    GPU).
    """
    return (probs * onehot).sum((2, 3)), onehot.sum((2, 3)), probs.sum((2, 3))


class PixelCrossEntropy(SegLoss):
    r"""Pixel-wise cross-entropy, the mean over all B·H·W pixels of :math:`-\log p_{t}`
    (``F.cross_entropy``)."""

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, masks)


class PixelFocalLoss(SegLoss):
    r"""Softmax focal loss per pixel (Lin et al. 2017), the mean over all B·H·W pixels:

    .. math::
        L = \frac{1}{BHW} \sum_{\text{pixels}} (1 - p_t)^\gamma \, (-\log p_t)

    with :func:`lmf.losses.focal.focal_terms` on the per-pixel cross-entropy; ``gamma = 0`` is
    :class:`PixelCrossEntropy`. MONAI's ``FocalLoss(to_onehot_y=True, use_softmax=True)`` computes
    the same terms but its ``"mean"`` runs over the K channels too (K − 1 of them zero), so it is
    this loss divided by K; the scale then changes with the number of classes, hence this form.

    Args:
        num_classes: K.
        gamma: focusing parameter γ ≥ 0.
    """

    def __init__(self, num_classes: int, gamma: float = 2.0):
        super().__init__(num_classes)
        self.gamma = check_number("gamma", gamma, low=0.0)

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return focal_terms(pixel_log_probs(logits, masks)[1], self.gamma).mean()

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, gamma={self.gamma:g}"


class SegDiceLoss(SegLoss):
    r"""Soft Dice loss, MONAI's ``DiceLoss(softmax=True, to_onehot_y=True)``:

    .. math::
        1 - \frac{2 \, tp + 10^{-5}}{count + mass + 10^{-5}}

    per image and class (soft counts as in :func:`image_soft_counts`, MONAI's smoothing
    defaults), averaged over images and classes.

    Args:
        num_classes: K.
        include_background: whether class 0 takes part (MONAI's default, True).
    """

    def __init__(self, num_classes: int, include_background: bool = True):
        super().__init__(num_classes)
        self.include_background = check_flag("include_background", include_background)
        self.monai_loss = DiceLoss(include_background=self.include_background,
                                   to_onehot_y=True, softmax=True)

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return self.monai_loss(logits, masks.unsqueeze(1))  # MONAI's labels are (B, 1, H, W)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, include_background={self.include_background}"


def tversky_loss(logits: torch.Tensor, masks: torch.Tensor, alpha: float = 0.3,
                 beta: float = 0.7, include_background: bool = True) -> torch.Tensor:
    r"""Tversky loss (Salehi et al. 2017), per image and class, averaged over images and classes:

    .. math::
        1 - \frac{tp + s}{tp + \alpha \, fp + \beta \, fn + s}, \qquad s = 10^{-5}

    with soft counts over each image's pixels (:func:`image_soft_counts`,
    :math:`fp = mass - tp`, :math:`fn = count - tp`); without class 0 when
    ``include_background`` is False. As in Salehi et al. and MONAI, ``alpha`` weighs the false
    positives and ``beta`` the false negatives (the defaults 0.3 / 0.7 favour recall); Yeung et
    al.'s code writes the same index with δ on the false negatives and 1 − δ on the false
    positives.

    This is MONAI's ``TverskyLoss(softmax=True, to_onehot_y=True)`` with its smoothing
    defaults, the same value to float rounding; MONAI forms :math:`P T`, :math:`P (1 - T)`
    and :math:`(1 - P) T` as separate full-size products, which on a CPU makes it 2–2.5× as slow
    as pixel-wise cross-entropy, this form about 1.5×.
    """
    probs = logits.softmax(1)
    tp, count, mass = image_soft_counts(probs, onehot_masks(masks, logits.shape[1], probs.dtype))
    index = (tp + TVERSKY_SMOOTH) / (tp + alpha * (mass - tp) + beta * (count - tp)
                                     + TVERSKY_SMOOTH)
    return 1 - (index if include_background else index[:, 1:]).mean()


class SegTverskyLoss(SegLoss):
    """Tversky loss (:func:`tversky_loss`).

    Args:
        num_classes: K.
        alpha: weight α ≥ 0 of the false positives.
        beta: weight β ≥ 0 of the false negatives (α and β not both 0).
        include_background: whether class 0 takes part (MONAI's default, True).
    """

    def __init__(self, num_classes: int, alpha: float = 0.3, beta: float = 0.7,
                 include_background: bool = True):
        super().__init__(num_classes)
        self.alpha = check_number("alpha", alpha, low=0.0)
        self.beta = check_number("beta", beta, low=0.0)
        if self.alpha == 0 and self.beta == 0:
            raise ConfigError("alpha and beta of the Tversky loss cannot both be 0 (the index "
                              "would be 1 whatever the prediction)")
        self.include_background = check_flag("include_background", include_background)

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return tversky_loss(logits, masks, self.alpha, self.beta, self.include_background)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, alpha={self.alpha:g}, beta={self.beta:g}, "
                f"include_background={self.include_background}")


def combo_loss(logits: torch.Tensor, masks: torch.Tensor, alpha: float = 0.5,
               beta: float = 0.5) -> torch.Tensor:
    r"""Combo loss (Taghanaki et al. 2019) in the softmax form of Yeung et al.'s code.

    .. math::
        L = \alpha \, \frac{1}{BHW} \sum_{\text{pixels}} w_{y} \, (-\log p_{y})
            \; - \; (1 - \alpha) \, \frac{1}{BK} \sum_{b, c} D_{bc}, \qquad
        D_{bc} = \frac{tp_{bc} + s}{tp_{bc} + \tfrac12 fn_{bc} + \tfrac12 fp_{bc} + s}

    with :math:`w_y = \beta` for foreground pixels (:math:`y \ge 1`) and :math:`1 - \beta` for
    background pixels, soft counts per image and class over that image's pixels
    (:func:`image_soft_counts`) and :math:`s = 10^{-6}`. The Dice coefficient is subtracted, as
    in both sources, so the loss ranges from :math:`-(1 - \alpha)` upwards.

    Source: Yeung et al.'s reference code (``mlyg/unified-focal-loss``, ``loss_functions.py``,
    ``combo_loss(alpha=0.5, beta=0.5)`` with ``dice_coefficient(delta=0.5, smooth=1e-6)``):
    the weighted cross-entropy summed over the channels and averaged over the pixels, the Dice
    coefficient averaged over images and classes, background included. Deviations:

    * β: the code multiplies the two channels by ``[beta, 1 - beta]``, which with its channel 0
      the background puts β on the background, while its docstring ("beta > 0.5 penalises
      false negatives more than false positives") and Taghanaki et al.'s Eq (β on the
      foreground term :math:`t \log p`) put β on the foreground. This follows the paper and
      the docstring; at the default β = 0.5 both read the same.
    * K classes: the code handles two channels; here every foreground class gets β.
    * :math:`\log p` is the exact log-softmax, where the code clips :math:`p` to
      :math:`[10^{-7}, 1 - 10^{-7}]` first (different only for :math:`p < 10^{-7}`).
    """
    log_probs, ce = pixel_log_probs(logits, masks)
    onehot = onehot_masks(masks, logits.shape[1], ce.dtype)
    weighted_ce = (ce * (beta + (1 - 2 * beta) * onehot[:, 0])).mean()
    dice = tversky_index(*image_soft_counts(log_probs.exp(), onehot), 0.5, COMBO_SMOOTH)
    return alpha * weighted_ce - (1 - alpha) * dice.mean()


class SegComboLoss(SegLoss):
    """Combo loss (:func:`combo_loss`).

    Args:
        num_classes: K.
        alpha: weight α ∈ [0, 1] of the cross-entropy term (the Dice term gets 1 − α).
        beta: weight β ∈ [0, 1] of the foreground pixels in the cross-entropy (the background
            pixels get 1 − β).
    """

    def __init__(self, num_classes: int, alpha: float = 0.5, beta: float = 0.5):
        super().__init__(num_classes)
        self.alpha = check_number("alpha", alpha, low=0.0, high=1.0)
        self.beta = check_number("beta", beta, low=0.0, high=1.0)

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return combo_loss(logits, masks, self.alpha, self.beta)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, alpha={self.alpha:g}, beta={self.beta:g}"


def seg_unified_focal_loss(logits: torch.Tensor, masks: torch.Tensor, lam: float = 0.5,
                           delta: float = 0.6, gamma: float = 0.5) -> torch.Tensor:
    r"""Asymmetric unified focal loss per pixel (Yeung et al. 2022), K classes, class 0 the
    background.

    .. math::
        L = \lambda \, L_{maF} + (1 - \lambda) \, L_{maFT}

    Focal part, the mean over all B·H·W pixels: the background (the common class) is focally
    suppressed, every foreground class (rare) keeps its cross-entropy,

    .. math::
        L_{maF} = \frac{1}{BHW} \sum_{\text{pixels}} \begin{cases}
        (1 - \delta) (1 - p_{bg})^{\gamma} (-\log p_{bg}) & y = 0 \\
        \delta \, (-\log p_{y}) & y \ge 1 \end{cases}

    Focal Tversky part, the mean over the B images and K classes: with soft counts over each
    image's pixels (:func:`image_soft_counts`) and the Tversky index
    :math:`TI_{bc} = (tp + \varepsilon) / (tp + \delta fn + (1 - \delta) fp + \varepsilon)`
    (:func:`lmf.losses.unified_focal.tversky_index`, ε = 1e-7), the background enters as
    :math:`1 - TI_{b0}`, each foreground class as :math:`(1 - TI_{bc})^{1 - \gamma}`
    (enhanced).

    Source: Yeung et al., "Unified Focal loss: Generalising Dice and cross entropy-based losses
    to handle class imbalanced medical image segmentation", Comput. Med. Imaging Graph. 95
    (2022), Eqs for :math:`\mathcal{L}_{maF}`, :math:`\mathcal{L}_{maFT}` and
    :math:`\mathcal{L}_{aUF}`, and their reference code (``mlyg/unified-focal-loss``,
    ``asymmetric_focal_loss``, ``asymmetric_focal_tversky_loss``). As in that code, the focal
    part sums the two class terms of a pixel and averages over pixels; MONAI's
    ``AsymmetricFocalLoss`` averages over the two channels as well and so is half of it, while
    MONAI's ``AsymmetricFocalTverskyLoss`` equals the Tversky part for K = 2. The weight λ is on
    the focal part as in the paper's :math:`\mathcal{L}_{aUF}` (the code puts it on the Tversky
    part; the same at λ = 0.5). The code clips the probabilities to
    :math:`[10^{-7}, 1 - 10^{-7}]`; here :math:`-\log p` is the exact log-softmax, and
    :math:`1 - p_{bg}` and :math:`1 - TI` are clamped at ε before the powers.

    Cui et al. adopt this loss (their Eqs 6–12) with garbled equations, corrected here by
    following Yeung et al.: Eq 6 raises :math:`1 - G_t` (the ground truth) to :math:`1 - \tau`
    where :math:`(1 - p_t)^\gamma` is meant; Eq 7 sums over :math:`c = 1 \ldots c` and raises to
    τ where Yeung et al. raise to :math:`1 - \gamma`; Eq 8 writes the predictions as P and F,
    weighs by δ the foreground probability on background pixels (false positives, where δ
    belongs to the false negatives) and repeats the true positives where :math:`(1 - \delta)
    FP` is meant; Eq 9 reads :math:`\delta F + (1 - \delta T)` for
    :math:`\lambda F + (1 - \lambda) T`; Eq 10 lacks the minus sign of the cross-entropy and
    takes the log of the ground truth of the rare class in both terms where the predicted
    probability of each pixel's class is meant; Eq 12 weighs the two parts by τ, the symbol it
    also uses for the focal parameter γ. Their text recommends λ = 0.5, δ = 0.6 and tunes γ;
    γ = 0.5 (Yeung et al.'s default) is an assumption, as is which classes are rare: here every
    foreground class, the background the only common one.
    """
    rare = torch.arange(logits.shape[1], device=logits.device) > 0
    log_probs, ce = pixel_log_probs(logits, masks)
    onehot = onehot_masks(masks, logits.shape[1], ce.dtype)
    foreground_focal = delta * ce
    background = onehot[:, 0]
    focal = (foreground_focal + background
             * (asymmetric_focal_terms(ce, 1 - delta, gamma) - foreground_focal)).mean()
    tversky = tversky_index(*image_soft_counts(log_probs.exp(), onehot), delta, EPS)
    return lam * focal + (1 - lam) * focal_tversky_terms(tversky, rare, gamma).mean()


class SegUnifiedFocalLoss(SegLoss):
    """Asymmetric unified focal loss per pixel (:func:`seg_unified_focal_loss`).

    Args:
        num_classes: K (class 0 the background).
        lam: weight λ ∈ [0, 1] of the focal part (the Tversky part gets 1 − λ).
        delta: δ ∈ [0, 1], weight of the foreground classes / of the false negatives.
        gamma: γ ∈ [0, 1], suppression of the background and enhancement of the foreground.
    """

    def __init__(self, num_classes: int, lam: float = 0.5, delta: float = 0.6,
                 gamma: float = 0.5):
        super().__init__(num_classes)
        self.lam = check_number("lam", lam, low=0.0, high=1.0)
        self.delta = check_number("delta", delta, low=0.0, high=1.0)
        self.gamma = check_number("gamma", gamma, low=0.0, high=1.0)

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return seg_unified_focal_loss(logits, masks, self.lam, self.delta, self.gamma)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, lam={self.lam:g}, delta={self.delta:g}, "
                f"gamma={self.gamma:g}")


class PixelLMFLoss(SegLoss):
    """A classification loss applied to every pixel as one sample: the (B·H·W, K) logits and
    the B·H·W mask values go to ``pixel_loss``.

    For ``lmf`` this is :class:`lmf.losses.LMFLoss` built from the pixel counts: LDAM margins
    (Cao et al. 2019) and focal class weights from how many training pixels each class has.

    Args:
        pixel_loss: a :class:`lmf.losses.ClassLoss` over K classes.
    """

    def __init__(self, pixel_loss: ClassLoss):
        super().__init__(pixel_loss.num_classes)
        self.pixel_loss = pixel_loss

    def compute(self, logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        # (K, B·H·W) class-major, seen as (B·H·W, K): the layout lmf.losses.ops runs fastest.
        pixels = logits.transpose(0, 1).reshape(self.num_classes, -1).t()
        return self.pixel_loss.compute(pixels, masks.reshape(-1))


#: Every segmentation loss of the table above: ``builder(pixel_counts, **params)`` with the
#: checked pixel counts, of which all but ``lmf`` use only their number K.
SEG_LOSS_REGISTRY = Registry("segmentation loss")


@SEG_LOSS_REGISTRY.register("ce", doc="pixel-wise cross-entropy, mean over pixels")
def _ce(counts):
    return PixelCrossEntropy(len(counts))


@SEG_LOSS_REGISTRY.register("focal", doc="softmax focal loss per pixel (Lin et al. 2017)",
                            defaults={"gamma": 2.0})
def _focal(counts, *, gamma):
    return PixelFocalLoss(len(counts), gamma=gamma)


@SEG_LOSS_REGISTRY.register("dice", doc="soft Dice per image and class (MONAI DiceLoss)",
                            defaults={"include_background": True})
def _dice(counts, *, include_background):
    return SegDiceLoss(len(counts), include_background=include_background)


@SEG_LOSS_REGISTRY.register("tversky", doc="Tversky loss (Salehi et al. 2017)",
                            defaults={"alpha": 0.3, "beta": 0.7, "include_background": True})
def _tversky(counts, *, alpha, beta, include_background):
    return SegTverskyLoss(len(counts), alpha=alpha, beta=beta,
                          include_background=include_background)


@SEG_LOSS_REGISTRY.register("combo", doc="Combo loss (Taghanaki et al. 2019), Yeung's form",
                            defaults={"alpha": 0.5, "beta": 0.5})
def _combo(counts, *, alpha, beta):
    return SegComboLoss(len(counts), alpha=alpha, beta=beta)


@SEG_LOSS_REGISTRY.register("unified_focal",
                            doc="asymmetric unified focal loss (Yeung et al. 2022)",
                            defaults={"lam": 0.5, "delta": 0.6, "gamma": 0.5})
def _unified_focal(counts, *, lam, delta, gamma):
    return SegUnifiedFocalLoss(len(counts), lam=lam, delta=delta, gamma=gamma)


@SEG_LOSS_REGISTRY.register("lmf", doc="the classification lmf applied per pixel",
                            defaults=LOSS_REGISTRY.defaults("lmf"))
def _lmf(counts, **params):
    # The classification builder itself, not build_loss: a refusal is then named once, by
    # this registry.
    return PixelLMFLoss(LOSS_REGISTRY.entry("lmf").builder(counts, **params))


#: The segmentation losses :func:`build_seg_loss` knows.
SEG_LOSSES: tuple[str, ...] = SEG_LOSS_REGISTRY.names()


def seg_loss_parameters(name: str) -> dict[str, object]:
    """The parameters segmentation loss ``name`` accepts, with their defaults (``{}`` for
    ``ce``); ``lmf`` takes those of the classification ``lmf``
    (:func:`lmf.losses.loss_parameters`)."""
    return SEG_LOSS_REGISTRY.defaults(name)


def check_seg_loss_params(name: str, params: dict) -> dict:
    """``params`` of segmentation loss ``name`` checked and completed with the defaults, without
    pixel counts; raises the ConfigError :func:`build_seg_loss` would.

    Values are range-checked by building the loss on stand-in counts, as
    :func:`lmf.losses.check_loss_params` does (``lmf.losses.factory.check_without_data``).
    Lengths of per-class vectors (``lmf``'s ``weight``) are checked again against the real K
    when the loss is built.
    """
    return check_without_data(SEG_LOSS_REGISTRY, name, params)


def build_seg_loss(name: str, pixel_counts, **params) -> SegLoss:
    """The segmentation loss ``name`` for the training masks' ``pixel_counts`` (one positive count
    per class, class 0 the background).

    Returns a :class:`SegLoss`, called as ``loss(logits, masks)`` → scalar. Raises ConfigError
    for an unknown name (listing :data:`SEG_LOSSES`), a parameter the loss does not take
    (listing the valid ones), an invalid value or invalid counts; and, when called, for logits
    or masks of the wrong shape, float masks, or mask values outside 0..K−1.
    """
    return build_for_counts(SEG_LOSS_REGISTRY, name, pixel_counts, **params)
