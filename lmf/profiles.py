"""Profiles: the one place where the values of each way of running the project are defined.

A profile is data, not a code path. Notebooks start from ``PROFILE`` and override single values;
the CLI does the same with flags.

=========  =======================================  ==========================================
profile    data                                     models
=========  =======================================  ==========================================
cpu        digits-LT (embedded, no download)        three small timm CNNs, random init
medmnist   DermaMNIST via the ``medmnist`` package   the same small CNNs, 64 px
paper      ODIR-5K, HAM10000, ISIC 2019, COVID-19   EfficientNetV2-S, ResNet50, DenseNet121
=========  =======================================  ==========================================

``models`` maps the paper's model id (the column of Tables 2–6) to the architecture that plays
its part in the profile, so every table can be laid beside the published one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lmf.errors import unknown_choice
from lmf.paper import PAPER_LOSSES

#: Fig 4's grid of α/β values: eleven values in [0.5, 2.0] consistent with the paper's text
#: ("0.5, 0.7, …") and with every value of Table 6 (the paper does not publish the grid).
PAPER_HPARAM_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 2.0)

#: Fig 3's test image class per dataset (the paper's choice).
PAPER_CAM_CLASSES = {"odir5k": "H", "ham10000": "AKIEC", "isic2019": "NV", "covid19": "LO"}


@dataclass(frozen=True)
class Profile:
    """Everything that differs between running on a laptop CPU and reproducing the paper.

    Attributes:
        name: profile id.
        datasets: dataset id (as in the tables) -> source name understood by ``lmf.data``.
        models: paper model id -> architecture understood by ``lmf.models.build_model``.
        losses: the losses of the paper grid.
        run: values of ``lmf.train.RunConfig`` fields that differ from the paper's recipe.
        lmf_weights: ``"table6"`` to take LMF's (α, β) from Table 6, else a fixed pair.
        hparam_dataset, hparam_model, hparam_epochs, hparam_grid: Fig 4's study.
        cam_classes: dataset id -> the class whose test image Fig 3 shows.
        seeds: seeds of the paper grid (the paper reports one run, seed 23).
    """

    name: str
    datasets: dict[str, str]
    models: dict[str, str]
    run: dict[str, object] = field(default_factory=dict)
    losses: tuple[str, ...] = PAPER_LOSSES
    lmf_weights: str | tuple[float, float] = "table6"
    hparam_dataset: str = "ham10000"
    hparam_model: str = "efficientnetv2_s"
    hparam_epochs: int = 60
    hparam_grid: tuple[float, ...] = PAPER_HPARAM_GRID
    cam_classes: dict[str, str] = field(default_factory=lambda: dict(PAPER_CAM_CLASSES))
    seeds: tuple[int, ...] = (23,)


CPU_MODELS = {
    "efficientnetv2_s": "timm:tinynet_e",
    "resnet50": "timm:resnet10t",
    "densenet121": "timm:densenet121",
}

PROFILES: dict[str, Profile] = {
    "cpu": Profile(
        name="cpu",
        datasets={"digits_lt": "digits_lt"},
        models=CPU_MODELS,
        run={"epochs": 12, "image_size": 32, "lr": 1e-3, "lr_step": 8, "pretrained": False},
        lmf_weights=(1.0, 1.0),
        hparam_dataset="digits_lt",
        hparam_model="resnet50",
        hparam_epochs=8,
        hparam_grid=(0.5, 1.0, 2.0),
        cam_classes={"digits_lt": "0"},
    ),
    "medmnist": Profile(
        name="medmnist",
        datasets={"dermamnist": "medmnist:dermamnist"},
        models=CPU_MODELS,
        run={"epochs": 30, "image_size": 64, "lr": 1e-3, "lr_step": 20, "pretrained": False},
        lmf_weights=(1.0, 1.0),
        hparam_dataset="dermamnist",
        hparam_model="efficientnetv2_s",
        hparam_epochs=20,
        cam_classes={"dermamnist": "akiec"},
    ),
    "paper": Profile(
        name="paper",
        datasets={d: d for d in ("odir5k", "ham10000", "isic2019", "covid19")},
        models={m: m for m in ("efficientnetv2_s", "resnet50", "densenet121")},
        run={"pretrained": True},
    ),
}


def hparam_pairs(values) -> list[tuple[float, float]]:
    """The (α, β) pairs of Fig 4's study for the grid ``values``, in the order they are trained:
    for each value v in turn, Setting 1 (v, v), Setting 2 (1, v), Setting 3 (v, 1); a pair
    already listed (α = β = 1 belongs to all three settings) is not repeated."""
    pairs: list[tuple[float, float]] = []
    for value in map(float, values):
        for pair in ((value, value), (1.0, value), (value, 1.0)):
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a ConfigError listing the valid names otherwise."""
    if name not in PROFILES:
        raise unknown_choice("profile", name, PROFILES)
    return PROFILES[name]
