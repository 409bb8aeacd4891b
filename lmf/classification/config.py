"""``RunConfig``: everything that defines one training run, checked once, with an explicit identity.

The recipe (Sadi et al., LMF paper, Section "Experimental setup"; authors' repository
Adnan-Sadi/LMFLOSS, ``train.py`` and ``config.ini``) is the default: Adam (lr 1e-4, weight_decay
5e-4 as L2 inside Adam, not AdamW), StepLR (30 epochs, ×0.1, stepped once per epoch), batch 32,
100 epochs, seed 23, 224 px, shuffled training batches, no augmentation, no mean/std
normalisation, ImageNet weights, a linear head, the best epoch chosen on val macro-F1.
Other recipes (Cao et al.'s long-tailed CIFAR: SGD, warm-up and multi-step schedule, pad-crop-flip,
CIFAR statistics, cosine head, selection on test) are values of the same fields; the optimiser
and schedule are built by ``lmf.core.optim``.

**Identity and validation** (``lmf.core.checked_config``, shared with segmentation): the run's
directory is named by a hash of the fields that change the numbers (data *content*, model, loss
and its parameters with their defaults written out, recipe, seed, threads, amp, channels_last,
compile, image size, ...), not of where and how it executes (``data_root``, ``device`` as written,
``workers``, the non-hashed ``labels``). The data enters through :func:`lmf.data.fingerprint`
(relative sample ids and labels), never through its path. Every field is checked at
construction: the tables of plain checks below (built from ``lmf.core.validation``), the loss
parameters bound and range-checked (``lmf.losses.check_loss_params``), the dataset options checked
against the source, the model and head by ``lmf.classification.models``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lmf.core.checked_config import WARMUP_MULTISTEP, CheckedConfig
from lmf.core.errors import ConfigError
from lmf.core.validation import check_choice

SAMPLERS = ("none", "balanced", "sqrt")
SPLITS = ("paper", "group")
#: ``augment``: none; ``shift`` (``lmf.data.augment``; ``True`` means it); ``pad_crop_flip``
#: (``lmf.data.pad_crop_flip``, the long-tailed CIFAR protocol's).
AUGMENTATIONS = ("none", "shift", "pad_crop_flip")
#: ``normalize``: the channel statistics of ``lmf.data.transforms.NORMALIZATIONS`` (``True``
#: means ``imagenet``).
NORMALIZE = ("none", "imagenet", "cifar")
#: ``selection``: the part whose score picks the best epoch: ``val`` (macro-F1, the LMF paper's)
#: or ``test`` (top-1 accuracy on the test set, as kaidic/LDAM-DRW's ``best_acc1``; for
#: comparing with published long-tailed CIFAR numbers only).
SELECTIONS = ("val", "test")
#: Choices that also take a bool: field -> (choices, the choice of False, of True).
_SWITCHES = {"augment": (AUGMENTATIONS, "none", "shift"),
             "normalize": (NORMALIZE, "none", "imagenet")}


@dataclass(frozen=True, kw_only=True)
class RunConfig(CheckedConfig):
    """One training run; the paper's recipe by default (see the module docstring). The fields
    every run has, ``threads`` among them, are :class:`~lmf.core.checked_config.CheckedConfig`'s.

    ``dataset_params`` go to ``lmf.data.prepare`` (e.g. ``{"imbalance": 15}`` for digits_lt,
    ``{"seed": 1}`` for the split seed), ``loss_params`` to ``lmf.losses.build_loss``.
    ``labels``: the paper's ``dataset_id`` and ``model_id`` a profile built the run for.
    ``channels_last`` takes effect on CUDA only.

    ``optimizer`` (``adam`` | ``sgd``; ``momentum`` is SGD's), ``lr_schedule`` (``step``:
    ``lr_step``, ``lr_gamma``; ``warmup_multistep``: ``warmup_epochs``, ``lr_milestones``,
    ``lr_gamma``): see ``lmf.core.optim``. ``augment``, ``normalize``, ``head`` and ``selection`` take
    the names of ``AUGMENTATIONS``, ``NORMALIZE``, ``lmf.classification.models.HEADS`` and ``SELECTIONS``
    (``augment`` and ``normalize`` also a bool: ``True`` is ``shift`` / ``imagenet``).
    """

    # The paper's values of the fields every run has where the recipes differ.
    optimizer: str = "adam"
    lr: float = 1e-4
    lr_gamma: float = 0.1
    image_size: int = 224
    pretrained: bool = True
    # The fields of classification runs only.
    weights: str | None = None
    head: str = "linear"
    augment: str = "none"
    warmup_epochs: int = 0
    lr_milestones: tuple[int, ...] = ()
    selection: str = "val"
    channels_last: bool = True
    compile: bool = False
    task: ClassVar[str] = "classification"
    INTEGERS: ClassVar = {"warmup_epochs": 0}
    FLAGS: ClassVar = ("channels_last", "compile")
    CHOICES: ClassVar = {"sampler": SAMPLERS, "split": SPLITS, "selection": SELECTIONS}
    PATHS: ClassVar = ("data_root", "weights")

    def _checked_task_fields(self, values: dict) -> dict:
        """The switches and the schedule's milestones; the names of the dataset (with its
        options), the model and head, the loss (with its parameters; an unknown loss name
        included)."""
        checked = {}
        for name, (valid, off, on) in _SWITCHES.items():
            value = getattr(self, name)
            checked[name] = (on if value else off) if isinstance(value, bool) else check_choice(
                name, value, valid)
        checked["lr_milestones"] = _milestones(self)
        from lmf.classification.models import HEADS, check_arch
        from lmf.data import check_dataset
        from lmf.losses import check_loss_params

        check_dataset(self.dataset, values["dataset_params"])
        check_arch(self.model)
        checked["head"] = check_choice("head", self.head, HEADS)
        check_loss_params(self.loss, values["loss_params"])
        return checked

    def _loss_defaults(self) -> dict:
        from lmf.losses import loss_parameters

        return loss_parameters(self.loss)

    def _dataset_options(self) -> dict:
        """The source's defaults, and the split seed for sources lmf splits."""
        from lmf.data import dataset_options

        return dataset_options(self.dataset, self.image_size, self.dataset_params)

    def _data_fingerprint(self) -> str:
        from lmf.data import fingerprint

        return fingerprint(self.dataset, self.data_root, size=self.image_size,
                           **self.dataset_params)


def _milestones(config: RunConfig) -> tuple[int, ...]:
    """``lr_milestones`` as increasing epochs >= 1; it and ``warmup_epochs`` belong to the
    ``warmup_multistep`` schedule only."""
    try:
        milestones = tuple(int(m) for m in config.lr_milestones)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"lr_milestones must be epochs like (160, 180), got "
                          f"{config.lr_milestones!r}") from error
    if list(milestones) != sorted(set(milestones)) or any(m < 1 for m in milestones):
        raise ConfigError(f"lr_milestones must be increasing epochs >= 1, got {milestones!r}")
    if config.lr_schedule != WARMUP_MULTISTEP and (milestones or config.warmup_epochs):
        raise ConfigError("lr_milestones and warmup_epochs belong to lr_schedule="
                          "'warmup_multistep'; set it, or drop them (the 'step' schedule uses "
                          "lr_step and lr_gamma)")
    return milestones
