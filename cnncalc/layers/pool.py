"""Pooling: `maxpool`, `avgpool`, `global_avgpool`, `global_maxpool`, adaptive pools."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

from cnncalc.errors import LayerError
from cnncalc.fields import BOOL, PADDING, POSITIVE_PAIR, Padding, Pair
from cnncalc.layers.base import Op, Shape, Window, param, register, spatial, window_output


@dataclass(frozen=True, kw_only=True)
class _WindowPool(Op):
    kernel: Pair = param(
        POSITIVE_PAIR, "window size: k or [kh, kw]", aliases=("kernel_size", "pool_size")
    )
    stride: Pair = param(
        POSITIVE_PAIR,
        "stride (default: the kernel size)",
        default_from="kernel",
        aliases=("strides",),
    )
    padding: Padding = param(
        PADDING, "valid, same (TensorFlow), p, [ph, pw] or [t, b, l, r]", default=(0, 0, 0, 0)
    )
    ceil_mode: bool = param(BOOL, "round the output size up (PyTorch ceil_mode)", default=False)

    @property
    def window_dilation(self) -> Pair:
        return (1, 1)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        h, w, c = spatial(inputs[0])
        if self.padding != "same":
            t, b, left, r = self.padding
            for pad, axis in ((t, 0), (b, 0), (left, 1), (r, 1)):
                kernel = self.kernel[axis]
                if pad > kernel // 2:  # PyTorch's rule, on the kernel size (not its dilated span)
                    raise LayerError(
                        f"padding {pad} is more than half the pooling kernel {kernel}",
                        f"PyTorch requires padding ≤ ⌊kernel/2⌋ for pooling: use at most "
                        f"{kernel // 2}",
                        field="padding",
                    )
        (oh, ow), _ = window_output(
            (h, w), self.kernel, self.stride, self.window_dilation, self.padding, self.ceil_mode
        )
        return (oh, ow, c)

    def window(self, inputs: Sequence[Shape]) -> Window:
        h, w, _ = spatial(inputs[0])
        _, pads = window_output(
            (h, w), self.kernel, self.stride, self.window_dilation, self.padding, self.ceil_mode
        )
        return Window(self.kernel, self.stride, self.window_dilation, (pads[0], pads[2]))


@register
@dataclass(frozen=True, kw_only=True)
class MaxPool(_WindowPool):
    kind = "maxpool"
    aliases = ("MaxPool2d", "MaxPooling2D", "MaxPool2D")
    doc = "max pooling (PyTorch MaxPool2d)"
    dilation: Pair = param(POSITIVE_PAIR, "dilation of the window", default=(1, 1))

    @property
    def window_dilation(self) -> Pair:
        return self.dilation


@register
@dataclass(frozen=True, kw_only=True)
class AvgPool(_WindowPool):
    kind = "avgpool"
    aliases = ("AvgPool2d", "AveragePooling2D", "AvgPool2D", "AveragePool")
    doc = "average pooling (PyTorch AvgPool2d)"
    count_include_pad: bool = param(
        BOOL, "average over padding zeros too (PyTorch default)", default=True
    )


@register
@dataclass(frozen=True, kw_only=True)
class GlobalAvgPool(Op):
    kind = "global_avgpool"
    aliases = ("GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalAvgPool")
    doc = "mean over H×W → 1×1×C"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (1, 1, spatial(inputs[0])[2])

    def window(self, inputs: Sequence[Shape]) -> Window:
        h, w, _ = spatial(inputs[0])
        return Window((h, w), (h, w), (1, 1), (0, 0), whole_input=True)


@register
@dataclass(frozen=True, kw_only=True)
class GlobalMaxPool(GlobalAvgPool):
    kind = "global_maxpool"
    aliases = ("GlobalMaxPooling2D", "GlobalMaxPool2D", "GlobalMaxPool")
    doc = "max over H×W → 1×1×C"


@register
@dataclass(frozen=True, kw_only=True)
class AdaptiveAvgPool(Op):
    kind = "adaptive_avgpool"
    aliases = ("AdaptiveAvgPool2d",)
    doc = "average pooling to a fixed output size (PyTorch AdaptiveAvgPool2d)"
    output: Pair = param(POSITIVE_PAIR, "output size: n or [h, w]", aliases=("output_size",))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (self.output[0], self.output[1], spatial(inputs[0])[2])

    def window(self, inputs: Sequence[Shape]) -> Window:
        """Exact when the output divides the input (then every bin is in/out wide); otherwise
        PyTorch's bins [⌊i·in/out⌋, ⌈(i+1)·in/out⌉) vary, and the widest bin is used."""
        h, w, _ = spatial(inputs[0])
        kernel = tuple(
            adaptive_bin(size, out) for size, out in zip((h, w), self.output, strict=True)
        )
        stride = tuple(max(size // out, 1) for size, out in zip((h, w), self.output, strict=True))
        return Window(
            (kernel[0], kernel[1]),
            (stride[0], stride[1]),
            (1, 1),
            (0, 0),
            whole_input=self.output == (1, 1),
        )


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
    aliases = ("AdaptiveMaxPool2d",)
    doc = "max pooling to a fixed output size (PyTorch AdaptiveMaxPool2d)"
