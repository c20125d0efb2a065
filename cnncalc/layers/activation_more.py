"""More element-wise activations (`mish`, `hardtanh`, `selu`, `celu`, `softplus`,
`log_softmax`) and `glu`, which halves the channels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.errors import LayerError
from cnncalc.fields import number_type
from cnncalc.layers.activation import Activation
from cnncalc.layers.base import Shape, channels, param, register


@register
@dataclass(frozen=True, kw_only=True)
class Mish(Activation):
    kind = "mish"
    aliases = ("Mish",)
    doc = "x·tanh(softplus(x))"


@register
@dataclass(frozen=True, kw_only=True)
class Hardtanh(Activation):
    kind = "hardtanh"
    aliases = ("Hardtanh",)
    doc = "x clipped to [min, max]"
    min: float = param(number_type(), "lower bound", default=-1.0, aliases=("min_val",))
    max: float = param(number_type(), "upper bound", default=1.0, aliases=("max_val",))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if self.max <= self.min:
            raise LayerError(
                f"max {self.max:g} is not above min {self.min:g}",
                "hardtanh clips to [min, max] with min < max",
                field="max",
            )
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class SELU(Activation):
    kind = "selu"
    aliases = ("SELU",)
    doc = "λ·elu(x, α) with λ ≈ 1.0507, α ≈ 1.6733 (self-normalizing)"


@register
@dataclass(frozen=True, kw_only=True)
class CELU(Activation):
    kind = "celu"
    aliases = ("CELU",)
    doc = "max(0, x) + min(0, α·(e^(x/α) − 1))"
    alpha: float = param(number_type(), "α (not 0)", default=1.0)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if self.alpha == 0:
            raise LayerError("alpha 0 divides by zero", "use a nonzero alpha", field="alpha")
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class Softplus(Activation):
    kind = "softplus"
    aliases = ("Softplus",)
    doc = "log(1 + e^(β·x))/β, x itself where β·x > threshold"
    beta: float = param(number_type(), "β (not 0)", default=1.0)
    threshold: float = param(number_type(), "linear above this β·x", default=20.0)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if self.beta == 0:
            raise LayerError("beta 0 divides by zero", "use a nonzero beta", field="beta")
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class LogSoftmax(Activation):
    kind = "log_softmax"
    aliases = ("LogSoftmax",)
    doc = "log of softmax over the channels (the last axis)"


@register
@dataclass(frozen=True, kw_only=True)
class GLU(Activation):
    kind = "glu"
    aliases = ("GLU",)
    doc = "gated linear unit: the first half of the channels times sigmoid of the second (C/2)"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        c = channels(inputs[0])
        if c % 2:
            raise LayerError(
                f"halves the channels, but its input has an odd number ({c})",
                "give glu an even number of channels (the gate is the second half)",
                field="from",
            )
        return (*inputs[0][:-1], c // 2)
