"""``lmf list``: every loss and model by name, with the defaults it is built with."""

from __future__ import annotations

import pytest

from lmf.cli import build_parser, main


def _listed(capsys, *args: str) -> dict[str, str]:
    """The lines ``lmf list ARGS`` prints, by their first word."""
    assert main(["list", *args]) == 0
    return {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}


def test_losses_are_listed_with_their_defaults(capsys):
    lines = _listed(capsys, "losses")
    assert {"cce", "wcce", "bwcce", "ldam", "focal", "lmf", "cb", "ldam_drw", "soft_mcc",
            "soft_f1", "ce_soft_mcc", "ce_soft_f1", "unified_focal"} < set(lines)
    assert "s=30.0, max_m=0.5, weight='margins'" in lines["ldam"]
    assert "lam=0.5, delta=0.6, gamma=0.5" in lines["unified_focal"]
    assert "—" in lines["cce"]


def test_models_end_with_the_timm_fallback(capsys):
    lines = _listed(capsys, "models")
    assert {"efficientnetv2_s", "resnet50", "densenet121", "resnet32_cifar",
            "densenet_small"} < set(lines)
    assert list(lines)[-1] == "timm:<name>"


def test_segmentation_tables(capsys):
    losses = _listed(capsys, "seg-losses")
    assert {"ce", "focal", "dice", "tversky", "combo", "unified_focal", "lmf"} < set(losses)
    assert "alpha=0.3, beta=0.7, include_background=True" in losses["tversky"]
    models = _listed(capsys, "seg-models")
    assert {"unet", "attention_unet", "fcn", "deeplabv3", "segnet", "unet_small",
            "segnet_small"} < set(models)


def test_without_an_argument_all_four_tables_under_their_names(capsys):
    lines = _listed(capsys)
    assert {"losses:", "models:", "seg-losses:", "seg-models:"} < set(lines)


def test_an_unknown_table_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["list", "optimizers"])
    assert exit.value.code == 2
    assert "usage: lmf list" in capsys.readouterr().err
