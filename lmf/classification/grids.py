"""The classification grids, each a builder ``(profile, overrides) -> [RunConfig]``.

=========  ==================================================================================
grid       runs
=========  ==================================================================================
paper      datasets × models × the five losses (Sadi et al., LMF paper, Tables 2–4); LMF's
           (α, β) from Table 6 in the ``paper`` profile, the profile's fixed pair elsewhere
hparams    Fig 4's study on ``profile.hparam_dataset`` × ``profile.hparam_model`` with
           ``profile.hparam_epochs``: Setting 1 α = β = v, Setting 2 α = 1, β = v, Setting 3
           α = v, β = 1, for v in ``profile.hparam_grid``; a config shared by several settings
           (α = β = 1 is in all three) is trained once, :func:`settings_of` names its settings
extended   the paper grid, plus the extension losses (Cao et al. 2019's deferred re-weighting,
           Cui et al. 2019's class-balanced loss, Scholz et al. 2024's soft MCC/F1 alone and with
           CE, the unified focal loss) and the paper's five losses with the class-balanced sampler
cifar_lt   the ``cifar_lt`` profile's datasets × ResNet-32 × its losses (CE, focal, LDAM,
           LDAM-DRW, CB-focal, LMF): Cao et al. 2019's long-tailed CIFAR, to compare with
           their Table 2 (``lmf.classification.report.cifar_lt``); only in profiles on CIFAR-LT data
scholz     datasets × ``profile.scholz_model`` × ``profile.scholz_losses`` (CE, soft MCC, soft
           F1, CE + soft MCC, CE + soft F1, LMF) × ``profile.scholz_samplers`` (shuffled,
           class-balanced, square-root), with ``profile.scholz_run`` over the recipe: Scholz et
           al. 2024's claim put to the test (notebook 08, ``lmf.classification.report.scholz``)
=========  ==================================================================================

``lmf.sweep.grids.build_grid`` repeats a builder over seeds and drops duplicates; ``overrides``
replace RunConfig fields in every config. To add a grid: a builder here and its name in
:data:`BUILDERS` (``lmf.sweep.grids.GRIDS`` lists it then).
"""

from __future__ import annotations

from lmf.classification.config import RunConfig
from lmf.classification.profiles import HPARAM_SETTINGS, Profile, hparam_pairs, in_setting
from lmf.core.errors import ConfigError

#: The sources the ``cifar_lt`` grid trains on.
CIFAR_LT_SOURCES = ("cifar10_lt", "cifar100_lt")
EXTENSION_LOSSES = ("cb", "ldam_drw", "soft_mcc", "soft_f1", "ce_soft_mcc", "ce_soft_f1",
                    "unified_focal")


def settings_of(config) -> tuple[int, ...]:
    """Fig 4's settings (1, 2, 3) a hyperparameter-study config (or ``load_runs`` row) belongs to."""
    params = config.loss_params if isinstance(config, RunConfig) else config
    alpha, beta = float(params["alpha"]), float(params["beta"])
    return tuple(n for n in HPARAM_SETTINGS if in_setting(n, alpha, beta))


def paper(profile: Profile, overrides: dict, losses=None, **fields) -> list[RunConfig]:
    return [
        profile.config(dataset, model, loss, **fields, **overrides)
        for dataset in profile.datasets
        for model in profile.models
        for loss in (losses or profile.losses)
    ]


def hparams(profile: Profile, overrides: dict) -> list[RunConfig]:
    overrides = {"epochs": profile.hparam_epochs, **overrides}
    return [
        profile.config(profile.hparam_dataset, profile.hparam_model, "lmf",
                       loss_params={"alpha": a, "beta": b}, **overrides)
        for a, b in hparam_pairs(profile.hparam_grid)
    ]


def extended(profile: Profile, overrides: dict) -> list[RunConfig]:
    return (paper(profile, overrides)
            + paper(profile, overrides, losses=EXTENSION_LOSSES)
            + paper(profile, {"sampler": "balanced", **overrides}))


def cifar_lt(profile: Profile, overrides: dict) -> list[RunConfig]:
    if not profile.datasets or set(profile.datasets.values()) - set(CIFAR_LT_SOURCES):
        raise ConfigError(f"grid 'cifar_lt' trains long-tailed CIFAR; profile {profile.name!r} "
                          f"has {', '.join(profile.datasets.values()) or 'no datasets'}: pass "
                          "--profile cifar_lt")
    return paper(profile, overrides)


def scholz(profile: Profile, overrides: dict) -> list[RunConfig]:
    return [
        profile.config(dataset, profile.scholz_model, loss, sampler=sampler,
                       **{**profile.scholz_run, **overrides})
        for dataset in profile.datasets
        for loss in profile.scholz_losses
        for sampler in profile.scholz_samplers
    ]


BUILDERS = {"paper": paper, "hparams": hparams, "extended": extended, "cifar_lt": cifar_lt,
            "scholz": scholz}
