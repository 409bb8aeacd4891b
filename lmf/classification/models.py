"""The classifiers: the paper's three ImageNet CNNs and any timm model, with a K-class head.

Sadi et al. (LMF paper, "Training recipe"; authors' repository Adnan-Sadi/LMFLOSS, ``train.py``)
fine-tune torchvision's ``efficientnet_v2_s`` (IMAGENET1K_V1), ``resnet50`` (IMAGENET1K_V2) and
``densenet121`` (IMAGENET1K_V1) with the last ``Linear`` replaced by ``Linear(in, K)``. The same
torchvision models are built here, so published and reproduced numbers come from one architecture.
timm holds no port of torchvision's EfficientNetV2-S weights (its ``tf_efficientnetv2_s`` is the
TensorFlow model), which is why the presets use torchvision throughout.

``"resnet32_cifar"`` is the CIFAR ResNet-32 of the long-tailed CIFAR protocol
(``lmf.classification.resnet_cifar``) and ``"densenet_small"`` the cpu profile's small DenseNet-BC; both are
trained from scratch (they have no ImageNet weights). These five names are the entries of
:data:`MODEL_REGISTRY` (an :class:`lmf.core.registry.Registry`; ``lmf list models`` prints it).
Any other timm model is built as ``"timm:<name>"`` with ``num_classes=K`` (the CPU profile's
small CNNs): a prefix rule of :func:`build_model`, the fallback past the registry, since timm's
own model list is the registry of those names.

Heads: ``head="linear"`` (the default) keeps the architecture's ``Linear(in, K)``;
``head="normed"`` replaces it by the cosine classifier of LDAM (``lmf.classification.resnet_cifar.NormedLinear``,
no bias), for any architecture.

Weights: ``pretrained=True`` loads the ImageNet weights as torchvision itself does
(``builder(weights=<enum>)``), from its cache ``$TORCH_HOME/hub/checkpoints/<file name of the
URL>`` (e.g. ``densenet121-a639ec97.pth``), downloading them when the network allows; timm models
use the Hugging Face cache (``$HF_HOME/hub``). ``weights=PATH`` loads a local ``state_dict`` file
instead (torchvision's ImageNet files as published, or a fine-tuned K-class checkpoint): every
tensor must match except the classifier head, which is kept freshly initialised when its shape
differs.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import huggingface_hub
import timm
import torch
import torchvision
from torch import nn

from lmf.classification.resnet_cifar import NormedLinear, resnet32
from lmf.core.errors import ConfigError, DataError, unknown_choice
from lmf.core.registry import Registry
from lmf.core.validation import check_choice
from lmf.core.weights import missing_weights, weights_cache_file

#: ``head`` choices (see the module docstring).
HEADS = ("linear", "normed")
TIMM_PREFIX = "timm:"


def densenet_small(num_classes: int) -> nn.Module:
    """A small DenseNet-BC (torchvision's ``DenseNet``: growth rate 16, dense blocks of 2/4/8/6
    layers, 32 initial features; 0.34 M parameters): the cpu profile's stand-in for DenseNet-121,
    whose 6/12/24/16 blocks at growth 32 train 3× slower per step on a CPU than the other two
    stand-ins. Same family, so Grad-CAM and feature reading find the same layers."""
    return torchvision.models.DenseNet(growth_rate=16, block_config=(2, 4, 8, 6),
                                       num_init_features=32, num_classes=num_classes)


#: Architectures built here, from scratch: name -> (constructor of K classes, classifier name,
#: what it is).
SCRATCH_ARCHITECTURES = {
    "resnet32_cifar": (resnet32, "linear",
                       "CIFAR ResNet-32 of the long-tailed CIFAR protocol (lmf.classification.resnet_cifar)"),
    "densenet_small": (densenet_small, "classifier",
                       "small DenseNet-BC, the cpu profile's stand-in for DenseNet-121"),
}


@dataclass(frozen=True)
class Preset:
    """One of the paper's architectures as torchvision builds it.

    Attributes:
        builder: torchvision constructor name.
        family: the torchvision model class the constructor returns.
        weights: the ImageNet weights the paper used (``torchvision.models.<enum>.<member>``).
        head: dotted name of the final ``Linear`` that is replaced by ``Linear(in, K)``.
        cam_layer: dotted name of the last convolutional block (Grad-CAM's layer).
    """

    builder: str
    family: type[nn.Module]
    weights: str
    head: str
    cam_layer: str


#: The paper's three models (ids as in Tables 2-6).
ARCHITECTURES: dict[str, Preset] = {
    "efficientnetv2_s": Preset(
        "efficientnet_v2_s",
        torchvision.models.EfficientNet,
        "EfficientNet_V2_S_Weights.IMAGENET1K_V1",
        "classifier.1",
        "features.7",
    ),
    "resnet50": Preset(
        "resnet50", torchvision.models.ResNet, "ResNet50_Weights.IMAGENET1K_V2", "fc", "layer4"
    ),
    "densenet121": Preset(
        "densenet121",
        torchvision.models.DenseNet,
        "DenseNet121_Weights.IMAGENET1K_V1",
        "classifier",
        "features.norm5",
    ),
}


def _build_preset(preset: Preset, num_classes: int, *, pretrained: bool) -> nn.Module:
    builder = getattr(torchvision.models, preset.builder)
    weight_enum = _weight_enum(preset) if pretrained else None
    try:
        # torchvision's own loading: the cached file (hash checked on download only), with the
        # key renaming its older checkpoints need (DenseNet's).
        model = builder(weights=weight_enum, progress=False)
    except Exception as error:  # noqa: BLE001 - any download/cache failure means the same
        if weight_enum is None:
            raise
        raise missing_weights(
            weight_enum, preset.builder, error,
            "pass --weights PATH (weights=PATH) with a local copy of that file, or train from "
            "random initialisation with --no-pretrained (pretrained=False)") from error
    _replace_head(model, preset.head, num_classes)
    return model


def _build_scratch(constructor, num_classes: int, *, pretrained: bool) -> nn.Module:
    if pretrained:
        raise ConfigError("it has no pretrained weights; train it from random initialisation "
                          "with --no-pretrained (pretrained=False)")
    return constructor(num_classes)


def _named_models() -> Registry:
    """The registry of the named architectures, the presets first: ``builder(num_classes, *,
    pretrained)``, each entry's ``info`` the dotted name of its classifier (which
    ``head="normed"`` replaces)."""
    registry = Registry("model")
    for name, preset in ARCHITECTURES.items():
        registry.register(name, partial(_build_preset, preset), defaults={"pretrained": False},
                          doc=f"torchvision {preset.builder}, the paper's {preset.weights}",
                          info=preset.head)
    for name, (constructor, classifier, doc) in SCRATCH_ARCHITECTURES.items():
        registry.register(name, partial(_build_scratch, constructor),
                          defaults={"pretrained": False}, doc=doc, info=classifier)
    return registry


#: Every architecture ``build_model`` knows by name. ``timm:<name>`` is not an entry but
#: ``build_model``'s fallback for any timm model: timm's own list is its registry.
MODEL_REGISTRY = _named_models()


def build_model(
    arch: str, num_classes: int, pretrained: bool = False, weights: str | Path | None = None,
    head: str = "linear",
) -> nn.Module:
    """A classifier for ``num_classes`` classes.

    Args:
        arch: a name of ``MODEL_REGISTRY`` (the keys of ``ARCHITECTURES`` and
            ``SCRATCH_ARCHITECTURES``), or ``"timm:<name>"`` for any timm model (the fallback
            for names the registry does not hold).
        num_classes: K, the output size of the new head.
        pretrained: start from ImageNet weights (cache or download).
        weights: path of a local ``state_dict`` file; overrides ``pretrained``.
        head: ``"linear"`` or ``"normed"`` (cosine logits, see the module docstring).
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    check_arch(arch)
    check_choice("head", head, HEADS)
    download = pretrained and weights is None
    if arch.startswith(TIMM_PREFIX):
        model = _build_timm(arch[len(TIMM_PREFIX):], num_classes, download)
        classifier = model.pretrained_cfg["classifier"]
    else:
        model = MODEL_REGISTRY.build(arch, num_classes, pretrained=download)
        classifier = MODEL_REGISTRY.entry(arch).info
    if head == "normed":
        _replace_head(model, classifier, num_classes, normed=True)
    if weights is not None:
        _load_local_weights(model, Path(weights))
    return model


def check_arch(arch: str) -> None:
    """Raise a ConfigError unless ``arch`` names a preset or an existing timm model."""
    if not isinstance(arch, str):
        raise ConfigError(f"model must be a name, got {arch!r}")
    if arch.startswith(TIMM_PREFIX):
        name = arch[len(TIMM_PREFIX):]
        if not timm.is_model(name):
            close = difflib.get_close_matches(name, timm.list_models(), n=5)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise ConfigError(
                f"unknown timm model {name!r}{hint} (timm.list_models() lists all names)"
            )
    elif arch not in ARCHITECTURES and arch not in SCRATCH_ARCHITECTURES:
        raise unknown_choice("model", arch, [*ARCHITECTURES, *SCRATCH_ARCHITECTURES,
                                             "timm:<any timm model name>"])


def weights_cached(arch: str) -> bool:
    """Whether ``build_model(arch, pretrained=True)`` finds the ImageNet weights on this machine
    without a download: torchvision's cache for the presets, the Hugging Face cache for timm."""
    check_arch(arch)
    if arch in SCRATCH_ARCHITECTURES:
        return False
    if not arch.startswith(TIMM_PREFIX):
        return weights_cache_file(_weight_enum(ARCHITECTURES[arch])).is_file()
    config = timm.models.get_pretrained_cfg(arch[len(TIMM_PREFIX):])
    repo = getattr(config, "hf_hub_id", None)
    return bool(repo) and any(
        isinstance(huggingface_hub.try_to_load_from_cache(repo, name), str)
        for name in ("model.safetensors", "pytorch_model.bin")
    )


def classifier_head(model: nn.Module) -> nn.Module:
    """The module that turns the penultimate features into logits: the preset's replaced head,
    timm's ``get_classifier()``, else the model's last ``nn.Linear`` (or cosine ``NormedLinear``
    of ``head="normed"``). Its *input* is the feature
    vector of an image (after global pooling; dropout before the head is the identity in eval
    mode)."""
    for preset in ARCHITECTURES.values():
        if isinstance(model, preset.family):
            return model.get_submodule(preset.head)
    if hasattr(model, "get_classifier"):
        head = model.get_classifier()
        if isinstance(head, nn.Module) and not isinstance(head, nn.Identity):
            return head
    linears = [module for module in model.modules()
               if isinstance(module, nn.Linear | NormedLinear)]
    if not linears:
        raise ConfigError(f"{type(model).__name__} has no linear classifier head to read "
                          "features from")
    return linears[-1]


def cam_target_layer(model: nn.Module) -> nn.Module:
    """The layer Grad-CAM should hook: the model's last convolutional block.

    The paper names no layer (Fig 3). For the presets it is ``features[-1]`` (EfficientNetV2-S),
    ``layer4`` (ResNet50) and ``features.norm5`` (DenseNet121). For timm models it is the deepest
    entry of ``model.feature_info`` (timm's own record of where each stage ends). Otherwise it is
    the outermost module that last produces a 4-D feature map with spatial size > 1 in a forward
    pass on a dummy image, i.e. the last feature map before global pooling.
    """
    for preset in ARCHITECTURES.values():
        if isinstance(model, preset.family):
            return model.get_submodule(preset.cam_layer)
    feature_info = getattr(model, "feature_info", None)
    if feature_info:
        last = feature_info[-1]
        name = last["module"] if isinstance(last, dict) else feature_info.module_name(-1)
        return model.get_submodule(name)
    return _last_spatial_module(model)


def _weight_enum(preset: Preset):
    return torchvision.models.get_weight(preset.weights)


def _replace_head(model: nn.Module, head_name: str, num_classes: int,
                  normed: bool = False) -> None:
    """The ``Linear`` called ``head_name`` replaced by a fresh ``Linear(in, K)`` (or
    ``NormedLinear(in, K)`` when ``normed``)."""
    parent_name, _, child = head_name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    old = getattr(parent, child) if not child.isdigit() else parent[int(child)]
    if not isinstance(old, nn.Linear):
        raise ConfigError(f"the classifier {head_name!r} of {type(model).__name__} is a "
                          f"{type(old).__name__}, not a Linear layer; head='normed' needs one")
    new = (NormedLinear if normed else nn.Linear)(old.in_features, num_classes)
    if child.isdigit():
        parent[int(child)] = new
    else:
        setattr(parent, child, new)


def _build_timm(name: str, num_classes: int, pretrained: bool) -> nn.Module:
    try:
        return timm.create_model(name, pretrained=pretrained, num_classes=num_classes)
    except Exception as error:  # noqa: BLE001 - any download/cache failure means the same
        if not pretrained:
            raise
        raise DataError(
            f"cannot load the pretrained weights of timm model {name!r} ({error}); put them in "
            "the Hugging Face cache ($HF_HOME/hub, default ~/.cache/huggingface/hub, e.g. with "
            "`huggingface-cli download timm/<name>` on a machine with network), or pass "
            "--weights PATH (weights=PATH) with a local state_dict file, or train from random "
            "initialisation with --no-pretrained (pretrained=False)"
        ) from error


def check_weights_file(path: str | Path) -> Path:
    """``path`` as a Path; a DataError unless it names an existing file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"weights file {path} does not exist; pass the path of a state_dict file")
    return path


def _load_local_weights(model: nn.Module, path: Path) -> None:
    """Load a state_dict file; a head of another shape (e.g. ImageNet's 1000 classes) is skipped.

    DenseNet files with torchvision's old key names (its published ImageNet checkpoint) are
    renamed first (:func:`_current_densenet_keys`).
    """
    check_weights_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file means the same
        raise DataError(f"cannot read weights file {path}: {error}") from error
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise DataError(
            f"weights file {path} holds a {type(state).__name__}, not a state_dict; save it with "
            "torch.save(model.state_dict(), path)"
        )
    state = _current_densenet_keys(state)
    own = model.state_dict()
    skipped = {k for k, v in state.items() if k in own and own[k].shape != v.shape}
    head = _head_parameter_names(model)
    if skipped - head:
        raise DataError(
            f"weights file {path} does not fit this model: shapes differ for "
            f"{', '.join(sorted(skipped - head)[:5])}"
        )
    missing, unexpected = model.load_state_dict(
        {k: v for k, v in state.items() if k not in skipped}, strict=False
    )
    if set(missing) - skipped or unexpected:
        raise DataError(
            f"weights file {path} does not fit this model: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )


#: A DenseNet layer key in torchvision's old naming, ``denselayer<i>.norm.1.weight`` (and
#: ``relu``/``conv``, ``.1``/``.2``), the pattern of ``torchvision/models/densenet.py``
#: (``_load_state_dict``, where it is local to the function and so cannot be imported).
_OLD_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def _current_densenet_keys(state: dict) -> dict:
    """``state`` with DenseNet's old layer keys renamed as torchvision renames them.

    Module names may no longer contain dots, so ``denselayer<i>.norm.1.weight`` became
    ``denselayer<i>.norm1.weight`` (group 1 + group 2 of :data:`_OLD_DENSENET_KEY`); torchvision's
    published ``densenet121-a639ec97.pth`` still uses the old names. Other keys are kept as they
    are, in order.
    """
    return {_OLD_DENSENET_KEY.sub(r"\1\2", key): value for key, value in state.items()}


def _head_parameter_names(model: nn.Module) -> set[str]:
    """Names of the parameters of the classifier head (``classifier_head``)."""
    head = classifier_head(model)
    name = next(name for name, module in model.named_modules() if module is head)
    return {f"{name}.{parameter}" for parameter, _ in head.named_parameters()}


def _last_spatial_module(model: nn.Module, size: int = 128) -> nn.Module:
    finished: list[nn.Module] = []

    def record(module, _inputs, output):
        if isinstance(output, torch.Tensor) and output.ndim == 4 and min(output.shape[2:]) > 1:
            finished.append(module)

    hooks = [m.register_forward_hook(record) for _, m in model.named_modules() if m is not model]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, 3, size, size, device=device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    if not finished:
        raise ConfigError(
            f"{type(model).__name__} produces no 4-D feature map; pass the Grad-CAM layer explicitly"
        )
    return finished[-1]
