"""lmf.classification.models: the paper's three torchvision CNNs, timm models, Grad-CAM layers, weight errors."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import timm
import torch
import torchvision
from torch import nn

from lmf.classification.models import (
    ARCHITECTURES,
    build_model,
    cam_target_layer,
    classifier_head,
    weights_cached,
)
from lmf.cli import build_parser
from lmf.core.errors import ConfigError, DataError

K = 5


#: Each preset's torchvision builder and the ImageNet weights of the paper (independent of lmf's
#: preset table).
IMAGENET = {
    "efficientnetv2_s": (torchvision.models.efficientnet_v2_s,
                         torchvision.models.EfficientNet_V2_S_Weights.IMAGENET1K_V1),
    "resnet50": (torchvision.models.resnet50, torchvision.models.ResNet50_Weights.IMAGENET1K_V2),
    "densenet121": (torchvision.models.densenet121,
                    torchvision.models.DenseNet121_Weights.IMAGENET1K_V1),
}


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
    assert classifier_head(model) is head


def test_small_densenet_stand_in_is_a_torchvision_densenet_bc():
    model = build_model("densenet_small", K)
    assert isinstance(model, torchvision.models.DenseNet)
    # blocks of 2/4/8/6 layers: one BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 pair per layer
    layers = [name for name, _ in model.features.named_children() if name.startswith("denseblock")]
    assert [len(getattr(model.features, b)) for b in layers] == [2, 4, 8, 6]
    # features after the last block: 32 initial, halved by each transition, + 16 per layer
    channels = 32
    for block, n in enumerate((2, 4, 8, 6)):
        channels += 16 * n
        if block < 3:
            channels //= 2
    assert classifier_head(model).in_features == channels
    assert cam_target_layer(model) is model.features.norm5
    with pytest.raises(ConfigError, match="no pretrained weights"):
        build_model("densenet_small", K, pretrained=True)


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


def _train_flags(capsys) -> set[str]:
    """The options ``lmf train --help`` lists."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    return set(re.findall(r"--[a-z][a-z-]*", capsys.readouterr().out))


def _assert_flags_exist(message: str, capsys) -> None:
    named = set(re.findall(r"--[a-z][a-z-]*", message))
    assert {"--weights", "--no-pretrained"} <= named
    assert named <= _train_flags(capsys), named - _train_flags(capsys)


@pytest.mark.parametrize("arch", list(IMAGENET))
def test_pretrained_preset_without_weights_says_where_to_put_them(offline, arch, capsys):
    with pytest.raises(DataError) as error:
        build_model(arch, K, pretrained=True)
    message = str(error.value)
    folder = offline / "torch" / "hub" / "checkpoints"
    file_name = Path(IMAGENET[arch][1].url).name
    assert str(folder) in message and file_name in message  # where to put it, under which name
    assert str(folder / file_name) in message
    _assert_flags_exist(message, capsys)


def test_unreadable_cached_weights_are_one_clear_error(offline):
    folder = offline / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / Path(IMAGENET["resnet50"][1].url).name).write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot load the ImageNet weights of resnet50"):
        build_model("resnet50", K, pretrained=True)


def test_pretrained_timm_without_weights_is_one_clear_error(offline, capsys):
    with pytest.raises(DataError) as error:
        build_model("timm:resnet18", K, pretrained=True)
    _assert_flags_exist(str(error.value), capsys)


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
    torch.save(torch.zeros(3), path)
    with pytest.raises(DataError, match="holds a Tensor, not a state_dict"):
        build_model("timm:test_resnet", K, weights=path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot read weights file"):
        build_model("timm:test_resnet", K, weights=path)


def _old_densenet_key(key: str) -> str:
    """The name torchvision's published DenseNet files use for ``key``.

    ``denselayer<i>.norm1.weight`` was ``denselayer<i>.norm.1.weight`` (also ``relu``/``conv``,
    ``1``/``2``): the inverse of the renaming in ``torchvision/models/densenet.py``.
    """
    return re.sub(
        r"(denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)$",
        r"\1.\2.\3", key,
    )


@pytest.fixture(scope="module")
def imagenet_files(tmp_path_factory):
    """Random stand-ins for the three ImageNet files in a torch home, as torchvision lays them out.

    Returns ``(torch_home, {arch: (file, state)})``; ``state`` holds the file's tensors under
    today's key names. Each file is ``$TORCH_HOME/hub/checkpoints/<file name of the URL>``.
    Every floating tensor is random (BatchNorm statistics too, which a fresh model sets to 0
    and 1), so equal tensors prove that they were loaded. DenseNet's file is written as
    torchvision published it: old key names, no ``num_batches_tracked`` (which came with
    PyTorch 0.4.1) and torch.save's pre-zip format.
    """
    home = tmp_path_factory.mktemp("torch_home")
    folder = home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    files = {}
    for arch, (builder, weights) in IMAGENET.items():
        state = {key: torch.rand(value.shape, generator=generator)
                 if value.is_floating_point() else value
                 for key, value in builder().state_dict().items()}
        path = folder / Path(weights.url).name
        if arch == "densenet121":
            state = {key: value for key, value in state.items()
                     if not key.endswith("num_batches_tracked")}
            old_names = {_old_densenet_key(key): value for key, value in state.items()}
            assert len(old_names) == len(state) and set(old_names) != set(state)
            torch.save(old_names, path, _use_new_zipfile_serialization=False)
        else:
            torch.save(state, path)
        files[arch] = (path, state)
    return home, files


@pytest.fixture
def torch_home(imagenet_files, monkeypatch):
    """``TORCH_HOME`` pointed at :func:`imagenet_files`; returns its ``{arch: (file, state)}``."""
    home, files = imagenet_files
    monkeypatch.setenv("TORCH_HOME", str(home))
    assert Path(torch.hub.get_dir()) == home / "hub"  # no torch.hub.set_dir in force
    return files


@pytest.mark.parametrize("source", ["cache", "file"])
@pytest.mark.parametrize("arch", list(IMAGENET))
def test_imagenet_files_load_with_a_new_k_class_head(torch_home, arch, source):
    path, state = torch_home[arch]
    if source == "cache":
        model = build_model(arch, K, pretrained=True)
    else:
        model = build_model(arch, K, pretrained=False, weights=path)
    head = _head(model, arch)
    head_prefix = next(name for name, module in model.named_modules() if module is head) + "."
    loaded = model.state_dict()
    backbone = [key for key in state if not key.startswith(head_prefix)]
    assert len(backbone) == len(state) - 2  # all but the 1000-class head's weight and bias
    for key in backbone:
        assert torch.equal(loaded[key], state[key]), key
    not_in_file = {key for key in loaded if key not in state and not key.startswith(head_prefix)}
    # a file without BatchNorm batch counts gets fresh ones (torch's BatchNorm loading)
    assert all(key.endswith("num_batches_tracked") for key in not_in_file)
    assert bool(not_in_file) == (arch == "densenet121")
    assert (head.in_features, head.out_features) == (state[head_prefix + "weight"].shape[1], K)
    with torch.no_grad():
        assert model.eval()(torch.rand(2, 3, 32, 32)).shape == (2, K)


def test_old_densenet_file_needs_torchvisions_renaming(imagenet_files):
    path, _ = imagenet_files[1]["densenet121"]
    old_state = torch.load(path, weights_only=True)
    assert "features.denseblock1.denselayer1.norm.1.weight" in old_state
    with pytest.raises(RuntimeError, match="Unexpected key") as error:
        torchvision.models.densenet121().load_state_dict(old_state)
    assert "denselayer1.norm.1.weight" in str(error.value)


def test_classifier_head_finds_the_cosine_head_of_a_scratch_architecture():
    from lmf.classification.resnet_cifar import NormedLinear

    model = build_model("resnet32_cifar", K, head="normed")
    head = classifier_head(model)
    assert isinstance(head, NormedLinear)
    assert [m for m in model.modules() if isinstance(m, NormedLinear)] == [head]
