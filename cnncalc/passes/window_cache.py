"""A layer's window (kernel, stride, dilation, padding per axis), worked out once per distinct
layer and input: the receptive-field pass, the unseen-rows warning and the rf view all ask
for it, and a long network repeats the same few layers."""

from __future__ import annotations

from functools import lru_cache

from cnncalc.layers import Op, Shape
from cnncalc.layers.base import Window


@lru_cache(maxsize=4096)
def _window(op: Op, inputs: tuple[Shape, ...]) -> Window | None:
    return op.window(list(inputs))


def window_of(op: Op, inputs: list[Shape] | tuple[Shape, ...]) -> Window | None:
    """`op.window(inputs)`; equal ops (frozen dataclasses) on equal inputs share one answer."""
    try:
        return _window(op, tuple(inputs))
    except TypeError:  # a field that is not hashable: work it out directly
        return op.window(list(inputs))
