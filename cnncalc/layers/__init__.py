"""The layer kinds. Importing this package registers every kind in `KINDS`."""

from cnncalc.layers import (
    activation,
    activation_more,
    channels,
    conv,
    dense,
    merge,
    misc,
    norm,
    normalize,
    opaque,
    pool,
    resample,
)
from cnncalc.layers.base import KINDS, Op, Shape, fmt_shape

__all__ = [
    "KINDS",
    "Op",
    "Shape",
    "activation",
    "activation_more",
    "channels",
    "conv",
    "dense",
    "fmt_shape",
    "merge",
    "misc",
    "norm",
    "normalize",
    "opaque",
    "pool",
    "resample",
]
