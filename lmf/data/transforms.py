"""Turning cached uint8 images into model input, and light tensor-level augmentation.

The paper feeds images resized to 224×224 and scaled to [0, 1] (``ToTensor``), without ImageNet
normalisation or augmentation; both are options here, off by default.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from lmf.errors import ConfigError

#: ImageNet channel statistics used by torchvision's and timm's pretrained weights.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_tensor(images, normalize: bool = False) -> torch.Tensor:
    """uint8 images N×H×W×3 (NumPy array, memmap or tensor) -> float32 N×3×H×W in [0, 1].

    With ``normalize`` the channels are then standardised with the ImageNet mean and std. The
    conversion happens on the input's device, so moving the uint8 batch to the GPU first and
    converting there transfers a quarter of the bytes.
    """
    if not isinstance(images, torch.Tensor):
        array = np.ascontiguousarray(images)
        with warnings.catch_warnings():  # read-only memmaps are fine: the tensor is only read
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            images = torch.from_numpy(array)
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ConfigError(f"expected uint8 images N×H×W×3, got {tuple(images.shape)} "
                         f"{images.dtype}")
    batch = images.permute(0, 3, 1, 2).to(torch.float32, memory_format=torch.contiguous_format)
    batch.mul_(1.0 / 255.0)
    if normalize:
        mean = torch.tensor(IMAGENET_MEAN, device=batch.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=batch.device).view(1, 3, 1, 1)
        batch.sub_(mean).div_(std)
    return batch


def augment(batch: torch.Tensor, generator: torch.Generator, *, max_shift: float = 0.125,
            flip: bool = False) -> torch.Tensor:
    """Random translation (and optionally horizontal flip) of each image of a N×C×H×W batch.

    Each image is shifted by a whole number of pixels, up to ``max_shift`` of its side in each
    direction, with reflected borders (the pad-and-crop augmentation of the long-tailed CIFAR
    protocol, Cao et al. 2019). ``flip`` mirrors half of the images; it is off by default
    because the default digits dataset is not mirror-symmetric. ``generator`` (on the batch's
    device) makes the draw reproducible. Returns a new tensor.
    """
    n, _, height, width = batch.shape
    device = batch.device
    limits = torch.tensor([int(max_shift * width), int(max_shift * height)], device=device)
    shifts = torch.floor(torch.rand(n, 2, generator=generator, device=device)
                         * (2 * limits + 1)) - limits
    # affine_grid works in [-1, 1] coordinates: a shift of one pixel is 2 / side.
    theta = torch.zeros(n, 2, 3, device=device, dtype=batch.dtype)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    if flip:
        mirrored = torch.rand(n, generator=generator, device=device) < 0.5
        theta[:, 0, 0] = torch.where(mirrored, -1.0, 1.0).to(batch.dtype)
    theta[:, 0, 2] = (2.0 * shifts[:, 0] / width).to(batch.dtype)
    theta[:, 1, 2] = (2.0 * shifts[:, 1] / height).to(batch.dtype)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, mode="nearest", padding_mode="reflection",
                         align_corners=False)
