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
from cnncalc.fields import Axes, FieldType, Padding

Shape = tuple[int, ...]  # (L, C), (H, W, C) or (D, H, W, C) for spatial tensors, (N,) flat
Sizes = tuple[int, ...]  # one value per spatial axis


def param(
    ftype: FieldType,
    doc: str,
    default: Any = dataclasses.MISSING,
    default_from: str | None = None,
    aliases: tuple[str, ...] = (),
) -> Any:
    """Declare a layer field: its type, its one-line doc, and its default (none: required).

    `default_from` names another field whose value is the default (pool stride = kernel);
    `aliases` are the frameworks' names for the field (`out_channels`, `kernel_size`).
    """
    meta = {"type": ftype, "doc": doc, "default_from": default_from, "aliases": aliases}
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
    aliases: tuple[str, ...] = ()


class Op:
    """Base of all layer kinds. Subclasses are `@dataclass(frozen=True, kw_only=True)`."""

    kind: ClassVar[str]
    doc: ClassVar[str]
    # what the frameworks call this kind (PyTorch, Keras, common abbreviations), read in any
    # case; declared per class, never inherited
    aliases: ClassVar[tuple[str, ...]] = ()
    # Keras' `activation:` field: an activation layer right after this one
    takes_activation: ClassVar[bool] = False
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
                    f.metadata["aliases"],
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
    """Sliding-window geometry, one value per spatial axis: what the receptive-field rules
    need."""

    kernel: Sizes
    stride: Sizes
    dilation: Sizes
    pad_before: Sizes  # top, left (as resolved for this input)
    transposed: bool = False  # conv_transpose: stride spreads the input apart
    whole_input: bool = False  # global pooling


KINDS: dict[str, type[Op]] = {}
KIND_NAMES: dict[str, str] = {}  # a kind or alias, lower-cased → the kind
OpT = TypeVar("OpT", bound=type[Op])


def register(cls: OpT) -> OpT:
    if cls.kind in KINDS:
        raise RuntimeError(f"layer kind {cls.kind!r} registered twice")
    KINDS[cls.kind] = cls
    for name in (cls.kind, *own_aliases(cls)):
        if KIND_NAMES.setdefault(name.lower(), cls.kind) != cls.kind:
            raise RuntimeError(f"{name!r} names two layer kinds")
    return cls


def own_aliases(cls: type[Op]) -> tuple[str, ...]:
    """The aliases `cls` itself declares (a subclass does not inherit its parent's)."""
    aliases: tuple[str, ...] = cls.__dict__.get("aliases", ())
    return aliases


def kind_named(word: str) -> str | None:
    """The kind that `word` names, as the kind itself or a framework alias, in any case."""
    return KIND_NAMES.get(word) or KIND_NAMES.get(word.lower())  # most are written lower-case


# --- shape helpers shared by the kinds -------------------------------------------------


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


def spatial(shape: Shape) -> Shape:
    """A spatial input (spatial axes..., C); a flat input is an error for spatial layers."""
    if len(shape) < 2:
        raise LayerError(
            f"needs an H×W×C input but gets a flat vector of {shape[0]}",
            "a spatial layer (conv, pooling, ...) cannot follow dense or flatten; "
            "move it before them",
            field="from",
        )
    return shape


def channels(shape: Shape) -> int:
    """Channels of a spatial tensor, or the length of a flat one."""
    return shape[-1]


def axis_words(rank: int) -> str:
    return "1 spatial axis" if rank == 1 else f"{rank} spatial axes"


def per_axis(value: Axes, rank: int, field: str) -> Sizes:
    """A field's value for each of the input's `rank` spatial axes (an int: all of them)."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        count = "1 value" if len(value) == 1 else f"{len(value)} values"
        raise LayerError(
            f"{field} has {count} but the input has {axis_words(rank)}",
            f"write one {field} for every axis, or a single number for all of them",
            field=field,
        )
    return value


def resolve_padding(padding: Padding, rank: int, field: str = "padding") -> Sizes:
    """Explicit padding as (before, after) per axis — (top, bottom, left, right) in 2-D — from
    an int, one value per axis or one pair per axis; "same" is resolved by `window_output`."""
    if isinstance(padding, int):
        return (padding,) * (2 * rank)
    if isinstance(padding, str):
        raise ValueError("same padding depends on the input size")
    if len(padding) == rank:
        return tuple(p for p in padding for _ in (0, 1))
    if len(padding) == 2 * rank:
        return padding
    raise LayerError(
        f"{field} has {len(padding)} values but the input has {axis_words(rank)}",
        f"write one value per axis ({rank}) or a (before, after) pair per axis ({2 * rank})",
        field=field,
    )


def same_padding(size: int, span: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME: output ceil(size/stride); extra padding goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def fmt_sizes(p: Sizes) -> str:
    """`3` when every axis is the same, else `3×5`."""
    return str(p[0]) if len(set(p)) == 1 else "×".join(str(v) for v in p)


def window_output(
    in_sizes: Sizes,
    kernel: Sizes,
    stride: Sizes,
    dilation: Sizes,
    padding: Padding,
    ceil_mode: bool = False,
) -> tuple[Sizes, Sizes]:
    """Output size of a sliding window (conv or pool) on each spatial axis, and the resolved
    (before, after) padding per axis — (t, b, l, r) in 2-D.

    floor((in + pads − span) / stride) + 1 with span = dilation·(kernel − 1) + 1; with
    ceil_mode the last window may start in the padding but not past it (PyTorch's rule).
    """
    rank = len(in_sizes)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    if padding == "same":
        same: list[int] = []
        for axis in range(rank):
            same += same_padding(in_sizes[axis], spans[axis], stride[axis])
        pads: Sizes = tuple(same)
    else:
        pads = resolve_padding(padding, rank)
    padded = [in_sizes[a] + pads[2 * a] + pads[2 * a + 1] for a in range(rank)]
    for axis in range(rank):
        if spans[axis] > padded[axis]:
            what = f"kernel {fmt_sizes(kernel)}"
            if any(d != 1 for d in dilation):
                what += f" with dilation {fmt_sizes(dilation)} spans {fmt_sizes(tuple(spans))}"
            where = f"its {'×'.join(map(str, in_sizes))} input"
            if tuple(padded) != tuple(in_sizes):
                where += f" (padded {'×'.join(map(str, padded))})"
            raise LayerError(
                f"{what} is larger than {where}",
                "use a smaller kernel, more padding, or a larger input",
            )
    out = []
    for axis in range(rank):
        size, step = Q(in_sizes[axis]), Q(stride[axis])
        span = Q(spans[axis])
        if dilation[axis] != 1:
            span = Q(dilation[axis]) * (Q(kernel[axis]) - 1) + 1
        extent = size
        for pad in pads[2 * axis : 2 * axis + 2]:
            extent = extent + pad if pad else extent
        if ceil_mode:
            n = ceil_div(extent - span, step) + 1
            if (n - 1) * step >= in_sizes[axis] + pads[2 * axis]:
                n = n - 1  # the last window would start in the padding
        else:
            n = floor_div(extent - span, step) + 1
        out.append(n)
    return tuple(out), pads


def prod(values: Sequence[int]) -> int:
    """The product, derived as `8·8·10`."""
    result = Q(values[0])
    for v in values[1:]:
        result = result * Q(v)
    return result
