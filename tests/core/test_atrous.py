"""lmf.core.atrous: the portable dilated convolution equals torch's, does not go through oneDNN,
and is what every segmentation network's dilated layers compute with."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lmf.core.atrous import PortableDilatedConv2d, portable_dilated_convs
from lmf.seg.models import SEG_MODELS, build_seg_model


@pytest.mark.parametrize(("dilation", "stride", "padding", "bias"),
                         [(2, 1, 2, True), (4, 1, 4, False), (3, 2, 1, True), ((2, 3), 1, (1, 2), True)])
def test_equals_torch_convolution_forward_and_backward(dilation, stride, padding, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 5, 3, stride=stride, padding=padding, dilation=dilation,
                     bias=bias).double()
    inputs = torch.randn(3, 6, 11, 9, dtype=torch.double, requires_grad=True)
    reference = F.conv2d(inputs, conv.weight, conv.bias, stride, padding, dilation)
    expected = torch.autograd.grad(reference.square().sum(), [inputs, *conv.parameters()])
    portable_dilated_convs(conv)
    outputs = conv(inputs)
    found = torch.autograd.grad(outputs.square().sum(), [inputs, *conv.parameters()])
    assert type(conv) is PortableDilatedConv2d
    torch.testing.assert_close(outputs, reference, rtol=0, atol=1e-12)
    for a, b in zip(found, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11)


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_does_not_depend_on_onednn():
    torch.manual_seed(0)
    conv = portable_dilated_convs(nn.Conv2d(64, 48, 3, padding=4, dilation=4))
    inputs = torch.randn(4, 64, 8, 8)
    with_onednn = conv(inputs)
    with torch.backends.mkldnn.flags(enabled=False):
        without = conv(inputs)
    assert torch.equal(with_onednn, without)


def test_only_dilated_ungrouped_layers_change_and_nothing_is_redrawn():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=2, dilation=2),
                          nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2))
    weights = [p.clone() for p in model.parameters()]
    state = torch.random.get_rng_state()
    portable_dilated_convs(model)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert [type(m) for m in model] == [nn.Conv2d, PortableDilatedConv2d, PortableDilatedConv2d]
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))
    inputs = torch.randn(2, 4, 6, 6)
    grouped = model[2]
    torch.testing.assert_close(grouped(inputs), F.conv2d(inputs, grouped.weight, grouped.bias,
                                                         padding=2, dilation=2, groups=2))


@pytest.mark.parametrize("name", SEG_MODELS)
def test_segmentation_networks_have_no_onednn_dilated_layer(name):
    model = build_seg_model(name, 3, in_channels=1)
    plain = [n for n, m in model.named_modules()
             if type(m) is nn.Conv2d and m.dilation != (1, 1)]
    assert not plain, plain
    if name.startswith(("fcn", "deeplabv3")):  # atrous backbones and heads
        assert any(type(m) is PortableDilatedConv2d for m in model.modules())
