"""lmf.models: the paper's three torchvision CNNs, timm models, Grad-CAM layers, weight errors."""

from __future__ import annotations

import socket

import pytest
import timm
import torch
import torchvision
from torch import nn

from lmf.errors import ConfigError, DataError
from lmf.models import ARCHITECTURES, build_model, cam_target_layer, weights_cached

K = 5


def _head(model: nn.Module, arch: str) -> nn.Module:
    """The classifier as torchvision names it (independent of lmf's preset table)."""
    return {"efficientnetv2_s": lambda m: m.classifier[1], "resnet50": lambda m: m.fc,
            "densenet121": lambda m: m.classifier}[arch](model)


@pytest.mark.parametrize(
    ("arch", "family", "in_features"),
    [("efficientnetv2_s", torchvision.models.EfficientNet, 1280),
     ("resnet50", torchvision.models.ResNet, 2048),
     ("densenet121", torchvision.models.DenseNet, 1024)],
)
def test_paper_architectures_give_k_logits(arch, family, in_features):
    torch.manual_seed(0)
    model = build_model(arch, K, pretrained=False).eval()
    assert isinstance(model, family)
    head = _head(model, arch)
    assert type(head) is nn.Linear
    assert (head.in_features, head.out_features) == (in_features, K)
    with torch.no_grad():
        logits = model(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, K)
    assert torch.isfinite(logits).all()


def test_cam_layers_of_paper_architectures():
    efficientnet = build_model("efficientnetv2_s", K)
    assert cam_target_layer(efficientnet) is efficientnet.features[-1]
    resnet = build_model("resnet50", K)
    assert cam_target_layer(resnet) is resnet.layer4
    densenet = build_model("densenet121", K)
    assert cam_target_layer(densenet) in (densenet.features, densenet.features.norm5)


def test_timm_model_builds_with_k_classes():
    model = build_model("timm:test_resnet", K).eval()
    with torch.no_grad():
        assert model(torch.rand(3, 3, 32, 32)).shape == (3, K)
    assert model.get_classifier().out_features == K
    assert cam_target_layer(model) is model.layer4


def test_cam_layer_of_unknown_model_is_last_spatial_map():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, K))
    assert cam_target_layer(model) is model[2]  # the pooled 1×1 map does not count


@pytest.mark.parametrize("arch", ["vgg16", "resnet", ""])
def test_unknown_architecture_lists_choices(arch):
    with pytest.raises(ConfigError) as error:
        build_model(arch, K)
    for name in ARCHITECTURES:
        assert name in str(error.value)
    assert "timm:" in str(error.value)


def test_unknown_timm_model_is_config_error():
    with pytest.raises(ConfigError, match="resnet"):
        build_model("timm:resnet_does_not_exist", K)


def test_bad_num_classes():
    with pytest.raises(ConfigError):
        build_model("timm:test_resnet", 1)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network and empty weight caches (torch hub and Hugging Face)."""
    import huggingface_hub.constants

    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return tmp_path


def test_pretrained_preset_without_weights_says_where_to_put_them(offline):
    with pytest.raises(DataError) as error:
        build_model("resnet50", K, pretrained=True)
    message = str(error.value)
    assert str(offline / "torch") in message  # the cache location to fill
    assert "--weights" in message


def test_pretrained_timm_without_weights_is_one_clear_error(offline):
    with pytest.raises(DataError) as error:
        build_model("timm:resnet18", K, pretrained=True)
    assert "--weights" in str(error.value)


def test_weights_cached_looks_where_the_loaders_look(offline):
    assert not weights_cached("resnet50") and not weights_cached("timm:resnet18")
    url = torchvision.models.ResNet50_Weights.IMAGENET1K_V2.url
    torch_file = offline / "torch" / "hub" / "checkpoints" / url.rsplit("/", 1)[1]
    torch_file.parent.mkdir(parents=True)
    torch_file.write_bytes(b"")
    # the Hugging Face cache layout: refs/main names the snapshot holding the file
    repo = timm.models.get_pretrained_cfg("resnet18").hf_hub_id
    hf_dir = offline / "hf" / f"models--{repo.replace('/', '--')}"
    (hf_dir / "refs").mkdir(parents=True)
    (hf_dir / "refs" / "main").write_text("0123abc")
    (hf_dir / "snapshots" / "0123abc").mkdir(parents=True)
    (hf_dir / "snapshots" / "0123abc" / "model.safetensors").write_bytes(b"")
    assert weights_cached("resnet50") and weights_cached("timm:resnet18")
    assert not weights_cached("densenet121") and not weights_cached("timm:resnet34")


def test_local_weights_file_round_trips_and_keeps_new_head(tmp_path):
    torch.manual_seed(0)
    source = build_model("timm:test_resnet", 7)
    path = tmp_path / "w.pt"
    torch.save(source.state_dict(), path)
    model = build_model("timm:test_resnet", K, weights=path)
    for name, tensor in model.state_dict().items():
        if not name.startswith("fc."):
            assert torch.equal(tensor, source.state_dict()[name]), name
    assert model.fc.out_features == K
    with pytest.raises(DataError, match="does not exist"):
        build_model("timm:test_resnet", K, weights=tmp_path / "missing.pt")
    with pytest.raises(DataError, match="does not fit"):
        build_model("timm:test_efficientnet", K, weights=path)
