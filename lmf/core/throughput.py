"""Training throughput: time N steps of a training loop, and the plainest PyTorch loop to time.

``time_steps`` runs a step function ``warmup`` times (the first call compiles, when the model is
compiled, and lets cuDNN pick its kernels), then ``steps`` times between two device
synchronisations, and reports images/s and the peak memory the device allocated
(``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, so it counts the model,
optimiser state and activations of this measurement only).

``bare_training_step`` is the reference a training engine is compared with: a model, float
images already on the device, ``F.cross_entropy`` and ``torch.optim.Adam``, nothing else.
``lmf bench`` and ``benchmarks/gpu_check.py`` time it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lmf.core.errors import ConfigError


@dataclass(frozen=True)
class Timing:
    """One measurement of a training loop.

    Attributes:
        first_step_s: seconds of the first step alone (compilation, when compiled).
        seconds: seconds of the ``steps`` timed steps (after the warm-up).
        steps: timed steps.
        batch_size: images per step.
        peak_memory_bytes: peak device memory allocated during the measurement (CUDA only).
    """

    first_step_s: float
    seconds: float
    steps: int
    batch_size: int
    peak_memory_bytes: int | None

    @property
    def images_per_second(self) -> float:
        return self.steps * self.batch_size / self.seconds

    @property
    def step_seconds(self) -> float:
        return self.seconds / self.steps


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step: Callable[[], object], device: torch.device, steps: int, batch_size: int,
               warmup: int = 3) -> Timing:
    """Time ``steps`` calls of ``step`` after ``warmup`` untimed ones (``warmup >= 1``)."""
    if steps < 1 or warmup < 1:
        raise ConfigError(f"steps and warmup must be >= 1, got {steps} and {warmup}")
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) if cuda else None
    return Timing(first, seconds, steps, batch_size, peak)


def bare_training_step(model: nn.Module, device: torch.device, batch_size: int, image_size: int,
                       num_classes: int, *, bf16: bool, channels_last: bool, compile: bool,
                       lr: float = 1e-4) -> Callable[[], torch.Tensor]:
    """One plain training step of ``model`` on a fixed random batch: forward (under bf16
    autocast when ``bf16``), cross-entropy, backward, Adam step; it returns the loss. The model
    is moved to ``device`` (channels-last when ``channels_last``) and wrapped in
    ``torch.compile`` when ``compile``."""
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory_format).train()
    net = torch.compile(model) if compile else model
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    images = torch.rand(batch_size, 3, image_size, image_size, device=device)
    images = images.contiguous(memory_format=memory_format)
    labels = torch.randint(0, num_classes, (batch_size,), device=device)

    def step() -> torch.Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(net(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step
