"""SegNet (Badrinarayanan, Kendall and Cipolla 2017, IEEE TPAMI 39(12), "SegNet: A Deep
Convolutional Encoder-Decoder Architecture for Image Segmentation").

SegNet's one idea is how its decoder upsamples: every 2×2 max-pooling of the encoder remembers
*where* each maximum was (the pooling indices), and the mirrored decoder stage puts its input
back at exactly those positions (max-unpooling, zeros elsewhere) before its convolutions densify
the sparse map. No feature map crosses from encoder to decoder, only the indices.

The layout is VGG16-bn's: encoder stages of 2, 2, 3, 3, 3 (3×3 convolution, batch norm, ReLU)
layers at widths 64, 128, 256, 512, 512, each followed by max-pooling; the decoder mirrors it,
stage by stage, with the last convolution of each stage narrowing to the width of the stage
above. As in the authors' reference model (``segnet_train.prototxt``, layer ``conv1_1_D``), the
last decoder convolution is the classifier: a plain 3×3 convolution to K channels whose output
feeds the soft-max.

No installed library ships SegNet (torchvision, segmentation-models-pytorch and MONAI do not),
hence this hand-written version; ``nn.MaxPool2d(return_indices=True)`` and ``nn.MaxUnpool2d``
do the pooling and unpooling.
"""

from __future__ import annotations

import torch
from torch import nn

from lmf.core.errors import ConfigError

VGG16_WIDTHS = (64, 128, 256, 512, 512)
VGG16_CONVS = (2, 2, 3, 3, 3)


def _conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class SegNet(nn.Module):
    """Encoder stages with index-keeping max-pooling, mirrored decoder stages with max-unpooling.

    Args:
        num_classes: K, the number of output channels (logits).
        widths: channel width of each encoder stage, top (full resolution) first.
        convs: number of conv-bn-relu layers of each stage (the decoder stage has as many).
        in_channels: channels of the input image.

    Input sides must be multiples of ``2 ** len(widths)`` (each stage halves them).
    """

    def __init__(self, num_classes: int, widths=VGG16_WIDTHS, convs=VGG16_CONVS,
                 in_channels: int = 3):
        super().__init__()
        widths, convs = tuple(widths), tuple(convs)
        if not widths or len(widths) != len(convs) or min(convs) < 1 or min(widths) < 1:
            raise ConfigError(
                f"SegNet needs one positive width and one positive conv count per stage, got "
                f"widths={widths}, convs={convs}"
            )
        self.size_multiple = 2 ** len(widths)
        self.encoder = nn.ModuleList()
        previous = in_channels
        for width, count in zip(widths, convs, strict=True):
            layers = _conv_bn_relu(previous, width)
            for _ in range(count - 1):
                layers += _conv_bn_relu(width, width)
            self.encoder.append(nn.Sequential(*layers))
            previous = width
        # decoder[i] mirrors encoder[i]; it narrows to the width above, the top one to K logits
        self.decoder = nn.ModuleList()
        for stage, (width, count) in enumerate(zip(widths, convs, strict=True)):
            layers = []
            for _ in range(count - 1):
                layers += _conv_bn_relu(width, width)
            if stage == 0:
                layers.append(nn.Conv2d(width, num_classes, 3, padding=1))
            else:
                layers += _conv_bn_relu(width, widths[stage - 1])
            self.decoder.append(nn.Sequential(*layers))
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if height % self.size_multiple or width % self.size_multiple:
            raise ConfigError(
                f"SegNet with {len(self.encoder)} stages takes image sides that are multiples of "
                f"{self.size_multiple}, got {height}×{width}"
            )
        indices = []
        for stage in self.encoder:
            x, where = self.pool(stage(x))
            indices.append(where)
        for stage, where in zip(reversed(self.decoder), reversed(indices), strict=True):
            x = stage(self.unpool(x, where))
        return x

