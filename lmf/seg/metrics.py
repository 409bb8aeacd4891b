r"""Segmentation scores (IoU, DSC, precision, recall), pixel counts, Cui et al.'s imbalance ratio.

Per image :math:`n` and class :math:`c`, counting the image's pixels,

.. math::
    IoU = \frac{TP}{TP + FP + FN}, \quad DSC = \frac{2 \, TP}{2 \, TP + FP + FN}, \quad
    precision = \frac{TP}{TP + FP}, \quad recall = \frac{TP}{TP + FN}

(precision is 0 when the class has no predicted pixel). Cui et al. 2024 (IEEE Access, "A Unified
Approach Addressing Class Imbalance in Magnetic Resonance Image for Deep Learning Models") swap
IoU and DSC in their Eqs 13–14 (their IoU is :math:`2TP/(2TP + FP + FN)`); the definitions above
are the standard ones (Jaccard and Sørensen–Dice).

Averaging (the foreground score per image, then the mean over images): an image's score is the
mean over the foreground classes :math:`c \ge 1` present in its ground truth; the reported
score is the mean over the images whose ground truth has any foreground. Images without
foreground are not scored, so false positives on them do not count (their IoU would be 0/0).
For two classes this is the usual per-image foreground score. Counts come from one
``np.bincount`` of :math:`(n K + t) K + p` per block of images: no loop over pixels.
"""

from __future__ import annotations

import numpy as np

from lmf.core.errors import ConfigError

SCORES = ("iou", "dsc", "precision", "recall")

#: Pixels counted per ``np.bincount`` call: a block's index array stays in the cache (on a
#: 2-core machine 1000 masks of 256 × 256 take about 0.2 s; one call over all of them, 0.45 s).
_BLOCK_PIXELS = 1 << 20


def segmentation_scores(pred, true, num_classes: int | None = None) -> dict:
    """IoU, DSC, precision and recall of predicted masks against the ground truth.

    Args:
        pred: predicted class masks (N, H, W), integers ≥ 0 (numpy or torch).
        true: ground-truth class masks, same shape; class 0 is the background.
        num_classes: K; by default the largest class index in either + 1 (at least 2).

    Returns:
        ``{"iou", "dsc", "precision", "recall"}``: floats, foreground scores per image averaged
        over the scored images (NaN when no image has foreground); ``"per_class"``: for each
        foreground class c, the four scores averaged over the images whose ground truth holds
        c (NaN for a class no image holds); ``"images"``: how many images were scored.

    Raises ConfigError for masks that are not integer (N, H, W) arrays of the same shape, for
    negative values, or for values ≥ ``num_classes``.
    """
    pred = _as_masks("pred", pred)
    true = _as_masks("true", true)
    if pred.shape != true.shape:
        raise ConfigError(f"pred and true must have the same shape, got {pred.shape} and "
                          f"{true.shape}")
    k = _num_classes(num_classes, pred, true)
    confusion = _confusion_per_image(true, pred, k)
    tp = np.diagonal(confusion, axis1=1, axis2=2).astype(np.float64)
    true_pixels = confusion.sum(axis=2)
    fp = confusion.sum(axis=1) - tp
    fn = true_pixels - tp
    present = true_pixels > 0
    present[:, 0] = False
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = {
            "iou": tp / (tp + fp + fn),
            "dsc": 2 * tp / (2 * tp + fp + fn),
            "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
            "recall": tp / (tp + fn),
        }
    scored = present.any(axis=1)
    result = {}
    for name, values in scores.items():
        per_image = np.where(present, values, 0.0).sum(axis=1)[scored] / present.sum(axis=1)[scored]
        result[name] = float(per_image.mean()) if scored.any() else float("nan")
    result["per_class"] = {
        c: {name: float(values[present[:, c], c].mean()) if present[:, c].any() else float("nan")
            for name, values in scores.items()}
        for c in range(1, k)
    }
    result["images"] = int(scored.sum())
    return result


def pixel_counts(masks, num_classes: int) -> np.ndarray:
    """Pixels of each class 0..K−1 over all ``masks`` (int64, length ``num_classes``).

    Raises ConfigError for non-integer masks, negative values or values ≥ ``num_classes``.
    """
    masks = _as_masks("masks", masks)
    k = _num_classes(num_classes, masks)
    flat = masks.reshape(-1)
    return sum((np.bincount(flat[start:start + _BLOCK_PIXELS], minlength=k)
                for start in range(0, flat.size, _BLOCK_PIXELS)),
               np.zeros(k, dtype=np.int64))


def imbalance_ratio(masks) -> float:
    """Cui et al.'s class-imbalance ratio: per image, background pixels / foreground pixels
    (every class ≥ 1 is foreground), averaged over the images that have foreground.

    NaN when no image has foreground. Raises ConfigError for non-integer masks or negative
    values.
    """
    masks = _as_masks("masks", masks)
    background = np.count_nonzero(masks.reshape(len(masks), -1) == 0, axis=1)
    foreground = masks[0].size - background
    has_foreground = foreground > 0
    if not has_foreground.any():
        return float("nan")
    return float((background[has_foreground] / foreground[has_foreground]).mean())


def _as_masks(name: str, masks) -> np.ndarray:
    """``masks`` as a non-negative integer numpy array (N, H, W)."""
    if hasattr(masks, "detach"):  # a torch tensor
        masks = masks.detach().cpu().numpy()
    masks = np.asarray(masks)
    if masks.dtype == bool:
        masks = masks.astype(np.uint8)
    if not np.issubdtype(masks.dtype, np.integer):
        raise ConfigError(f"{name} must hold integer class indices, got dtype {masks.dtype}; "
                          "convert predictions with argmax over the classes first")
    if masks.ndim != 3 or masks.size == 0:
        raise ConfigError(f"{name} must be masks of shape (images, height, width), none of "
                          f"them 0, got shape {masks.shape}")
    if masks.min() < 0:
        raise ConfigError(f"{name} must hold class indices >= 0, got {masks.min()}")
    return masks


def _num_classes(num_classes: int | None, *masks: np.ndarray) -> int:
    """``num_classes`` checked against the largest value of ``masks``, or that value + 1."""
    largest = max(int(m.max()) for m in masks)
    if num_classes is None:
        return max(largest + 1, 2)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) \
            or num_classes < 2:
        raise ConfigError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if largest >= num_classes:
        raise ConfigError(f"masks hold class {largest}, but num_classes is {num_classes} "
                          f"(classes 0..{num_classes - 1})")
    return int(num_classes)


def _confusion_per_image(true: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """(N, K, K) pixel confusion matrices, rows the true class, columns the predicted one."""
    n = len(true)
    per_image = true[0].size
    block = max(1, _BLOCK_PIXELS // per_image)
    confusion = np.empty((n, k * k), dtype=np.int64)
    index = np.empty((block, per_image), dtype=np.intp)
    for start in range(0, n, block):
        t = true[start:start + block].reshape(-1, per_image)
        rows = index[:len(t)]
        # (image · K + true) · K + pred, image counted within the block
        np.multiply(t, k, out=rows, casting="unsafe")  # exact: values are checked class indices
        rows += (np.arange(len(t)) * (k * k))[:, None]
        np.add(rows, pred[start:start + block].reshape(-1, per_image), out=rows, casting="unsafe")
        confusion[start:start + block] = np.bincount(
            rows.ravel(), minlength=len(t) * k * k).reshape(len(t), k * k)
    return confusion.reshape(n, k, k)
