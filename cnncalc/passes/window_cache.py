"""A layer's window (kernel, stride, dilation, padding per axis), worked out once per op object
and input shapes within one pass: a long network repeats the same few layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cnncalc.layers import Op, Shape
from cnncalc.layers.base import Window

WindowOf = Callable[[Op, Sequence[Shape]], Window | None]


def window_memo() -> WindowOf:
    """`op.window(inputs)`, where one op object (equal layers share one, see spec.expand) on
    equal inputs has one answer. Keyed by the op's id, not by its fields (hashing a frozen
    dataclass hashes every field, each time); the memo keeps the op, so its id stays its own.
    A new memo for each pass, so nothing outlives the network it was asked about."""
    seen: dict[tuple[int, tuple[Shape, ...]], tuple[Op, Window | None]] = {}

    def window_of(op: Op, inputs: Sequence[Shape]) -> Window | None:
        key = (id(op), tuple(inputs))
        found = seen.get(key)
        if found is None:
            found = seen[key] = (op, op.window(list(inputs)))
        return found[1]

    return window_of
