"""The NumPy reference of `upsample`, `pixel_shuffle`, `pixel_unshuffle`, `pad` and `crop`,
and what each does to receptive-field box maps.

Values follow PyTorch's CPU kernels: the source index of output o is worked out in float32
from scale = 1/scale_factor (when a scale is given) or in/out (when a size is) — nearest
⌊o·scale⌋; linear (o + ½)·scale − ½ clamped at 0, or o·(in − 1)/(out − 1) with
align_corners, between ⌊src⌋ and the next index (the last one repeats); bicubic the four
indices around ⌊src⌋ (clamped into the input) with Keys' A = −0.75. Every axis is resampled
in turn. pixel_shuffle reads channel c·r² + i·r + j as sub-pixel (i, j) of channel c, as
PyTorch does (TensorFlow's depth_to_space orders them the other way). Output sizes are
worked out again here from the fields, not read from the layer's rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from cnncalc.reference.windows import DTYPE, Array, Weights, explicit_pads, pad_spatial

A = -0.75  # the cubic convolution constant of PyTorch's bicubic
NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _out_size(op: Any, sizes: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """Output sizes and the scale factor given per axis (None when a size was given)."""
    rank = len(sizes)
    if op.size is not None:
        size = op.size
        return ((size,) * rank if isinstance(size, int) else tuple(size)), (None,) * rank
    scale = op.scale if isinstance(op.scale, tuple) else (op.scale,) * rank
    out = tuple(
        n * s if isinstance(s, int) else math.floor(n * s)
        for n, s in zip(sizes, scale, strict=True)
    )
    return out, tuple(float(s) for s in scale)


def _cubic(x: Array, near: bool) -> Array:
    if near:  # |x| ≤ 1
        return cast(Array, ((A + 2) * x - (A + 3)) * x * x + 1)
    return cast(Array, ((A * x - 5 * A) * x + 8 * A) * x - 4 * A)


def axis_taps(
    mode: str, corners: bool, size: int, out: int, scale: float | None
) -> tuple[list[Array], list[Array], Array]:
    """For one axis: the source indices of every tap, their weights, and where an index was
    clamped into the input (the edge, flagged in box maps)."""
    o = np.arange(out, dtype=DTYPE)
    if mode == "nearest":
        if out == size:
            idx = np.arange(out)
        elif out == 2 * size:
            idx = np.arange(out) >> 1
        else:
            ratio = DTYPE(1.0 / scale) if scale else DTYPE(size) / DTYPE(out)
            idx = np.floor(o * ratio).astype(np.int64)
        edge = idx > size - 1
        return [np.minimum(idx, size - 1)], [np.ones(out, DTYPE)], edge
    if corners:
        ratio = DTYPE((size - 1) / (out - 1)) if out > 1 else DTYPE(0)
        src = o * ratio
    else:
        ratio = DTYPE(1.0 / scale) if scale else DTYPE(size) / DTYPE(out)
        src = (o + DTYPE(0.5)) * ratio - DTYPE(0.5)
    if mode != "bicubic":
        low = src < 0
        src = np.where(low, DTYPE(0), src)
        i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
        lam = np.clip(src - i0, 0, 1).astype(DTYPE)
        i1 = np.minimum(i0 + 1, size - 1)
        return [i0, i1], [(1 - lam).astype(DTYPE), lam], low | (i0 == size - 1)
    base = np.floor(src).astype(np.int64)
    t = (src - base).astype(DTYPE)
    weights = [_cubic(t + 1, False), _cubic(t, True), _cubic(1 - t, True), _cubic(2 - t, False)]
    taps = [base - 1 + k for k in range(4)]
    edge = (taps[0] < 0) | (taps[3] > size - 1)
    return [np.clip(i, 0, size - 1) for i in taps], weights, edge


def _plan(op: Any, x: Array) -> list[tuple[list[Array], list[Array], Array]]:
    sizes = x.shape[1:-1]
    out, scales = _out_size(op, sizes)
    return [
        axis_taps(op.mode, op.align_corners, n, m, s)
        for n, m, s in zip(sizes, out, scales, strict=True)
    ]


def _upsample(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    for axis, (taps, weights, _) in enumerate(_plan(op, x), start=1):
        shape = [1] * x.ndim
        shape[axis] = -1
        acc = None
        for idx, weight in zip(taps, weights, strict=True):
            term = x.take(idx, axis=axis) * weight.reshape(shape)
            acc = term if acc is None else acc + term
        x = cast(Array, acc).astype(DTYPE)
    return x


def _pixel_shuffle(op: Any, inputs: list[Array], w: Weights) -> Array:
    x, r = inputs[0], op.factor
    n, h, wd, c = x.shape
    grid = x.reshape(n, h, wd, c // (r * r), r, r).transpose(0, 1, 4, 2, 5, 3)
    return np.ascontiguousarray(grid).reshape(n, h * r, wd * r, c // (r * r))


def _pixel_unshuffle(op: Any, inputs: list[Array], w: Weights) -> Array:
    x, r = inputs[0], op.factor
    n, h, wd, c = x.shape
    grid = x.reshape(n, h // r, r, wd // r, r, c).transpose(0, 1, 3, 5, 2, 4)
    return np.ascontiguousarray(grid).reshape(n, h // r, wd // r, c * r * r)


def _pad(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    pads = explicit_pads(op.padding, x.ndim - 2)
    widths = [(0, 0), *zip(pads[::2], pads[1::2], strict=True), (0, 0)]
    if op.mode == "constant":
        return np.pad(x, widths, constant_values=DTYPE(op.value))
    return np.pad(x, widths, mode=NP_MODES[op.mode])  # type: ignore[call-overload,no-any-return]


def _crop(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    cuts = explicit_pads(op.cropping, x.ndim - 2)
    index = tuple(slice(cuts[2 * a], x.shape[a + 1] - cuts[2 * a + 1]) for a in range(x.ndim - 2))
    where = (slice(None), *index)
    return np.ascontiguousarray(x[where])


OPS_RESAMPLE: dict[str, Callable[[Any, list[Array], Weights], Array]] = {
    "upsample": _upsample,
    "pixel_shuffle": _pixel_shuffle,
    "pixel_unshuffle": _pixel_unshuffle,
    "pad": _pad,
    "crop": _crop,
}

RESAMPLE_TEMPORARIES = {"upsample": 4, "pixel_shuffle": 1, "pixel_unshuffle": 1}
"""Temporaries, in copies of the larger of input and output (for `workspace`)."""


# --- box maps (`cnncalc.reference.receptive`): the last axis holds the box, not channels ---


def upsample_boxes(op: Any, m: Array, pad_row: Array) -> Array:
    """Each output unit's box is the union of its taps' boxes; an edge unit is flagged."""
    flag = pad_row[-1]
    for axis, (taps, _, edge) in enumerate(_plan(op, m), start=1):
        out = m.take(taps[0], axis=axis)
        for idx in taps[1:]:
            out = np.maximum(out, m.take(idx, axis=axis))
        shape = [1] * m.ndim
        shape[axis] = -1
        out[..., -1] = np.maximum(out[..., -1], edge.reshape(shape[:-1]) * flag)
        m = out
    return m


def pixel_shuffle_boxes(op: Any, m: Array) -> Array:
    return np.repeat(np.repeat(m, op.factor, axis=1), op.factor, axis=2)


def pixel_unshuffle_boxes(op: Any, m: Array) -> Array:
    r = op.factor
    n, h, w, c = m.shape
    return cast(Array, m.reshape(n, h // r, r, w // r, r, c).max(axis=(2, 4)))


def pad_boxes(op: Any, m: Array, pad_row: Array) -> Array:
    """Border units are flagged: constant ones see no input; reflect, replicate and circular
    ones copy the box of the input unit their value comes from (a pixel away from their
    position)."""
    pads = explicit_pads(op.padding, m.ndim - 2)
    if op.mode == "constant":
        return pad_spatial(m, pads, pad_row)
    widths = [(0, 0), *zip(pads[::2], pads[1::2], strict=True), (0, 0)]
    out = np.pad(m, widths, mode=NP_MODES[op.mode])  # type: ignore[call-overload]
    border = np.pad(np.zeros(m.shape[:-1], dtype=m.dtype), widths[:-1], constant_values=1)
    out[..., -1] = np.maximum(out[..., -1], border * pad_row[-1])
    return cast(Array, out)


def crop_boxes(op: Any, m: Array) -> Array:
    return _crop(op, [m], {})
