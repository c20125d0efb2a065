"""One small NumPy function per layer kind: the reference forward pass.

Tensors are channels-last float32 (N×H×W×C, the IR's H×W×C with a batch in front; N×L×C
and N×D×H×W×C in 1-D and 3-D; flat tensors N×L).
Values follow PyTorch: conv and pooling windows as Conv2d/MaxPool2d/AvgPool2d (ceil_mode,
count_include_pad), adaptive pooling bins [⌊i·in/out⌋, ⌈(i+1)·in/out⌉), `same` padding as
TensorFlow's SAME (the odd pixel after), conv_transpose `padding` cropped from the full output
and `output_padding` added at the bottom/right.

Nothing here reads the analytic rules: padding, ceil-mode overhang and output sizes are worked
out again in `windows`, and every output size is whatever the arrays come out as. Convolutions are
im2col (`sliding_window_view`) and one BLAS matmul per layer; pooling reduces the window one
kernel tap at a time (separably), so there is no Python loop over pixels or channels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from cnncalc.layers import activation as act
from cnncalc.layers.conv import Conv, ConvTranspose
from cnncalc.layers.dense import Dense
from cnncalc.layers.norm import LRN, BatchNorm
from cnncalc.layers.pool import AdaptiveAvgPool, AvgPool, MaxPool
from cnncalc.reference.ops_more import OPS_MORE, ROW_WISE_MORE
from cnncalc.reference.ops_resample import OPS_RESAMPLE
from cnncalc.reference.windows import (
    DTYPE,
    Array,
    OpFn,
    Weights,
    adaptive_avg,
    adaptive_max,
    avgpool_divisors,
    conv_nd,
    dilate,
    per_axis,
    pool_input,
    pool_window,
    row_wise,
    spatial_axes,
    transpose_as_conv_pads,
    window_pads,
    window_reduce,
)


def _conv(op: Conv, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    rank = x.ndim - 2
    stride, dilation = per_axis(op.stride, rank), per_axis(op.dilation, rank)
    pads = window_pads(op.padding, x.shape[1:-1], op.kernel, stride, dilation)
    return conv_nd(x, w["weight"], w.get("bias"), pads, stride, dilation, op.groups)


def _conv_transpose(op: ConvTranspose, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    rank = x.ndim - 2
    weight = w["weight"]  # (C, F/groups, *k), PyTorch's layout
    channels, out_g, *kernel = weight.shape
    groups = op.groups
    # the equivalent conv's …IO kernel: flipped, input and output channels swapped per group
    flipped = np.flip(
        weight.reshape(groups, channels // groups, out_g, *kernel), axis=tuple(range(3, 3 + rank))
    )
    as_conv = flipped.transpose(*range(3, 3 + rank), 1, 0, 2).reshape(
        *kernel, channels // groups, groups * out_g
    )
    pads = transpose_as_conv_pads(op, x.shape[1:-1])
    spread = dilate(x, per_axis(op.stride, rank))
    ones = (1,) * rank
    return conv_nd(spread, as_conv, w.get("bias"), pads, ones, per_axis(op.dilation, rank), groups)


def _maxpool(op: MaxPool, inputs: list[Array], w: Weights) -> Array:
    xp, _ = pool_input(op, inputs[0], -np.inf)
    kernel, stride, dilation = pool_window(op, inputs[0].ndim - 2)
    return window_reduce(xp, kernel, stride, dilation, np.maximum)


def _avgpool(op: AvgPool, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    xp, pads = pool_input(op, x, 0.0)
    kernel, stride, ones = pool_window(op, x.ndim - 2)
    sums = window_reduce(xp, kernel, stride, ones, np.add)
    return sums / avgpool_divisors(op, x, xp, pads)


def _global_avgpool(op: Any, inputs: list[Array], w: Weights) -> Array:
    return _global(op, inputs[0].mean(axis=spatial_axes(inputs[0]), keepdims=True))


def _global_maxpool(op: Any, inputs: list[Array], w: Weights) -> Array:
    return _global(op, inputs[0].max(axis=spatial_axes(inputs[0]), keepdims=True))


def _global(op: Any, pooled: Array) -> Array:
    """Global pooling's (N, 1, …, 1, C) result, flattened to (N, C) without `keepdims`."""
    return pooled if op.keepdims else pooled.reshape(pooled.shape[0], -1)


def _adaptive_avgpool(op: AdaptiveAvgPool, inputs: list[Array], w: Weights) -> Array:
    return adaptive_avg(inputs[0], per_axis(op.output, inputs[0].ndim - 2))


def _adaptive_maxpool(op: AdaptiveAvgPool, inputs: list[Array], w: Weights) -> Array:
    return adaptive_max(inputs[0], per_axis(op.output, inputs[0].ndim - 2))


def _dense(op: Dense, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    rows = x if op.per_position else x.reshape(x.shape[0], -1)  # per_position: the channels
    out: Array = rows @ w["weight"].T
    if "bias" in w:
        out += w["bias"]
    return out


def _flatten(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    return x.reshape(x.shape[0], -1)  # H, W, C order (channels last)


def _identity(op: Any, inputs: list[Array], w: Weights) -> Array:
    return inputs[0]


def _batchnorm(op: BatchNorm, x: Array, w: Weights) -> Array:
    scale = 1.0 / np.sqrt(w["running_var"] + DTYPE(op.eps))
    if "weight" in w:  # γ: affine (and Keras' scale)
        scale = scale * w["weight"]
    shift = -w["running_mean"] * scale
    if "bias" in w:  # β: affine (and Keras' center)
        shift = shift + w["bias"]
    return cast(Array, x * scale + shift)


def _lrn(op: LRN, x: Array, w: Weights) -> Array:
    """PyTorch LocalResponseNorm: x / (k + α/size · Σ x² over `size` neighbouring channels)^β,
    the channels zero-padded by ⌊size/2⌋ before and ⌊(size − 1)/2⌋ after. The window sums
    are differences of running sums (in float64), so the cost is the channels', whatever
    `size` is (padding by size/2 would allocate terabytes for size 2^32)."""
    channels = x.shape[-1]
    running = np.zeros((*x.shape[:-1], channels + 1), dtype=np.float64)
    np.cumsum(np.square(x, dtype=np.float64), axis=-1, out=running[..., 1:])
    c = np.arange(channels)
    last = np.minimum(c + (op.size - 1) // 2 + 1, channels)  # past each window's last channel
    first = np.maximum(c - op.size // 2, 0)
    sums = (running[..., last] - running[..., first]).astype(x.dtype)
    return cast(Array, x / (DTYPE(op.k) + DTYPE(op.alpha / op.size) * sums) ** DTYPE(op.beta))


def _sigmoid_of(x: Array) -> Array:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _erfc(z: Array) -> Array:
    """erfc with a relative error under 1.2e-7 everywhere, tails included (Numerical
    Recipes' Chebyshev fit), in float64: NumPy has no erf."""
    a = np.abs(z.astype(np.float64))
    t = 1.0 / (1.0 + 0.5 * a)
    coefficients = (
        -1.26551223,
        1.00002368,
        0.37409196,
        0.09678418,
        -0.18628806,
        0.27886807,
        -1.13520398,
        1.48851587,
        -0.82215223,
        0.17087277,
    )
    poly = np.zeros_like(t)
    for c in reversed(coefficients):
        poly = poly * t + c
    tail = t * np.exp(-a * a + poly)
    return np.where(z >= 0, tail, 2.0 - tail)


def _relu(op: Any, x: Array, w: Weights) -> Array:
    return np.maximum(x, 0)


def _relu6(op: Any, x: Array, w: Weights) -> Array:
    return np.minimum(np.maximum(x, 0), 6)


def _leaky_relu(op: act.LeakyReLU, x: Array, w: Weights) -> Array:
    return np.where(x > 0, x, x * DTYPE(op.negative_slope))


def _elu(op: act.ELU, x: Array, w: Weights) -> Array:
    return np.where(x > 0, x, DTYPE(op.alpha) * np.expm1(np.minimum(x, 0)))


def _gelu(op: act.GELU, x: Array, w: Weights) -> Array:
    if op.approximate == "tanh":
        inner = np.sqrt(2 / np.pi) * (x + 0.044715 * x.astype(np.float64) ** 3)
        return cast(Array, (0.5 * x * (1 + np.tanh(inner))).astype(x.dtype))
    return (0.5 * x * _erfc(-x / np.sqrt(2))).astype(x.dtype)


def _sigmoid(op: Any, x: Array, w: Weights) -> Array:
    return _sigmoid_of(x)


def _tanh(op: Any, x: Array, w: Weights) -> Array:
    return np.tanh(x)


def _silu(op: Any, x: Array, w: Weights) -> Array:
    return x * _sigmoid_of(x)


def _hardsigmoid(op: Any, x: Array, w: Weights) -> Array:
    return cast(Array, np.minimum(np.maximum(x + 3, 0), 6) / 6)


def _hardswish(op: Any, x: Array, w: Weights) -> Array:
    return x * _hardsigmoid(op, x, w)


def _softmax(op: Any, x: Array, w: Weights) -> Array:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


def _prelu(op: act.PReLU, x: Array, w: Weights) -> Array:
    return np.where(x >= 0, x, x * w["weight"])


def _add(op: Any, inputs: list[Array], w: Weights) -> Array:
    out = inputs[0] + inputs[1]
    for x in inputs[2:]:
        out += x
    return out


def _multiply(op: Any, inputs: list[Array], w: Weights) -> Array:
    out = inputs[0] * inputs[1]  # channels last: an N×1×1×C gate broadcasts over H×W
    for x in inputs[2:]:
        out = out * x
    return out


def _concat(op: Any, inputs: list[Array], w: Weights) -> Array:
    return np.concatenate(inputs, axis=-1)


ROW_WISE: dict[str, Callable[[Any, Array, Weights], Array]] = {
    "batchnorm": _batchnorm,
    "lrn": _lrn,
    "relu": _relu,
    "relu6": _relu6,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "gelu": _gelu,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "silu": _silu,
    "hardswish": _hardswish,
    "hardsigmoid": _hardsigmoid,
    "softmax": _softmax,
    "prelu": _prelu,
    **ROW_WISE_MORE,
}
"""The kinds whose output row (the last axis) depends on their input row only."""


def _opaque(op: Any, inputs: Sequence[Array], weights: Weights) -> Array:
    raise NotImplementedError(f"an opaque layer ({op.source_op}) has no computation to run")


OPS: dict[str, OpFn] = {
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "global_avgpool": _global_avgpool,
    "global_maxpool": _global_maxpool,
    "adaptive_avgpool": _adaptive_avgpool,
    "adaptive_maxpool": _adaptive_maxpool,
    "dense": _dense,
    "flatten": _flatten,
    "dropout": _identity,  # identity at inference
    **{kind: row_wise(fn) for kind, fn in ROW_WISE.items()},
    "add": _add,
    "multiply": _multiply,
    "concat": _concat,
    "opaque": _opaque,
    **OPS_MORE,
    **OPS_RESAMPLE,
}
"""The reference implementation of every layer kind, keyed by kind."""
