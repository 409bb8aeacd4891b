"""lmf.classification.features.head_inputs: the hook on the classifier head reads the features of every
architecture any profile trains (random initialisation, nothing trained)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmf.classification.features import head_inputs
from lmf.classification.models import build_model, classifier_head
from lmf.classification.profiles import PROFILES

ARCHS = sorted({arch for profile in PROFILES.values() for arch in profile.models.values()})


def test_every_profile_architecture_is_covered():
    assert {"timm:tinynet_e", "timm:resnet10t", "densenet_small", "efficientnetv2_s", "resnet50",
            "densenet121", "resnet32_cifar"} <= set(ARCHS)


@pytest.mark.parametrize("arch", ARCHS)
def test_the_head_applied_to_the_features_gives_the_models_logits(arch):
    torch.manual_seed(0)
    model = build_model(arch, num_classes=5, pretrained=False).eval()
    images = torch.randn(6, 3, 32, 32)
    features = head_inputs(model, [images[:4], images[4:]])  # two batches, in order
    head = classifier_head(model)
    assert features.dtype == np.float32
    assert features.shape == (6, head.in_features)
    with torch.no_grad():
        expected = model(images)
        from_features = head(torch.from_numpy(features))
    torch.testing.assert_close(from_features, expected, rtol=1e-4, atol=1e-4)
    assert not any(module._forward_pre_hooks for module in model.modules())  # hook removed
