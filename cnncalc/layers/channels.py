"""Rearranging channels: `channel_shuffle` and `slice` (the parts of a spec's `split`).

Both act on the channel axis (the last one of the shape) at every position, so they work on
flat vectors too, and their receptive field is their input's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnncalc.errors import LayerError
from cnncalc.fields import NONNEG_INT, POSITIVE_INT, FieldType
from cnncalc.layers.base import Op, Shape, channels, param, register


def _or_null(ftype: FieldType) -> FieldType:
    """`ftype`, or null for the field's default (what a rendered spec writes)."""
    return FieldType(
        lambda value: None if value is None else ftype.convert(value),
        {"oneOf": [ftype.schema, {"type": "null"}]},
        f"{ftype.expects} (or null)",
    )


COUNT_OR_NULL = _or_null(POSITIVE_INT)


@register
@dataclass(frozen=True, kw_only=True)
class ChannelShuffle(Op):
    kind = "channel_shuffle"
    aliases = ("ChannelShuffle",)
    doc = "ShuffleNet's shuffle: C = g·n channels read as g×n, transposed to n×g"
    groups: int = param(POSITIVE_INT, "number of groups g (must divide C)")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        c = channels(inputs[0])
        if c % self.groups:
            raise LayerError(
                f"groups {self.groups} does not divide the {c} input channels",
                "choose groups that divide the channels",
                field="groups",
            )
        return inputs[0]


@register
@dataclass(frozen=True, kw_only=True)
class Slice(Op):
    kind = "slice"
    aliases = ("Narrow",)
    doc = (
        "channels [start, stop) (x[..., start:stop]); with parts: one of that many equal "
        "parts of them"
    )
    start: int = param(NONNEG_INT, "first channel", default=0)
    stop: int | None = param(COUNT_OR_NULL, "one past the last channel (default: C)", default=None)
    parts: int = param(POSITIVE_INT, "cut [start, stop) into this many equal parts", default=1)
    part: int = param(NONNEG_INT, "which of the parts (from 0)", default=0)
    total: int | None = param(
        COUNT_OR_NULL,
        "the input must have exactly this many channels (a split's sizes add up to C)",
        default=None,
    )

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = inputs[0]
        c = channels(shape)
        if self.total is not None and c != self.total:
            raise LayerError(
                f"the split sizes add up to {self.total} channels but its input has {c}",
                f"make the sizes add up to {c}",
                field="from",
            )
        stop = c if self.stop is None else self.stop
        if stop > c:
            raise LayerError(
                f"stop {stop} is past the {c} input channels",
                f"channels run from 0 to {c}: use stop ≤ {c}",
                field="stop",
            )
        if self.start >= stop:
            raise LayerError(
                f"start {self.start} is not before stop {stop}: no channels left",
                "a slice takes at least one channel: start < stop",
                field="start",
            )
        width = stop - self.start
        if width % self.parts:
            raise LayerError(
                f"{width} channels do not split into {self.parts} equal parts",
                f"use sizes instead of chunks, or a number of parts that divides {width}",
                field="parts",
            )
        if self.part >= self.parts:
            raise LayerError(
                f"part {self.part} does not exist: there are {self.parts} parts (0 … "
                f"{self.parts - 1})",
                field="part",
            )
        return (*shape[:-1], width // self.parts)

    def first_channel(self, c: int) -> int:
        """Where the slice starts in an input of `c` channels."""
        stop = c if self.stop is None else self.stop
        return self.start + self.part * ((stop - self.start) // self.parts)
