"""The NumPy reference of the per-sample normalizations, channel rearrangements, per-position
odds and ends and the further activations (see `cnncalc.layers.normalize`, `channels`,
`misc`, `activation_more`).

As in `ops`, tensors are N×…×C float32 (channels last, any number of spatial axes between),
values follow PyTorch (LayerNorm, GroupNorm, InstanceNorm, F.normalize, ChannelShuffle,
Mish, SELU, CELU, Softplus with its threshold, GLU), and nothing here reads the analytic
rules: a slice's bounds, a mean's axes and a shuffle's reshape are worked out again from
the layer's fields and the array that arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from cnncalc.reference.windows import DTYPE, Array, Weights

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(x: Array) -> Array:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def _affine(x: Array, w: Weights) -> Array:
    if "weight" in w:
        x = x * w["weight"]
    if "bias" in w:
        x = x + w["bias"]
    return x


def _normalized(x: Array, axes: tuple[int, ...], eps: float) -> Array:
    """(x − mean) / √(var + eps) over `axes` (the biased variance, as PyTorch's norms)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    centered /= np.sqrt(var + DTYPE(eps))
    return cast(Array, centered)


# --- row-wise: each output row (the channels at one position) from its input row only ------


def _layernorm(op: Any, x: Array, w: Weights) -> Array:
    return _affine(_normalized(x, (-1,), op.eps), w)


def _l2norm(op: Any, x: Array, w: Weights) -> Array:
    norm = np.sqrt((x.astype(np.float64) ** 2).sum(axis=-1, keepdims=True))
    return cast(Array, (x / np.maximum(norm, op.eps)).astype(DTYPE))


def _layer_scale(op: Any, x: Array, w: Weights) -> Array:
    return x * w["weight"]


def _standardize(op: Any, x: Array, w: Weights) -> Array:
    """With its adapted statistics; constants the spec does not give are 0 and 1."""
    if "mean" not in w:
        return x
    return cast(Array, (x - w["mean"]) / np.sqrt(w["variance"]))


def _scale(op: Any, x: Array, w: Weights) -> Array:
    return cast(Array, x * DTYPE(op.factor) + DTYPE(op.offset))


def _softplus_of(x: Array) -> Array:
    return cast(Array, np.logaddexp(DTYPE(0), x))


def _mish(op: Any, x: Array, w: Weights) -> Array:
    return x * np.tanh(_softplus_of(x))


def _hardtanh(op: Any, x: Array, w: Weights) -> Array:
    return np.clip(x, DTYPE(op.min), DTYPE(op.max))


def _selu(op: Any, x: Array, w: Weights) -> Array:
    negative = DTYPE(SELU_ALPHA) * np.expm1(np.minimum(x, 0))
    return cast(Array, DTYPE(SELU_SCALE) * np.where(x > 0, x, negative))


def _celu(op: Any, x: Array, w: Weights) -> Array:
    alpha = DTYPE(op.alpha)
    return cast(Array, np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(x / alpha)))


def _softplus(op: Any, x: Array, w: Weights) -> Array:
    beta = DTYPE(op.beta)
    scaled = x * beta
    return np.where(scaled > op.threshold, x, _softplus_of(scaled) / beta)


def _log_softmax(op: Any, x: Array, w: Weights) -> Array:
    shifted = x - x.max(axis=-1, keepdims=True)
    return cast(Array, shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)))


ROW_WISE_MORE: dict[str, Callable[[Any, Array, Weights], Array]] = {
    "layernorm": _layernorm,
    "l2norm": _l2norm,
    "layer_scale": _layer_scale,
    "scale": _scale,
    "standardize": _standardize,
    "mish": _mish,
    "hardtanh": _hardtanh,
    "selu": _selu,
    "celu": _celu,
    "softplus": _softplus,
    "log_softmax": _log_softmax,
}

# --- whole-tensor ops -----------------------------------------------------------------------


def _groupnorm(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    n, c = x.shape[0], x.shape[-1]
    grouped = x.reshape(n, -1, op.groups, c // op.groups)  # positions, groups, channels in one
    return _affine(_normalized(grouped, (1, 3), op.eps).reshape(x.shape), w)


def _instancenorm(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    if "running_mean" in w:  # track_running_stats: the running statistics, as batchnorm
        x = (x - w["running_mean"]) / np.sqrt(w["running_var"] + DTYPE(op.eps))
        return _affine(x, w)
    return _affine(_normalized(x, tuple(range(1, x.ndim - 1)), op.eps), w)


def _channel_shuffle(op: Any, inputs: list[Array], w: Weights) -> Array:
    """Channel i·n + j (group i of g, n per group) moves to j·g + i."""
    x = inputs[0]
    c = x.shape[-1]
    grid = x.reshape(*x.shape[:-1], op.groups, c // op.groups)
    return np.ascontiguousarray(np.swapaxes(grid, -1, -2)).reshape(x.shape)


def _slice(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    stop = x.shape[-1] if op.stop is None else op.stop
    width = (stop - op.start) // op.parts
    first = op.start + op.part * width
    return np.ascontiguousarray(x[..., first : first + width])


def _identity(op: Any, inputs: list[Array], w: Weights) -> Array:
    return inputs[0]


def _mean(op: Any, inputs: list[Array], w: Weights) -> Array:
    """Axes as written: `spatial` (all between batch and channels), `channels`, or numbers
    counted without the batch (negative from the end)."""
    x = inputs[0]
    rank = x.ndim - 1
    axes: set[int] = set()
    for axis in op.axes:
        if axis == "spatial":
            axes.update(range(1, rank))
        elif axis == "channels":
            axes.add(rank)
        else:
            axes.add(axis % rank + 1)
    return x.mean(axis=tuple(sorted(axes)), keepdims=op.keepdims, dtype=DTYPE)  # type: ignore[no-any-return]


def _glu(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    half = x.shape[-1] // 2
    return x[..., :half] * _sigmoid(x[..., half:])


OPS_MORE: dict[str, Callable[[Any, list[Array], Weights], Array]] = {
    "groupnorm": _groupnorm,
    "instancenorm": _instancenorm,
    "channel_shuffle": _channel_shuffle,
    "slice": _slice,
    "identity": _identity,
    "stochastic_depth": _identity,  # identity at inference
    "mean": _mean,
    "glu": _glu,
}

WHOLE_TEMPORARIES = {"groupnorm": 6, "instancenorm": 6, "channel_shuffle": 1, "glu": 3}
"""Temporaries of the whole-tensor ops, in copies of their input (for `workspace`)."""
