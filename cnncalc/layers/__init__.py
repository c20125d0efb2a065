"""The layer kinds. Importing this package registers every kind in `KINDS`."""

from cnncalc.layers import activation, conv, dense, merge, norm, opaque, pool
from cnncalc.layers.base import KINDS, Op, Shape, fmt_shape

__all__ = [
    "KINDS",
    "Op",
    "Shape",
    "activation",
    "conv",
    "dense",
    "fmt_shape",
    "merge",
    "norm",
    "opaque",
    "pool",
]
