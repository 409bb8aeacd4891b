"""lmf.classification.cam.gradcam: medcam's maps against a Grad-CAM written here with plain autograd hooks."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from lmf.classification.cam import gradcam
from lmf.classification.models import build_model, cam_target_layer
from lmf.core.errors import ConfigError

SIZE = 64
NUM_CLASSES = 3


def reference_gradcam(model, layer, images, labels):
    """Grad-CAM (Selvaraju et al., 2017) from scratch: α_k = mean ∂y_c/∂A_k, ReLU(Σ α_k A_k),
    min-max scaled per image, bilinear upsampling to the input size."""
    model = copy.deepcopy(model).eval()
    layer = dict(model.named_modules())[layer]
    store = {}

    def keep(_module, _inputs, output):
        store["activation"] = output.detach()  # the value the layer's output holds after forward
        output.register_hook(lambda grad: store.__setitem__("gradient", grad))

    handle = layer.register_forward_hook(keep)
    logits = model(images)
    logits[torch.arange(len(images)), labels].sum().backward()
    handle.remove()
    weights = store["gradient"].mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * store["activation"]).sum(dim=1, keepdim=True))
    low = cam.amin(dim=(2, 3), keepdim=True)
    high = cam.amax(dim=(2, 3), keepdim=True)
    cam = (cam - low) / (high - low)  # NaN where ReLU left nothing: such a map is all zeros
    cam = torch.nan_to_num(cam, nan=0.0)
    return F.interpolate(cam, size=images.shape[2:], mode="bilinear", align_corners=False)


def reference_gradcam_pp(model, layer, image, label):
    """Grad-CAM++ (Chattopadhay et al., 2018, eq. 19 with the exponential score exp(S_c)) for one
    image: α = g² / (2g² + Σ_ab A g³), w_k = Σ_ij α · ReLU(exp(S_c) g), ReLU(Σ_k w_k A_k)."""
    model = copy.deepcopy(model).eval()
    store = {}

    def keep(_module, _inputs, output):
        store["activation"] = output.detach()
        output.register_hook(lambda grad: store.__setitem__("gradient", grad))

    handle = dict(model.named_modules())[layer].register_forward_hook(keep)
    score = model(image)[0, label]
    score.backward()
    handle.remove()
    grad, act = store["gradient"], store["activation"]
    denominator = 2 * grad**2 + (act * grad**3).sum(dim=(2, 3), keepdim=True)
    denominator = torch.where(denominator != 0, denominator, torch.ones_like(denominator))
    alpha = grad**2 / (denominator + 1e-7)
    weights = (alpha * F.relu(score.detach().exp() * grad)).sum(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act).sum(dim=1, keepdim=True))
    cam = (cam - cam.min()) / (cam.max() - cam.min())
    return F.interpolate(cam, size=image.shape[2:], mode="bilinear", align_corners=False)


def assert_informative(maps):
    """At least two maps that are not all zeros, so that agreeing maps prove something (random
    weights often leave no positive evidence, and such a map is all zeros)."""
    assert int((maps.amax(dim=(1, 2, 3)) > 0.5).sum()) >= 2


def layer_name(model):
    target = cam_target_layer(model)
    return next(name for name, module in model.named_modules() if module is target)


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(1)
    return build_model("timm:resnet10t", NUM_CLASSES)


@pytest.fixture
def images():
    return torch.rand(4, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


def hooks_of(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


@pytest.mark.parametrize("arch", ["timm:resnet10t", "timm:tinynet_e", "timm:densenet121"])
def test_matches_reference_gradcam_with_mixed_labels(arch, images):
    torch.manual_seed(1)
    model = build_model(arch, NUM_CLASSES)
    labels = torch.tensor([0, 2, 1, 2])
    ours = gradcam(model, images, labels=labels)
    expected = reference_gradcam(model, layer_name(model), images, labels)
    assert ours.shape == (4, 1, SIZE, SIZE)
    assert_informative(expected)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("arch", ["efficientnetv2_s", "resnet50", "densenet121"])
def test_paper_architectures_shape_range_and_reference(arch, images):
    torch.manual_seed(1)
    model = build_model(arch, NUM_CLASSES, pretrained=False).train()
    labels = torch.tensor([0, 2, 1, 2])
    maps = gradcam(model, images, labels=labels)
    assert maps.shape == (4, 1, SIZE, SIZE) and maps.dtype == torch.float32
    assert float(maps.min()) >= 0.0 and float(maps.max()) <= 1.0
    assert model.training  # the caller's mode survives
    expected = reference_gradcam(model, layer_name(model), images, labels)
    assert_informative(expected)
    torch.testing.assert_close(maps, expected, atol=1e-4, rtol=1e-4)


def test_callers_model_and_images_are_untouched(small_model, images):
    model = small_model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pixels = images.clone()
    for backend in ("gcam", "gcampp", "ggcam"):
        gradcam(model, images, backend=backend)
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BatchNorm stats included
    assert all(m.training for m in model.modules())
    assert hooks_of(model) == 0
    assert not hasattr(model, "medcam_dict")
    assert torch.equal(images, pixels) and not images.requires_grad
    assert all(p.grad is None for p in model.parameters())


def test_eval_mode_is_kept_too(small_model, images):
    model = small_model.eval()
    gradcam(model, images[:1])
    assert not any(m.training for m in model.modules())


def test_predicted_class_is_the_default_and_one_label_broadcasts(small_model, images):
    with torch.no_grad():
        predicted = small_model.eval()(images).argmax(1)
    torch.testing.assert_close(gradcam(small_model, images),
                               gradcam(small_model, images, labels=predicted))
    torch.testing.assert_close(gradcam(small_model, images, labels=1),
                               gradcam(small_model, images, labels=[1, 1, 1, 1]))


def test_batch_equals_one_image_at_a_time(small_model, images):
    labels = [2, 0, 1, 1]
    batch = gradcam(small_model, images, labels=labels)
    single = torch.cat([gradcam(small_model, images[i:i + 1], labels=[labels[i]])
                        for i in range(len(images))])
    torch.testing.assert_close(batch, single, atol=1e-5, rtol=1e-5)


def test_layer_by_module_or_name_and_other_backends(small_model, images):
    by_name = gradcam(small_model, images, labels=0, layer="layer3")
    by_module = gradcam(small_model, images, labels=0, layer=small_model.layer3)
    torch.testing.assert_close(by_name, by_module)
    torch.testing.assert_close(by_name, reference_gradcam(small_model, "layer3", images,
                                                          torch.zeros(4, dtype=torch.long)),
                               atol=1e-4, rtol=1e-4)
    for backend in ("gcampp", "ggcam"):
        maps = gradcam(small_model, images, backend=backend)
        assert maps.shape == (4, 1, SIZE, SIZE)
        assert float(maps.min()) >= 0.0 and float(maps.max()) <= 1.0
        assert torch.isfinite(maps).all()
        # each image is min-max scaled on its own: 0 and 1 are both reached
        assert torch.allclose(maps.amax(dim=(1, 2, 3)), torch.ones(4), atol=1e-5)


@pytest.mark.parametrize("arch, earlier", [("timm:resnet10t", "layer3"),
                                           ("timm:tinynet_e", "blocks.4")])
def test_one_by_one_default_layer_falls_back_to_the_stage_before(arch, earlier):
    """At 32 px the last stage of these stride-32 nets is 1×1, whose Grad-CAM is constant."""
    torch.manual_seed(1)
    model = build_model(arch, NUM_CLASSES)
    small = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    labels = torch.tensor([0, 1, 2, 0])
    expected = reference_gradcam(model, earlier, small, labels)
    assert_informative(expected)
    torch.testing.assert_close(gradcam(model, small, labels=labels), expected,
                               atol=1e-4, rtol=1e-4)


def test_gradcam_plus_plus_matches_reference(small_model, images):
    labels = [1, 2]
    ours = gradcam(small_model, images[:2], labels=labels, layer="layer3", backend="gcampp")
    expected = torch.cat([reference_gradcam_pp(small_model, "layer3", images[i:i + 1], label)
                          for i, label in enumerate(labels)])
    assert_informative(expected)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    ({"backend": "cam"}, "unknown Grad-CAM backend 'cam'; valid choices: gcam, gcampp, ggcam"),
    ({"labels": [0, 1]}, "2 labels for 4 images"),
    ({"labels": 3}, "label 3 is out of range for a model with 3 classes"),
    ({"labels": -1}, "class indices >= 0"),
    ({"layer": "nope"}, "ResNet has no layer 'nope'; give a name from model.named_modules"),
    ({"layer": torch.nn.Conv2d(3, 3, 1)}, "not a sub-module of the model"),
])
def test_bad_arguments_raise_config_error(small_model, images, kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        gradcam(small_model, images, **kwargs)


def test_too_small_for_any_spatial_map(small_model):
    with pytest.raises(ConfigError, match="every feature map of ResNet is 1×1"):
        gradcam(small_model, torch.rand(1, 3, 1, 1))


def test_images_must_be_a_batch(small_model, images):
    with pytest.raises(ConfigError, match=r"\(B, C, H, W\) tensor, got \(3, 64, 64\)"):
        gradcam(small_model, images[0])
