"""Profiles: the one place where the values of each way of running the project are defined.

A profile is data, not a code path. Notebooks start from ``PROFILE`` and override single values;
the CLI does the same with flags.

=========  =======================================  ==========================================
profile    data                                     models
=========  =======================================  ==========================================
cpu        digits-LT (embedded, no download)        three small CNNs, random init
medmnist   DermaMNIST via the ``medmnist`` package   the same small CNNs, 64 px
paper      ODIR-5K, HAM10000, ISIC 2019, COVID-19   EfficientNetV2-S, ResNet50, DenseNet121
cifar_lt   CIFAR-10-LT, CIFAR-100-LT (ρ = 100)       CIFAR ResNet-32, from scratch
=========  =======================================  ==========================================

``cifar_lt`` is Cao et al. 2019's long-tailed CIFAR protocol (kaidic/LDAM-DRW, ``cifar_train.py``),
the field's yardstick, to lay LMF beside published numbers (``lmf.classification.paper.cao2019``): SGD
(momentum 0.9, lr 0.1, weight decay 2e-4), batch 128, 200 epochs, linear warm-up over 5 epochs,
lr ×0.01 from (0-based) epoch 160 and ×0.0001 from 180, pad-4 random crop + flip, the reference's
CIFAR normalisation, fp32, and the best epoch picked on the test set as the reference does
(``selection="test"``; pass ``selection="val"`` with ``dataset_params={"val_per_class": N}`` for
the honest variant). Per loss as in the reference: LDAM and LDAM-DRW with the cosine head and
unweighted LDAM (DRW from epoch 160), focal with γ = 1 unweighted, CB-focal with γ = 1.

``models`` maps the paper's model id (the column of Tables 2–6) to the architecture that plays
its part in the profile, so every table can be laid beside the published one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lmf.classification.config import RunConfig
from lmf.classification.paper import PAPER_DATASETS, PAPER_LOSSES, lmf_weights
from lmf.core.errors import unknown_choice

#: Fig 4's grid of α/β values: eleven values in [0.5, 2.0] consistent with the paper's text
#: ("0.5, 0.7, …") and with every value of Table 6 (the paper does not publish the grid).
PAPER_HPARAM_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 2.0)

#: How the paper names its models in text and figures.
PAPER_MODEL_NAMES = {"efficientnetv2_s": "EfficientNetV2-S", "resnet50": "ResNet-50",
                     "densenet121": "DenseNet-121"}

#: Fig 3's test image class per dataset (the paper's choice).
PAPER_CAM_CLASSES = {"odir5k": "H", "ham10000": "AKIEC", "isic2019": "NV", "covid19": "LO"}

#: Scholz et al. 2024's losses (cross-entropy, soft MCC, soft F1, each metric alone and with CE)
#: beside LMF, and the batch samplers this project has (``none`` is plain shuffling).
SCHOLZ_LOSSES = ("cce", "soft_mcc", "soft_f1", "ce_soft_mcc", "ce_soft_f1", "lmf")
SCHOLZ_SAMPLERS = ("none", "balanced", "sqrt")


@dataclass(frozen=True)
class Profile:
    """Everything that differs between running on a laptop CPU and reproducing the paper.

    Attributes:
        name: profile id.
        datasets: dataset id (as in the tables) -> source name understood by ``lmf.data``.
        models: paper model id -> architecture understood by ``lmf.classification.models.build_model``.
        losses: the losses of the paper grid.
        run: values of ``lmf.classification.config.RunConfig`` fields that differ from the paper's recipe.
        lmf_weights: ``"table6"`` to take LMF's (α, β) from Table 6, else a fixed pair.
        hparam_dataset, hparam_model, hparam_epochs, hparam_grid: Fig 4's study.
        cam_classes: dataset id -> the class whose test image Fig 3 shows.
        cam_foreground: score Fig 3's maps against the image's bright pixels where no box or
            mask exists (the digits' strokes; meaningless for photographs).
        counterparts: dataset id -> the paper dataset whose published numbers are laid beside
            it, for datasets the paper did not use (for orientation only).
        cell_timeout: seconds one notebook cell may run under ``lmf reproduce`` (``None``: no
            limit; the paper profile trains for days inside one cell).
        notebooks_at_once: notebooks ``lmf reproduce`` executes at the same time
            (``lmf.reproduce``): two on the CPU, so that no core waits while a notebook draws;
            one for the profiles whose runs hold a GPU each.
        seeds: seeds of the paper grid (the paper reports one run, seed 23).
        spread_model, spread_seeds: the paper grid of ``spread_model`` (a paper model id) is
            also trained over ``spread_seeds`` seeds from the first one on, so that notebook 04
            reports the seed-to-seed spread of every loss beside the bootstrap intervals of
            single runs (``spread_seeds = 1``: none beyond the grid's own ``seeds``).
        loss_runs: loss -> RunConfig values for that loss only (``loss_params`` among them
            update the loss's parameters), e.g. the cosine head of LDAM in ``cifar_lt``.
        scholz_model, scholz_losses, scholz_samplers, scholz_run: the grid that tests Scholz et
            al. 2024's claim (notebook 08): every dataset × ``scholz_model`` (a paper model id)
            × losses × samplers, with ``scholz_run`` replacing values of ``run`` (a shorter
            recipe where the budget asks for it).
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
    cam_foreground: bool = False
    counterparts: dict[str, str] = field(default_factory=dict)
    cell_timeout: float | None = None
    notebooks_at_once: int = 1
    seeds: tuple[int, ...] = (23,)
    spread_model: str = "densenet121"
    spread_seeds: int = 1
    loss_runs: dict[str, dict] = field(default_factory=dict)
    scholz_model: str = "resnet50"
    scholz_losses: tuple[str, ...] = SCHOLZ_LOSSES
    scholz_samplers: tuple[str, ...] = SCHOLZ_SAMPLERS
    scholz_run: dict[str, object] = field(default_factory=dict)

    def config(self, dataset_id: str, model_id: str, loss: str, **overrides) -> RunConfig:
        """The run of ``dataset_id`` × ``model_id`` × ``loss`` in this profile.

        Ids are the paper's (table columns), mapped through ``datasets`` and ``models``; ``run``
        replaces recipe defaults, ``loss_runs[loss]`` then replaces them for this loss. LMF's
        (α, β) come from Table 6 when ``lmf_weights == "table6"``, else from the profile's fixed
        pair. ``overrides`` replace any field;
        ``loss_params`` given there update the profile's. The ids are recorded as the run's
        ``labels`` (with the profile's name), for readers of the run store.
        """
        if dataset_id not in self.datasets:
            raise unknown_choice(f"dataset of profile {self.name!r}", dataset_id, self.datasets)
        if model_id not in self.models:
            raise unknown_choice(f"model of profile {self.name!r}", model_id, self.models)
        loss_params: dict = {}
        if loss == "lmf":
            pair = (lmf_weights(dataset_id, model_id) if self.lmf_weights == "table6"
                    else self.lmf_weights)
            loss_params = {"alpha": float(pair[0]), "beta": float(pair[1])}
        for_loss = dict(self.loss_runs.get(loss, {}))
        loss_params.update(for_loss.pop("loss_params", {}))
        loss_params.update(overrides.pop("loss_params", None) or {})
        values = {
            **self.run,
            **for_loss,
            "dataset": self.datasets[dataset_id],
            "model": self.models[model_id],
            "loss": loss,
            "loss_params": loss_params,
            "labels": {"dataset_id": dataset_id, "model_id": model_id, "profile": self.name},
            **overrides,
        }
        return RunConfig.from_dict(values)

    def model_label(self, model_id: str) -> str:
        """A title for the model that plays ``model_id``'s part: the paper's name where the
        profile runs the paper's model ("ResNet-50"), else what actually runs and whose part it
        plays ("timm:tinynet_e standing in for EfficientNetV2-S"); for a model the paper did not
        use, the architecture that runs."""
        if model_id not in self.models:
            raise unknown_choice(f"model of profile {self.name!r}", model_id, self.models)
        architecture = self.models[model_id]
        if model_id not in PAPER_MODEL_NAMES:
            return architecture
        name = PAPER_MODEL_NAMES[model_id]
        return name if architecture == model_id else f"{architecture} standing in for {name}"

    def paper_dataset(self, dataset_id: str) -> str | None:
        """The paper dataset whose published numbers sit beside ``dataset_id``'s."""
        if dataset_id in PAPER_DATASETS:
            return dataset_id
        return self.counterparts.get(dataset_id)


CPU_MODELS = {
    "efficientnetv2_s": "timm:tinynet_e",
    "resnet50": "timm:resnet10t",
    "densenet121": "densenet_small",
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
        cam_foreground=True,
        counterparts={"digits_lt": "ham10000"},
        cell_timeout=1800,
        notebooks_at_once=2,
        spread_seeds=3,
        scholz_run={"epochs": 6},
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
        counterparts={"dermamnist": "ham10000"},
        cell_timeout=6 * 3600,
    ),
    "paper": Profile(
        name="paper",
        datasets={d: d for d in ("odir5k", "ham10000", "isic2019", "covid19")},
        models={m: m for m in ("efficientnetv2_s", "resnet50", "densenet121")},
        run={"pretrained": True},
    ),
    "cifar_lt": Profile(
        name="cifar_lt",
        datasets={"cifar10_lt": "cifar10_lt", "cifar100_lt": "cifar100_lt"},
        models={"resnet32": "resnet32_cifar"},
        losses=("cce", "focal", "ldam", "ldam_drw", "cb", "lmf"),
        run={"epochs": 200, "batch_size": 128, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
             "weight_decay": 2e-4, "lr_schedule": "warmup_multistep", "warmup_epochs": 5,
             "lr_milestones": (160, 180), "lr_gamma": 0.01, "image_size": 32,
             "pretrained": False, "augment": "pad_crop_flip", "normalize": "cifar",
             "selection": "test", "amp": False},
        loss_runs={"focal": {"loss_params": {"gamma": 1.0, "alpha": None}},
                   "ldam": {"head": "normed", "loss_params": {"weight": None}},
                   "ldam_drw": {"head": "normed", "loss_params": {"drw_epoch": 160}},
                   "cb": {"loss_params": {"base": "focal", "gamma": 1.0}}},
        lmf_weights=(1.0, 1.0),
        hparam_dataset="cifar10_lt",
        hparam_model="resnet32",
        hparam_epochs=200,
        cam_classes={},
        scholz_model="resnet32",
    ),
}


#: The profiles that run the paper's notebooks (their ``models`` are the paper's three model ids,
#: each with Fig 3's and Fig 4's settings); ``cifar_lt`` is a benchmark of its own, run with
#: ``lmf sweep cifar_lt`` and ``lmf.classification.report.cifar_lt``.
PAPER_PROFILES = ("cpu", "medmnist", "paper")

#: Fig 4's settings: number -> (title, the weight that varies). Setting 1 varies α = β together,
#: Setting 2 holds α = 1, Setting 3 holds β = 1 (Sadi et al., Section "Hyperparameter study").
HPARAM_SETTINGS = {1: ("Setting 1 (α = β)", "alpha"), 2: ("Setting 2 (α = 1)", "beta"),
                   3: ("Setting 3 (β = 1)", "alpha")}


def in_setting(number: int, alpha, beta):
    """Whether (α, β) (scalars or arrays) belong to Fig 4's Setting ``number``; α = β = 1 is in
    all three."""
    rule = {1: lambda: np.isclose(alpha, beta), 2: lambda: np.isclose(alpha, 1.0),
            3: lambda: np.isclose(beta, 1.0)}
    return rule[number]()


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
