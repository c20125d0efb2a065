"""Convolutions: `conv` and `conv_transpose`, in the input's spatial rank (1-D, 2-D, 3-D)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.derive import Q
from cnncalc.errors import LayerError
from cnncalc.fields import BOOL, NONNEG_AXES, PADDING, POSITIVE_AXES, POSITIVE_INT, Axes, Padding
from cnncalc.layers.base import (
    Op,
    Shape,
    Sizes,
    Window,
    param,
    per_axis,
    prod,
    register,
    resolve_padding,
    spatial,
    window_output,
)

AXIS_WORDS = ("rows", "columns")  # 2-D; other ranks say "along axis n"


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
    kernel: Axes = param(POSITIVE_AXES, "kernel size: k or [kh, kw]", aliases=("kernel_size",))
    stride: Axes = param(POSITIVE_AXES, "stride: s or [sh, sw]", default=1, aliases=("strides",))
    dilation: Axes = param(
        POSITIVE_AXES, "dilation: d or [dh, dw]", default=1, aliases=("dilation_rate",)
    )
    groups: int = param(POSITIVE_INT, "channel groups (= input channels: depthwise)", default=1)
    bias: bool = param(BOOL, "add a learnable bias per filter", default=True, aliases=("use_bias",))

    def axes(self, rank: int) -> tuple[Sizes, Sizes, Sizes]:
        """kernel, stride and dilation for an input of `rank` spatial axes."""
        return (
            per_axis(self.kernel, rank, "kernel"),
            per_axis(self.stride, rank, "stride"),
            per_axis(self.dilation, rank, "dilation"),
        )


@register
@dataclass(frozen=True, kw_only=True)
class Conv(_Convolution):
    kind = "conv"
    aliases = (
        "Conv2d",
        "Conv2D",
        "Convolution2D",
        "Conv1d",
        "Conv1D",
        "Convolution1D",
        "Conv3d",
        "Conv3D",
        "Convolution3D",
    )
    doc = "convolution in the input's rank (PyTorch Conv1d/2d/3d, Keras Conv1D/2D/3D)"

    padding: Padding = param(
        PADDING, "valid, same (TensorFlow), p, [ph, pw] or [t, b, l, r]", default=0
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        _check_groups(self.groups, shape[-1], self.filters)
        out, _ = window_output(shape[:-1], *self.axes(len(shape) - 1), self.padding)
        return (*out, self.filters)

    def params(self, inputs: Sequence[Shape]) -> int:
        kernel = per_axis(self.kernel, len(inputs[0]) - 1, "kernel")
        weights = prod(kernel) * _per_group(inputs[0][-1], self.groups) * self.filters
        return weights + self.filters if self.bias else weights

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """H_out·W_out·C_out·k_h·k_w·C_in/groups (one size and one k per spatial axis)."""
        kernel = per_axis(self.kernel, len(inputs[0]) - 1, "kernel")
        per_output = prod(kernel) * _per_group(inputs[0][-1], self.groups)
        return prod(output[:-1]) * Q(self.filters) * per_output

    def window(self, inputs: Sequence[Shape]) -> Window:
        shape = spatial(inputs[0])
        kernel, stride, dilation = self.axes(len(shape) - 1)
        _, pads = window_output(shape[:-1], kernel, stride, dilation, self.padding)
        return Window(kernel, stride, dilation, pads[::2])


def _per_group(channels: int, groups: int) -> int:
    """C/groups, shown as such in derivations only when there are groups."""
    if groups == 1:
        return Q(channels)
    return Q(channels // groups, f"({channels}/{groups})")


@register
@dataclass(frozen=True, kw_only=True)
class ConvTranspose(_Convolution):
    kind = "conv_transpose"
    aliases = (
        "ConvTranspose2d",
        "Conv2DTranspose",
        "Deconvolution2D",
        "ConvTranspose1d",
        "Conv1DTranspose",
        "ConvTranspose3d",
        "Conv3DTranspose",
    )
    doc = "transposed convolution in the input's rank (PyTorch ConvTranspose1d/2d/3d)"

    padding: Padding = param(
        PADDING,
        "cropped from the output: p, [ph, pw], [t, b, l, r]; valid = 0; same: output = input·s",
        default=0,
    )
    output_padding: Axes = param(
        NONNEG_AXES, "extra rows/columns added at the bottom/right", default=0
    )

    def resolved_padding(self, in_sizes: Sizes) -> Sizes:
        """(before, after) per axis cropped from the full transposed output — (t, b, l, r) in
        2-D; `same` gives input·stride."""
        rank = len(in_sizes)
        if self.padding != "same":
            return resolve_padding(self.padding, rank)
        kernel, stride, dilation = self.axes(rank)
        extra = per_axis(self.output_padding, rank, "output_padding")
        pads: list[int] = []
        for axis in range(rank):
            span = dilation[axis] * (kernel[axis] - 1) + 1
            full = (in_sizes[axis] - 1) * stride[axis] + span + extra[axis]
            excess = full - in_sizes[axis] * stride[axis]
            if excess < 0:
                raise LayerError(
                    "padding same needs kernel ≥ stride for conv_transpose",
                    "use an integer padding or output_padding",
                    field="padding",
                )
            pads.extend((excess // 2, excess - excess // 2))
        return tuple(pads)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        sizes, rank = shape[:-1], len(shape) - 1
        _check_groups(self.groups, shape[-1], self.filters)
        kernel, stride, dilation = self.axes(rank)
        extra = per_axis(self.output_padding, rank, "output_padding")
        for axis in range(rank):
            if extra[axis] >= max(stride[axis], dilation[axis]):
                raise LayerError(
                    f"output_padding {extra[axis]} must be smaller than the "
                    f"stride ({stride[axis]}) or the dilation ({dilation[axis]})",
                    "output_padding only picks among the sizes a strided transposed "
                    "convolution can produce (PyTorch's rule)",
                    field="output_padding",
                )
        pads = self.resolved_padding(sizes)
        out = []
        for axis, size in enumerate(sizes):
            span = Q(kernel[axis])
            if dilation[axis] != 1:
                span = Q(dilation[axis]) * (span - 1) + 1
            full = (Q(size) - 1) * Q(stride[axis]) + span
            if extra[axis]:
                full = full + extra[axis]
            n = full
            for pad in pads[2 * axis : 2 * axis + 2]:
                n = n - pad if pad else n
            if n <= 0:
                unit = AXIS_WORDS[axis] if rank == 2 else f"values along axis {axis}"
                raise LayerError(
                    f"output size {n} ≤ 0: padding {pads[2 * axis]}+{pads[2 * axis + 1]} "
                    f"crops away all the {full} {unit} produced",
                    "use less padding",
                    field="padding",
                )
            out.append(n)
        return (*out, self.filters)

    def params(self, inputs: Sequence[Shape]) -> int:
        kernel = per_axis(self.kernel, len(inputs[0]) - 1, "kernel")
        weights = Q(inputs[0][-1]) * _per_group(self.filters, self.groups) * prod(kernel)
        return weights + self.filters if self.bias else weights

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """H_in·W_in·C_in·k_h·k_w·C_out/groups: every input pixel scatters a kernel."""
        shape = spatial(inputs[0])
        kernel = per_axis(self.kernel, len(shape) - 1, "kernel")
        return prod(shape) * prod(kernel) * _per_group(self.filters, self.groups)

    def window(self, inputs: Sequence[Shape]) -> Window:
        shape = spatial(inputs[0])
        kernel, stride, dilation = self.axes(len(shape) - 1)
        pads = self.resolved_padding(shape[:-1])
        return Window(kernel, stride, dilation, pads[::2], transposed=True)
