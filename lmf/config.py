"""``RunConfig``: everything that defines one training run, checked once, with an explicit identity.

The recipe (Sadi et al., LMF paper, Section "Experimental setup"; authors' repository
Adnan-Sadi/LMFLOSS, ``train.py`` and ``config.ini``) is the default: Adam (lr 1e-4, weight_decay
5e-4 as L2 inside Adam, not AdamW), StepLR (30 epochs, ×0.1, stepped once per epoch), batch 32,
100 epochs, seed 23, 224 px, shuffled training batches, no augmentation, no mean/std
normalisation, ImageNet weights, a linear head, the best epoch chosen on val macro-F1.
Other recipes (Cao et al.'s long-tailed CIFAR: SGD, warm-up and multi-step schedule, pad-crop-flip,
CIFAR statistics, cosine head, selection on test) are values of the same fields; the optimiser
and schedule are built by ``lmf.optim``.

**Identity.** A run's directory is named by a hash of :meth:`RunConfig.identity`: the fields
that change the numbers (data *content*, model, loss and its parameters with their defaults
written out, recipe, seed, threads, amp, channels_last, compile, image size, ...). Where and how
a run executes is not part of it (``EXECUTION_FIELDS``: ``data_root``, ``device`` as written,
``workers``, and the non-hashed ``labels``), so moving the data, reading GPU-trained runs on a
laptop or adding DataLoader workers finds the same runs. The data enters through
:func:`lmf.data.fingerprint` (relative sample ids and labels), never through its path.

**Validation.** Every field is checked at construction, before any data is read or any run
directory exists: a table of field checks built from ``lmf.validation``; the loss parameters
bound and range-checked (``lmf.losses.check_loss_params``); the dataset options checked against
the source. Every error is a :class:`~lmf.errors.ConfigError` naming what is valid.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import ClassVar

from lmf.errors import ConfigError
from lmf.numerics import NUMERICS_VERSION
from lmf.validation import check_choice, check_flag, check_integer, check_number

SAMPLERS = ("none", "balanced", "sqrt")
#: Optimisers and learning-rate schedules (built by ``lmf.optim``).
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("step", "warmup_multistep")
SPLITS = ("paper", "group")
#: ``augment``: none; ``shift`` (``lmf.data.augment``; ``True`` means it); ``pad_crop_flip``
#: (``lmf.data.pad_crop_flip``, the long-tailed CIFAR protocol's).
AUGMENTATIONS = ("none", "shift", "pad_crop_flip")
#: ``normalize``: the channel statistics of ``lmf.data.transforms.NORMALIZATIONS`` (``True``
#: means ``imagenet``).
NORMALIZE = ("none", "imagenet", "cifar")
HEADS = ("linear", "normed")
#: ``selection``: the part whose score picks the best epoch: ``val`` (macro-F1, the LMF paper's)
#: or ``test`` (top-1 accuracy on the test set, as kaidic/LDAM-DRW's ``best_acc1``; for
#: comparing with published long-tailed CIFAR numbers only).
SELECTIONS = ("val", "test")
#: Fields that say where and how a run executes; they are not hashed into its identity.
EXECUTION_FIELDS = ("data_root", "device", "workers", "labels")

#: Integer fields and their lowest valid value.
_INTEGERS = {"epochs": 1, "batch_size": 2, "lr_step": 1, "warmup_epochs": 0, "image_size": 8,
             "seed": 0, "workers": 0, "threads": 1}
#: Real-valued fields and their valid interval (``check_number`` keywords).
_NUMBERS = {"lr": {"low": 0.0, "low_open": True},
            "weight_decay": {"low": 0.0},
            "momentum": {"low": 0.0, "high": 1.0, "high_open": True},
            "lr_gamma": {"low": 0.0, "high": 1.0, "low_open": True}}
_FLAGS = ("pretrained", "amp", "channels_last", "compile")
_CHOICES = {"sampler": SAMPLERS, "split": SPLITS, "optimizer": OPTIMIZERS,
            "lr_schedule": SCHEDULES, "head": HEADS, "selection": SELECTIONS}
#: Choices that also take a bool: field -> (choices, the choice of False, of True).
_SWITCHES = {"augment": (AUGMENTATIONS, "none", "shift"),
             "normalize": (NORMALIZE, "none", "imagenet")}
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """One training run; the paper's recipe by default (see the module docstring).

    ``device="auto"`` means CUDA when available, else CPU; ``amp`` (bf16 autocast) and
    ``channels_last`` take effect on CUDA only. ``dataset_params`` go to ``lmf.data.prepare``
    (e.g. ``{"imbalance": 15}`` for digits_lt, ``{"seed": 1}`` for the split seed),
    ``loss_params`` to ``lmf.losses.build_loss``. ``labels`` are names for readers, not
    hashed: the paper's ``dataset_id`` and ``model_id`` a profile built the run for.

    ``optimizer`` (``adam`` | ``sgd``; ``momentum`` is SGD's), ``lr_schedule`` (``step``:
    ``lr_step``, ``lr_gamma``; ``warmup_multistep``: ``warmup_epochs``, ``lr_milestones``,
    ``lr_gamma``): see ``lmf.optim``. ``augment``, ``normalize``, ``head`` and ``selection`` take
    the names of ``AUGMENTATIONS``, ``NORMALIZE``, ``HEADS`` and ``SELECTIONS`` (``augment`` and
    ``normalize`` also a bool: ``True`` is ``shift`` / ``imagenet``).

    ``threads`` is the number of intra-op threads (``torch.set_num_threads``) a run trains with on
    the CPU. PyTorch splits its CPU reductions (BatchNorm statistics, weight gradients, sums) into
    one chunk per thread, so the float result depends on the thread count: it is part of the
    run's identity, not of the machine, and a run gives the same numbers alone, in a worker
    process, on a SLURM node or resumed. The default 1 is the count every machine has; parallel
    speed comes from training several runs at once (``lmf sweep --jobs N``).
    """

    dataset: str
    model: str
    loss: str
    data_root: str | None = None
    dataset_params: dict = field(default_factory=dict)
    split: str = "paper"
    loss_params: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-4
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_schedule: str = "step"
    lr_step: int = 30
    lr_gamma: float = 0.1
    warmup_epochs: int = 0
    lr_milestones: tuple[int, ...] = ()
    image_size: int = 224
    seed: int = 23
    pretrained: bool = True
    weights: str | None = None
    head: str = "linear"
    augment: str = "none"
    normalize: str = "none"
    sampler: str = "none"
    selection: str = "val"
    resize_schedule: tuple[tuple[int, int], ...] | None = None
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    workers: int = 0
    threads: int = 1
    labels: dict = field(default_factory=dict, compare=False)
    #: What the run learns (the store lists runs per task, ``lmf.runs.load_runs``).
    task: ClassVar[str] = "classification"

    def __post_init__(self) -> None:
        for name, value in _checked_fields(self).items():
            object.__setattr__(self, name, value)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """A config from plain data (e.g. ``config.json``); unknown keys are an error."""
        unknown = sorted(set(data) - set(cls.fields()))
        if unknown:
            raise ConfigError(
                f"unknown RunConfig field(s) {', '.join(unknown)}; valid: {', '.join(cls.fields())}"
            )
        return cls(**data)

    def to_dict(self) -> dict:
        """Every field as plain data (what ``config.json`` holds)."""
        return dataclasses.asdict(self)

    @property
    def run_id(self) -> str:
        """The name of the run's directory in the store (``lmf.runs.run_id`` of the identity)."""
        from lmf.runs import run_id

        return run_id(self.identity())

    def identity(self) -> dict:
        """What the run's numbers depend on, as plain data; its hash names the run directory.

        The execution fields are left out; loss parameters are completed with their defaults
        (``--gamma 1.5`` for focal is the default run; they were checked at construction);
        dataset options are completed with the source's defaults, and with the split seed for
        sources lmf splits; ``data`` is the fingerprint of the dataset's content.
        """
        from lmf.data import dataset_options, fingerprint
        from lmf.losses import loss_parameters

        values = {name: value for name, value in self.to_dict().items()
                  if name not in EXECUTION_FIELDS}
        values["loss_params"] = {**loss_parameters(self.loss), **self.loss_params}
        values["dataset_params"] = dataset_options(self.dataset, self.image_size,
                                                   self.dataset_params)
        values["numerics"] = NUMERICS_VERSION
        values["data"] = fingerprint(self.dataset, self.data_root, size=self.image_size,
                                     **self.dataset_params)
        return values


def _checked_fields(config: RunConfig) -> dict:
    """Every field checked; returns the normalised values (ints, floats, tuples, dicts).

    The plain values are checked first: the checks of names (dataset, model, loss) import the
    data, model and loss modules (torch, timm: seconds), which a wrong number need not wait for.
    """
    values = {}
    for name, low in _INTEGERS.items():
        values[name] = check_integer(name, getattr(config, name), low=low)
    for name, interval in _NUMBERS.items():
        values[name] = check_number(name, getattr(config, name), **interval)
    for name in _FLAGS:
        values[name] = check_flag(name, getattr(config, name))
    for name, valid in _CHOICES.items():
        values[name] = check_choice(name, getattr(config, name), valid)
    for name, (valid, off, on) in _SWITCHES.items():
        value = getattr(config, name)
        values[name] = (on if value else off) if isinstance(value, bool) else check_choice(
            name, value, valid)
    values["lr_milestones"] = _milestones(config)
    values["device"] = check_device(config.device)
    for name in ("dataset_params", "loss_params", "labels"):
        if not isinstance(getattr(config, name), dict):
            raise ConfigError(f"{name} must be a dict, got {getattr(config, name)!r}")
        values[name] = dict(getattr(config, name))
    values["resize_schedule"] = check_resize_schedule(config.resize_schedule)
    for name in ("data_root", "weights"):
        value = getattr(config, name)
        values[name] = None if value is None else str(value)
    from lmf.data import check_dataset
    from lmf.losses import check_loss_params
    from lmf.models import check_arch

    check_dataset(config.dataset, values["dataset_params"])
    check_arch(config.model)
    check_loss_params(config.loss, values["loss_params"])  # an unknown loss name included
    return values


def check_device(device) -> str:
    """``auto``, ``cpu``, ``mps``, ``cuda`` or ``cuda:<n>``."""
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ConfigError(f"device must be auto, cpu, cuda, cuda:<n> or mps, got {device!r}")
    return device


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
    if config.lr_schedule != "warmup_multistep" and (milestones or config.warmup_epochs):
        raise ConfigError("lr_milestones and warmup_epochs belong to lr_schedule="
                          "'warmup_multistep'; set it, or drop them (the 'step' schedule uses "
                          "lr_step and lr_gamma)")
    return milestones


def check_resize_schedule(schedule) -> tuple[tuple[int, int], ...] | None:
    """Progressive resizing (Cui et al.): increasing ``(epoch, size)`` stages, sizes >= 8."""
    if schedule is None or len(schedule) == 0:
        return None
    try:
        stages = tuple((int(epoch), int(size)) for epoch, size in schedule)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"resize_schedule must be (epoch, size) pairs like ((0, 128), (10, 224)), got {schedule!r}"
        ) from error
    epochs = [epoch for epoch, _ in stages]
    if epochs != sorted(set(epochs)) or epochs[0] < 0 or min(s for _, s in stages) < 8:
        raise ConfigError(
            f"resize_schedule needs increasing epochs >= 0 and sizes >= 8, got {schedule!r}"
        )
    return stages
