"""Pooling: `maxpool`, `avgpool`, `global_avgpool`, `global_maxpool`, adaptive pools, in the
input's spatial rank (1-D, 2-D, 3-D)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

from cnncalc.errors import LayerError
from cnncalc.fields import BOOL, PADDING, POSITIVE_AXES, Axes, Padding
from cnncalc.layers.base import (
    Op,
    Shape,
    Sizes,
    Window,
    param,
    per_axis,
    register,
    resolve_padding,
    spatial,
    window_output,
)


@dataclass(frozen=True, kw_only=True)
class _WindowPool(Op):
    kernel: Axes = param(
        POSITIVE_AXES, "window size: k or [kh, kw]", aliases=("kernel_size", "pool_size")
    )
    stride: Axes = param(
        POSITIVE_AXES,
        "stride (default: the kernel size)",
        default_from="kernel",
        aliases=("strides",),
    )
    padding: Padding = param(
        PADDING, "valid, same (TensorFlow), p, [ph, pw] or [t, b, l, r]", default=0
    )
    ceil_mode: bool = param(BOOL, "round the output size up (PyTorch ceil_mode)", default=False)

    @property
    def window_dilation(self) -> Axes:
        return 1

    def axes(self, rank: int) -> tuple[Sizes, Sizes, Sizes]:
        """kernel, stride and dilation for an input of `rank` spatial axes."""
        return (
            per_axis(self.kernel, rank, "kernel"),
            per_axis(self.stride, rank, "stride"),
            per_axis(self.window_dilation, rank, "dilation"),
        )

    def _geometry(self, inputs: Sequence[Shape]) -> tuple[Sizes, Window]:
        shape = spatial(inputs[0])
        kernel, stride, dilation = self.axes(len(shape) - 1)
        out, pads = window_output(
            shape[:-1], kernel, stride, dilation, self.padding, self.ceil_mode
        )
        return out, Window(kernel, stride, dilation, pads[::2])

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        rank = len(shape) - 1
        if self.padding != "same":
            kernel = per_axis(self.kernel, rank, "kernel")
            pads = resolve_padding(self.padding, rank)
            for index, pad in enumerate(pads):
                size = kernel[index // 2]
                if pad > size // 2:  # PyTorch's rule, on the kernel size (not its dilated span)
                    raise LayerError(
                        f"padding {pad} is more than half the pooling kernel {size}",
                        f"PyTorch requires padding ≤ ⌊kernel/2⌋ for pooling: use at most "
                        f"{size // 2}",
                        field="padding",
                    )
        out, _ = self._geometry(inputs)
        return (*out, shape[-1])

    def window(self, inputs: Sequence[Shape]) -> Window:
        return self._geometry(inputs)[1]


@register
@dataclass(frozen=True, kw_only=True)
class MaxPool(_WindowPool):
    kind = "maxpool"
    aliases = (
        "MaxPool2d",
        "MaxPooling2D",
        "MaxPool2D",
        "MaxPool1d",
        "MaxPooling1D",
        "MaxPool3d",
        "MaxPooling3D",
    )
    doc = "max pooling in the input's rank (PyTorch MaxPool1d/2d/3d)"
    dilation: Axes = param(POSITIVE_AXES, "dilation of the window", default=1)

    @property
    def window_dilation(self) -> Axes:
        return self.dilation


@register
@dataclass(frozen=True, kw_only=True)
class AvgPool(_WindowPool):
    kind = "avgpool"
    aliases = (
        "AvgPool2d",
        "AveragePooling2D",
        "AvgPool2D",
        "AveragePool",
        "AvgPool1d",
        "AveragePooling1D",
        "AvgPool3d",
        "AveragePooling3D",
    )
    doc = "average pooling in the input's rank (PyTorch AvgPool1d/2d/3d)"
    count_include_pad: bool = param(
        BOOL, "average over padding zeros too (PyTorch default)", default=True
    )


@register
@dataclass(frozen=True, kw_only=True)
class GlobalAvgPool(Op):
    kind = "global_avgpool"
    aliases = (
        "GlobalAveragePooling2D",
        "GlobalAvgPool2D",
        "GlobalAvgPool",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling3D",
    )
    doc = "mean over the spatial axes (H×W) → 1×1×C, or C with `keepdims: false` (as Keras)"
    keepdims: bool = param(
        BOOL,
        "keep the spatial axes with size 1 (PyTorch, ONNX); false: a flat vector of C (Keras)",
        default=True,
        aliases=("keepdim",),
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        if not self.keepdims:
            return (shape[-1],)
        return (*(1 for _ in shape[:-1]), shape[-1])

    def window(self, inputs: Sequence[Shape]) -> Window:
        sizes = spatial(inputs[0])[:-1]
        ones = (1,) * len(sizes)
        return Window(sizes, sizes, ones, (0,) * len(sizes), whole_input=True)


@register
@dataclass(frozen=True, kw_only=True)
class GlobalMaxPool(GlobalAvgPool):
    kind = "global_maxpool"
    aliases = (
        "GlobalMaxPooling2D",
        "GlobalMaxPool2D",
        "GlobalMaxPool",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling3D",
    )
    doc = "max over the spatial axes (H×W) → 1×1×C, or C with `keepdims: false` (as Keras)"


@register
@dataclass(frozen=True, kw_only=True)
class AdaptiveAvgPool(Op):
    kind = "adaptive_avgpool"
    aliases = ("AdaptiveAvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool3d")
    doc = "average pooling to a fixed output size (PyTorch AdaptiveAvgPool1d/2d/3d)"
    output: Axes = param(POSITIVE_AXES, "output size: n or [h, w]", aliases=("output_size",))

    def sizes(self, rank: int) -> Sizes:
        """The output size on each of `rank` spatial axes."""
        return per_axis(self.output, rank, "output")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        return (*self.sizes(len(shape) - 1), shape[-1])

    def window(self, inputs: Sequence[Shape]) -> Window:
        """Exact when the output divides the input (then every bin is in/out wide); otherwise
        PyTorch's bins [⌊i·in/out⌋, ⌈(i+1)·in/out⌉) vary, and the widest bin is used."""
        sizes = spatial(inputs[0])[:-1]
        output = self.sizes(len(sizes))
        kernel = tuple(adaptive_bin(size, out) for size, out in zip(sizes, output, strict=True))
        stride = tuple(max(size // out, 1) for size, out in zip(sizes, output, strict=True))
        ones = (1,) * len(sizes)
        return Window(kernel, stride, ones, (0,) * len(sizes), whole_input=output == ones)


def adaptive_bin(size: int, out: int) -> int:
    """The widest of PyTorch's adaptive-pooling bins [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) along
    one axis: bin i is ⌈((i·size mod out) + size)/out⌉ wide, and i·size mod out reaches
    out − gcd(size, out)."""
    return -(-(out - gcd(size, out) + size) // out)


def adaptive_bins_total(size: int, out: int) -> int:
    """The widths of all `out` adaptive-pooling bins summed: size + out − gcd(size, out) (the
    bins overlap by one wherever a boundary falls inside an input cell)."""
    return size + out - gcd(size, out)


@register
@dataclass(frozen=True, kw_only=True)
class AdaptiveMaxPool(AdaptiveAvgPool):
    kind = "adaptive_maxpool"
    aliases = ("AdaptiveMaxPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool3d")
    doc = "max pooling to a fixed output size (PyTorch AdaptiveMaxPool1d/2d/3d)"
