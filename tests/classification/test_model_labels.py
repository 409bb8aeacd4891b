"""Figure titles name the model that ran, and whose part it played."""

from __future__ import annotations

import pytest

from lmf.classification.profiles import get_profile
from lmf.core.errors import ConfigError


@pytest.mark.parametrize("profile, model_id, label", [
    ("cpu", "efficientnetv2_s", "timm:tinynet_e standing in for EfficientNetV2-S"),
    ("cpu", "resnet50", "timm:resnet10t standing in for ResNet-50"),
    ("medmnist", "densenet121", "densenet_small standing in for DenseNet-121"),
    ("paper", "resnet50", "ResNet-50"),  # the paper's own model: its name alone
    ("cifar_lt", "resnet32", "resnet32_cifar"),  # not a paper model: what runs
])
def test_model_label_says_what_runs_and_whose_part_it_plays(profile, model_id, label):
    assert get_profile(profile).model_label(model_id) == label


def test_model_label_of_an_unknown_model_lists_the_profile_models():
    with pytest.raises(ConfigError, match="efficientnetv2_s"):
        get_profile("cpu").model_label("vgg16")
