"""The attention at the skip connections of an attention U-Net, and the variants Cui et al. compare.

Cui et al. 2024 (IEEE Access, "A Unified Approach Addressing Class Imbalance in Magnetic
Resonance Image for Deep Learning Models", Sec. III-B, Eq. 1, Fig. 2) describe their selective
attention suppression (SAS) as the additive attention gate of Oktay et al. 2018 ("Attention
U-Net: Learning Where to Look for the Pancreas", MIDL): for skip features ``x`` and a gating
signal ``g`` from the coarser scale (brought to the resolution of ``x``),

    a = σ₂(ψᵀ σ₁(W_xᵀ x + W_gᵀ g + b_g) + b_ψ),      x̂ = a · x,

with 1×1 convolutions ``W_x``, ``W_g``, ``ψ``, σ₁ = ReLU and σ₂ = sigmoid: one coefficient
``a ∈ (0, 1)`` per pixel that suppresses the background of the skip features. MONAI's
``AttentionUnet`` implements exactly this gate (``monai.networks.nets.attentionunet.
AttentionBlock``, called as ``AttentionLayer.attention(g=..., x=...)`` before the merge), so SAS
is MONAI's model as it stands.

Cui's Table 5 compares SAS with spatial, channel and hybrid attention. Here they take the gate's
place in the same network, so only the attention differs:

* ``"spatial"``: spatial squeeze & excitation (sSE), ``x · σ(conv₁ₓ₁(x))`` per pixel;
* ``"channel"``: channel squeeze & excitation (cSE, Hu et al. 2018), ``x · σ(W₂ δ(W₁ avg(x)))``
  per channel;
* ``"scse"``: both, summed, ``x · cSE(x) + x · sSE(x)`` (Roy et al. 2018, "Concurrent Spatial
  and Channel Squeeze & Excitation in Fully Convolutional Networks", MICCAI) — the "hybrid";
* ``"none"``: the skip features pass through unchanged, leaving a plain U-Net with the same
  encoder, decoder and merges (the ablation without SAS).

The squeeze & excitation branches are segmentation-models-pytorch's ``SCSEModule`` (its ``cSE``
and ``sSE`` branches for the single ones). Unlike SAS, none of them looks at the gating signal.
"""

from __future__ import annotations

import torch
from monai.networks.nets.attentionunet import AttentionBlock, AttentionLayer
from segmentation_models_pytorch.base.modules import SCSEModule
from torch import nn

from lmf.core.errors import ConfigError

#: The attention at the skip connections, ``"sas"`` being the additive gate of Oktay et al.
SKIP_ATTENTIONS = ("none", "spatial", "channel", "scse", "sas")

#: smp's default squeeze ratio of the channel branch (``SCSEModule(reduction=16)``).
SQUEEZE_REDUCTION = 16


class SkipAttention(nn.Module):
    """Takes the place of MONAI's ``AttentionBlock``: ``forward(g, x)`` returns ``x`` reweighted
    by ``recalibration(x)`` alone; the gating signal ``g`` is accepted and ignored."""

    def __init__(self, recalibration: nn.Module):
        super().__init__()
        self.recalibration = recalibration

    def forward(self, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.recalibration(x)


class Excitation(nn.Module):
    """``x · branch(x)``: one squeeze & excitation branch (smp's ``cSE`` or ``sSE``) applied."""

    def __init__(self, branch: nn.Module):
        super().__init__()
        self.branch = branch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.branch(x)


def squeeze_excitation(kind: str, channels: int) -> nn.Module:
    """The recalibration of ``channels``-channel features for ``kind`` in none, spatial, channel,
    scse.

    The channel branch squeezes to ``channels // r`` units with smp's ``r = 16``, lowered to
    ``channels // 2`` for narrow features so that at least two units remain (the small CPU
    models have skip connections of 8 channels).
    """
    if kind == "none":
        return nn.Identity()
    scse = SCSEModule(channels, reduction=max(1, min(SQUEEZE_REDUCTION, channels // 2)))
    if kind == "scse":
        return scse
    if kind == "spatial":
        return Excitation(scse.sSE)
    if kind == "channel":
        return Excitation(scse.cSE)
    raise ConfigError(f"no squeeze & excitation for attention {kind!r}; valid: none, spatial, "
                      "channel, scse")


def set_skip_attention(model: nn.Module, kind: str) -> nn.Module:
    """``model`` (a MONAI ``AttentionUnet``) with every attention gate replaced for ``kind``.

    ``"sas"`` keeps MONAI's ``AttentionBlock``; the other kinds replace each one by a
    :class:`SkipAttention` over the gate's skip features. Returns the same model, changed in place.
    """
    if kind not in SKIP_ATTENTIONS:
        raise ConfigError(f"unknown skip attention {kind!r}; valid: {', '.join(SKIP_ATTENTIONS)}")
    layers = [module for module in model.modules() if isinstance(module, AttentionLayer)]
    if not layers:
        raise ConfigError(f"{type(model).__name__} has no MONAI attention gates to replace")
    if kind == "sas":
        return model
    for layer in layers:
        gate: AttentionBlock = layer.attention
        channels = gate.W_x[0].in_channels  # the skip features' width
        layer.attention = SkipAttention(squeeze_excitation(kind, channels))
    return model
