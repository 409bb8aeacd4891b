"""Grad-CAM maps through M3d-CAM (``medcam``), the library the LMF paper used for its Fig 3.

Grad-CAM (Selvaraju et al., 2017) weighs the feature maps ``A^k`` of a convolutional layer by the
spatial mean of the gradient of the class score ``y^c``,

    α_k^c = mean_{i,j} ∂y^c / ∂A^k_{ij},        L^c = ReLU(Σ_k α_k^c A^k),

and medcam then scales each map to [0, 1] (min-max per sample) and upsamples it bilinearly to the
input resolution. Grad-CAM++ (Chattopadhay et al., 2018; backend ``gcampp``) replaces the mean by
a weighted sum of positive gradients; Guided Grad-CAM (backend ``ggcam``) multiplies the Grad-CAM
map by guided back-propagation, giving a fine-grained map that is not a localisation heat map
(its min-max scaling puts "no evidence" near the middle of [0, 1], not at 0).

Sadi et al. (LMF paper, Fig 3) used medcam's ``gcam`` backend and do not name the layer; the
default here is ``lmf.classification.models.cam_target_layer`` (the last convolutional block).

How medcam is driven, and why (medcam 0.1.22, read from its source):

* ``medcam.inject`` makes a *shallow* copy of the model and puts it in eval mode, which would put
  the caller's sub-modules in eval mode too; it is therefore given a deep copy.
* With a batch of more than one image medcam needs an explicit label. The label is passed as a
  callable returning the one-hot mask of each sample's class, so a whole batch is backwarded at
  once and every sample gets the map of its own class (``gcam``).
* ``gcampp`` and ``ggcam`` handle only one image per backward pass correctly (``gcampp`` treats a
  (B, K) label mask as a segmentation output; ``ggcam`` normalises the whole batch with the first
  sample's minimum), so they run image by image.
* ``ggcam`` works with every model here, but medcam's guided back-propagation rectifies gradients
  only at ``nn.ReLU`` modules: for EfficientNetV2-S and the timm EfficientNets (SiLU) and at
  functional ReLUs (DenseNet's last one) the gradient passes unguided, so there ``ggcam`` is
  Grad-CAM times the plain input gradient. medcam's ``gbp`` (no layer, not a class map) is not
  offered.
* For torchvision's DenseNet121 the layer ``features.norm5`` is rectified in place by the model's
  forward; the feature maps are then the rectified ones (those the classifier sees), and the
  gradient is the one at the layer's output.
* medcam divides by ``max - min`` per sample; a sample whose map is zero everywhere (no positive
  evidence at that layer) would become NaN and is returned as zeros.
"""

from __future__ import annotations

import copy
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from lmf.core.errors import ConfigError, unknown_choice

#: medcam backends this function supports, and how many images each can take per backward pass.
BACKENDS = {"gcam": None, "gcampp": 1, "ggcam": 1}


def gradcam(model: nn.Module, images: torch.Tensor, labels=None, layer=None,
            backend: str = "gcam") -> torch.Tensor:
    """Grad-CAM maps of ``images`` for ``labels`` (or the predicted classes).

    Args:
        model: a classifier returning logits (B, K); left untouched (a deep copy is used).
        images: float tensor (B, C, H, W), preprocessed as the model expects.
        labels: class index per image (sequence or tensor of length B), one int for all images,
            or None for each image's predicted class.
        layer: the layer to explain (a sub-module of ``model`` or its dotted name); default
            ``lmf.classification.models.cam_target_layer(model)``, or, when that layer's feature map is 1×1 at
            this input size (the cpu profile's 32 px images), the last earlier stage beside it
            whose feature map is larger (a 1×1 map gives a constant, empty Grad-CAM).
        backend: ``"gcam"`` (Grad-CAM, the paper's), ``"gcampp"`` (Grad-CAM++) or ``"ggcam"``
            (Guided Grad-CAM).

    Returns:
        float32 CPU tensor (B, 1, H, W) with values in [0, 1], at the input resolution.
    """
    from medcam import medcam  # imported here: medcam pulls in cv2 and nibabel

    if backend not in BACKENDS:
        raise unknown_choice("Grad-CAM backend", backend, BACKENDS)
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ConfigError(f"gradcam needs images as a (B, C, H, W) tensor, got {shape}")
    work = copy.deepcopy(model).eval()
    device = next(work.parameters()).device
    images = images.detach().to(device=device, dtype=torch.float32)
    logits, spatial = _trial_forward(work, images)
    layer_name = _layer_name(model, work, layer, spatial)
    targets = _targets(logits, labels)
    num_classes = logits.shape[1]
    if int(targets.max()) >= num_classes:
        raise ConfigError(f"label {int(targets.max())} is out of range for a model with "
                          f"{num_classes} classes")

    chunk = BACKENDS[backend] or len(images)
    maps = []
    for start in range(0, len(images), chunk):
        batch, batch_targets = images[start:start + chunk], targets[start:start + chunk]
        one_hot = F.one_hot(batch_targets, num_classes).float()
        injected = medcam.inject(work, backend=backend, layer=layer_name,
                                 label=lambda logits, mask=one_hot: mask, return_attention=True)
        # An explicit layer needs no trial pass (it only lists usable layers for 'auto'/'full').
        injected.medcam_dict["tested"] = True
        with warnings.catch_warnings():
            # ggcam's guided back-propagation uses module backward hooks, which PyTorch flags.
            warnings.filterwarnings("ignore", message=".*non-full backward hook.*")
            _, attention = injected(batch.clone())
        maps.append(attention.detach().float().cpu())
    return torch.nan_to_num(torch.cat(maps), nan=0.0).clamp_(0.0, 1.0)


def _trial_forward(model: nn.Module, images: torch.Tensor):
    """Logits of ``images`` and the spatial size of every 4-D module output, in the order the
    modules finish (a module called twice counts where it finished last)."""
    spatial: dict[str, tuple[int, int]] = {}

    def record(name):
        def hook(_module, _inputs, output):
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                spatial.pop(name, None)
                spatial[name] = tuple(output.shape[2:])
        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules() if n]
    try:
        with torch.no_grad():
            logits = model(images)
    finally:
        for handle in handles:
            handle.remove()
    return logits, spatial


def _layer_name(model: nn.Module, work: nn.Module, layer, spatial: dict) -> str:
    """The dotted name of ``layer`` (a sub-module of ``model`` or a name).

    Default: ``cam_target_layer``; when its map is 1×1 at this input size (a constant Grad-CAM),
    the last module beside it (same parent, e.g. ``layer3`` for ``layer4``) whose map is
    larger, else the last module whose map is larger.
    """
    if layer is None:
        from lmf.classification.models import cam_target_layer

        target = cam_target_layer(work)
        name = next(n for n, m in work.named_modules() if m is target)
        if min(spatial.get(name, (2, 2))) > 1:
            return name
        larger = [n for n, size in spatial.items() if min(size) > 1]
        # an earlier stage beside the target (layer3 before layer4) beats a module inside a block
        parent = name.rpartition(".")[0]
        siblings = [f"{parent}.{n}" if parent else n
                    for n, _ in work.get_submodule(parent).named_children()]
        larger = [n for n in siblings if n in larger] or larger
        if not larger:
            raise ConfigError(f"every feature map of {type(model).__name__} is 1×1 at this "
                              "image size, so Grad-CAM is constant; use larger images")
        return larger[-1]
    names = {module: name for name, module in model.named_modules()}
    if isinstance(layer, str):
        if layer not in names.values() or layer == "":
            deepest = ", ".join(n for n in list(names.values())[-5:] if n)
            raise ConfigError(f"{type(model).__name__} has no layer {layer!r}; give a name "
                              f"from model.named_modules() (the last ones: {deepest})")
        return layer
    if layer not in names or names[layer] == "":
        raise ConfigError(f"the Grad-CAM layer {type(layer).__name__} is not a sub-module of "
                          "the model; pass one of model.named_modules() or its name")
    return names[layer]


def _targets(logits: torch.Tensor, labels) -> torch.Tensor:
    """Class index per image: ``labels`` broadcast to the batch, or the predicted classes."""
    if labels is None:
        return logits.argmax(dim=1)
    targets = torch.as_tensor(labels, dtype=torch.long, device=logits.device).reshape(-1)
    if targets.numel() == 1:
        targets = targets.expand(len(logits))
    if targets.numel() != len(logits):
        raise ConfigError(f"gradcam got {targets.numel()} labels for {len(logits)} images; "
                          "give one label per image, one label for all, or None")
    if int(targets.min()) < 0:
        raise ConfigError(f"labels must be class indices >= 0, got {int(targets.min())}")
    return targets
