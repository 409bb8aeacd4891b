"""The common frame of every loss module: input checks and float32 compute under autocast."""

from __future__ import annotations

import torch
from torch import nn

from lmf.core.errors import ConfigError

_LOW_PRECISION = (torch.float16, torch.bfloat16)


class ClassLoss(nn.Module):
    """A loss over ``K`` classes, called as ``loss(logits, targets)``.

    ``logits`` is a (B, K) tensor, ``targets`` a (B,) int64 tensor of class indices; the result
    is a scalar. Half-precision logits are cast to float32 and the loss is computed with autocast
    disabled, so a mixed-precision training loop gets a float32 loss; float64 logits stay float64
    (for gradcheck). Subclasses implement :meth:`compute` and hold per-class tensors as
    registered buffers, so they follow ``.to(device)`` and ``.to(dtype)``.
    """

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = int(num_classes)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        self.check_inputs(logits, targets)
        if logits.dtype in _LOW_PRECISION:
            logits = logits.float()
        targets = targets.long()
        device_type = logits.device.type
        if torch.is_autocast_enabled(device_type):
            with torch.autocast(device_type, enabled=False):
                return self.compute(logits, targets)
        return self.compute(logits, targets)

    def check_inputs(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Raise ConfigError unless ``logits`` is (B, K) and ``targets`` (B,) class indices.

        A loss over another layout (per-pixel logits, say) overrides this check.
        """
        if logits.dim() != 2 or logits.shape[1] != self.num_classes:
            raise ConfigError(
                f"logits must have shape (batch, {self.num_classes}) for a loss built from "
                f"{self.num_classes} class counts, got {tuple(logits.shape)}; pass one count "
                "per output class"
            )
        if targets.shape != logits.shape[:1]:
            raise ConfigError(
                f"targets must have shape ({logits.shape[0]},) (one class index per row of "
                f"logits), got {tuple(targets.shape)}"
            )
        check_class_indices("targets", targets)

    def compute(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss on checked float logits; implemented by each loss."""
        raise NotImplementedError


def check_class_indices(name: str, targets: torch.Tensor) -> None:
    """Raise ConfigError unless ``targets`` holds integers (class indices, not floats or bools)."""
    if targets.dtype.is_floating_point or targets.dtype == torch.bool:
        raise ConfigError(
            f"{name} must be integer class indices (int64), got {targets.dtype}; a float "
            "target such as 0.7 is not a class (round or convert labels with .long())"
        )
