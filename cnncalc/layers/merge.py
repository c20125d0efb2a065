"""Merges of several inputs: `add`, `multiply`, `concat`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.errors import LayerError
from cnncalc.layers.base import Op, Shape, register


@dataclass(frozen=True, kw_only=True)
class Merge(Op):
    min_inputs = 2
    max_inputs = None


@register
@dataclass(frozen=True, kw_only=True)
class Add(Merge):
    kind = "add"
    aliases = ("Add",)
    doc = "element-wise sum of inputs of equal shape (residual connections)"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if any(s != inputs[0] for s in inputs):
            raise LayerError(
                "cannot add inputs of unequal shapes",
                "a residual branch needs a projection (1×1 conv) when its shape changes",
                field="from",
            )
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class Multiply(Merge):
    kind = "multiply"
    aliases = ("Multiply", "mul")
    doc = "element-wise product; a 1×1×C input broadcasts over H×W×C (squeeze-excitation)"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        out = max(inputs, key=lambda s: (len(s), math.prod(s[:-1]) if len(s) > 1 else 0))
        for s in inputs:
            gate = len(s) == len(out) > 1 and set(s[:-1]) == {1} and s[-1] == out[-1]
            if s == out or gate:
                continue
            raise LayerError(
                "cannot multiply inputs of these shapes",
                "multiply takes equal shapes, or 1×1×C against H×W×C",
                field="from",
            )
        return out


@register
@dataclass(frozen=True, kw_only=True)
class Concat(Merge):
    kind = "concat"
    aliases = ("Concatenate", "cat")
    doc = "concatenation along the channels (flat inputs: end to end)"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if all(len(s) == 1 for s in inputs):
            return (sum(s[0] for s in inputs),)
        if any(len(s) == 1 for s in inputs):
            raise LayerError(
                "cannot concatenate flat vectors with H×W×C tensors",
                "flatten the H×W×C inputs first, or concatenate before dense",
                field="from",
            )
        if any(s[:-1] != inputs[0][:-1] for s in inputs):
            raise LayerError(
                "cannot concatenate inputs of unequal H×W",
                "concat joins channels; all inputs need the same height and width",
                field="from",
            )
        return (*inputs[0][:-1], sum(s[-1] for s in inputs))
