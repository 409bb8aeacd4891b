"""The optimiser and learning-rate schedule of a run, from the optimiser fields of its config
(declared for every task by ``lmf.core.checked_config.CheckedConfig``).

=========  ==============================================================================
optimizer  ``adam``: ``torch.optim.Adam(lr, weight_decay)``, L2 inside Adam (the LMF paper's,
           Adnan-Sadi/LMFLOSS ``train.py``); ``sgd``: ``torch.optim.SGD(lr, momentum,
           weight_decay)`` (Cao et al.'s, kaidic/LDAM-DRW ``cifar_train.py``)
=========  ==============================================================================

Schedules, stepped once per epoch; ``e`` is lmf's 0-based epoch and the learning rate of epoch
``e`` is ``lr · factor(e)``:

``step`` (the LMF paper's ``StepLR``): ``factor(e) = lr_gamma ^ floor(e / lr_step)``.

``warmup_multistep`` (``adjust_learning_rate`` of kaidic/LDAM-DRW ``cifar_train.py``): with
``W = warmup_epochs`` and milestones ``m_1 < m_2 < …`` (``lr_milestones``),

    factor(e) = (e + 1) / W                      for e + 1 <= W (linear warm-up)
    factor(e) = lr_gamma ^ #{k : e >= m_k}       otherwise.

The reference counts epochs from 1 inside that function (``epoch = epoch + 1``) and tests
``epoch <= 5``, ``> 160``, ``> 180``: its 1-based epoch E is lmf's ``e = E − 1``, so ``E > 160``
is ``e >= 160``, and the milestones (160, 180) with ``lr_gamma = 0.01`` give the reference's
×0.01 from its epoch 161 and ×0.0001 from 181 (warm-up 0.2·lr at its epoch 1, the full lr at
epoch 5). Its deferred re-weighting, ``epoch // 160`` on the 0-based loop epoch, starts at the
same epoch: lmf's ``drw_epoch = 160``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lmf.core.checked_config import WARMUP_MULTISTEP, CheckedConfig

#: Devices with PyTorch's fused optimiser kernels (one pass over all parameters per step).
FUSED_DEVICES = ("cpu", "cuda")


def build_optimizer(config: CheckedConfig, parameters) -> torch.optim.Optimizer:
    """The run's optimiser over ``parameters`` (see the module docstring).

    On the CPU and CUDA it is PyTorch's fused implementation (``fused=True``): the same update
    rule in one vectorised kernel instead of a Python loop of per-tensor operations, about 6x
    faster per step on the CPU, where the loop was a sixth of a cpu-profile run."""
    parameters = list(parameters)
    fused = {"fused": True} if all(p.device.type in FUSED_DEVICES for p in parameters) else {}
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay, **fused)
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay, **fused)


@dataclass(frozen=True)
class WarmupMultiStep:
    """``factor(e)`` of the ``warmup_multistep`` schedule (a picklable ``LambdaLR`` lambda)."""

    warmup_epochs: int
    milestones: tuple[int, ...]
    gamma: float

    def __call__(self, epoch: int) -> float:
        if epoch + 1 <= self.warmup_epochs:
            return (epoch + 1) / self.warmup_epochs
        return self.gamma ** sum(epoch >= milestone for milestone in self.milestones)


def build_scheduler(config: CheckedConfig, optimizer: torch.optim.Optimizer):
    """The run's per-epoch learning-rate schedule (see the module docstring); a config that
    offers ``warmup_multistep`` also has its ``warmup_epochs`` and ``lr_milestones``."""
    if config.lr_schedule == WARMUP_MULTISTEP:
        factor = WarmupMultiStep(config.warmup_epochs, config.lr_milestones, config.lr_gamma)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_step,
                                           gamma=config.lr_gamma)
