"""What every layer kind is: a frozen dataclass of its fields plus its rules.

A kind subclasses `Op`, declares its fields with `param(...)` and is listed with `@register`.
Its rules (output shape, parameters, buffers, ...) are methods that take the input shapes,
so the passes in `cnncalc.passes` only walk the graph and call them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from cnncalc.derive import Q, ceil_div, floor_div
from cnncalc.errors import LayerError
from cnncalc.fields import FieldType, Padding, Pair

Shape = tuple[int, ...]  # (H, W, C) for spatial tensors, (N,) for flat ones


def param(
    ftype: FieldType,
    doc: str,
    default: Any = dataclasses.MISSING,
    default_from: str | None = None,
) -> Any:
    """Declare a layer field: its type, its one-line doc, and its default (none: required).

    `default_from` names another field whose value is the default (pool stride = kernel).
    """
    meta = {"type": ftype, "doc": doc, "default_from": default_from}
    if default_from is not None:
        default = None
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    name: str
    ftype: FieldType
    doc: str
    required: bool
    default: Any
    default_from: str | None


class Op:
    """Base of all layer kinds. Subclasses are `@dataclass(frozen=True, kw_only=True)`."""

    kind: ClassVar[str]
    doc: ClassVar[str]
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1

    @classmethod
    def fields(cls) -> list[FieldInfo]:
        out = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            required = f.default is dataclasses.MISSING and f.metadata["default_from"] is None
            out.append(
                FieldInfo(
                    f.name,
                    f.metadata["type"],
                    f.metadata["doc"],
                    required,
                    None if required else f.default,
                    f.metadata["default_from"],
                )
            )
        return out

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        raise NotImplementedError

    def params(self, inputs: Sequence[Shape]) -> int:
        """Learnable weights, as PyTorch's sum(p.numel())."""
        return 0

    def buffers(self, inputs: Sequence[Shape]) -> int:
        """Non-learnable state saved with the model (BatchNorm running statistics)."""
        return 0

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """Multiply-accumulates of the weights (conv, conv_transpose, dense); 0 for the rest."""
        return 0

    def window(self, inputs: Sequence[Shape]) -> Window | None:
        """The spatial window each output unit sees, for the receptive field; None: pointwise
        (the output unit sees the same position of its input)."""
        return None


@dataclasses.dataclass(frozen=True)
class Window:
    """Sliding-window geometry per axis (h, w): what the receptive-field rules need."""

    kernel: Pair
    stride: Pair
    dilation: Pair
    pad_before: Pair  # top, left (as resolved for this input)
    transposed: bool = False  # conv_transpose: stride spreads the input apart
    whole_input: bool = False  # global pooling


KINDS: dict[str, type[Op]] = {}
OpT = TypeVar("OpT", bound=type[Op])


def register(cls: OpT) -> OpT:
    if cls.kind in KINDS:
        raise RuntimeError(f"layer kind {cls.kind!r} registered twice")
    KINDS[cls.kind] = cls
    return cls


# --- shape helpers shared by the kinds -------------------------------------------------


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


def spatial(shape: Shape) -> tuple[int, int, int]:
    """The (H, W, C) of a spatial input; a flat input is an error for spatial layers."""
    if len(shape) != 3:
        raise LayerError(
            f"needs an H×W×C input but gets a flat vector of {shape[0]}",
            "a spatial layer (conv, pooling, ...) cannot follow dense or flatten; "
            "move it before them",
            field="from",
        )
    return shape[0], shape[1], shape[2]


def channels(shape: Shape) -> int:
    """Channels of a spatial tensor, or the length of a flat one."""
    return shape[-1]


def same_padding(size: int, span: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME: output ceil(size/stride); extra padding goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _fmt_pair(p: Pair) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"


def window_output(
    in_hw: tuple[int, int],
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    padding: Padding,
    ceil_mode: bool = False,
) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """Output H×W of a sliding window (conv or pool) and the resolved (t, b, l, r) padding.

    floor((in + pads − span) / stride) + 1 with span = dilation·(kernel − 1) + 1; with
    ceil_mode the last window may start in the padding but not past it (PyTorch's rule).
    """
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if padding == "same":
        pads: tuple[int, int, int, int] = (
            *same_padding(in_hw[0], spans[0], stride[0]),
            *same_padding(in_hw[1], spans[1], stride[1]),
        )
    else:
        pads = padding
    padded = (in_hw[0] + pads[0] + pads[1], in_hw[1] + pads[2] + pads[3])
    if spans[0] > padded[0] or spans[1] > padded[1]:
        what = f"kernel {_fmt_pair(kernel)}"
        if dilation != (1, 1):
            what += f" with dilation {_fmt_pair(dilation)} spans {_fmt_pair((spans[0], spans[1]))}"
        where = f"its {in_hw[0]}×{in_hw[1]} input"
        if padded != in_hw:
            where += f" (padded {padded[0]}×{padded[1]})"
        raise LayerError(
            f"{what} is larger than {where}",
            "use a smaller kernel, more padding, or a larger input",
        )
    out = []
    for axis in range(2):
        size, step = Q(in_hw[axis]), Q(stride[axis])
        span = Q(spans[axis])
        if dilation[axis] != 1:
            span = Q(dilation[axis]) * (Q(kernel[axis]) - 1) + 1
        extent = size
        for pad in pads[2 * axis : 2 * axis + 2]:
            extent = extent + pad if pad else extent
        if ceil_mode:
            n = ceil_div(extent - span, step) + 1
            if (n - 1) * step >= in_hw[axis] + pads[2 * axis]:
                n = n - 1  # the last window would start in the padding
        else:
            n = floor_div(extent - span, step) + 1
        out.append(n)
    return (out[0], out[1]), pads


def prod(values: Sequence[int]) -> int:
    """The product, derived as `8·8·10`."""
    result = Q(values[0])
    for v in values[1:]:
        result = result * Q(v)
    return result
