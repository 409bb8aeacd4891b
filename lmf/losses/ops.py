"""Log-softmax and cross-entropy over the class dimension, routed to PyTorch's fastest CPU kernel.

PyTorch's CPU (log-)softmax along a last dimension of fewer than 16 classes is slow: it
vectorises over the classes. Along dimension 0 of the transposed view, or over the channels of
a (1, K, B) "image", the same kernel vectorises over the batch instead. Measured with torch 2.14
on one CPU thread, forward + backward of cross-entropy on 1024 × 8 logits takes about half the
time that way; for small batches the extra views cost more than they save (break-even near
B·K = 1024), and from 16 classes on the direct call is fast. The results are the same function
(equal up to float rounding).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Class-major route on CPU for fewer classes than this ...
TRANSPOSED_BELOW_CLASSES = 16
#: ... and at least this many logits.
TRANSPOSED_MIN_NUMEL = 1024


def _transposed(logits: torch.Tensor) -> bool:
    return (logits.device.type == "cpu" and logits.shape[1] < TRANSPOSED_BELOW_CLASSES
            and logits.numel() >= TRANSPOSED_MIN_NUMEL)


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """``F.log_softmax(logits, dim=1)`` for (B, K) logits."""
    if _transposed(logits):
        return F.log_softmax(logits.t(), dim=0).t()
    return F.log_softmax(logits, dim=1)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor,
                  weight: torch.Tensor | None = None, reduction: str = "mean") -> torch.Tensor:
    """``F.cross_entropy(logits, targets, weight=weight, reduction=reduction)`` for (B, K) logits.

    On CPU with few classes the logits are passed class-major, as one (1, K, B) "image" whose
    B pixels are the samples: the same loss (PyTorch's weighted mean over the pixels), computed
    by the fast kernel.
    """
    if not _transposed(logits):
        return F.cross_entropy(logits, targets, weight=weight, reduction=reduction)
    loss = F.cross_entropy(logits.t().unsqueeze(0), targets.unsqueeze(0), weight=weight,
                           reduction=reduction)
    return loss.squeeze(0) if reduction == "none" else loss
