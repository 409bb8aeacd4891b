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
default here is ``lmf.models.cam_target_layer`` (the last convolutional block).

How medcam is driven, and why (medcam 0.1.22, read from its source):

* ``medcam.inject`` makes a *shallow* copy of the model and puts it in eval mode, which would put
  the caller's sub-modules in eval mode too; it is therefore given a deep copy.
* With a batch of more than one image medcam needs an explicit label. The label is passed as a
  callable returning the one-hot mask of each sample's class, so a whole batch is backwarded at
  once and every sample gets the map of its own class (``gcam``).
* ``gcampp`` and ``ggcam`` handle only one image per backward pass correctly (``gcampp`` treats a
  (B, K) label mask as a segmentation output; ``ggcam`` normalises the whole batch with the first
  sample's minimum), so they run image by image.
* medcam divides by ``max - min`` per sample; a sample whose map is zero everywhere (no positive
  evidence at that layer) would become NaN and is returned as zeros.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from lmf.errors import ConfigError, unknown_choice

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
            ``lmf.models.cam_target_layer(model)``.
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
    layer_name = _layer_name(model, layer)
    work = copy.deepcopy(model).eval()
    device = next(work.parameters()).device
    images = images.detach().to(device=device, dtype=torch.float32)
    targets = _targets(work, images, labels)
    num_classes = _num_classes(work, images[:1])
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
        _, attention = injected(batch.clone())
        maps.append(attention.detach().float().cpu())
    return torch.nan_to_num(torch.cat(maps), nan=0.0).clamp_(0.0, 1.0)


def _layer_name(model: nn.Module, layer) -> str:
    """The dotted name of ``layer`` inside ``model`` (default: ``cam_target_layer``)."""
    names = {module: name for name, module in model.named_modules()}
    if layer is None:
        from lmf.models import cam_target_layer

        layer = cam_target_layer(model)
    if isinstance(layer, str):
        if layer not in names.values() or layer == "":
            raise unknown_choice("layer", layer, [n for n in names.values() if n][-20:])
        return layer
    if layer not in names or names[layer] == "":
        raise ConfigError(f"the Grad-CAM layer {type(layer).__name__} is not a sub-module of "
                          "the model; pass one of model.named_modules() or its name")
    return names[layer]


def _num_classes(model: nn.Module, image: torch.Tensor) -> int:
    with torch.no_grad():
        return int(model(image).shape[1])


def _targets(model: nn.Module, images: torch.Tensor, labels) -> torch.Tensor:
    """Class index per image: ``labels`` broadcast to the batch, or the model's predictions."""
    if labels is None:
        with torch.no_grad():
            return model(images).argmax(dim=1)
    targets = torch.as_tensor(labels, dtype=torch.long, device=images.device).reshape(-1)
    if targets.numel() == 1:
        targets = targets.expand(len(images))
    if targets.numel() != len(images):
        raise ConfigError(f"gradcam got {targets.numel()} labels for {len(images)} images; "
                          "give one label per image, one label for all, or None")
    if int(targets.min()) < 0:
        raise ConfigError(f"labels must be class indices >= 0, got {int(targets.min())}")
    return targets
