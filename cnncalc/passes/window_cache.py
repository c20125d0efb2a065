"""A layer's window (kernel, stride, dilation, padding per axis), worked out once per distinct
layer and input within one pass: a long network repeats the same few layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cnncalc.layers import Op, Shape
from cnncalc.layers.base import Window

WindowOf = Callable[[Op, Sequence[Shape]], Window | None]


def window_memo() -> WindowOf:
    """`op.window(inputs)`, where equal ops (frozen dataclasses) on equal inputs share one
    answer; a new memo for each pass, so nothing outlives the network it was asked about."""
    seen: dict[tuple[Op, tuple[Shape, ...]], Window | None] = {}

    def window_of(op: Op, inputs: Sequence[Shape]) -> Window | None:
        key = (op, tuple(inputs))
        try:
            return seen[key]
        except KeyError:
            found = seen[key] = op.window(list(inputs))
            return found
        except TypeError:  # a field that is not hashable: work it out directly
            return op.window(list(inputs))

    return window_of
