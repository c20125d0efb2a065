"""Window geometry and the array machinery the reference ops share, for 1-, 2- and 3-D.

Worked out independently of `cnncalc.layers` (padding, ceil-mode overhang, transposed-conv
crops, adaptive bins): the reference must not borrow the rules it checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from cnncalc.layers.conv import ConvTranspose
from cnncalc.layers.pool import AvgPool, MaxPool

Array = npt.NDArray[Any]
Weights = Mapping[str, Array]
Pads = tuple[int, ...]  # (before, after) per spatial axis: (t, b, l, r) in 2-D; negative crops
OpFn = Callable[[Any, list[Array], Weights], Array]
DTYPE = np.float32
CHUNK_BYTES = 16 << 20  # float32 bytes of one block of im2col rows
ROW_BLOCK_BYTES = 256 << 10  # float32 bytes of one block of a row-wise function's input

# --- geometry, worked out independently of cnncalc.layers ------------------------------
# Every function works on any number of spatial axes (1-D, 2-D, 3-D): an array is N, the
# spatial axes, then C; a field written as one int stands for every axis.


def per_axis(value: int | Sequence[int], rank: int) -> tuple[int, ...]:
    """A field's value on each of `rank` spatial axes."""
    return (value,) * rank if isinstance(value, int) else tuple(int(v) for v in value)


def span(kernel: int, dilation: int) -> int:
    """Rows one window covers: d·(k − 1) + 1."""
    return dilation * (kernel - 1) + 1


def same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow SAME along one axis: ⌈size/stride⌉ outputs, the odd padding pixel after."""
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def explicit_pads(padding: Any, rank: int) -> Pads:
    """(before, after) per axis from an int, one value per axis or one pair per axis."""
    if isinstance(padding, int):
        return (padding,) * (2 * rank)
    values = tuple(int(p) for p in padding)
    return tuple(p for p in values for _ in (0, 1)) if len(values) == rank else values


def window_pads(
    padding: Any,
    sizes: Sequence[int],
    kernel: int | Sequence[int],
    stride: int | Sequence[int],
    dilation: int | Sequence[int],
) -> Pads:
    """(before, after) padding per spatial axis — (t, b, l, r) in 2-D — of a conv or pooling
    window on an input of these spatial sizes."""
    rank = len(sizes)
    if padding == "same":
        k, s, d = per_axis(kernel, rank), per_axis(stride, rank), per_axis(dilation, rank)
        return tuple(p for a in range(rank) for p in same_pads(sizes[a], span(k[a], d[a]), s[a]))
    return explicit_pads(padding, rank)


def ceil_overhang(size: int, before: int, after: int, window: int, stride: int) -> int:
    """How far ceil_mode's last window reaches past the padded input (PyTorch's rule: one
    more window when the division leaves a remainder, unless it would start past the input
    and the leading padding)."""
    room = size + before + after - window
    outputs = -(-room // stride) + 1
    if (outputs - 1) * stride >= size + before:
        outputs -= 1
    return max((outputs - 1) * stride + window - (size + before + after), 0)


def transpose_crop(op: ConvTranspose, sizes: Sequence[int]) -> Pads:
    """(before, after) per axis cropped from conv_transpose's full output; `same` keeps
    input·stride."""
    rank = len(sizes)
    if op.padding != "same":
        return explicit_pads(op.padding, rank)
    kernel, stride = per_axis(op.kernel, rank), per_axis(op.stride, rank)
    dilation, extra = per_axis(op.dilation, rank), per_axis(op.output_padding, rank)
    crops: list[int] = []
    for axis in range(rank):
        full = (sizes[axis] - 1) * stride[axis] + span(kernel[axis], dilation[axis]) + extra[axis]
        excess = full - sizes[axis] * stride[axis]
        crops += [excess // 2, excess - excess // 2]
    return tuple(crops)


def transpose_as_conv_pads(op: ConvTranspose, sizes: Sequence[int]) -> Pads:
    """conv_transpose = a stride-1 conv of the flipped kernel over the input spread `stride`
    apart; these are that conv's pads (d·(k − 1) − crop, output_padding after)."""
    rank = len(sizes)
    crop = transpose_crop(op, sizes)
    kernel, dilation = per_axis(op.kernel, rank), per_axis(op.dilation, rank)
    extra = per_axis(op.output_padding, rank)
    pads: list[int] = []
    for a in range(rank):
        reach = dilation[a] * (kernel[a] - 1)
        pads += [reach - crop[2 * a], reach - crop[2 * a + 1] + extra[a]]
    return tuple(pads)


def pad_spatial(x: Array, pads: Pads, fill: Any = 0.0) -> Array:
    """Pad (or, where negative, crop) the spatial axes of an N…C array with `fill`
    (a scalar, or one value per channel); `pads` is (before, after) per axis."""
    rank = len(pads) // 2
    # pad first, then crop: a crop may reach into the other side's padding (a conv_transpose
    # whose output_padding is cropped away by its leading padding)
    grow = [max(p, 0) for p in pads]
    if any(grow):
        sizes = [x.shape[1 + a] + grow[2 * a] + grow[2 * a + 1] for a in range(rank)]
        out = np.empty((x.shape[0], *sizes, *x.shape[1 + rank :]), dtype=x.dtype)
        out[...] = fill
        inner = tuple(slice(grow[2 * a], grow[2 * a] + x.shape[1 + a]) for a in range(rank))
        where = (slice(None), *inner)
        out[where] = x
        x = out
    cut = [max(-p, 0) for p in pads]
    kept = (slice(None), *(slice(cut[2 * a], x.shape[1 + a] - cut[2 * a + 1]) for a in range(rank)))
    return x[kept]


def dilate(x: Array, stride: Sequence[int], fill: Any = 0.0) -> Array:
    """Spread the spatial axes `stride` apart, filling the gaps with `fill`."""
    if all(s == 1 for s in stride):
        return x
    rank = len(stride)
    sizes = [(x.shape[1 + a] - 1) * stride[a] + 1 for a in range(rank)]
    out = np.empty((x.shape[0], *sizes, *x.shape[1 + rank :]), x.dtype)
    out[...] = fill
    every = (slice(None), *(slice(None, None, s) for s in stride))
    out[every] = x
    return out


def window_reduce(
    xp: Array,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    ufunc: np.ufunc,
) -> Array:
    """Reduce every (dilated, strided) window of an already padded N…C array with `ufunc`
    (np.maximum or np.add): one vectorized step per kernel tap and axis, since a box window
    reduces one axis after the other."""
    for axis in range(1, len(kernel) + 1):
        k, s, d = kernel[axis - 1], stride[axis - 1], dilation[axis - 1]
        n_out = (xp.shape[axis] - span(k, d)) // s + 1
        if n_out < 1:
            raise ValueError(f"window {span(k, d)} wider than its input {xp.shape[axis]}")
        out: Array | None = None
        for tap in range(k):
            index: list[Any] = [slice(None)] * xp.ndim
            index[axis] = slice(tap * d, tap * d + (n_out - 1) * s + 1, s)
            piece = xp[tuple(index)]
            out = piece.copy() if out is None else ufunc(out, piece, out=out)
        assert out is not None
        xp = out
    return xp


def patches(
    xp: Array, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Array:
    """im2col as a view: (N, *out, *kernel, C) windows of a padded N…C array."""
    rank = len(kernel)
    spans = tuple(span(k, d) for k, d in zip(kernel, dilation, strict=True))
    axes = tuple(range(1, rank + 1))
    view = sliding_window_view(xp, spans, axis=axes)  # N, *out', C, *spans
    steps = (
        slice(None),
        *(slice(None, None, s) for s in stride),
        slice(None),
        *(slice(None, None, d) for d in dilation),
    )
    view = view[steps]
    return cast(Array, view.transpose(0, *axes, *(a + rank + 1 for a in axes), rank + 1))


def conv_nd(
    x: Array,
    weight: Array,
    bias: Array | None,
    pads: Pads,
    stride: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> Array:
    """PyTorch's Conv1d/2d/3d on N…C with a …IO kernel (*k, C/groups, F), TensorFlow's
    layout for channels last, so the im2col matrix multiplies the kernel as it lies: one
    matmul (one per group) per block of output rows (along the first spatial axis), each
    block's matrix at most CHUNK_BYTES (or one row of the output), so the im2col copy stays
    small whatever the input."""
    *kernel, per_group, filters = weight.shape
    rank = len(kernel)
    xp = pad_spatial(x, pads)
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride):
        taps = (..., *([None] * rank), slice(None))
        view = xp[taps]
    else:
        view = patches(xp, kernel, stride, dilation)
    n, out_sizes = view.shape[0], view.shape[1 : rank + 1]
    row = math.prod(out_sizes[1:])  # output pixels per row of the first spatial axis
    depth = math.prod(kernel) * per_group
    out = np.empty((n, *out_sizes, filters), dtype=x.dtype)
    out_g = filters // groups
    mats = weight.reshape(*kernel, per_group, groups, out_g)
    mats = np.moveaxis(mats, rank + 1, 0).reshape(groups, depth, out_g)
    step = im2col_rows(row * depth * groups)  # output rows (of `row` pixels) per block
    for image in range(n):
        for start in range(0, out_sizes[0], step):
            block = view[image, start : start + step]  # a view: the copy is made below
            count = block.shape[0] * row
            target = out[image, start : start + step].reshape(count, filters)
            if groups == 1:
                np.matmul(block.reshape(count, depth), mats[0], out=target)
                continue
            split = block.reshape(count, *kernel, groups, per_group)
            cols = np.empty((groups, count, *kernel, per_group), dtype=x.dtype)
            cols[...] = np.moveaxis(split, rank + 1, 0)
            done = np.matmul(cols.reshape(groups, count, depth), mats)
            target.reshape(count, groups, out_g)[...] = done.transpose(1, 0, 2)
    if bias is not None:
        out += bias
    return out


def im2col_rows(width: int) -> int:
    """Rows of `width` float32 values per block: CHUNK_BYTES' worth, at least one."""
    return max(1, CHUNK_BYTES // (width * 4))


def row_wise(fn: Callable[[Any, Array, Weights], Array]) -> OpFn:
    """A one-input layer whose output row depends on its input row only, run by `by_rows`."""

    def run(op: Any, inputs: list[Array], w: Weights) -> Array:
        return by_rows(lambda rows: fn(op, rows, w), inputs[0])

    return run


def by_rows(fn: Callable[[Array], Array], x: Array) -> Array:
    """`fn` applied to blocks of rows (the last axis is a row) of `x`, written into one
    float32 output: for functions whose output row depends on its input row only (element
    by element, per channel, across channels), so their temporaries (float64 in gelu) stay
    within a few blocks of ROW_BLOCK_BYTES (or one row) whatever the tensor's size."""
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty(flat.shape, dtype=DTYPE)
    step = max(1, ROW_BLOCK_BYTES // (flat.shape[1] * 4))
    for start in range(0, len(flat), step):
        out[start : start + step] = fn(flat[start : start + step])
    return out.reshape(x.shape)


def adaptive_bins(size: int, out: int) -> tuple[Array, Array]:
    """PyTorch's adaptive-pooling bins along one axis: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _bin_cells(size: int, out: int) -> tuple[Array, Array]:
    """Every bin's cells padded to the widest bin by repeating its last cell, and a mask of
    the cells that are really the bin's: (out, widest) each."""
    start, end = adaptive_bins(size, out)
    widest = int((end - start).max())
    cells = start[:, None] + np.arange(widest)[None, :]
    return np.minimum(cells, end[:, None] - 1), cells < end[:, None]


def adaptive_max(x: Array, output: Sequence[int]) -> Array:
    """Max over each adaptive bin, one axis after the other (repeated cells change no max)."""
    for axis in range(1, x.ndim - 1):
        cells, _ = _bin_cells(x.shape[axis], output[axis - 1])
        x = np.take(x, cells, axis=axis).max(axis=axis + 1)
    return x


def adaptive_avg(x: Array, output: Sequence[int]) -> Array:
    """Mean over each adaptive bin, one axis after the other. Cells outside a bin are
    selected away, never multiplied by 0, so a NaN stays where it belongs."""
    for axis in range(1, x.ndim - 1):
        cells, real = _bin_cells(x.shape[axis], output[axis - 1])
        shape = [1] * (x.ndim + 1)
        shape[axis : axis + 2] = real.shape
        gathered = np.where(real.reshape(shape), np.take(x, cells, axis=axis), 0)
        counts = [1] * x.ndim
        counts[axis] = real.shape[0]
        x = gathered.sum(axis=axis + 1) / real.sum(axis=1).reshape(counts).astype(x.dtype)
    return x


def spatial_axes(x: Array) -> tuple[int, ...]:
    """The spatial axes of an N…C array: (1, 2) in 2-D."""
    return tuple(range(1, x.ndim - 1))


def pool_window(
    op: MaxPool | AvgPool, rank: int
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A pooling layer's kernel, stride and dilation on `rank` spatial axes."""
    dilation = op.dilation if isinstance(op, MaxPool) else 1
    return per_axis(op.kernel, rank), per_axis(op.stride, rank), per_axis(dilation, rank)


def pool_pads(op: MaxPool | AvgPool, sizes: Sequence[int]) -> Pads:
    """A pooling window's padding on an input of these sizes, plus the ceil_mode overhang
    after."""
    kernel, stride, dilation = pool_window(op, len(sizes))
    pads = list(window_pads(op.padding, sizes, kernel, stride, dilation))
    if op.ceil_mode:
        for a, size in enumerate(sizes):
            window = span(kernel[a], dilation[a])
            pads[2 * a + 1] += ceil_overhang(size, pads[2 * a], pads[2 * a + 1], window, stride[a])
    return tuple(pads)


def pool_input(op: MaxPool | AvgPool, x: Array, fill: Any) -> tuple[Array, Pads]:
    """The pooling input padded with `fill`, plus the ceil_mode overhang after; its pads."""
    pads = pool_pads(op, x.shape[1:-1])
    return pad_spatial(x, pads, fill), pads


def avgpool_divisors(op: AvgPool, x: Array, xp: Array, pads: Pads) -> Array:
    """Each window's divisor, (1, *out, 1): its cells inside the input (and, with
    count_include_pad, inside the explicit padding — never the ceil_mode overhang)."""
    rank = x.ndim - 2
    kernel, stride, ones = pool_window(op, rank)
    explicit = window_pads(op.padding, x.shape[1:-1], kernel, stride, ones)
    counted = np.zeros((1, *xp.shape[1:-1], 1), dtype=x.dtype)
    if op.count_include_pad:
        inside = (
            slice(None, pads[2 * a] + x.shape[1 + a] + explicit[2 * a + 1]) for a in range(rank)
        )
    else:
        inside = (slice(pads[2 * a], pads[2 * a] + x.shape[1 + a]) for a in range(rank))
    region = (slice(None), *inside)
    counted[region] = 1
    return window_reduce(counted, kernel, stride, ones, np.add)
