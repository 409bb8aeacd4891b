"""Grid contents against the paper's design (Sadi et al., LMF paper: Tables 2–4, 6 and Fig 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from lmf.classification.profiles import get_profile
from lmf.core.errors import ConfigError
from lmf.core.paths import repo_root
from lmf.sweep import build_grid, settings_of
from lmf.sweep.grids import EXTENSION_LOSSES

FIVE = {"cce", "focal", "ldam", "bwcce", "lmf"}


def test_paper_grid_sizes_are_datasets_times_models_times_losses():
    cpu = build_grid("paper", "cpu")
    paper = build_grid("paper", "paper")
    assert len(cpu) == 1 * 3 * 5 and len(paper) == 4 * 3 * 5 == 60
    assert {c.loss for c in paper} == FIVE
    assert {(c.dataset, c.model) for c in paper} == {
        (d, m) for d in ("odir5k", "ham10000", "isic2019", "covid19")
        for m in ("efficientnetv2_s", "resnet50", "densenet121")}
    assert len({(c.dataset, c.model, c.loss) for c in paper}) == 60


def test_paper_lmf_weights_are_table6_read_independently():
    table6 = pd.read_csv(repo_root() / "data" / "paper" / "table6_lmf_alpha_beta.tsv", sep="\t")
    lmf = [c for c in build_grid("paper", "paper") if c.loss == "lmf"]
    pairs = {(c.dataset, c.model): (c.loss_params["alpha"], c.loss_params["beta"]) for c in lmf}
    expected = {(r.dataset, r.model): (r.alpha, r.beta) for r in table6.itertuples()}
    assert len(expected) == 12 and pairs == expected


def test_cpu_lmf_uses_the_profiles_fixed_pair():
    lmf = [c for c in build_grid("paper", "cpu") if c.loss == "lmf"]
    assert {tuple(c.loss_params.values()) for c in lmf} == {(1.0, 1.0)}


def test_hparams_grid_deduplicates_settings():
    profile = get_profile("paper")
    grid = build_grid("hparams", "paper")
    # 3 settings × 11 values = 33 runs in Fig 4; alpha = beta = 1 is in all three settings
    assert len(profile.hparam_grid) == 11 and len(grid) == 33 - 2
    assert all(c.epochs == 60 and c.dataset == "ham10000" and c.model == "efficientnetv2_s"
               and c.loss == "lmf" for c in grid)
    memberships = [settings_of(c) for c in grid]
    assert sum(len(m) for m in memberships) == 33
    for setting in (1, 2, 3):
        assert sum(setting in m for m in memberships) == 11
    shared = [c for c in grid if len(settings_of(c)) > 1]
    assert [c.loss_params for c in shared] == [{"alpha": 1.0, "beta": 1.0}]
    assert len(build_grid("hparams", "cpu")) == 3 * 3 - 2


def test_seeds_repeat_the_grid_with_distinct_seeds():
    grid = build_grid("paper", "cpu", seeds=3)
    assert len(grid) == 45 and sorted({c.seed for c in grid}) == [23, 24, 25]


def test_extended_grid_adds_extension_losses_and_balanced_sampler():
    grid = build_grid("extended", "cpu")
    assert {c.loss for c in grid} == FIVE | set(EXTENSION_LOSSES)
    assert {c.loss for c in grid if c.sampler == "balanced"} == FIVE
    assert len(grid) == 3 * (5 + len(EXTENSION_LOSSES) + 5)


def test_scholz_grid_is_every_loss_with_every_sampler_on_the_profiles_model():
    grid = build_grid("scholz", "cpu")
    pairs = [(c.loss, c.sampler) for c in grid]
    assert pairs == [(loss, sampler)
                     for loss in ("cce", "soft_mcc", "soft_f1", "ce_soft_mcc", "ce_soft_f1", "lmf")
                     for sampler in ("none", "balanced", "sqrt")]
    assert {c.model for c in grid} == {"timm:resnet10t"}  # resnet50's stand-in in the cpu profile
    assert {c.epochs for c in grid} == {6}  # the cpu profile's shortened recipe
    paper_grid = build_grid("scholz", "paper")
    assert len(paper_grid) == 4 * 18 and {c.model for c in paper_grid} == {"resnet50"}
    assert {c.epochs for c in paper_grid} == {100}  # the paper's recipe, unchanged
    assert {c.epochs for c in build_grid("scholz", "cpu", epochs=2)} == {2}  # overrides win
    lmf_run = next(c for c in grid if c.loss == "lmf")
    assert lmf_run.loss_params == {"alpha": 1.0, "beta": 1.0}


def test_bad_names_raise_config_errors():
    with pytest.raises(ConfigError, match="valid choices: cifar_lt, extended, hparams, paper, scholz"):
        build_grid("papers")
    with pytest.raises(ConfigError, match="seeds"):
        build_grid("paper", seeds=0)
