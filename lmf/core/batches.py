"""Training and evaluation batches of one split, and the order a training epoch draws them in.

Options beyond the paper: class-balanced or square-root batch sampling (Scholz et al. 2024's
sampling strategies: a sample of class ``c`` is drawn with weight ``n_c^-1`` or ``n_c^-1/2``) and
progressive resizing (Cui et al.: ``resize_schedule=((0, 128), (10, 160), (20, 224))`` trains at
128 px from epoch 0, 160 px from epoch 10, ...; evaluation always uses ``image_size``).
"""

from __future__ import annotations

import numpy as np
import torch

from lmf.core.devices import store_device


class SplitBatches:
    """One split's uint8 images and labels, served as batches of uint8 NHWC tensors.

    With ``workers == 0`` the whole split is read into memory once (and onto the GPU when it
    fits), and batches are plain tensor indexing, with no DataLoader overhead. With ``workers > 0``
    the images stay where they are (e.g. a memory-mapped cache) and a DataLoader reads the same
    batches in worker processes.
    """

    def __init__(self, part, workers: int, device: torch.device) -> None:
        self.labels = np.array(part.labels, dtype=np.int64)  # a writable copy
        self.ids = list(part.ids)
        self.workers = workers
        self.device = device
        if self.workers:
            self.images = part.images
            self.store = torch.device("cpu")
        else:
            images = torch.from_numpy(np.ascontiguousarray(part.images))
            self.store = store_device(images, device)
            self.images = images.to(self.store)
        self.label_tensor = torch.from_numpy(self.labels).to(self.store)

    def __len__(self) -> int:
        return len(self.labels)

    def batches(self, order: torch.Tensor, batch_size: int, drop_single: bool = False):
        """(images, labels) per consecutive chunk of ``order``; a final batch of one image is
        dropped when ``drop_single`` (BatchNorm cannot train on it)."""
        chunks = list(order.split(batch_size))
        if drop_single and len(chunks) > 1 and len(chunks[-1]) == 1:
            chunks.pop()
        if self.workers:
            loader = torch.utils.data.DataLoader(
                _IndexedBatches(self.images, self.labels, chunks), batch_size=None,
                num_workers=self.workers, pin_memory=self.device.type == "cuda",
            )
            for images, labels in loader:
                yield images, labels.to(self.device, non_blocking=True)
            return
        for chunk in chunks:
            index = chunk.to(self.store)
            yield self.images[index], self.label_tensor[index].to(self.device, non_blocking=True)


class _IndexedBatches(torch.utils.data.Dataset):
    """Batch ``i`` of a fixed list of index chunks, read in a DataLoader worker."""

    def __init__(self, images, labels: np.ndarray, chunks: list[torch.Tensor]) -> None:
        self.images, self.labels, self.chunks = images, labels, [c.numpy() for c in chunks]

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, i: int):
        index = self.chunks[i]
        return torch.from_numpy(np.asarray(self.images[index])), torch.from_numpy(self.labels[index])


def sample_weights(labels: np.ndarray, counts: np.ndarray, sampler: str) -> torch.Tensor | None:
    """Per-sample draw weights: ``None`` (shuffle), ``1/n_c`` (balanced) or ``n_c^-1/2`` (sqrt)."""
    if sampler == "none":
        return None
    power = {"balanced": 1.0, "sqrt": 0.5}[sampler]
    per_class = np.where(counts > 0, np.maximum(counts, 1).astype(np.float64) ** -power, 0.0)
    return torch.as_tensor(per_class[labels], dtype=torch.float64)


def epoch_order(n: int, weights: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """The sample positions of one training epoch: a permutation, or ``n`` weighted draws with
    replacement when ``weights`` are given."""
    if weights is None:
        return torch.randperm(n, generator=generator)
    return torch.multinomial(weights, n, replacement=True, generator=generator)


def size_at(config, epoch: int) -> int:
    """Training image size at ``epoch`` under the progressive-resize schedule."""
    size = config.image_size
    for start, stage_size in config.resize_schedule or ():
        if epoch >= start:
            size = stage_size
    return size
