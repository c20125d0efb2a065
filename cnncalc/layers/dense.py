"""Fully connected and reshaping layers: `dense`, `flatten`, `dropout`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.derive import Q
from cnncalc.fields import BOOL, POSITIVE_INT, number_type
from cnncalc.layers.base import Op, Shape, param, prod, register


@register
@dataclass(frozen=True, kw_only=True)
class Dense(Op):
    kind = "dense"
    aliases = ("Linear", "fc")
    takes_activation = True
    doc = (
        "fully connected layer (PyTorch Linear); flattens an H×W×C input first, or with "
        "per_position maps the channels at every position"
    )
    units: int = param(POSITIVE_INT, "number of outputs", aliases=("out_features",))
    bias: bool = param(BOOL, "add a learnable bias per output", default=True, aliases=("use_bias",))
    per_position: bool = param(
        BOOL,
        "apply to the channels at every position (H×W×C → H×W×units; ConvNeXt's Linear "
        "after a permute, a 1×1 conv) instead of flattening",
        default=False,
    )

    def features(self, shape: Shape) -> int:
        """The inputs of one output unit: the channels (per_position), or every element."""
        return shape[-1] if self.per_position else prod(shape)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if self.per_position:
            return (*inputs[0][:-1], self.units)
        return (self.units,)

    def params(self, inputs: Sequence[Shape]) -> int:
        weights = Q(self.features(inputs[0])) * Q(self.units)
        return weights + self.units if self.bias else weights

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        """inputs·units, at every position (per_position)."""
        macs = Q(self.features(inputs[0])) * Q(self.units)
        if self.per_position and len(output) > 1:
            macs = prod(output[:-1]) * macs
        return macs


@register
@dataclass(frozen=True, kw_only=True)
class Flatten(Op):
    kind = "flatten"
    aliases = ("Flatten",)
    doc = "H×W×C → H·W·C"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (prod(inputs[0]),)


@register
@dataclass(frozen=True, kw_only=True)
class Dropout(Op):
    kind = "dropout"
    aliases = ("Dropout",)
    doc = "dropout (identity at inference)"
    rate: float = param(
        number_type(0.0, 1.0), "fraction of units dropped in training", default=0.5, aliases=("p",)
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]
