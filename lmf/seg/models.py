"""The segmentation networks of Cui et al. (seed 003): UNet, FCN, SegNet and DeepLab-V3.

Cui et al. 2024 (IEEE Access, "A Unified Approach Addressing Class Imbalance in Magnetic
Resonance Image for Deep Learning Models", Tables 1-5) embed their approach in UNet, FCN, RCNN,
SegNet and DeepLab-V3; the four pixel-wise segmenters are built here from the field's libraries
(RCNN, an instance detector, is left out):

========================  =====================================================================
name                      network
========================  =====================================================================
``unet``                  segmentation-models-pytorch ``Unet`` on a ResNet-34 encoder
``attention_unet``        MONAI ``AttentionUnet`` (channels 32-512, four stride-2 stages)
``fcn``                   torchvision ``fcn_resnet50`` (no auxiliary head)
``deeplabv3``             torchvision ``deeplabv3_resnet50`` (no auxiliary head)
``segnet``                :class:`lmf.seg.segnet.SegNet`, VGG16-bn layout (no library has it)
``*_small``               the same families at CPU scale (module constants below)
========================  =====================================================================

The table is :data:`SEG_MODEL_REGISTRY` (an :class:`lmf.core.registry.Registry`); ``lmf list
seg-models`` prints it.

Attention (``attention=``): ``attention_unet`` and ``attention_unet_small`` take all of
``ATTENTIONS`` at their skip connections (:mod:`lmf.seg.attention`): ``"sas"`` is MONAI's
additive attention gate, which is Cui's selective attention suppression, ``"none"`` the same
network with the gates removed, ``"spatial"``/``"channel"``/``"scse"`` squeeze & excitation in
their place (Cui's Table 5). ``unet`` and ``unet_small`` take ``"scse"`` through smp's own
``decoder_attention_type``. The other models take ``"none"`` only. ``"none"`` means no attention
for every model, so ``attention_unet`` with the default ``"none"`` is the plain U-Net twin.

Weights: ``pretrained=True`` starts ``unet``, ``fcn`` and ``deeplabv3`` from ImageNet encoder
weights (:func:`has_pretrained`), loaded as each library loads them: torchvision's
``ResNet50_Weights.IMAGENET1K_V1`` from ``$TORCH_HOME/hub/checkpoints/resnet50-0676ba61.pth``,
smp's ``smp-hub/resnet34.imagenet`` from the Hugging Face cache, downloading when the network
allows. The small, MONAI and SegNet models have no ImageNet weights and train from scratch;
``pretrained=True`` for them is a ConfigError.

Every model's ``forward(x)`` returns the logits ``(B, K, H, W)`` at the input's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import segmentation_models_pytorch as smp
import timm
import torch
import torchvision
from huggingface_hub import constants as hub_constants
from monai.networks.nets import AttentionUnet
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3
from torchvision.models.segmentation.fcn import FCN, FCNHead

from lmf.core.atrous import portable_dilated_convs
from lmf.core.errors import ConfigError, DataError, unknown_choice
from lmf.core.registry import Registry
from lmf.core.weights import missing_weights
from lmf.seg.attention import SKIP_ATTENTIONS, set_skip_attention
from lmf.seg.segnet import VGG16_CONVS, VGG16_WIDTHS, SegNet

ATTENTIONS = SKIP_ATTENTIONS

#: smp ``Unet``: encoder, depth (stride-2 stages) and decoder widths, paper and CPU scale.
UNET_ENCODER, UNET_DEPTH, UNET_DECODER = "resnet34", 5, (256, 128, 64, 32, 16)
UNET_SMALL_ENCODER, UNET_SMALL_DEPTH, UNET_SMALL_DECODER = "tu-resnet10t", 3, (32, 16, 16)
#: MONAI ``AttentionUnet``: channels per level and the strides between levels.
ATTENTION_UNET_CHANNELS, ATTENTION_UNET_STRIDES = (32, 64, 128, 256, 512), (2, 2, 2, 2)
ATTENTION_UNET_SMALL_CHANNELS, ATTENTION_UNET_SMALL_STRIDES = (8, 16, 32, 64), (2, 2, 2)
#: SegNet at CPU scale: three stages of two convolutions.
SEGNET_SMALL_WIDTHS, SEGNET_SMALL_CONVS = (16, 32, 64), (2, 2, 2)
#: The dilated backbone of ``fcn_small`` and ``deeplabv3_small``: timm's ResNet-10-T at half
#: width (stages of 32, 64, 128, 256 channels, stem 16), output stride 8 as torchvision's
#: ResNet-50 backbones; ASPP width and atrous rates of ``deeplabv3_small``.
SMALL_BACKBONE = "resnet10t"
SMALL_BACKBONE_CHANNELS, SMALL_BACKBONE_STEM = (32, 64, 128, 256), 16
SMALL_OUTPUT_STRIDE = 8
SMALL_ASPP_CHANNELS, SMALL_ATROUS_RATES = 64, (1, 2, 3)

#: torchvision's ImageNet weights of the ResNet-50 backbone of ``fcn`` and ``deeplabv3``.
TORCHVISION_BACKBONE_WEIGHTS = "ResNet50_Weights.IMAGENET1K_V1"


@dataclass(frozen=True)
class SegModelSpec:
    """What one named network accepts, the ``info`` of its :data:`SEG_MODEL_REGISTRY` entry.

    Attributes:
        family: the paper's model name for tables ("UNet", "FCN", "SegNet", "DeepLab-V3").
        attentions: the values of ``attention`` it takes.
        size_multiple: input sides must be multiples of this.
        pretrained: whether ImageNet weights exist for it.
    """

    family: str
    attentions: tuple[str, ...]
    size_multiple: int
    pretrained: bool


class TorchvisionLogits(nn.Module):
    """A torchvision segmentation model whose ``forward`` returns ``model(x)["out"]``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["out"]


class DeepestFeatures(nn.Module):
    """A timm ``features_only`` model as a torchvision segmentation backbone: ``{"out": the
    deepest feature map}``."""

    def __init__(self, features: nn.Module):
        super().__init__()
        self.features = features
        self.out_channels = features.feature_info.channels()[-1]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"out": self.features(x)[-1]}


def _smp_unet(num_classes, in_channels, attention, pretrained, *, encoder, depth, decoder):
    weights = "imagenet" if pretrained else None
    try:
        return smp.Unet(encoder_name=encoder, encoder_depth=depth, encoder_weights=weights,
                        decoder_channels=decoder, in_channels=in_channels, classes=num_classes,
                        decoder_attention_type="scse" if attention == "scse" else None)
    except Exception as error:  # noqa: BLE001 - any download/cache failure means the same
        if not pretrained:
            raise
        raise _smp_weights_error(encoder, error) from error


def _smp_weights_error(encoder: str, error: Exception) -> DataError:
    settings = smp.encoders.encoders[encoder]["pretrained_settings"]["imagenet"]
    repo, revision = settings["repo_id"], settings["revision"]
    return DataError(
        f"cannot load the ImageNet weights of the {encoder} encoder ({error}); put "
        f"model.safetensors and config.json of the Hugging Face repository {repo} (revision "
        f"{revision}) in the Hugging Face cache {hub_constants.HF_HUB_CACHE} ($HF_HOME/hub), e.g. "
        f"with `huggingface-cli download {repo} --revision {revision}` on a machine with network "
        "and copying the cache folder, or train from random initialisation (pretrained=False)"
    )


def _attention_unet(num_classes, in_channels, attention, pretrained, *, channels, strides):
    model = AttentionUnet(spatial_dims=2, in_channels=in_channels, out_channels=num_classes,
                          channels=channels, strides=strides)
    return set_skip_attention(model, attention)


def _torchvision(num_classes, in_channels, attention, pretrained, *, builder):
    weights = torchvision.models.get_weight(TORCHVISION_BACKBONE_WEIGHTS) if pretrained else None
    try:
        model = getattr(torchvision.models.segmentation, builder)(
            weights=None, weights_backbone=weights, num_classes=num_classes, aux_loss=False,
            progress=False)
    except Exception as error:  # noqa: BLE001 - any download/cache failure means the same
        if weights is None:
            raise
        raise missing_weights(weights, f"the ResNet-50 backbone of {builder}", error,
                              "train from random initialisation (pretrained=False)") from error
    if in_channels != 3:
        _set_input_channels(model.backbone, in_channels)
    return TorchvisionLogits(model)


def _set_input_channels(backbone: nn.Module, in_channels: int) -> None:
    """The first convolution of a torchvision ResNet for ``in_channels`` channels, its RGB
    weights adapted by timm's ``adapt_input_conv`` (summed for one channel, tiled and rescaled
    for more), as smp and timm adapt their encoders."""
    old = backbone.conv1
    new = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride, old.padding,
                    bias=False)
    with torch.no_grad():
        new.weight.copy_(timm.models.adapt_input_conv(in_channels, old.weight))
    backbone.conv1 = new


def _small_backbone(in_channels: int) -> DeepestFeatures:
    return DeepestFeatures(timm.create_model(
        SMALL_BACKBONE, features_only=True, output_stride=SMALL_OUTPUT_STRIDE,
        in_chans=in_channels, channels=SMALL_BACKBONE_CHANNELS,
        stem_width=SMALL_BACKBONE_STEM))


def _fcn_small(num_classes, in_channels, attention, pretrained):
    backbone = _small_backbone(in_channels)
    return TorchvisionLogits(FCN(backbone, FCNHead(backbone.out_channels, num_classes)))


def _deeplabv3_small(num_classes, in_channels, attention, pretrained):
    """torchvision's ``DeepLabHead`` layout (ASPP, 3×3 conv-bn-relu, 1×1 classifier) at width
    ``SMALL_ASPP_CHANNELS``: its own class fixes the width at 256, which would cost most of a
    CPU step. The atrous rates shrink with the feature maps: DeepLab-V3's (12, 24, 36) at output
    stride 8 suit 513-pixel crops (65-pixel maps); a 32-64-pixel input gives 4-8-pixel maps, on
    which such rates leave each atrous convolution only its centre tap."""
    backbone = _small_backbone(in_channels)
    width = SMALL_ASPP_CHANNELS
    head = nn.Sequential(
        ASPP(backbone.out_channels, SMALL_ATROUS_RATES, out_channels=width),
        nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, num_classes, 1))
    return TorchvisionLogits(DeepLabV3(backbone, head))


def _segnet(num_classes, in_channels, attention, pretrained, *, widths, convs):
    return SegNet(num_classes, widths=widths, convs=convs, in_channels=in_channels)


_UNET_ATTENTIONS = ("none", "scse")
_PLAIN = ("none",)

def _named_networks() -> Registry:
    """The networks of the table above, paper scale first, then the CPU stand-ins:
    ``builder(num_classes, in_channels, attention, pretrained)``, each entry's ``info`` its
    :class:`SegModelSpec`."""
    registry = Registry("segmentation model")
    for name, builder, doc, spec in (
        ("unet", partial(_smp_unet, encoder=UNET_ENCODER, depth=UNET_DEPTH,
                         decoder=UNET_DECODER),
         "segmentation-models-pytorch Unet on a ResNet-34 encoder",
         SegModelSpec("UNet", _UNET_ATTENTIONS, 1, True)),
        ("attention_unet", partial(_attention_unet, channels=ATTENTION_UNET_CHANNELS,
                                   strides=ATTENTION_UNET_STRIDES),
         "MONAI AttentionUnet (channels 32-512, four stride-2 stages)",
         SegModelSpec("UNet", ATTENTIONS, math.prod(ATTENTION_UNET_STRIDES), False)),
        ("fcn", partial(_torchvision, builder="fcn_resnet50"),
         "torchvision fcn_resnet50 (no auxiliary head)", SegModelSpec("FCN", _PLAIN, 1, True)),
        ("deeplabv3", partial(_torchvision, builder="deeplabv3_resnet50"),
         "torchvision deeplabv3_resnet50 (no auxiliary head)",
         SegModelSpec("DeepLab-V3", _PLAIN, 1, True)),
        ("segnet", partial(_segnet, widths=VGG16_WIDTHS, convs=VGG16_CONVS),
         "SegNet, VGG16-bn layout (lmf.seg.segnet)",
         SegModelSpec("SegNet", _PLAIN, 2 ** len(VGG16_WIDTHS), False)),
        ("unet_small", partial(_smp_unet, encoder=UNET_SMALL_ENCODER, depth=UNET_SMALL_DEPTH,
                               decoder=UNET_SMALL_DECODER),
         "unet at CPU scale (timm ResNet-10-T encoder, depth 3)",
         SegModelSpec("UNet", _UNET_ATTENTIONS, 1, False)),
        ("attention_unet_small", partial(_attention_unet, channels=ATTENTION_UNET_SMALL_CHANNELS,
                                         strides=ATTENTION_UNET_SMALL_STRIDES),
         "attention_unet at CPU scale (channels 8-64, three stride-2 stages)",
         SegModelSpec("UNet", ATTENTIONS, math.prod(ATTENTION_UNET_SMALL_STRIDES), False)),
        ("fcn_small", _fcn_small, "FCN on a half-width ResNet-10-T, output stride 8",
         SegModelSpec("FCN", _PLAIN, 1, False)),
        ("deeplabv3_small", _deeplabv3_small,
         "DeepLab-V3 on a half-width ResNet-10-T, ASPP width 64, rates 1-2-3",
         SegModelSpec("DeepLab-V3", _PLAIN, 1, False)),
        ("segnet_small", partial(_segnet, widths=SEGNET_SMALL_WIDTHS, convs=SEGNET_SMALL_CONVS),
         "SegNet at CPU scale (three stages of two convolutions)",
         SegModelSpec("SegNet", _PLAIN, 2 ** len(SEGNET_SMALL_WIDTHS), False)),
    ):
        registry.register(name, builder, doc=doc, info=spec)
    return registry


#: Every network :func:`build_seg_model` knows.
SEG_MODEL_REGISTRY = _named_networks()

#: The model names ``build_seg_model`` accepts: paper scale first, then the CPU stand-ins.
SEG_MODELS: tuple[str, ...] = SEG_MODEL_REGISTRY.names()


def _spec(name: str) -> SegModelSpec:
    """The :class:`SegModelSpec` of ``name``; the ConfigError of an unknown name lists
    ``SEG_MODELS``."""
    return SEG_MODEL_REGISTRY.entry(name).info


def build_seg_model(name: str, num_classes: int, *, attention: str = "none",
                    pretrained: bool = False, in_channels: int = 3) -> nn.Module:
    """The network ``name`` for ``num_classes`` output channels; ``forward(x)`` gives the logits
    ``(B, K, H, W)`` at the input's size.

    Args:
        name: one of ``SEG_MODELS``.
        num_classes: K, the number of logit channels.
        attention: one of ``ATTENTIONS`` that the model takes (see the module docstring).
        pretrained: start the encoder from ImageNet weights (only where :func:`has_pretrained`).
        in_channels: channels of the input images.

    Its dilated convolutions compute alike on every CPU (``lmf.core.atrous``).
    """
    check_seg_model(name, attention)
    for what, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{what} must be a positive integer, got {value!r}")
    if pretrained and not has_pretrained(name):
        with_weights = ", ".join(m for m in SEG_MODELS if has_pretrained(m))
        raise ConfigError(
            f"segmentation model {name} has no ImageNet weights and trains from random "
            f"initialisation (pretrained=False); models with ImageNet weights: {with_weights}"
        )
    return portable_dilated_convs(
        SEG_MODEL_REGISTRY.build(name, num_classes, in_channels, attention, bool(pretrained)))


def check_seg_model(name: str, attention: str = "none") -> None:
    """A ConfigError unless ``name`` is a model of ``SEG_MODELS`` that takes ``attention``."""
    spec = _spec(name)
    if not isinstance(attention, str) or attention not in ATTENTIONS:
        raise unknown_choice("attention", attention, ATTENTIONS)
    if attention not in spec.attentions:
        by_attention = "; ".join(
            f"{kind}: {', '.join(m for m in SEG_MODELS if kind in _spec(m).attentions)}"
            for kind in ATTENTIONS if kind != "none")
        raise ConfigError(
            f"segmentation model {name} does not take attention {attention!r} (it takes "
            f"{', '.join(spec.attentions)}); every model takes 'none', and the others "
            f"are taken by {by_attention}"
        )


def check_image_size(name: str, size) -> None:
    """A ConfigError unless an image of ``size`` (a side, or ``(height, width)``) fits ``name``:
    both sides positive multiples of :func:`size_multiple`."""
    multiple = size_multiple(name)
    sides = (size, size) if isinstance(size, int) else tuple(size) if isinstance(
        size, tuple | list) else ()
    if len(sides) != 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                              for s in sides):
        raise ConfigError(f"image size must be a positive integer side or a (height, width) "
                          f"pair, got {size!r}")
    wrong = [side for side in sides if side % multiple]
    if wrong:
        side = wrong[0]
        below, above = side // multiple * multiple, (side // multiple + 1) * multiple
        nearest = f"{below} or {above}" if below else f"{above}"
        raise ConfigError(
            f"segmentation model {name} takes image sides that are multiples of {multiple}, got "
            f"{sides[0]}×{sides[1]}; use e.g. {nearest}"
        )


def size_multiple(name: str) -> int:
    """Input sides of ``name`` must be multiples of this: the product of the strides for
    MONAI's attention U-Nets and ``2 ** stages`` for SegNet (each stage halves the map, and the
    decoder must meet maps of the same size again); 1 for smp's ``Unet``, which interpolates each
    upsampled map to the size of its skip connection (``requires_divisible_input_shape`` is
    False), and for FCN and DeepLab-V3, whose logits are interpolated to the input's size."""
    return _spec(name).size_multiple


def model_family(name: str) -> str:
    """The paper's name of the model for tables: "UNet", "FCN", "SegNet" or "DeepLab-V3"."""
    return _spec(name).family


def has_pretrained(name: str) -> bool:
    """Whether ``name`` has ImageNet encoder weights (``pretrained=True`` is accepted)."""
    return _spec(name).pretrained
