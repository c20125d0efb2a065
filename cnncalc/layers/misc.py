"""Per-position odds and ends: `identity`, `stochastic_depth`, `layer_scale`, `scale`,
`standardize`, and `mean` over chosen axes.

Every kind here but `mean` keeps the shape and its receptive field is its input's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnncalc.derive import Q
from cnncalc.errors import LayerError
from cnncalc.fields import BOOL, FieldType, choice_type, describe, number_type
from cnncalc.layers.base import Op, Shape, Window, channels, param, register


@register
@dataclass(frozen=True, kw_only=True)
class Identity(Op):
    kind = "identity"
    aliases = ("Identity",)
    doc = "the input unchanged (a placeholder, nn.Identity)"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class StochasticDepth(Op):
    kind = "stochastic_depth"
    aliases = ("StochasticDepth", "DropPath")
    doc = "drops a residual branch in training (torchvision StochasticDepth); identity at inference"
    rate: float = param(
        number_type(0.0, 1.0), "probability of dropping the branch", default=0.0, aliases=("p",)
    )
    mode: str = param(
        choice_type("row", "batch"), "row: per sample; batch: the whole batch", default="row"
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class LayerScale(Op):
    kind = "layer_scale"
    aliases = ("LayerScale",)
    doc = "x·γ with a learnable γ per channel (CaiT, ConvNeXt): C params"
    init: float = param(number_type(), "initial value of γ", default=1e-6, aliases=("init_values",))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]

    def params(self, inputs: Sequence[Shape]) -> int:
        return Q(channels(inputs[0]))


@register
@dataclass(frozen=True, kw_only=True)
class Scale(Op):
    kind = "scale"
    aliases = ("Rescaling",)
    doc = "x·factor + offset, constants (no params): `x * 0.5`, `x + 3.0`, Keras' Rescaling"
    factor: float = param(number_type(), "the constant factor", default=1.0, aliases=("scale",))
    offset: float = param(number_type(), "the constant added after", default=0.0)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class Standardize(Op):
    kind = "standardize"
    aliases = ("Normalization", "Normalize")
    doc = "(x − mean) / √variance per channel, fixed statistics (Keras' Normalization): no params"
    adapted: bool = param(
        BOOL,
        "mean, variance and count learned by Keras' adapt(): 2·C + 1 buffers (false: constants)",
        default=False,
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]

    def buffers(self, inputs: Sequence[Shape]) -> int:
        return Q(2) * Q(channels(inputs[0])) + Q(1) if self.adapted else 0


Axis = int | str  # an index into the shape (negative from the end), or `spatial`/`channels`
AXIS_WORDS = ("spatial", "channels")


def _axes(value: Any) -> tuple[Axis, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[Axis] = []
    for item in items:
        if isinstance(item, str) and item in AXIS_WORDS:
            out.append(item)
        elif isinstance(item, int) and not isinstance(item, bool) and -64 <= item < 64:
            out.append(int(item))
        else:
            raise LayerError(
                f"expects axes: spatial, channels or axis numbers, got {describe(value)}",
                "write e.g. `axes: [spatial]`, `axes: [channels]` or `axes: [0, 1]` "
                "(0 is the first axis of H×W×C; −1 the channels)",
            )
    if not out:
        raise LayerError("expects at least one axis, got []", "write e.g. `axes: [spatial]`")
    return tuple(out)


_AXIS_NUMBER = {"type": "integer", "minimum": -64, "maximum": 63}
_AXIS_WORD = {"enum": list(AXIS_WORDS)}
AXES = FieldType(
    _axes,
    {
        "oneOf": [
            _AXIS_NUMBER,
            _AXIS_WORD,
            {"type": "array", "items": {"anyOf": [_AXIS_NUMBER, _AXIS_WORD]}, "minItems": 1},
        ]
    },
    "spatial, channels, an axis number, or a list of these",
)


@register
@dataclass(frozen=True, kw_only=True)
class Mean(Op):
    kind = "mean"
    aliases = ("ReduceMean",)
    doc = (
        "mean over the chosen axes: spatial (all of them), channels, or axis numbers of the "
        "shape without the batch"
    )
    axes: tuple[Axis, ...] = param(AXES, "the axes averaged over", aliases=("dim", "axis"))
    keepdims: bool = param(BOOL, "keep them with size 1", default=False, aliases=("keepdim",))

    def reduced(self, shape: Shape) -> tuple[int, ...]:
        """The axes of `shape` averaged over, sorted."""
        rank = len(shape)
        out: set[int] = set()
        for axis in self.axes:
            if axis == "spatial":
                out.update(range(rank - 1))
            elif axis == "channels":
                out.add(rank - 1)
            elif isinstance(axis, int):
                if not -rank <= axis < rank:
                    raise LayerError(
                        f"axis {axis} does not exist in its {rank}-axis input",
                        f"axes run from 0 to {rank - 1} (−1: the channels)",
                        field="axes",
                    )
                out.add(axis % rank)
        return tuple(sorted(out))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = inputs[0]
        reduced = self.reduced(shape)
        if self.keepdims:
            return tuple(1 if i in reduced else d for i, d in enumerate(shape))
        if len(shape) > 1 and reduced == tuple(range(len(shape) - 1)):
            return (shape[-1],)  # every spatial axis: a flat vector of channels
        raise LayerError(
            "a mean over these axes without keepdims leaves a shape that is neither "
            "spatial×channels nor flat",
            "add `keepdims: true`, or average over all the spatial axes (`axes: [spatial]`)",
            field="axes",
        )

    def window(self, inputs: Sequence[Shape]) -> Window | None:
        """Averaging spatial axes is a window as wide as each of them (global pooling when it
        is all of them)."""
        shape = inputs[0]
        reduced = [a for a in self.reduced(shape) if a < len(shape) - 1]
        rank = len(shape) - 1
        if not reduced or rank < 1:
            return None
        kernel = tuple(shape[a] if a in reduced else 1 for a in range(rank))
        ones = (1,) * rank
        return Window(kernel, kernel, ones, (0,) * rank, whole_input=len(reduced) == rank)
