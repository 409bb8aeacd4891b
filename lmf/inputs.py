"""From a run's config to the data it trains on, and from cached images to model inputs.

Training (``lmf.train``) and everything that feeds a trained model again (Grad-CAM,
``lmf.cam``) call these two functions, so both see the same images in the same form.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmf.config import RunConfig
from lmf.data import PreparedData, prepare, to_tensor


def prepare_data(config: RunConfig, progress: bool = False) -> PreparedData:
    """The dataset of ``config``, indexed, split and cached at its image size."""
    return prepare(config.dataset, root=config.data_root, split=config.split,
                   size=config.image_size, progress=progress, **config.dataset_params)


def model_inputs(images, config: RunConfig, *, size: int | None = None,
                 device: torch.device | str = "cpu",
                 memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """uint8 images N×H×W×3 (array or tensor) → float32 N×3×S×S on ``device``.

    Pixels are scaled to [0, 1] (and standardised with the statistics ``config.normalize``
    names); ``size``
    (default ``config.image_size``) resizes bilinearly with antialiasing when it differs, as
    progressive resizing needs.
    """
    if isinstance(images, torch.Tensor):
        images = images.to(device, non_blocking=True)
    inputs = to_tensor(images, normalize=config.normalize).to(device)
    size = size or config.image_size
    if inputs.shape[-1] != size or inputs.shape[-2] != size:
        inputs = F.interpolate(inputs, size=(size, size), mode="bilinear", antialias=True,
                               align_corners=False)
    return inputs.contiguous(memory_format=memory_format)
