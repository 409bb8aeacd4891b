"""The runs of notebook 07: Cui et al.'s ablations, with LMF per pixel beside their loss.

Every table of the study is a set of *settings* (a network, a loss, an attention, fixed size or
progressive resizing, a sampler); a setting several tables need is one run. A setting that
changes nothing of the baseline (cross-entropy, no attention, the fixed size, shuffled batches)
but one part measures that part:

=============  ====================================================================================
experiment     settings (per dataset of the profile)
=============  ====================================================================================
baseline       every network, cross-entropy
full           every network with the full strategy: progressive resizing, SAS where the network
               takes it (``SegProfile.attention_model``), and the unified focal loss, or LMF in its
               place (Table 1)
sas            the attention model with SAS, cross-entropy (Table 2)
losses         every network with the unified focal loss and with LMF; the attention model with
               every loss of ``SegProfile.losses`` (Table 3, Figs 3 and 5)
resizing       every network with progressive resizing, cross-entropy (Table 4)
attention      the attention model with each of spatial, channel, scSE and SAS (Table 5)
balancing      the attention model with random oversampling of the images holding the rarest class
               (Table 6; SAS and the baseline come from the experiments above)
lambda         the attention model with the unified focal loss at each λ of ``SegProfile.lambdas``
               (Fig 3(f))
spread         the attention model with cross-entropy, the unified focal loss and LMF over
               ``SegProfile.spread_seeds`` seeds (beyond the paper: seed-to-seed spread)
=============  ====================================================================================
"""

from __future__ import annotations

from lmf.core.errors import ConfigError, unknown_choice
from lmf.seg.config import SegConfig
from lmf.seg.models import ATTENTIONS, has_pretrained
from lmf.seg.profiles import FULL_LOSSES, SegProfile, get_seg_profile

EXPERIMENTS = ("baseline", "full", "sas", "losses", "resizing", "attention", "balancing",
               "lambda", "spread")


def seg_config(profile: SegProfile, dataset_id: str, model_id: str, loss: str = "ce", *,
               progressive: bool = False, **fields) -> SegConfig:
    """One run of the study: ``dataset_id`` and ``model_id`` as the profile names them,
    ``progressive`` resizing on or off, the profile's parameters of ``loss`` (updated by
    ``loss_params``), other ``SegConfig`` fields as given."""
    source, options = profile.datasets[dataset_id]
    model = profile.models[model_id]
    pretrained = profile.pretrained and has_pretrained(model)
    loss_params = {**profile.loss_params.get(loss, {}), **fields.pop("loss_params", {})}
    values = {"seed": profile.seed, **profile.run,
              "pretrained": pretrained, "normalize": "imagenet" if pretrained else "none",
              "resize_schedule": profile.progressive if progressive else None,
              "loss_params": loss_params, **fields}
    return SegConfig(dataset=source, dataset_params=dict(options), model=model, loss=loss,
                     labels={"dataset_id": dataset_id, "model_id": model_id,
                             "profile": profile.name}, **values)


def seg_grid(profile: str | SegProfile = "cpu", experiments=EXPERIMENTS, seeds: int = 1,
             **overrides) -> list[SegConfig]:
    """The configs of ``experiments`` in ``profile``, without duplicates, in a stable order.

    ``seeds`` repeats the grid over that many seeds; ``overrides`` replace ``SegConfig`` fields
    in every config (e.g. ``epochs=2``).
    """
    profile = get_seg_profile(profile)
    unknown = sorted(set(experiments) - set(EXPERIMENTS))
    if unknown:
        raise unknown_choice("segmentation experiment", unknown[0], EXPERIMENTS)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds must be a positive integer, got {seeds!r}")
    first = overrides.pop("seed", profile.seed)
    configs: dict[str, SegConfig] = {}  # by run id: λ = 0.5 written out is the default run
    for seed in range(first, first + seeds):
        for experiment in experiments:
            for dataset_id in profile.datasets:
                for config in _BUILDERS[experiment](profile, dataset_id,
                                                    {"seed": seed, **overrides}):
                    configs.setdefault(config.run_id, config)
    return list(configs.values())


def _baseline(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, model, **fields) for model in profile.models]


def _full(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, model, loss, progressive=True,
                       attention="sas" if model == profile.attention_model else "none", **fields)
            for model in profile.models for loss in FULL_LOSSES]


def _sas(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, profile.attention_model, attention="sas", **fields)]


def _losses(profile, dataset_id, fields):
    every_model = [seg_config(profile, dataset_id, model, loss, **fields)
                   for model in profile.models for loss in FULL_LOSSES]
    return every_model + [seg_config(profile, dataset_id, profile.attention_model, loss, **fields)
                          for loss in profile.losses]


def _resizing(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, model, progressive=True, **fields)
            for model in profile.models]


def _attention(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, profile.attention_model, attention=attention, **fields)
            for attention in ATTENTIONS]


def _balancing(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, profile.attention_model, sampler="oversample",
                       **fields)]


def _lambda(profile, dataset_id, fields):
    return [seg_config(profile, dataset_id, profile.attention_model, "unified_focal",
                       loss_params={"lam": lam}, **fields) for lam in profile.lambdas]


def _spread(profile, dataset_id, fields):
    first = fields["seed"]
    return [seg_config(profile, dataset_id, profile.attention_model, loss,
                       **{**fields, "seed": seed})
            for seed in range(first, first + profile.spread_seeds)
            for loss in ("ce", *FULL_LOSSES)]


_BUILDERS = {"baseline": _baseline, "full": _full, "sas": _sas, "losses": _losses,
             "resizing": _resizing, "attention": _attention, "balancing": _balancing,
             "lambda": _lambda, "spread": _spread}
