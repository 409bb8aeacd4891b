"""The CIFAR ResNet-32 of He et al. 2016 and the normalised (cosine) classifier of LDAM.

Both as Cao et al. 2019 train them for long-tailed CIFAR (kaidic/LDAM-DRW,
``models/resnet_cifar.py``, itself Yerlan Idelbayev's CIFAR ResNet): a 3×3 convolution to 16
channels, three stages of five basic blocks with 16, 32 and 64 channels (the first block of
stages 2 and 3 halves the resolution), global average pooling and the classifier. The shortcut of
a block that changes shape is He et al.'s option A, parameter-free: the input subsampled with
stride 2 (``x[:, :, ::2, ::2]``) and zero-padded in channels. Convolutions and the linear head are
initialised with ``kaiming_normal_``. 0.46 M parameters for 10 classes.

``NormedLinear`` (the reference's name): logits are cosines between the L2-normalised feature
and the L2-normalised class weight vectors, ``cos(x, w_j) = x·w_j / (‖x‖ ‖w_j‖)`` in [−1, 1]; the
LDAM loss multiplies them by its scale ``s`` (30). Its weight is stored as in the reference,
``in_features × out_features``, initialised ``uniform_(−1, 1).renorm_(2, 1, 1e-5).mul_(1e5)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NormedLinear(nn.Module):
    """Cosine classifier: ``normalize(x) @ normalize(W)`` with ``W`` of shape in × out."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        with torch.no_grad():
            self.weight.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1).mm(F.normalize(self.weight, dim=0))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class ZeroPadShortcut(nn.Module):
    """Option A shortcut: stride-2 subsampling, then ``extra`` zero channels on each side."""

    def __init__(self, extra: int) -> None:
        super().__init__()
        self.extra = extra

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra, self.extra))


class BasicBlock(nn.Module):
    """Two 3×3 conv–BN layers with a ReLU between and after the residual sum."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        changes = stride != 1 or in_planes != planes
        self.shortcut = ZeroPadShortcut(planes // 4) if changes else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet for 32×32 images with ``blocks`` basic blocks per stage (16, 32, 64 channels)."""

    def __init__(self, blocks: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, in_planes = [], 16
        for planes, count, stride in zip((16, 32, 64), blocks, (1, 2, 2), strict=True):
            layers = []
            for block_stride in [stride] + [1] * (count - 1):
                layers.append(BasicBlock(in_planes, planes, block_stride))
                in_planes = planes
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def resnet32(num_classes: int) -> CifarResNet:
    """ResNet-32: 1 + 3·5·2 + 1 = 32 weighted layers."""
    return CifarResNet((5, 5, 5), num_classes)
