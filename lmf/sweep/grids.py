"""The grids of the paper and beyond, by name, for either task: ``build_grid`` lists a grid's
configs, repeated over seeds (``seeds=N`` starts at the profile's first seed, 23, the paper's)
with duplicates dropped.

=================================================  ===============================================
grid                                               built in
=================================================  ===============================================
``paper``, ``hparams``, ``extended``,              ``lmf.classification.grids`` (``RunConfig``)
``cifar_lt``, ``scholz``
``seg``: Cui et al.'s ablations with LMF per       ``lmf.seg.grids`` (``SegConfig``), in the
pixel beside their loss (notebook 07)              profile's segmentation setup
=================================================  ===============================================
"""

from __future__ import annotations

from lmf.classification.grids import BUILDERS, CIFAR_LT_SOURCES, EXTENSION_LOSSES, settings_of
from lmf.classification.profiles import Profile, get_profile
from lmf.core.errors import ConfigError, unknown_choice

__all__ = ["CIFAR_LT_SOURCES", "EXTENSION_LOSSES", "GRIDS", "build_grid", "settings_of"]


def build_grid(name: str, profile: str | Profile = "cpu", seeds: int = 1, **overrides) -> list:
    """The configs of grid ``name`` in ``profile``, repeated over ``seeds`` seeds.

    ``overrides`` replace RunConfig (for ``seg``: SegConfig) fields in every config (e.g. ``epochs=1``, ``image_size=16``).
    The list has no duplicates and a stable order.
    """
    if name not in GRIDS:
        raise unknown_choice("grid", name, GRIDS)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds must be a positive integer, got {seeds!r}")
    profile = get_profile(profile) if isinstance(profile, str) else profile
    first_seed = overrides.pop("seed", profile.seeds[0])
    configs = []
    for seed in range(first_seed, first_seed + seeds):
        for config in _BUILDERS[name](profile, dict(overrides, seed=seed)):
            if config not in configs:
                configs.append(config)
    return configs


def _seg(profile: Profile, overrides: dict) -> list:
    from lmf.seg.grids import seg_grid  # segmentation's networks load on use

    return seg_grid(profile.name, **overrides)


_BUILDERS = {**BUILDERS, "seg": _seg}
#: The grid names, classification's first.
GRIDS = tuple(_BUILDERS)
