"""The factory: every name builds, defaults follow the authors' code, bad input is rejected."""

import pytest
import torch

from lmf.classification.paper import PAPER_LOSSES
from lmf.core.errors import ConfigError
from lmf.losses import LOSSES, build_loss, loss_parameters

COUNTS = [30, 10, 3]


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_builds_and_returns_a_differentiable_scalar(name):
    loss = build_loss(name, COUNTS)
    logits = torch.randn(8, 3, requires_grad=True)
    value = loss(logits, torch.tensor([0, 1, 2, 0, 0, 1, 2, 0]))
    value.backward()
    assert value.shape == () and logits.grad.abs().sum() > 0


def test_registry_holds_every_loss_with_the_paper_losses_first():
    assert LOSSES[:5] == PAPER_LOSSES
    assert set(LOSSES) == {
        "cce", "wcce", "bwcce", "ldam", "focal", "lmf", "cb", "ldam_drw", "soft_mcc", "soft_f1",
        "ce_soft_mcc", "ce_soft_f1", "unified_focal",
    }


def test_defaults_follow_the_authors_code():
    assert loss_parameters("ldam") == {"s": 30.0, "max_m": 0.5, "weight": "margins"}
    assert loss_parameters("focal") == {"gamma": 1.5, "alpha": "margins", "max_m": 0.5}
    lmf = loss_parameters("lmf")
    assert (lmf["alpha"], lmf["beta"], lmf["gamma"], lmf["weight"]) == (1.0, 1.0, 1.5, "margins")
    assert loss_parameters("cb")["beta"] == 0.9999
    assert loss_parameters("unified_focal") == {"lam": 0.5, "delta": 0.6, "gamma": 0.5}
    assert loss_parameters("cce") == {}


def test_ldam_drw_has_set_epoch_and_static_losses_do_not():
    assert callable(build_loss("ldam_drw", COUNTS).set_epoch)
    assert not hasattr(build_loss("ldam", COUNTS), "set_epoch")


def test_unknown_name_lists_valid_losses():
    with pytest.raises(ConfigError, match="unknown loss 'lmff'.*ldam_drw.*lmf") as error:
        build_loss("lmff", COUNTS)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(("name", "params", "listed"), [
    ("focal", {"beta": 1.0}, "gamma, alpha, max_m"),
    ("cce", {"gamma": 2.0}, "none"),
    ("lmf", {"lambda": 0.5}, "alpha, beta, gamma, s, max_m, weight"),
])
def test_wrong_parameter_name_lists_valid_parameters(name, params, listed):
    with pytest.raises(ConfigError, match=f"valid parameters: {listed}"):
        build_loss(name, COUNTS, **params)


@pytest.mark.parametrize("counts", [
    [], [5], [3, 0, 2], [3, -1], [2.0, float("nan")], [[1, 2], [3, 4]], ["a", "b"], None,
])
def test_invalid_counts_are_rejected(counts):
    with pytest.raises(ConfigError, match="class_counts"):
        build_loss("cce", counts)


@pytest.mark.parametrize("name", ["cce", "lmf", "soft_mcc", "unified_focal"])
def test_counts_not_matching_the_logits_are_rejected(name):
    loss = build_loss(name, COUNTS)
    with pytest.raises(ConfigError, match=r"shape \(batch, 3\).*\(4, 4\)"):
        loss(torch.zeros(4, 4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ConfigError, match="targets must have shape"):
        loss(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))


@pytest.mark.parametrize(("name", "params", "message"), [
    ("ldam", {"s": 0}, "s must be a number in"),
    ("ldam", {"max_m": -0.1}, "max_m must be"),
    ("ldam", {"weight": "bwcce"}, "unknown weight 'bwcce'; valid choices: margins"),
    ("ldam", {"weight": [1.0, 2.0]}, "sequence of 3 finite non-negative"),
    ("focal", {"gamma": -1}, "gamma must be"),
    ("focal", {"alpha": [1, -1, 1]}, "alpha must be a sequence"),
    ("lmf", {"alpha": "1"}, "alpha must be a number"),
    ("lmf", {"alpha": 0, "beta": 0}, "cannot both be 0"),
    ("cb", {"beta": 1.0}, r"beta must be a number in \[0, 1\)"),
    ("cb", {"base": "dice"}, "unknown base 'dice'; valid choices: ce, focal"),
    ("cb", {"gamma": 2.0}, "gamma applies only with base='focal'"),
    ("ldam_drw", {"drw_epoch": 1.5}, "drw_epoch must be an integer"),
    ("ce_soft_f1", {"alpha": 0, "beta": 0}, "cannot both be 0"),
    ("unified_focal", {"lam": 2}, r"lam must be a number in \[0, 1\]"),
    ("unified_focal", {"gamma": 1.5}, "gamma must be"),
])
def test_invalid_values_are_rejected_with_the_loss_named(name, params, message):
    with pytest.raises(ConfigError, match=f"loss '{name}': .*{message}"):
        build_loss(name, COUNTS, **params)


def test_explicit_class_weights_are_used():
    loss = build_loss("ldam", COUNTS, weight=[1, 2, 3])
    assert loss.weight.tolist() == [1.0, 2.0, 3.0]
    assert build_loss("focal", COUNTS, alpha=None).alpha is None
