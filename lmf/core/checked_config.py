"""``CheckedConfig``: what every task's run config shares: its checks, its plain data, its identity.

A task's config (``lmf.classification.config.RunConfig`` for classification, ``lmf.seg.config.SegConfig`` for
segmentation) is a frozen keyword-only dataclass derived from :class:`CheckedConfig`. It declares
its own fields, the defaults of its recipe, the tables of its plain field checks, the checks of
its own, and the three parts of its identity that come from the task's data and losses. The rest
is here, once, so that every task checks, writes, reads and names its runs alike: the fields
every run has, their checks, the plain data both ways and the identity.

**Fields every run has.** ``dataset``, ``model`` and ``loss`` (they begin the name of the run's
directory, ``lmf.core.runs.run_id``) with ``dataset_params`` and ``loss_params``; the training recipe
(split, epochs, batch, optimiser and schedule, image size and progressive resizing, seed,
ImageNet weights or none, sampler, normalisation, bf16 autocast); and the execution fields
(``EXECUTION_FIELDS``). The optimiser fields are what ``lmf.core.optim`` reads, so it builds the
optimiser and schedule of every task alike; a task offers fewer schedules by narrowing
``lr_schedule`` in its ``CHOICES``. A task gives the defaults of its recipe where the recipes
differ (``optimizer``, ``lr``, ``lr_gamma``, ``image_size``, ``pretrained``) and checks ``split``,
``sampler`` and ``normalize`` against the names it offers.

``threads`` is the number of intra-op threads (``torch.set_num_threads``) a run trains with on the
CPU. PyTorch splits its CPU reductions (BatchNorm statistics, weight gradients, sums) into one
chunk per thread, so the float result depends on the thread count: it is part of the run's
identity, not of the machine, and a run gives the same numbers alone, in a worker process, on a
SLURM node or resumed. The default 1 is the count every machine has; parallel speed comes from
training several runs at once (``lmf sweep --jobs N``).

**Validation.** Every field is checked at construction, before any data is read or any run
directory exists, and every error is a :class:`~lmf.core.errors.ConfigError` naming what is valid. The
plain values are checked first (the tables, the device, the dicts, the paths, the resize
schedule), the task's own checks after them: those check the names of datasets, models and
losses, which imports the task's data, model and loss modules (torch: seconds), and a wrong
number need not wait for that.

**Identity.** A run's directory is named by a hash of :meth:`CheckedConfig.identity`: the fields
that change the numbers, with the loss parameters and dataset options completed with their
defaults (the default run and the run that spells the defaults out are one run), the numerics
version (``lmf.core.numerics.NUMERICS_VERSION``) and the fingerprint of the data's *content* in place of
its path. Where and how a run executes is not part of it, so moving the data, reading GPU-trained
runs on a laptop or adding DataLoader workers finds the same runs.

**Task.** The plain data names the task (``"task": "segmentation"``) unless it is the store's
default (``lmf.core.runs.DEFAULT_TASK``, the task ``lmf.core.runs.task_of`` reads a config without one as).
The name enters the identity with the other fields, so no run of one task shares a directory name
with a run of another.
"""

from __future__ import annotations

import dataclasses
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from lmf.core.errors import ConfigError
from lmf.core.numerics import NUMERICS_VERSION
from lmf.core.validation import (
    check_choice,
    check_flag,
    check_integer,
    check_number,
    check_resize_schedule,
)

#: Fields that say where and how a run executes (the data's folder, the device as written,
#: DataLoader workers, names for readers); they are not hashed into its identity.
EXECUTION_FIELDS = ("data_root", "device", "workers", "labels")
#: The fields every config holds as dicts (copied: a config owns its own).
DICT_FIELDS = ("dataset_params", "loss_params", "labels")
OPTIMIZERS = ("adam", "sgd")
#: ``StepLR``: the learning rate times ``lr_gamma`` every ``lr_step`` epochs (``lr_gamma = 1``
#: holds it constant).
STEP = "step"
#: A linear warm-up over ``warmup_epochs``, then times ``lr_gamma`` from each of
#: ``lr_milestones``; a task that offers it has those two fields.
WARMUP_MULTISTEP = "warmup_multistep"
SCHEDULES = (STEP, WARMUP_MULTISTEP)
#: The real-valued fields and their valid interval (``lmf.core.validation.check_number`` keywords).
INTERVALS = {"lr": {"low": 0.0, "low_open": True},
             "weight_decay": {"low": 0.0},
             "momentum": {"low": 0.0, "high": 1.0, "high_open": True},
             "lr_gamma": {"low": 0.0, "high": 1.0, "low_open": True}}
_INTEGERS = {"epochs": 1, "batch_size": 2, "lr_step": 1, "image_size": 8, "seed": 0,
             "workers": 0, "threads": 1}
_FLAGS = ("pretrained", "amp")
_CHOICES = {"optimizer": OPTIMIZERS, "lr_schedule": SCHEDULES}
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass(frozen=True, kw_only=True)
class CheckedConfig(ABC):
    """A task's run config: checked at construction, plain data both ways, an identity.

    A task declares its own fields, the defaults that are its recipe's, the class variables
    below and the four methods marked abstract; see the module docstring. ``device="auto"``
    means CUDA when available, else CPU; ``amp`` (bf16 autocast) takes effect on CUDA only.
    ``labels`` are names for readers, not hashed.
    """

    dataset: str
    model: str
    loss: str
    data_root: str | None = None
    dataset_params: dict = field(default_factory=dict)
    #: ``paper``: the project's split rule; a task's ``CHOICES`` name the others.
    split: str = "paper"
    loss_params: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 32
    #: One of ``OPTIMIZERS``.
    optimizer: str
    lr: float
    #: SGD's momentum (Adam has none).
    momentum: float = 0.9
    #: L2 weight decay inside the optimiser.
    weight_decay: float = 5e-4
    #: One of ``SCHEDULES``, or of the fewer a task's ``CHOICES`` name.
    lr_schedule: str = STEP
    lr_step: int = 30
    #: The factor of each decay (``step`` and ``warmup_multistep``).
    lr_gamma: float
    image_size: int
    #: Progressive resizing: increasing ``(epoch, size)`` stages (``lmf.core.batches.size_at``).
    resize_schedule: tuple[tuple[int, int], ...] | None = None
    seed: int = 23
    #: Start from the model's ImageNet weights.
    pretrained: bool
    sampler: str = "none"
    normalize: str = "none"
    device: str = "auto"
    amp: bool = True
    workers: int = 0
    threads: int = 1
    labels: dict = field(default_factory=dict, compare=False)
    #: What the run learns (``lmf.core.runs.load_runs`` lists the runs of one task).
    task: ClassVar[str]
    #: The task's integer fields and their lowest valid value.
    INTEGERS: ClassVar[Mapping[str, int]]
    #: The task's fields that are True or False.
    FLAGS: ClassVar[tuple[str, ...]] = ()
    #: The task's fields that take one of a few names: field -> the valid names (``lr_schedule``
    #: here narrows ``SCHEDULES``).
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]]
    #: The fields that are a path or None.
    PATHS: ClassVar[tuple[str, ...]] = ("data_root",)
    #: The numerics version in the identity: ``lmf.core.numerics.NUMERICS_VERSION``, or a task's
    #: refinement of it when its networks changed how they compute (the runs before it had
    #: other numbers under the same fields).
    NUMERICS: ClassVar[str] = NUMERICS_VERSION

    def __post_init__(self) -> None:
        values = self._checked_plain_fields()
        values.update(self._checked_task_fields(values))
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: Mapping):
        """A config from plain data (``config.json``, a sweep task); unknown keys are an error,
        and so is the config of another task's run."""
        data = dict(data)
        task = data.pop("task", cls.task)
        if task != cls.task:
            raise ConfigError(f"{cls.__name__}.from_dict got the config of a {task} run; it "
                              f"reads the configs of {cls.task} runs")
        unknown = sorted(set(data) - set(cls.fields()))
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} field(s) {', '.join(unknown)}; "
                              f"valid: {', '.join(cls.fields())}")
        return cls(**data)

    def to_dict(self) -> dict:
        """Every field as plain data, after the task's name unless it is the store's default
        (what ``config.json`` holds)."""
        from lmf.core.runs import DEFAULT_TASK

        task = {} if self.task == DEFAULT_TASK else {"task": self.task}
        return {**task, **dataclasses.asdict(self)}

    @property
    def run_id(self) -> str:
        """The name of the run's directory in the store (``lmf.core.runs.run_id`` of the identity)."""
        from lmf.core.runs import run_id

        return run_id(self.identity())

    def identity(self) -> dict:
        """What the run's numbers depend on, as plain data; its hash names the run directory.

        The execution fields are left out; the loss parameters (checked at construction) and the
        dataset options are completed with their defaults; ``numerics`` is the numerics version
        (:attr:`NUMERICS`) and ``data`` the fingerprint of the dataset's content.
        """
        values = {name: value for name, value in self.to_dict().items()
                  if name not in EXECUTION_FIELDS}
        values["loss_params"] = {**self._loss_defaults(), **self.loss_params}
        values["dataset_params"] = self._dataset_options()
        values["numerics"] = self.NUMERICS
        values["data"] = self._data_fingerprint()
        return values

    def _checked_plain_fields(self) -> dict:
        """The fields of the tables, the device, the dicts, the paths and the resize schedule
        checked; their normalised values (ints, floats, copied dicts, paths as strings, stages
        as tuples)."""
        values = {name: check_integer(name, getattr(self, name), low=low)
                  for name, low in {**_INTEGERS, **self.INTEGERS}.items()}
        values.update({name: check_number(name, getattr(self, name), **interval)
                       for name, interval in INTERVALS.items()})
        values.update({name: check_flag(name, getattr(self, name))
                       for name in (*_FLAGS, *self.FLAGS)})
        values.update({name: check_choice(name, getattr(self, name), valid)
                       for name, valid in {**_CHOICES, **self.CHOICES}.items()})
        values["device"] = check_device(self.device)
        for name in DICT_FIELDS:
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(f"{name} must be a dict, got {getattr(self, name)!r}")
            values[name] = dict(getattr(self, name))
        for name in self.PATHS:
            value = getattr(self, name)
            values[name] = None if value is None else str(value)
        values["resize_schedule"] = check_resize_schedule(self.resize_schedule)
        return values

    @abstractmethod
    def _checked_task_fields(self, values: dict) -> dict:
        """The task's own checks, given the checked plain ``values``: the fields no table
        covers, the checks across fields and the names of the dataset, model and loss; returns
        the normalised values of the fields it checks."""

    @abstractmethod
    def _loss_defaults(self) -> dict:
        """Every parameter of the loss with its default (``loss_params`` override them)."""

    @abstractmethod
    def _dataset_options(self) -> dict:
        """``dataset_params`` completed with the dataset source's defaults."""

    @abstractmethod
    def _data_fingerprint(self) -> str:
        """The fingerprint of the dataset's content (sample ids and labels, never its path)."""


def check_device(device) -> str:
    """``auto``, ``cpu``, ``mps``, ``cuda`` or ``cuda:<n>``."""
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ConfigError(f"device must be auto, cpu, cuda, cuda:<n> or mps, got {device!r}")
    return device
