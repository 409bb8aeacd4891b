"""The segmentation side of each profile: datasets, networks, losses and the recipe of notebook 07.

=======  =========================================================================================
cpu      the embedded digits canvases (``digits_seg``, 32 px) and the small stand-ins of the five
         networks, 12 epochs at a raised learning rate, progressive resizing 16 → 32 px: the whole
         study in a few minutes on a laptop CPU (a rehearsal of the method, not of the numbers)
paper    HAM10000's lesion masks and the COVID-19 Radiography lung masks at Cui et al.'s 512 px,
         the full-size networks (ImageNet encoders where they exist), their recipe (SGD 1e-3,
         momentum 0.9, weight decay 5e-4, batch 32, early stopping), progressive resizing
         128 → 256 → 512 and 5-fold cross-validation
=======  =========================================================================================

``models`` maps the paper's model names to ``lmf.seg.models`` networks. ``UNet`` is MONAI's
attention-gated UNet, the one network that takes every attention variant at its skip
connections (``attention="none"`` is the plain UNet); ``UNet-ResNet34`` (``UNet-timm`` on the
CPU) is segmentation-models-pytorch's UNet with an ImageNet encoder. Cui et al. also evaluate an
"RCNN" that they never specify; an instance-segmentation detector (Mask R-CNN) answers a
different question (objects, not a pixel mask per class), so it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from lmf.core.errors import ConfigError, unknown_choice
from lmf.core.validation import check_integer

#: The losses of Cui et al.'s Table 3 and Fig 3, and LMF per pixel.
SEG_STUDY_LOSSES = ("ce", "focal", "dice", "tversky", "combo", "unified_focal", "lmf")
#: The two losses of the "full strategy": Cui et al.'s, and LMF in its place.
FULL_LOSSES = ("unified_focal", "lmf")
#: Loss parameters of the study that differ from the losses' defaults. LDAM's scale s = 30 (the
#: authors' code) multiplies the logits of a *cosine* classifier, which lie in [−1, 1]; these
#: networks end in a plain 1×1 convolution, whose unbounded logits s = 30 drives to divergence at
#: the learning rate the other losses train with (in the cpu profile every LMF run diverged or
#: collapsed to DSC 0.00–0.29 with s = 30, against 0.85–0.91 with s = 1). LMF per pixel keeps its
#: margins and focal weights and uses s = 1.
STUDY_LOSS_PARAMS = {"lmf": {"s": 1.0}}


@dataclass(frozen=True)
class SegProfile:
    """What notebook 07 trains in one profile (see the module docstring).

    Attributes:
        datasets: dataset id -> (``lmf.seg.data`` source, its options).
        models: the paper's model name -> network name.
        attention_model: the model name whose network takes the attention variants (SAS & co).
        losses: the losses of the loss study (Table 3 for ``attention_model``, Fig 3).
        lambdas: λ values of Fig 3(f), the unified focal loss's weight of its focal part.
        run: ``SegConfig`` fields shared by every run.
        progressive: the resize schedule of "progressive resizing".
        spread_seeds: seeds per loss for the seed-to-seed spread (from the first seed on).
        pretrained: train the networks that have ImageNet weights from them (their inputs
            then standardised with ImageNet's statistics).
        seed: the first seed.
        cell_timeout: seconds a notebook cell may train.
        overlay_images: test images in the mask overlays of Figs 4 and 5.
        loss_params: loss name -> parameters every run of that loss gets
            (``STUDY_LOSS_PARAMS``).
    """

    name: str
    datasets: dict
    models: dict
    attention_model: str
    losses: tuple[str, ...]
    lambdas: tuple[float, ...]
    run: dict
    progressive: tuple[tuple[int, int], ...]
    spread_seeds: int = 3
    pretrained: bool = False
    seed: int = 23
    cell_timeout: int = 1800
    overlay_images: int = 4
    loss_params: dict = field(default_factory=lambda: dict(STUDY_LOSS_PARAMS))


SEG_PROFILES = {
    "cpu": SegProfile(
        name="cpu",
        datasets={"Digits-Seg": ("digits_seg", {})},
        models={"UNet": "attention_unet_small", "UNet-timm": "unet_small", "FCN": "fcn_small",
                "SegNet": "segnet_small", "DeepLab-V3": "deeplabv3_small"},
        attention_model="UNet",
        losses=SEG_STUDY_LOSSES,
        lambdas=(0.1, 0.3, 0.5, 0.7, 0.9),
        run={"epochs": 12, "image_size": 32, "batch_size": 16, "lr": 0.05},
        progressive=((0, 16), (4, 32)),
    ),
    "paper": SegProfile(
        name="paper",
        datasets={"HAM-10K": ("ham10000_seg", {}), "COVID-19": ("covid19_seg", {})},
        models={"UNet": "attention_unet", "UNet-ResNet34": "unet", "FCN": "fcn",
                "SegNet": "segnet", "DeepLab-V3": "deeplabv3"},
        attention_model="UNet",
        losses=SEG_STUDY_LOSSES,
        lambdas=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        run={"epochs": 60, "patience": 10, "image_size": 512, "batch_size": 32, "split": "cv"},
        progressive=((0, 128), (20, 256), (40, 512)),
        pretrained=True,
        cell_timeout=7 * 24 * 3600,
    ),
}


def get_seg_profile(name: str | SegProfile) -> SegProfile:
    """The segmentation profile ``name`` (a ``SegProfile`` is returned as it is)."""
    if isinstance(name, SegProfile):
        return name
    if name not in SEG_PROFILES:
        raise unknown_choice("segmentation profile", name, SEG_PROFILES)
    return SEG_PROFILES[name]


def restrict_seg_profile(profile: str | SegProfile, datasets=None, models=None,
                         image_size: int | None = None, lambdas=None,
                         spread_seeds: int | None = None) -> SegProfile:
    """``profile`` with only the listed dataset ids and model names (``None``: all of them; the
    attention model stays, since its studies need it); with ``image_size``, the runs at that
    size, the progressive stages scaled in proportion (to multiples of what every kept network
    takes); ``lambdas`` and ``spread_seeds`` replace the profile's when given."""
    profile = get_seg_profile(profile)
    for kind, chosen, available in (("dataset", datasets, profile.datasets),
                                    ("model", models, profile.models)):
        unknown = sorted(set(chosen or ()) - set(available))
        if unknown:
            raise ConfigError(f"unknown {kind} {', '.join(unknown)} in segmentation profile "
                              f"{profile.name!r}; valid: {', '.join(available)}")
    kept_models = [m for m in profile.models if models is None or m in models
                   or m == profile.attention_model]
    run, progressive = profile.run, profile.progressive
    if image_size is not None:
        from lmf.seg.models import size_multiple

        multiple = max(size_multiple(profile.models[m]) for m in kept_models)
        scale = image_size / run["image_size"]
        run = {**run, "image_size": image_size}
        progressive = tuple((epoch, max(multiple, round(size * scale / multiple) * multiple))
                            for epoch, size in progressive)
    if lambdas is not None:
        profile = replace(profile, lambdas=tuple(float(lam) for lam in lambdas))
    if spread_seeds is not None:
        profile = replace(profile, spread_seeds=check_integer("spread_seeds", spread_seeds, low=1))
    return replace(profile, run=run, progressive=progressive,
                   datasets={d: v for d, v in profile.datasets.items()
                             if datasets is None or d in datasets},
                   models={m: profile.models[m] for m in kept_models})
