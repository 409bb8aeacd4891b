"""Decode one image file into a square uint8 RGB array.

Matches what the authors' pipeline did to each image: ``PIL.Image.open(...).convert("RGB")``
(torchvision's ``ImageFolder`` loader) followed by ``transforms.Resize((size, size))``, which on a
PIL image is ``Image.resize`` with bilinear filtering (antialiased when shrinking): the image is
squashed to a square, not cropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def load_image(path: str | Path, size: int) -> np.ndarray:
    """uint8 array size×size×3 of the image at ``path``; PIL's ``OSError`` if unreadable."""
    with Image.open(path) as image:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image = image.resize((size, size), Image.BILINEAR)
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)
