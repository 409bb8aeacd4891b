"""``SegConfig``: one segmentation run, checked once, with an explicit identity.

The recipe defaults follow Cui et al. (seed 003, Section "Experimental setup"): SGD with learning
rate 1e-3, momentum 0.9 and weight decay 5e-4, batch 32, the learning rate held constant (the
paper names no schedule: ``lr_schedule="step"`` with ``lr_gamma=1``), and early stopping
(``patience`` epochs without a better validation DSC end the run; ``None`` trains every epoch).
Their three parts are fields: ``attention`` (``"sas"``: the additive attention gate;
``lmf.seg.models``), ``loss`` (``"unified_focal"``; ``lmf.seg.losses``) and ``resize_schedule``
(progressive resizing: ``((0, 128), (e1, 256), (e2, 512))`` trains at 128 px from epoch 0, at
256 px from epoch ``e1``, ..., every stage starting from the weights of the one before, because
it is the same network trained on; ``lmf.core.batches.size_at``). ``sampler="oversample"`` is the
data-level balancing of their Table 6 (``lmf.seg.train.oversampling_weights``).

``split`` is ``"paper"`` (the project's split rule) or ``"cv"`` (5-fold cross-validation, Cui et
al.'s protocol, ``fold`` 0–4; ``lmf.seg.data.seg_split``). The best epoch is the one of the best
validation DSC; images are scored at ``image_size``.

**Identity and validation** as for :class:`lmf.classification.config.RunConfig` (``lmf.core.checked_config``): the
run directory is named by a hash of the fields that change the numbers, with loss parameters and
dataset options completed with their defaults, the data's content fingerprint
(``lmf.seg.data.seg_fingerprint``) in place of its path, and ``"task": "segmentation"``, so no
segmentation run shares a name with a classification run. ``data_root``, ``device``, ``workers``
and ``labels`` are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lmf.core.checked_config import STEP, CheckedConfig
from lmf.core.errors import ConfigError
from lmf.core.numerics import NUMERICS_VERSION
from lmf.core.validation import check_choice, check_integer

SEG_SAMPLERS = ("none", "oversample")
#: ``normalize``: none, or the ImageNet channel statistics the pretrained encoders expect
#: (``lmf.data.transforms.NORMALIZATIONS``).
SEG_NORMALIZATIONS = ("none", "imagenet")
#: The schedule: ``step`` only; Cui et al. name none, and ``lr_gamma=1`` holds the rate constant.
SEG_SCHEDULES = (STEP,)


@dataclass(frozen=True, kw_only=True)
class SegConfig(CheckedConfig):
    """One segmentation run; Cui et al.'s recipe by default (see the module docstring). The
    fields every run has are :class:`~lmf.core.checked_config.CheckedConfig`'s.

    ``dataset`` is a source of ``lmf.seg.data`` with ``dataset_params``; ``model`` a network of
    ``lmf.seg.models`` with ``attention``; ``loss`` a loss of ``lmf.seg.losses`` with
    ``loss_params``. ``normalize`` (``none`` | ``imagenet``) scales the inputs by channel
    statistics (ImageNet encoders expect ``imagenet``).
    """

    # Cui et al.'s values of the fields every run has where the recipes differ.
    optimizer: str = "sgd"
    lr: float = 1e-3
    lr_gamma: float = 1.0
    image_size: int = 256
    pretrained: bool = False
    # The fields of segmentation runs only.
    attention: str = "none"
    fold: int = 0
    split_seed: int = 0
    patience: int | None = None
    task: ClassVar[str] = "segmentation"
    INTEGERS: ClassVar = {"split_seed": 0, "fold": 0}
    CHOICES: ClassVar = {"lr_schedule": SEG_SCHEDULES, "sampler": SEG_SAMPLERS,
                         "normalize": SEG_NORMALIZATIONS}
    #: The networks' dilated convolutions compute through ``lmf.core.atrous`` (portable across
    #: CPUs); segmentation runs from before computed them in oneDNN, with other numbers.
    NUMERICS: ClassVar[str] = f"{NUMERICS_VERSION}+atrous"

    @property
    def sizes(self) -> tuple[int, ...]:
        """Every image side the run trains or evaluates at."""
        return (self.image_size, *(size for _, size in self.resize_schedule or ()))

    def _checked_task_fields(self, values: dict) -> dict:
        """The split and its fold, the patience; the names of the dataset (with its options),
        the model with its attention and weights at every size, the loss (its parameters
        completed with their defaults)."""
        from lmf.seg.data import CV_FOLDS, SEG_SPLITS, check_seg_dataset
        from lmf.seg.losses import check_seg_loss_params
        from lmf.seg.models import check_image_size, check_seg_model, has_pretrained

        checked = {"split": check_choice("split", self.split, SEG_SPLITS)}
        if self.patience is not None:
            checked["patience"] = check_integer("patience", self.patience, low=1)
        if checked["split"] != "cv" and values["fold"]:
            raise ConfigError("fold belongs to split='cv' (5-fold cross-validation); set it, or "
                              "drop fold")
        if values["fold"] >= CV_FOLDS:
            raise ConfigError(f"fold must be 0 … {CV_FOLDS - 1} for {CV_FOLDS}-fold "
                              f"cross-validation, got {values['fold']}")
        check_seg_dataset(self.dataset, values["dataset_params"])
        check_seg_model(self.model, self.attention)
        if values["pretrained"] and not has_pretrained(self.model):
            raise ConfigError(f"model {self.model!r} has no ImageNet weights; train it with "
                              "pretrained=False")
        checked["loss_params"] = check_seg_loss_params(self.loss, values["loss_params"])
        for size in (values["image_size"], *(s for _, s in values["resize_schedule"] or ())):
            check_image_size(self.model, size)
        return checked

    def _loss_defaults(self) -> dict:
        from lmf.seg.losses import seg_loss_parameters

        return seg_loss_parameters(self.loss)

    def _dataset_options(self) -> dict:
        from lmf.seg.data import seg_dataset_options

        return seg_dataset_options(self.dataset, self.dataset_params)

    def _data_fingerprint(self) -> str:
        from lmf.seg.data import seg_fingerprint

        return seg_fingerprint(self.dataset, self.data_root, size=self.image_size,
                               **self.dataset_params)
