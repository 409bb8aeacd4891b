"""lmf.core.throughput: step timing and the bare reference loop."""

import time

import pytest
import torch
from torch import nn

from lmf.core.throughput import bare_training_step, time_steps

CPU = torch.device("cpu")


def test_time_steps_times_the_steps_after_the_warmup():
    calls = []

    def step():
        time.sleep(0.05 if not calls else 0.01)
        calls.append(1)

    timing = time_steps(step, CPU, steps=5, batch_size=4, warmup=3)
    assert len(calls) == 8  # 3 warm-up + 5 timed
    assert timing.first_step_s >= 0.05
    assert 0.05 <= timing.seconds < 0.05 + 0.5  # five 10-ms steps (plus scheduling noise)
    assert timing.images_per_second == pytest.approx(5 * 4 / timing.seconds)
    assert timing.step_seconds == pytest.approx(timing.seconds / 5)
    assert timing.peak_memory_bytes is None


def test_time_steps_rejects_zero_steps():
    with pytest.raises(ValueError, match="steps and warmup must be >= 1"):
        time_steps(lambda: None, CPU, steps=0, batch_size=4)


def test_bare_training_step_lowers_the_loss_of_its_batch():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 12 * 12, 4))  # can memorise 16 images
    step = bare_training_step(model, CPU, 16, 12, 4, bf16=False, channels_last=False,
                              compile=False, lr=1e-2)
    losses = [float(step()) for _ in range(30)]
    assert losses[0] == pytest.approx(torch.log(torch.tensor(4.0)).item(), abs=0.3)  # chance
    assert losses[-1] < 0.5 * losses[0]
