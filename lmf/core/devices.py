"""Which device a run uses and where its images are kept."""

from __future__ import annotations

import torch

from lmf.core.errors import ConfigError

#: A split is kept on the GPU when its uint8 images take less than this share of free memory.
GPU_SHARE = 0.25


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; other names as given (checked to exist)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} requested but CUDA is not available; use device='cpu'")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"device {name!r} requested but only {torch.cuda.device_count()} CUDA "
                          "device(s) are visible (cuda:0 ...)")
    return device


def store_device(images: torch.Tensor, device: torch.device) -> torch.device:
    """The GPU when a split's images fit comfortably in its free memory, else the CPU."""
    if device.type != "cuda":
        return torch.device("cpu")
    free, _ = torch.cuda.mem_get_info(device)
    return device if images.numel() < GPU_SHARE * free else torch.device("cpu")
