"""The segmentation networks: shapes, gradients, sizes, attention variants, weights, errors."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision
from huggingface_hub import constants as hub_constants
from monai.networks.nets.attentionunet import AttentionBlock, AttentionLayer
from safetensors.torch import save_file
from segmentation_models_pytorch.base.modules import SCSEModule
from torch import nn

from lmf.core.errors import ConfigError, DataError
from lmf.seg import models
from lmf.seg.attention import Excitation, SkipAttention, squeeze_excitation
from lmf.seg.models import (
    ATTENTIONS,
    SEG_MODELS,
    build_seg_model,
    check_image_size,
    check_seg_model,
    has_pretrained,
    model_family,
    size_multiple,
)
from lmf.seg.segnet import SegNet

SMALL = [name for name in SEG_MODELS if name.endswith("_small")]
PAPER = [name for name in SEG_MODELS if not name.endswith("_small")]
#: The attentions each model must take, from the task's description of the models.
TAKES = {"unet": ("none", "scse"), "unet_small": ("none", "scse"),
         "attention_unet": ATTENTIONS, "attention_unet_small": ATTENTIONS}
SMALL_VARIANTS = [(name, kind) for name in SMALL for kind in TAKES.get(name, ("none",))]


def _first_conv(model: nn.Module) -> nn.Conv2d:
    return next(module for module in model.modules() if isinstance(module, nn.Conv2d))


def _build(name, num_classes=3, seed=0, **options):
    torch.manual_seed(seed)
    return build_seg_model(name, num_classes, **options)


def test_model_names_families_and_weights():
    assert set(SEG_MODELS) == {"unet", "attention_unet", "fcn", "deeplabv3", "segnet",
                               "unet_small", "attention_unet_small", "fcn_small",
                               "deeplabv3_small", "segnet_small"}
    families = {"unet": "UNet", "attention_unet": "UNet", "fcn": "FCN", "deeplabv3": "DeepLab-V3",
                "segnet": "SegNet"}
    for name in SEG_MODELS:
        assert model_family(name) == families[name.removesuffix("_small")]
    assert [name for name in SEG_MODELS if has_pretrained(name)] == ["unet", "fcn", "deeplabv3"]


@pytest.mark.parametrize(("name", "attention"), SMALL_VARIANTS)
def test_small_models_give_logits_at_the_input_size_and_train_to_the_first_layer(name, attention):
    model = _build(name, num_classes=3, attention=attention, in_channels=1)
    side = 4 * size_multiple(name) if size_multiple(name) > 1 else 30
    x = torch.randn(2, 1, side, side + size_multiple(name))
    logits = model(x)
    assert logits.shape == (2, 3, side, side + size_multiple(name))
    logits.square().mean().backward()
    first = _first_conv(model)
    assert first.in_channels == 1
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", SMALL)
def test_small_models_are_deterministic_for_a_seed(name):
    """Same seed, same weights and same training-mode output (FCN's head has dropout, so the
    forward pass is seeded too)."""
    x = torch.randn(2, 3, 32, 32)

    def logits(seed):
        model = _build(name, seed=seed)
        torch.manual_seed(seed)
        return model(x)

    torch.testing.assert_close(logits(1), logits(1), rtol=0, atol=0)
    assert not torch.equal(logits(1), logits(2))


@pytest.mark.parametrize("name", PAPER)
def test_paper_models_give_logits_at_the_input_size(name):
    attention = "sas" if name == "attention_unet" else "none"
    model = _build(name, num_classes=2, attention=attention)
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


def test_paper_scale_layouts_are_those_of_the_libraries():
    unet = _build("unet")
    assert type(unet.encoder).__name__ == "ResNetEncoder"
    assert [len(layer) for layer in (unet.encoder.layer1, unet.encoder.layer2,
                                     unet.encoder.layer3, unet.encoder.layer4)] == [3, 4, 6, 3]
    fcn = _build("fcn").model
    assert isinstance(fcn, torchvision.models.segmentation.FCN) and fcn.aux_classifier is None
    deeplab = _build("deeplabv3").model
    assert isinstance(deeplab, torchvision.models.segmentation.DeepLabV3)
    assert deeplab.aux_classifier is None
    gates = [m for m in _build("attention_unet", attention="sas").modules()
             if isinstance(m, AttentionBlock)]
    assert [gate.W_x[0].in_channels for gate in gates] == [32, 64, 128, 256]


def test_size_multiples_are_what_the_networks_need():
    # MONAI's strides and SegNet's pooling stages multiply; smp's Unet says it takes any size
    assert size_multiple("attention_unet") == 2 ** 4
    assert size_multiple("attention_unet_small") == 2 ** 3
    assert size_multiple("segnet") == 2 ** 5 and size_multiple("segnet_small") == 2 ** 3
    assert type(_build("unet_small")).requires_divisible_input_shape is False
    for name in ("unet", "unet_small", "fcn", "deeplabv3", "fcn_small", "deeplabv3_small"):
        assert size_multiple(name) == 1
    with torch.no_grad():
        assert _build("unet_small").eval()(torch.randn(1, 3, 36, 22)).shape == (1, 3, 36, 22)


@pytest.mark.parametrize("name", ["attention_unet_small", "segnet_small"])
def test_a_side_off_the_multiple_is_rejected(name):
    check_image_size(name, 32)
    check_image_size(name, (16, 40))
    with pytest.raises(ConfigError, match=r"multiples of 8, got 36×36; use e.g. 32 or 40"):
        check_image_size(name, 36)
    with pytest.raises(ConfigError, match=r"multiples of 8, got 32×4; use e.g. 8"):
        check_image_size(name, (32, 4))
    with pytest.raises((ConfigError, RuntimeError)):  # the network itself cannot run it either
        _build(name)(torch.randn(1, 3, 36, 36))


def test_image_size_values_are_checked():
    check_image_size("fcn_small", 37)
    for bad in (0, -8, (32,), (32, 32, 32), 32.0, (32, True)):
        with pytest.raises(ConfigError, match="image size"):
            check_image_size("unet_small", bad)


def _attention_parts(model):
    layers = [m for m in model.modules() if isinstance(m, AttentionLayer)]
    return layers, [layer.attention for layer in layers]


def test_sas_keeps_monai_gates_and_none_passes_the_skip_features_through():
    sas_layers, sas_gates = _attention_parts(_build("attention_unet_small", attention="sas"))
    assert len(sas_layers) == 3 and all(isinstance(g, AttentionBlock) for g in sas_gates)
    plain = _build("attention_unet_small", attention="none")
    assert not any(isinstance(m, AttentionBlock | SCSEModule) for m in plain.modules())
    _, plain_gates = _attention_parts(plain)
    skip, gating = torch.randn(2, 8, 16, 16), torch.randn(2, 8, 16, 16)
    for gate in plain_gates:
        assert isinstance(gate, SkipAttention)
        assert torch.equal(gate(g=gating, x=skip), skip)


@pytest.mark.parametrize("attention", ["none", "spatial", "channel", "scse"])
def test_attention_variants_change_only_the_gates(attention):
    """Every parameter outside the gates has the same name and shape as in the SAS network."""
    def outside_gates(model):
        return {k: v.shape for k, v in model.state_dict().items() if ".attention." not in k}

    sas = _build("attention_unet_small", attention="sas")
    variant = _build("attention_unet_small", attention=attention)
    assert outside_gates(variant) == outside_gates(sas)
    gate_keys = [k for k in variant.state_dict() if ".attention." in k]
    assert bool(gate_keys) == (attention != "none")
    if attention == "scse":
        assert sum(isinstance(m, SCSEModule) for m in variant.modules()) == 3


def test_smp_unet_scse_uses_smps_decoder_attention():
    assert not any(isinstance(m, SCSEModule) for m in _build("unet_small").modules())
    with_scse = _build("unet_small", attention="scse")
    assert any(isinstance(m, SCSEModule) for m in with_scse.decoder.modules())


def _reference_spatial(branch: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """sSE in float64 from the branch's 1×1 convolution: x · σ(w·x + b) (Roy et al. 2018)."""
    conv = branch[0]
    weight, bias = conv.weight.double()[:, :, 0, 0], conv.bias.double()
    x = x.double()
    return x * torch.sigmoid(torch.einsum("bchw,oc->bohw", x, weight) + bias.view(1, -1, 1, 1))


def _reference_channel(branch: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """cSE in float64: x · σ(W₂ ReLU(W₁ mean_hw(x) + b₁) + b₂) (Hu et al. 2018)."""
    squeeze, excite = branch[1], branch[3]
    x = x.double()
    hidden = torch.relu(x.mean(dim=(2, 3)) @ squeeze.weight.double()[:, :, 0, 0].T
                        + squeeze.bias.double())
    scale = torch.sigmoid(hidden @ excite.weight.double()[:, :, 0, 0].T + excite.bias.double())
    return x * scale[:, :, None, None]


def test_squeeze_excitation_variants_follow_roy_et_al():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 5, 6)
    scse = squeeze_excitation("scse", 8)
    assert isinstance(scse, SCSEModule) and scse.cSE[1].out_channels == 2  # 8 // 4 units
    expected = _reference_spatial(scse.sSE, x) + _reference_channel(scse.cSE, x)
    torch.testing.assert_close(scse(x).double(), expected, rtol=1e-5, atol=1e-6)
    spatial, channel = squeeze_excitation("spatial", 8), squeeze_excitation("channel", 8)
    assert isinstance(spatial, Excitation) and isinstance(channel, Excitation)
    assert isinstance(spatial.branch[0], nn.Conv2d) and spatial.branch[0].out_channels == 1
    assert isinstance(channel.branch[0], nn.AdaptiveAvgPool2d)
    torch.testing.assert_close(spatial(x).double(), _reference_spatial(spatial.branch, x),
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(channel(x).double(), _reference_channel(channel.branch, x),
                               rtol=1e-5, atol=1e-6)
    assert squeeze_excitation("channel", 64).branch[1].out_channels == 64 // 16  # smp's ratio


def _identity_segnet(stages: int) -> SegNet:
    """A one-channel SegNet whose convolutions and batch norms all pass values through."""
    model = SegNet(1, widths=(1,) * stages, convs=(1,) * stages, in_channels=1).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.zero_()
                module.weight[0, 0, 1, 1] = 1.0
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_((1 + module.eps) ** 0.5)
    return model


def test_segnet_unpools_to_the_argmax_positions():
    x = torch.tensor([[1.0, 5.0, 2.0, 0.5],
                      [3.0, 2.0, 8.0, 1.0],
                      [0.2, 0.1, 4.0, 6.0],
                      [9.0, 0.3, 7.0, 0.4]]).view(1, 1, 4, 4)
    # one stage: each 2×2 window keeps its maximum where it was, zeros elsewhere
    one = torch.tensor([[0.0, 5.0, 0.0, 0.0],
                        [0.0, 0.0, 8.0, 0.0],
                        [0.0, 0.0, 0.0, 0.0],
                        [9.0, 0.0, 7.0, 0.0]]).view(1, 1, 4, 4)
    # two stages: the 4×4 maximum goes back through both sets of indices to its own place
    two = torch.zeros(1, 1, 4, 4)
    two[0, 0, 3, 0] = 9.0
    with torch.no_grad():
        torch.testing.assert_close(_identity_segnet(1)(x), one)
        torch.testing.assert_close(_identity_segnet(2)(x), two)


def test_segnet_has_the_vgg16_bn_layout():
    model = SegNet(5)
    encoder = [(m.in_channels, m.out_channels) for m in model.encoder.modules()
               if isinstance(m, nn.Conv2d)]
    vgg = [(m.in_channels, m.out_channels) for m in torchvision.models.vgg16_bn().features
           if isinstance(m, nn.Conv2d)]
    assert encoder == vgg
    decoder = [(m.in_channels, m.out_channels) for stage in reversed(model.decoder)
               for m in stage.modules() if isinstance(m, nn.Conv2d)]
    mirrored = [(b, a) for a, b in reversed(vgg)]
    assert decoder[:-1] == mirrored[:-1] and decoder[-1] == (64, 5)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 1  # one pool, 5 uses
    with pytest.raises(ConfigError, match="multiples of 32, got 48×64"):
        model(torch.randn(1, 3, 48, 64))
    with pytest.raises(ConfigError, match="per stage"):
        SegNet(2, widths=(8, 16), convs=(2,))


def test_unknown_names_and_attentions_are_config_errors():
    with pytest.raises(ConfigError, match=r"unknown segmentation model 'unet3'.*attention_unet"):
        check_seg_model("unet3")
    with pytest.raises(ConfigError, match=r"unknown attention 'cbam'.*channel, none, sas"):
        check_seg_model("unet", "cbam")
    with pytest.raises(ConfigError, match=r"fcn does not take attention 'sas'.*sas: attention_unet,"
                                          r" attention_unet_small"):
        build_seg_model("fcn", 2, attention="sas")
    with pytest.raises(ConfigError, match=r"unet_small does not take attention 'spatial'"):
        check_seg_model("unet_small", "spatial")
    for name in SEG_MODELS:
        for attention in ATTENTIONS:
            if attention in TAKES.get(name, ("none",)):
                check_seg_model(name, attention)
            else:
                with pytest.raises(ConfigError):
                    check_seg_model(name, attention)
    for bad in (0, 2.0, True):
        with pytest.raises(ConfigError, match="num_classes"):
            build_seg_model("segnet_small", bad)
    with pytest.raises(ConfigError, match="in_channels"):
        build_seg_model("segnet_small", 2, in_channels=0)


def test_pretrained_is_refused_for_models_without_imagenet_weights():
    for name in SEG_MODELS:
        if not has_pretrained(name):
            with pytest.raises(ConfigError, match=r"no ImageNet weights.*ImageNet weights: unet, "
                                                  r"fcn, deeplabv3$"):
                build_seg_model(name, 2, pretrained=True)


def _torchvision_cache(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V1
    return tmp_path / "hub" / "checkpoints" / Path(weights.url).name


def _no_download(*args, **kwargs):
    raise urllib.error.URLError("no network in this test")


def test_torchvision_backbones_load_the_cached_imagenet_file(monkeypatch, tmp_path):
    cache = _torchvision_cache(monkeypatch, tmp_path)
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    cache.parent.mkdir(parents=True)
    torch.manual_seed(3)
    saved = torchvision.models.resnet50().state_dict()
    torch.save(saved, cache)
    fcn = build_seg_model("fcn", 2, pretrained=True).model
    backbone = fcn.backbone.state_dict()
    assert set(backbone) == {k for k in saved if not k.startswith("fc.")}
    for key, tensor in backbone.items():
        assert torch.equal(tensor, saved[key]), key
    one_channel = build_seg_model("deeplabv3", 2, pretrained=True, in_channels=1).model
    assert torch.equal(one_channel.backbone.layer4[2].conv3.weight, saved["layer4.2.conv3.weight"])
    torch.testing.assert_close(one_channel.backbone.conv1.weight,
                               saved["conv1.weight"].sum(dim=1, keepdim=True))


def test_a_missing_torchvision_file_names_the_file_and_where_it_goes(monkeypatch, tmp_path):
    cache = _torchvision_cache(monkeypatch, tmp_path)
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    with pytest.raises(DataError) as caught:
        build_seg_model("deeplabv3", 2, pretrained=True)
    message = str(caught.value)
    assert torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url in message
    assert str(cache) in message and "pretrained=False" in message


def _smp_resnet34_settings():
    import segmentation_models_pytorch as smp

    settings = smp.encoders.encoders["resnet34"]["pretrained_settings"]["imagenet"]
    return settings["repo_id"], settings["revision"]


def test_smp_unet_loads_the_cached_encoder_file(monkeypatch, tmp_path):
    import segmentation_models_pytorch as smp

    repo, revision = _smp_resnet34_settings()
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    snapshot = tmp_path / f"models--{repo.replace('/', '--')}" / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    torch.manual_seed(4)
    saved = {k: v.contiguous() for k, v in
             smp.encoders.get_encoder("resnet34", weights=None).state_dict().items()}
    save_file(saved, snapshot / "model.safetensors")
    encoder = build_seg_model("unet", 2, pretrained=True).encoder.state_dict()
    assert set(encoder) == set(saved)
    for key, tensor in encoder.items():
        assert torch.equal(tensor, saved[key]), key


def test_missing_smp_weights_name_the_repository_and_cache(monkeypatch, tmp_path):
    repo, revision = _smp_resnet34_settings()
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError) as caught:
        build_seg_model("unet", 2, pretrained=True)
    message = str(caught.value)
    assert repo in message and revision in message and str(tmp_path) in message


def test_exports_of_the_subpackage():
    import lmf.seg

    assert lmf.seg.build_seg_model is models.build_seg_model
    assert lmf.seg.SEG_MODELS == SEG_MODELS
