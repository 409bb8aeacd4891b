"""From cached uint8 images to model inputs, the same way for training and for every later use.

Both tasks' engines, Grad-CAM (``lmf.classification.cam``) and the feature space call
:func:`model_inputs`, so a trained model always sees its images in the form it was trained on.
A config here is any run config with ``normalize`` and ``image_size`` fields.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmf.data import to_tensor


def model_inputs(images, config, *, size: int | None = None,
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
