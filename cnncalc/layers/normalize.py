"""Per-sample normalizations: `layernorm`, `groupnorm`, `instancenorm`, `l2norm`.

Unlike batchnorm they compute their statistics from the sample itself at inference, so
nothing folds into the weights. All work on the channel axis (the last one of the shape),
whatever the number of spatial axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.derive import Q
from cnncalc.errors import LayerError
from cnncalc.fields import BOOL, POSITIVE_INT, number_type
from cnncalc.layers.base import Op, Shape, Window, channels, param, register


# The statistics of groupnorm and instancenorm mix every position of the sample into every
# output: the data path's field is unchanged, but each unit depends on the whole input (as
# a squeeze-excitation gate makes it).
def statistics_window(shape: Shape) -> Window | None:
    """The whole-input window of per-sample statistics on a spatial input (any rank)."""
    if len(shape) < 2:
        return None
    ones = (1,) * (len(shape) - 1)
    return Window(ones, ones, ones, (0,) * len(ones), whole_input=True)


def _eps() -> float:
    value: float = param(
        number_type(0.0), "added to the variance", default=1e-5, aliases=("epsilon",)
    )
    return value


def needs_positions(kind: str, shape: Shape) -> None:
    """Statistics over the positions of one sample need positions: a flat input has none."""
    if len(shape) < 2:
        raise LayerError(
            f"needs a spatial input (its statistics are over positions) but gets a flat vector "
            f"of {shape[0]}",
            f"move {kind} before flatten and dense, or use layernorm on a flat vector",
            field="from",
        )


@register
@dataclass(frozen=True, kw_only=True)
class LayerNorm(Op):
    kind = "layernorm"
    aliases = ("LayerNorm", "LayerNormalization", "LayerNorm2d")
    doc = (
        "layer normalization over the channels at each position (ConvNeXt's channels-last "
        "LayerNorm): C weights + C biases"
    )
    eps: float = _eps()
    elementwise_affine: bool = param(BOOL, "learn a per-channel scale (and bias)", default=True)
    bias: bool = param(BOOL, "learn a per-channel bias (with elementwise_affine)", default=True)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]

    def params(self, inputs: Sequence[Shape]) -> int:
        if not self.elementwise_affine:
            return 0
        return Q(2) * Q(channels(inputs[0])) if self.bias else Q(channels(inputs[0]))


@register
@dataclass(frozen=True, kw_only=True)
class GroupNorm(Op):
    kind = "groupnorm"
    aliases = ("GroupNorm", "GroupNormalization")
    doc = "group normalization: statistics per sample over each group of channels and all positions"
    groups: int = param(POSITIVE_INT, "number of channel groups", aliases=("num_groups",))
    eps: float = _eps()
    affine: bool = param(BOOL, "learn a per-channel scale and bias (2·C)", default=True)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        c = channels(inputs[0])
        if c % self.groups:
            raise LayerError(
                f"groups {self.groups} does not divide the {c} input channels",
                "choose groups that divide the channels (32 for 64, 128, 256 ... channels)",
                field="groups",
            )
        return inputs[0]

    def params(self, inputs: Sequence[Shape]) -> int:
        return Q(2) * Q(channels(inputs[0])) if self.affine else 0

    def window(self, inputs: Sequence[Shape]) -> Window | None:
        return statistics_window(inputs[0])


@register
@dataclass(frozen=True, kw_only=True)
class InstanceNorm(Op):
    kind = "instancenorm"
    aliases = ("InstanceNorm2d", "InstanceNormalization")
    doc = "instance normalization: statistics per sample and channel over all positions"
    eps: float = _eps()
    momentum: float = param(number_type(0.0, 1.0), "running-statistics momentum", default=0.1)
    affine: bool = param(BOOL, "learn a per-channel scale and bias (2·C)", default=False)
    track_running_stats: bool = param(
        BOOL, "keep running mean and variance (2·C buffers), used at inference", default=False
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        needs_positions(self.kind, inputs[0])
        return inputs[0]

    def params(self, inputs: Sequence[Shape]) -> int:
        return Q(2) * Q(channels(inputs[0])) if self.affine else 0

    def buffers(self, inputs: Sequence[Shape]) -> int:
        return Q(2) * Q(channels(inputs[0])) if self.track_running_stats else 0

    def window(self, inputs: Sequence[Shape]) -> Window | None:
        """Running statistics (track_running_stats) are constants: then per position."""
        return None if self.track_running_stats else statistics_window(inputs[0])


@register
@dataclass(frozen=True, kw_only=True)
class L2Norm(Op):
    kind = "l2norm"
    aliases = ("UnitNormalization", "L2Normalization")
    doc = "x / max(‖x‖₂, eps) over the channels at each position (F.normalize)"
    eps: float = param(number_type(0.0), "lower bound of the norm", default=1e-12)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]
