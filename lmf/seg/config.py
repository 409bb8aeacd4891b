"""``SegConfig``: one segmentation run, checked once, with an explicit identity.

The recipe defaults follow Cui et al. (seed 003, Section "Experimental setup"): SGD with learning
rate 1e-3, momentum 0.9 and weight decay 5e-4, batch 32, the learning rate held constant (the
paper names no schedule: ``lr_schedule="step"`` with ``lr_gamma=1``), and early stopping
(``patience`` epochs without a better validation DSC end the run; ``None`` trains every epoch).
Their three parts are fields: ``attention`` (``"sas"``: the additive attention gate;
``lmf.seg.models``), ``loss`` (``"unified_focal"``; ``lmf.seg.losses``) and ``resize_schedule``
(progressive resizing: ``((0, 128), (e1, 256), (e2, 512))`` trains at 128 px from epoch 0, at
256 px from epoch ``e1``, ..., every stage starting from the weights of the one before, because
it is the same network trained on; ``lmf.batches.size_at``). ``sampler="oversample"`` is the
data-level balancing of their Table 6 (``lmf.seg.train.oversampling_weights``).

``split`` is ``"paper"`` (the project's split rule) or ``"cv"`` (5-fold cross-validation, Cui et
al.'s protocol, ``fold`` 0–4; ``lmf.seg.data.seg_split``). The best epoch is the one of the best
validation DSC; images are scored at ``image_size``.

**Identity.** As for :class:`lmf.config.RunConfig`: the run directory is named by a hash of the
fields that change the numbers, with loss parameters and dataset options completed with their
defaults, the data's content fingerprint (``lmf.seg.data.seg_fingerprint``) in place of its
path, and ``"task": "segmentation"``, so no segmentation run shares a name with a
classification run. ``data_root``, ``device``, ``workers`` and ``labels`` are left out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from lmf.config import (
    EXECUTION_FIELDS,
    NORMALIZE,
    OPTIMIZERS,
    SCHEDULES,
    check_device,
    check_resize_schedule,
)
from lmf.errors import ConfigError
from lmf.numerics import NUMERICS_VERSION
from lmf.validation import check_choice, check_flag, check_integer, check_number

SEG_SAMPLERS = ("none", "oversample")
_INTEGERS = {"epochs": 1, "batch_size": 2, "lr_step": 1, "image_size": 8, "seed": 0,
             "split_seed": 0, "fold": 0, "workers": 0, "threads": 1}
_NUMBERS = {"lr": {"low": 0.0, "low_open": True},
            "weight_decay": {"low": 0.0},
            "momentum": {"low": 0.0, "high": 1.0, "high_open": True},
            "lr_gamma": {"low": 0.0, "high": 1.0, "low_open": True}}
_FLAGS = ("pretrained", "amp")


@dataclass(frozen=True, kw_only=True)
class SegConfig:
    """One segmentation run; Cui et al.'s recipe by default (see the module docstring).

    ``dataset`` is a source of ``lmf.seg.data`` with ``dataset_params``; ``model`` a network of
    ``lmf.seg.models`` with ``attention``; ``loss`` a loss of ``lmf.seg.losses`` with
    ``loss_params``. ``normalize`` (``none`` | ``imagenet``) scales the inputs by channel
    statistics (ImageNet encoders expect ``imagenet``). ``threads``: intra-op threads on the CPU,
    part of the identity for the reason given in :class:`lmf.config.RunConfig`.
    """

    dataset: str
    model: str
    loss: str
    data_root: str | None = None
    dataset_params: dict = field(default_factory=dict)
    split: str = "paper"
    fold: int = 0
    split_seed: int = 0
    loss_params: dict = field(default_factory=dict)
    attention: str = "none"
    epochs: int = 100
    patience: int | None = None
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_schedule: str = "step"
    lr_step: int = 30
    lr_gamma: float = 1.0
    image_size: int = 256
    resize_schedule: tuple[tuple[int, int], ...] | None = None
    sampler: str = "none"
    normalize: str = "none"
    seed: int = 23
    pretrained: bool = False
    device: str = "auto"
    amp: bool = True
    workers: int = 0
    threads: int = 1
    labels: dict = field(default_factory=dict, compare=False)
    #: What the run learns (``config.json`` carries it; ``lmf.runs.load_runs`` lists per task).
    task: ClassVar[str] = "segmentation"
    #: The schedule fields ``lmf.optim`` reads that segmentation keeps at "none".
    warmup_epochs: ClassVar[int] = 0
    lr_milestones: ClassVar[tuple[int, ...]] = ()

    def __post_init__(self) -> None:
        for name, value in _checked_fields(self).items():
            object.__setattr__(self, name, value)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: dict) -> SegConfig:
        """A config from plain data (``config.json``, a sweep task); unknown keys are an error."""
        data = dict(data)
        if data.pop("task", cls.task) != cls.task:
            raise ConfigError("SegConfig.from_dict got the config of a classification run; use "
                              "lmf.config.RunConfig.from_dict")
        unknown = sorted(set(data) - set(cls.fields()))
        if unknown:
            raise ConfigError(f"unknown SegConfig field(s) {', '.join(unknown)}; "
                              f"valid: {', '.join(cls.fields())}")
        return cls(**data)

    def to_dict(self) -> dict:
        """Every field as plain data, with ``"task": "segmentation"`` (what ``config.json``
        holds)."""
        return {"task": self.task, **dataclasses.asdict(self)}

    @property
    def run_id(self) -> str:
        """The name of the run's directory in the store."""
        from lmf.runs import run_id

        return run_id(self.identity())

    @property
    def sizes(self) -> tuple[int, ...]:
        """Every image side the run trains or evaluates at."""
        return (self.image_size, *(size for _, size in self.resize_schedule or ()))

    def identity(self) -> dict:
        """What the run's numbers depend on, as plain data; its hash names the run directory."""
        from lmf.seg.data import seg_dataset_options, seg_fingerprint
        from lmf.seg.losses import seg_loss_parameters

        values = {name: value for name, value in self.to_dict().items()
                  if name not in EXECUTION_FIELDS}
        values["loss_params"] = {**seg_loss_parameters(self.loss), **self.loss_params}
        values["dataset_params"] = seg_dataset_options(self.dataset, self.dataset_params)
        values["numerics"] = NUMERICS_VERSION
        values["data"] = seg_fingerprint(self.dataset, self.data_root, size=self.image_size,
                                         **self.dataset_params)
        return values


def _checked_fields(config: SegConfig) -> dict:
    """Every field checked; returns the normalised values."""
    from lmf.seg.data import CV_FOLDS, SEG_SPLITS, check_seg_dataset
    from lmf.seg.losses import check_seg_loss_params
    from lmf.seg.models import check_image_size, check_seg_model, has_pretrained

    values = {name: check_integer(name, getattr(config, name), low=low)
              for name, low in _INTEGERS.items()}
    values.update({name: check_number(name, getattr(config, name), **interval)
                   for name, interval in _NUMBERS.items()})
    values.update({name: check_flag(name, getattr(config, name)) for name in _FLAGS})
    for name, valid in (("split", SEG_SPLITS), ("optimizer", OPTIMIZERS),
                        ("lr_schedule", SCHEDULES[:1]), ("sampler", SEG_SAMPLERS),
                        ("normalize", NORMALIZE[:2])):
        values[name] = check_choice(name, getattr(config, name), valid)
    if config.patience is not None:
        values["patience"] = check_integer("patience", config.patience, low=1)
    if values["split"] != "cv" and values["fold"]:
        raise ConfigError("fold belongs to split='cv' (5-fold cross-validation); set it, or "
                          "drop fold")
    if values["fold"] >= CV_FOLDS:
        raise ConfigError(f"fold must be 0 … {CV_FOLDS - 1} for {CV_FOLDS}-fold "
                          f"cross-validation, got {values['fold']}")
    values["device"] = check_device(config.device)
    for name in ("dataset_params", "loss_params", "labels"):
        if not isinstance(getattr(config, name), dict):
            raise ConfigError(f"{name} must be a dict, got {getattr(config, name)!r}")
        values[name] = dict(getattr(config, name))
    values["data_root"] = None if config.data_root is None else str(config.data_root)
    values["resize_schedule"] = check_resize_schedule(config.resize_schedule)
    check_seg_dataset(config.dataset, values["dataset_params"])
    check_seg_model(config.model, config.attention)
    if values["pretrained"] and not has_pretrained(config.model):
        raise ConfigError(f"model {config.model!r} has no ImageNet weights; train it with "
                          "pretrained=False")
    values["loss_params"] = check_seg_loss_params(config.loss, values["loss_params"])
    for size in (values["image_size"], *(s for _, s in values["resize_schedule"] or ())):
        check_image_size(config.model, size)
    return values
