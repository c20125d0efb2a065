"""Normalization: `batchnorm`, `lrn`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.derive import Q
from cnncalc.fields import BOOL, POSITIVE_INT, number_type
from cnncalc.layers.base import Op, Shape, channels, param, register, spatial


@register
@dataclass(frozen=True, kw_only=True)
class BatchNorm(Op):
    kind = "batchnorm"
    aliases = ("BatchNorm2d", "BatchNormalization", "BatchNorm1d", "BatchNorm3d")
    doc = "batch normalization over channels: 2C learnable (γ, β) + 2C buffers (mean, var)"
    eps: float = param(
        number_type(0.0), "added to the variance", default=1e-5, aliases=("epsilon",)
    )
    momentum: float = param(number_type(0.0, 1.0), "running-statistics momentum", default=0.1)
    affine: bool = param(BOOL, "learn γ and β", default=True)
    scale: bool = param(BOOL, "learn γ (Keras; false: C fewer params)", default=True)
    center: bool = param(BOOL, "learn β (Keras; false: C fewer params)", default=True)

    @property
    def learned(self) -> int:
        """How many of γ and β are learned: 0, 1 or 2 per channel."""
        return int(self.affine) * (int(self.scale) + int(self.center))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]

    def params(self, inputs: Sequence[Shape]) -> int:
        if not self.learned:
            return 0
        c = Q(channels(inputs[0]))
        return Q(2) * c if self.learned == 2 else c

    def buffers(self, inputs: Sequence[Shape]) -> int:
        return Q(2) * Q(channels(inputs[0]))


@register
@dataclass(frozen=True, kw_only=True)
class LRN(Op):
    kind = "lrn"
    aliases = ("LocalResponseNorm", "LocalResponseNormalization")
    doc = "local response normalization across channels (AlexNet)"
    size: int = param(POSITIVE_INT, "number of neighbouring channels", default=5)
    alpha: float = param(number_type(), "scale", default=1e-4)
    beta: float = param(number_type(), "exponent", default=0.75)
    k: float = param(number_type(), "additive constant", default=1.0)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        spatial(inputs[0])
        return inputs[0]
