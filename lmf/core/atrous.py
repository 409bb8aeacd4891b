"""Dilated (atrous) convolutions that compute alike on every x86-64 CPU.

oneDNN, which PyTorch's CPU build hands its convolutions to, computes a dilated convolution as
im2col followed by its own JIT GEMM (``x64:gemm:jit`` in ``ONEDNN_VERBOSE``), whose blocking of
the summed dimension follows the CPU's cache sizes, so an AMD Zen 3, a Zen 4 and an Intel CPU
round such a layer differently even with the pinned numerics (``lmf.core.numerics``): the
pin fixes the instruction set, not the caches. Undilated convolutions go to oneDNN's direct
kernels (``jit:avx2``), which are portable (``tests/core/test_portable_numerics.py``).

:class:`PortableDilatedConv2d` computes the same convolution on the CPU as the same two steps
spelled out with ATen and MKL, the parts whose results the pin fixes:

    cols = unfold(x)                      (B, C·kh·kw, L)  im2col, a copy
    y    = W (O × C·kh·kw) · cols         one MKL GEMM (the batch joins L), MKL_CBWR=COMPATIBLE

and its backward through autograd (``fold`` sums the column gradients back, GEMMs for the
rest). On other devices, undilated or grouped layers it is ``nn.Conv2d`` itself. No library
ships a convolution with this guarantee, hence the code here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PortableDilatedConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose dilated CPU forward is im2col and one GEMM (module docstring)."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: torch.Tensor | None) -> torch.Tensor:
        if (input.device.type != "cpu" or self.dilation == (1, 1) or self.groups != 1
                or self.padding_mode != "zeros" or isinstance(self.padding, str)):
            return super()._conv_forward(input, weight, bias)
        batch, _, height, width = input.shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        (ph, pw), (dh, dw) = self.padding, self.dilation
        out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        cols = F.unfold(input, self.kernel_size, dilation=self.dilation, padding=self.padding,
                        stride=self.stride)
        # one (O x C·kh·kw) · (C·kh·kw x B·L) product: the batch joins the columns
        columns = cols.transpose(0, 1).reshape(cols.shape[1], -1)
        output = (weight.reshape(self.out_channels, -1) @ columns).reshape(
            self.out_channels, batch, out_h, out_w).transpose(0, 1)
        if bias is not None:
            output = output + bias.reshape(1, -1, 1, 1)
        return output.contiguous()


def portable_dilated_convs(model: nn.Module) -> nn.Module:
    """``model`` with every dilated ``nn.Conv2d`` made a :class:`PortableDilatedConv2d`, in place.

    The layers keep their parameters and buffers (only their class changes, so building the
    model draws the same random initial weights as before); returns ``model``."""
    for module in model.modules():
        if type(module) is nn.Conv2d and module.dilation != (1, 1):
            module.__class__ = PortableDilatedConv2d
    return model
