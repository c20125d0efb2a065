"""Element-wise activations; all keep the shape, only `prelu` has parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.derive import Q
from cnncalc.fields import BOOL, choice_type, number_type
from cnncalc.layers.base import Op, Shape, channels, param, register


@dataclass(frozen=True, kw_only=True)
class Activation(Op):
    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class ReLU(Activation):
    kind = "relu"
    aliases = ("ReLU",)
    doc = "max(0, x)"


@register
@dataclass(frozen=True, kw_only=True)
class ReLU6(Activation):
    kind = "relu6"
    aliases = ("ReLU6",)
    doc = "min(max(0, x), 6)"


@register
@dataclass(frozen=True, kw_only=True)
class LeakyReLU(Activation):
    kind = "leaky_relu"
    aliases = ("LeakyReLU",)
    doc = "x if x > 0 else slope·x"
    negative_slope: float = param(number_type(), "slope for x < 0", default=0.01)


@register
@dataclass(frozen=True, kw_only=True)
class ELU(Activation):
    kind = "elu"
    aliases = ("ELU",)
    doc = "x if x > 0 else α·(eˣ − 1)"
    alpha: float = param(number_type(), "α", default=1.0)


@register
@dataclass(frozen=True, kw_only=True)
class GELU(Activation):
    kind = "gelu"
    aliases = ("GELU",)
    doc = "x·Φ(x)"
    approximate: str = param(choice_type("none", "tanh"), "tanh approximation", default="none")


@register
@dataclass(frozen=True, kw_only=True)
class Sigmoid(Activation):
    kind = "sigmoid"
    aliases = ("Sigmoid",)
    doc = "1 / (1 + e⁻ˣ)"


@register
@dataclass(frozen=True, kw_only=True)
class Tanh(Activation):
    kind = "tanh"
    aliases = ("Tanh",)
    doc = "tanh(x)"


@register
@dataclass(frozen=True, kw_only=True)
class SiLU(Activation):
    kind = "silu"
    aliases = ("SiLU", "Swish")
    doc = "x·sigmoid(x) (swish)"


@register
@dataclass(frozen=True, kw_only=True)
class Hardswish(Activation):
    kind = "hardswish"
    aliases = ("Hardswish", "hard_swish")
    doc = "x·relu6(x + 3)/6"


@register
@dataclass(frozen=True, kw_only=True)
class Hardsigmoid(Activation):
    kind = "hardsigmoid"
    aliases = ("Hardsigmoid", "hard_sigmoid")
    doc = "relu6(x + 3)/6"


@register
@dataclass(frozen=True, kw_only=True)
class Softmax(Activation):
    kind = "softmax"
    aliases = ("Softmax",)
    doc = "softmax over the channels (the last axis)"


@register
@dataclass(frozen=True, kw_only=True)
class PReLU(Activation):
    kind = "prelu"
    aliases = ("PReLU",)
    doc = "leaky ReLU with a learned slope per channel (C params)"
    per_channel: bool = param(
        BOOL, "one slope per channel; false: one shared slope (1 param)", default=True
    )

    def params(self, inputs: Sequence[Shape]) -> int:
        return Q(channels(inputs[0])) if self.per_channel else 1
