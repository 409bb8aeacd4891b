"""to_tensor against torchvision's own conversion, augment as an exact pixel shift."""

import numpy as np
import pytest
import torch
from torchvision.transforms import functional as TF

from lmf.data import augment, to_tensor
from lmf.data.transforms import IMAGENET_MEAN, IMAGENET_STD


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (3, 7, 5, 3), dtype=np.uint8)


def test_to_tensor_matches_torchvision(images):
    batch = to_tensor(images)
    assert batch.dtype == torch.float32 and batch.shape == (3, 3, 7, 5) and batch.is_contiguous()
    expected = torch.stack([TF.to_tensor(image) for image in images])
    torch.testing.assert_close(batch, expected, rtol=0, atol=1e-7)


def test_to_tensor_normalize_matches_torchvision(images):
    expected = torch.stack([TF.normalize(TF.to_tensor(image), IMAGENET_MEAN, IMAGENET_STD)
                            for image in images])
    torch.testing.assert_close(to_tensor(images, normalize=True), expected)


def test_to_tensor_accepts_read_only_memmaps_and_tensors(tmp_path, images):
    np.save(tmp_path / "x.npy", images)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    torch.testing.assert_close(to_tensor(mapped), to_tensor(torch.from_numpy(images)))


def test_to_tensor_rejects_other_layouts(images):
    with pytest.raises(ValueError, match="N×H×W×3"):
        to_tensor(images.astype(np.float32))
    with pytest.raises(ValueError, match="N×H×W×3"):
        to_tensor(images.transpose(0, 3, 1, 2))


def _find_shift(source, shifted, limit):
    """The (dy, dx) with shifted[y, x] == source[y - dy, x - dx] on the interior, if any."""
    h, w = source.shape[-2:]
    inner = (slice(None), slice(limit, h - limit), slice(limit, w - limit))
    for dy in range(-limit, limit + 1):
        for dx in range(-limit, limit + 1):
            rolled = torch.roll(source, (dy, dx), dims=(-2, -1))
            if torch.equal(rolled[inner], shifted[inner]):
                return dy, dx
    return None


def test_augment_shifts_each_image_by_whole_pixels():
    batch = torch.rand(6, 3, 16, 16)
    out = augment(batch, torch.Generator().manual_seed(0), max_shift=0.125)
    assert out.shape == batch.shape
    shifts = [_find_shift(batch[i], out[i], 2) for i in range(6)]
    assert all(s is not None for s in shifts)
    assert len(set(shifts)) > 1  # images get different shifts


def test_augment_is_reproducible_and_flip_mirrors():
    batch = torch.rand(8, 3, 12, 12)
    a = augment(batch, torch.Generator().manual_seed(1))
    b = augment(batch, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    flipped = augment(batch, torch.Generator().manual_seed(2), max_shift=0, flip=True)
    mirrored = [torch.equal(flipped[i], batch[i].flip(-1)) for i in range(8)]
    unchanged = [torch.equal(flipped[i], batch[i]) for i in range(8)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert any(mirrored) and any(unchanged)
