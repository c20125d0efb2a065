"""Convolutions: `conv` and `conv_transpose`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.derive import Q
from cnncalc.errors import LayerError
from cnncalc.fields import BOOL, NONNEG_PAIR, PADDING, POSITIVE_INT, POSITIVE_PAIR, Padding, Pair
from cnncalc.layers.base import Op, Shape, Window, param, register, spatial, window_output


def _check_groups(groups: int, in_channels: int, filters: int) -> None:
    if in_channels % groups or filters % groups:
        bad = in_channels if in_channels % groups else filters
        what = "input channels" if in_channels % groups else "filters"
        raise LayerError(
            f"groups={groups} does not divide the {bad} {what}",
            f"groups must divide both the input channels ({in_channels}) and the filters "
            f"({filters})",
            field="groups",
        )


@dataclass(frozen=True, kw_only=True)
class _Convolution(Op):
    """The fields conv and conv_transpose share (each adds its own `padding`)."""

    takes_activation = True

    filters: int = param(POSITIVE_INT, "number of output channels", aliases=("out_channels",))
    kernel: Pair = param(POSITIVE_PAIR, "kernel size: k or [kh, kw]", aliases=("kernel_size",))
    stride: Pair = param(
        POSITIVE_PAIR, "stride: s or [sh, sw]", default=(1, 1), aliases=("strides",)
    )
    dilation: Pair = param(
        POSITIVE_PAIR, "dilation: d or [dh, dw]", default=(1, 1), aliases=("dilation_rate",)
    )
    groups: int = param(POSITIVE_INT, "channel groups (= input channels: depthwise)", default=1)
    bias: bool = param(BOOL, "add a learnable bias per filter", default=True, aliases=("use_bias",))


@register
@dataclass(frozen=True, kw_only=True)
class Conv(_Convolution):
    kind = "conv"
    aliases = ("Conv2d", "Conv2D", "Convolution2D")
    doc = "2-D convolution (PyTorch Conv2d / Keras Conv2D)"

    padding: Padding = param(
        PADDING, "valid, same (TensorFlow), p, [ph, pw] or [t, b, l, r]", default=(0, 0, 0, 0)
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        h, w, c = spatial(inputs[0])
        _check_groups(self.groups, c, self.filters)
        (oh, ow), _ = window_output((h, w), self.kernel, self.stride, self.dilation, self.padding)
        return (oh, ow, self.filters)

    def params(self, inputs: Sequence[Shape]) -> int:
        weights = _kernel_area(self.kernel) * _per_group(inputs[0][-1], self.groups) * self.filters
        return weights + self.filters if self.bias else weights

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """H_out·W_out·C_out·k_h·k_w·C_in/groups."""
        per_output = _kernel_area(self.kernel) * _per_group(inputs[0][-1], self.groups)
        return Q(output[0]) * Q(output[1]) * Q(self.filters) * per_output

    def window(self, inputs: Sequence[Shape]) -> Window:
        h, w, _ = spatial(inputs[0])
        _, pads = window_output((h, w), self.kernel, self.stride, self.dilation, self.padding)
        return Window(self.kernel, self.stride, self.dilation, (pads[0], pads[2]))


def _kernel_area(kernel: Pair) -> int:
    return Q(kernel[0]) * Q(kernel[1])


def _per_group(channels: int, groups: int) -> int:
    """C/groups, shown as such in derivations only when there are groups."""
    if groups == 1:
        return Q(channels)
    return Q(channels // groups, f"({channels}/{groups})")


@register
@dataclass(frozen=True, kw_only=True)
class ConvTranspose(_Convolution):
    kind = "conv_transpose"
    aliases = ("ConvTranspose2d", "Conv2DTranspose", "Deconvolution2D")
    doc = "2-D transposed convolution (PyTorch ConvTranspose2d)"

    padding: Padding = param(
        PADDING,
        "cropped from the output: p, [ph, pw], [t, b, l, r]; valid = 0; same: output = input·s",
        default=(0, 0, 0, 0),
    )
    output_padding: Pair = param(
        NONNEG_PAIR, "extra rows/columns added at the bottom/right", default=(0, 0)
    )

    def resolved_padding(self, in_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """(t, b, l, r) cropped from the full transposed output; `same` gives input·stride."""
        if self.padding != "same":
            return self.padding
        pads: list[int] = []
        for axis in range(2):
            span = self.dilation[axis] * (self.kernel[axis] - 1) + 1
            full = (in_hw[axis] - 1) * self.stride[axis] + span + self.output_padding[axis]
            excess = full - in_hw[axis] * self.stride[axis]
            if excess < 0:
                raise LayerError(
                    "padding same needs kernel ≥ stride for conv_transpose",
                    "use an integer padding or output_padding",
                    field="padding",
                )
            pads.extend((excess // 2, excess - excess // 2))
        return pads[0], pads[1], pads[2], pads[3]

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        h, w, c = spatial(inputs[0])
        _check_groups(self.groups, c, self.filters)
        for axis in range(2):
            if self.output_padding[axis] >= max(self.stride[axis], self.dilation[axis]):
                raise LayerError(
                    f"output_padding {self.output_padding[axis]} must be smaller than the "
                    f"stride ({self.stride[axis]}) or the dilation ({self.dilation[axis]})",
                    "output_padding only picks among the sizes a strided transposed "
                    "convolution can produce (PyTorch's rule)",
                    field="output_padding",
                )
        pads = self.resolved_padding((h, w))
        out = []
        for axis, size in enumerate((h, w)):
            span = Q(self.kernel[axis])
            if self.dilation[axis] != 1:
                span = Q(self.dilation[axis]) * (span - 1) + 1
            full = (Q(size) - 1) * Q(self.stride[axis]) + span
            if self.output_padding[axis]:
                full = full + self.output_padding[axis]
            n = full
            for pad in pads[2 * axis : 2 * axis + 2]:
                n = n - pad if pad else n
            if n <= 0:
                raise LayerError(
                    f"output size {n} ≤ 0: padding {pads[2 * axis]}+{pads[2 * axis + 1]} "
                    f"crops away all the {full} {('rows', 'columns')[axis]} produced",
                    "use less padding",
                    field="padding",
                )
            out.append(n)
        return (out[0], out[1], self.filters)

    def params(self, inputs: Sequence[Shape]) -> int:
        weights = (
            Q(inputs[0][-1]) * _per_group(self.filters, self.groups) * _kernel_area(self.kernel)
        )
        return weights + self.filters if self.bias else weights

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """H_in·W_in·C_in·k_h·k_w·C_out/groups: every input pixel scatters a kernel."""
        h, w, c = spatial(inputs[0])
        return (
            Q(h) * Q(w) * Q(c) * _kernel_area(self.kernel) * _per_group(self.filters, self.groups)
        )

    def window(self, inputs: Sequence[Shape]) -> Window:
        h, w, _ = spatial(inputs[0])
        pads = self.resolved_padding((h, w))
        return Window(self.kernel, self.stride, self.dilation, (pads[0], pads[2]), transposed=True)
