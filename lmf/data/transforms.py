"""Turning cached uint8 images into model input, and light tensor-level augmentation.

The paper feeds images resized to 224×224 and scaled to [0, 1] (``ToTensor``), without
normalisation or augmentation; both are options here, off by default. Normalisation takes the
statistics by name (``NORMALIZATIONS``). Augmentation runs on the batch's device as tensor ops,
drawn from a given generator: ``augment`` (random translation, reflected borders) and
``pad_crop_flip`` (the long-tailed CIFAR protocol's ``RandomCrop(32, padding=4)`` +
``RandomHorizontalFlip``).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from lmf.core.errors import ConfigError

#: ImageNet channel statistics used by torchvision's and timm's pretrained weights.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The per-channel statistics of Cao et al.'s CIFAR code (kaidic/LDAM-DRW, ``cifar_train.py``,
#: ``transforms.Normalize``), used there for CIFAR-10 and CIFAR-100 alike.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
#: ``normalize`` choices: name -> (mean, std), or None for none.
NORMALIZATIONS = {"none": None, "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
                  "cifar": (CIFAR_MEAN, CIFAR_STD)}


def to_tensor(images, normalize: str | bool = "none") -> torch.Tensor:
    """uint8 images N×H×W×3 (NumPy array, memmap or tensor) -> float32 N×3×H×W in [0, 1].

    ``normalize`` names the channel statistics (``NORMALIZATIONS``: ``"imagenet"``, ``"cifar"``)
    the channels are then standardised with, ``(x − mean) / std``; ``True`` means
    ``"imagenet"``, ``False`` or ``"none"`` no normalisation. The conversion happens on the
    input's device, so moving the uint8 batch to the GPU first and converting there transfers a
    quarter of the bytes.
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
    statistics = NORMALIZATIONS[normalization_name(normalize)]
    if statistics is not None:
        mean, std = (torch.tensor(v, device=batch.device).view(1, 3, 1, 1) for v in statistics)
        batch.sub_(mean).div_(std)
    return batch


def normalization_name(normalize: str | bool) -> str:
    """The ``NORMALIZATIONS`` key of ``normalize`` (``True`` is ImageNet's, ``False`` none)."""
    if isinstance(normalize, bool):
        return "imagenet" if normalize else "none"
    if normalize not in NORMALIZATIONS:
        raise ConfigError(f"normalize must be one of {', '.join(NORMALIZATIONS)} (or a bool), "
                          f"got {normalize!r}")
    return normalize


def pad_crop_flip(images: torch.Tensor, generator: torch.Generator,
                  padding: int = 4) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip of uint8 images N×H×W×C.

    torchvision's ``RandomCrop(H, padding=padding)`` then ``RandomHorizontalFlip()`` applied to
    each image, as the long-tailed CIFAR protocol trains (kaidic/LDAM-DRW, ``cifar_train.py``),
    but for a whole batch at once on its device: the image is padded with ``padding`` black
    pixels on every side, an H×W window at offsets drawn uniformly from ``0 … 2·padding`` is
    kept, and it is mirrored with probability 1/2. Working on the uint8 pixels before
    normalisation keeps the padding black, as in torchvision (fill 0 on the PIL image). One
    gather does crop and flip; ``generator`` (on the images' device) draws offsets and flips.
    """
    n, height, width, _ = images.shape
    device = images.device
    padded = F.pad(images, (0, 0, padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator, device=device)
    mirrored = torch.rand(n, generator=generator, device=device) < 0.5
    rows = offsets[:, :1] + torch.arange(height, device=device)
    columns = torch.arange(width, device=device).expand(n, width)
    columns = offsets[:, 1:] + torch.where(mirrored[:, None], width - 1 - columns, columns)
    batch = torch.arange(n, device=device)[:, None, None]
    return padded[batch, rows[:, :, None], columns[:, None, :]]


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
