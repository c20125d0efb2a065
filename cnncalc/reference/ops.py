"""One small NumPy function per layer kind: the reference forward pass.

Tensors are NHWC float32 (N×H×W×C, the IR's H×W×C with a batch in front; flat tensors N×L).
Values follow PyTorch: conv and pooling windows as Conv2d/MaxPool2d/AvgPool2d (ceil_mode,
count_include_pad), adaptive pooling bins [⌊i·in/out⌋, ⌈(i+1)·in/out⌉), `same` padding as
TensorFlow's SAME (the odd pixel after), conv_transpose `padding` cropped from the full output
and `output_padding` added at the bottom/right.

Nothing here reads the analytic rules: padding, ceil-mode overhang and output sizes are worked
out again below, and every output size is whatever the arrays come out as. Convolutions are
im2col (`sliding_window_view`) and one BLAS matmul per layer; pooling reduces the window one
kernel tap at a time (separably), so there is no Python loop over pixels or channels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from cnncalc.layers import activation as act
from cnncalc.layers.conv import Conv, ConvTranspose
from cnncalc.layers.dense import Dense
from cnncalc.layers.norm import LRN, BatchNorm
from cnncalc.layers.pool import AdaptiveAvgPool, AvgPool, MaxPool
from cnncalc.reference.ops_more import OPS_MORE, ROW_WISE_MORE

Array = npt.NDArray[Any]
Weights = Mapping[str, Array]
Pads = tuple[int, int, int, int]  # top, bottom, left, right; negative crops
OpFn = Callable[[Any, list[Array], Weights], Array]
DTYPE = np.float32
CHUNK_BYTES = 16 << 20  # float32 bytes of one block of im2col rows
ROW_BLOCK_BYTES = 256 << 10  # float32 bytes of one block of a row-wise function's input

# --- geometry, worked out independently of cnncalc.layers ------------------------------


def span(kernel: int, dilation: int) -> int:
    """Rows one window covers: d·(k − 1) + 1."""
    return dilation * (kernel - 1) + 1


def same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow SAME along one axis: ⌈size/stride⌉ outputs, the odd padding pixel after."""
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def window_pads(
    padding: Any,
    hw: tuple[int, int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> Pads:
    """(t, b, l, r) padding of a conv or pooling window on an H×W input."""
    if padding == "same":
        t, b = same_pads(hw[0], span(kernel[0], dilation[0]), stride[0])
        left, r = same_pads(hw[1], span(kernel[1], dilation[1]), stride[1])
        return t, b, left, r
    t, b, left, r = padding
    return int(t), int(b), int(left), int(r)


def ceil_overhang(size: int, before: int, after: int, window: int, stride: int) -> int:
    """How far ceil_mode's last window reaches past the padded input (PyTorch's rule: one
    more window when the division leaves a remainder, unless it would start past the input
    and the leading padding)."""
    room = size + before + after - window
    outputs = -(-room // stride) + 1
    if (outputs - 1) * stride >= size + before:
        outputs -= 1
    return max((outputs - 1) * stride + window - (size + before + after), 0)


def transpose_crop(op: ConvTranspose, hw: tuple[int, int]) -> Pads:
    """(t, b, l, r) cropped from conv_transpose's full output; `same` keeps input·stride."""
    if op.padding != "same":
        t, b, left, r = op.padding
        return int(t), int(b), int(left), int(r)
    crops: list[int] = []
    for axis in range(2):
        full = (
            (hw[axis] - 1) * op.stride[axis]
            + span(op.kernel[axis], op.dilation[axis])
            + op.output_padding[axis]
        )
        excess = full - hw[axis] * op.stride[axis]
        crops += [excess // 2, excess - excess // 2]
    return crops[0], crops[1], crops[2], crops[3]


def transpose_as_conv_pads(op: ConvTranspose, hw: tuple[int, int]) -> Pads:
    """conv_transpose = a stride-1 conv of the flipped kernel over the input spread `stride`
    apart; these are that conv's pads (d·(k − 1) − crop, output_padding after)."""
    t, b, left, r = transpose_crop(op, hw)
    reach = [op.dilation[a] * (op.kernel[a] - 1) for a in range(2)]
    extra = op.output_padding
    return reach[0] - t, reach[0] - b + extra[0], reach[1] - left, reach[1] - r + extra[1]


def pad_hw(x: Array, pads: Pads, fill: Any = 0.0) -> Array:
    """Pad (or, where negative, crop) the H and W axes of an NHWC array with `fill`
    (a scalar, or one value per channel)."""
    # pad first, then crop: a crop may reach into the other side's padding (a conv_transpose
    # whose output_padding is cropped away by its leading padding)
    t, b, left, r = (max(p, 0) for p in pads)
    if t or b or left or r:
        shape = (x.shape[0], x.shape[1] + t + b, x.shape[2] + left + r, *x.shape[3:])
        out = np.empty(shape, dtype=x.dtype)
        out[...] = fill
        out[:, t : t + x.shape[1], left : left + x.shape[2]] = x
        x = out
    t, b, left, r = (max(-p, 0) for p in pads)
    return x[:, t : x.shape[1] - b, left : x.shape[2] - r]


def dilate(x: Array, stride: Sequence[int], fill: Any = 0.0) -> Array:
    """Spread the H and W axes `stride` apart, filling the gaps with `fill`."""
    if tuple(stride) == (1, 1):
        return x
    n, h, w = x.shape[:3]
    out = np.empty((n, (h - 1) * stride[0] + 1, (w - 1) * stride[1] + 1, *x.shape[3:]), x.dtype)
    out[...] = fill
    out[:, :: stride[0], :: stride[1]] = x
    return out


def window_reduce(
    xp: Array,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    ufunc: np.ufunc,
) -> Array:
    """Reduce every (dilated, strided) window of an already padded NHWC array with `ufunc`
    (np.maximum or np.add): one vectorized step per kernel tap and axis, since a rectangular
    window reduces row-wise then column-wise."""
    for axis in (1, 2):
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
    """im2col as a view: (N, OH, OW, kh, kw, C) windows of a padded NHWC array."""
    spans = (span(kernel[0], dilation[0]), span(kernel[1], dilation[1]))
    view = sliding_window_view(xp, spans, axis=(1, 2))  # N, H', W', C, span_h, span_w
    view = view[:, :: stride[0], :: stride[1], :, :: dilation[0], :: dilation[1]]
    return cast(Array, view.transpose(0, 1, 2, 4, 5, 3))


def conv2d(
    x: Array,
    weight: Array,
    bias: Array | None,
    pads: Pads,
    stride: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> Array:
    """PyTorch's Conv2d on NHWC with an HWIO kernel (kh, kw, C/groups, F), TensorFlow's
    layout for NHWC, so the im2col matrix multiplies the kernel as it lies: one matmul (one
    per group) per block of output rows, each block's matrix at most CHUNK_BYTES (or one
    row of the output), so the im2col copy stays small whatever the image."""
    kh, kw, per_group, filters = weight.shape
    xp = pad_hw(x, pads)
    if (kh, kw) == (1, 1) and tuple(stride) == (1, 1):
        view = xp[:, :, :, None, None, :]
    else:
        view = patches(xp, (kh, kw), stride, dilation)
    n, oh, ow = view.shape[:3]
    depth = kh * kw * per_group
    out = np.empty((n, oh, ow, filters), dtype=x.dtype)
    out_g = filters // groups
    mats = weight.reshape(kh, kw, per_group, groups, out_g).transpose(3, 0, 1, 2, 4)
    mats = mats.reshape(groups, depth, out_g)
    step = im2col_rows(ow * depth * groups)  # output rows (of `ow` pixels) per block
    for image in range(n):
        for start in range(0, oh, step):
            block = view[image, start : start + step]  # a view: the copy is made below
            count = block.shape[0] * ow
            target = out[image, start : start + step].reshape(count, filters)
            if groups == 1:
                np.matmul(block.reshape(count, depth), mats[0], out=target)
                continue
            split = block.reshape(block.shape[0], ow, kh, kw, groups, per_group)
            cols = np.empty((groups, block.shape[0], ow, kh, kw, per_group), dtype=x.dtype)
            cols[...] = np.moveaxis(split, 4, 0)
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
    for axis in (1, 2):
        cells, _ = _bin_cells(x.shape[axis], output[axis - 1])
        x = np.take(x, cells, axis=axis).max(axis=axis + 1)
    return x


def adaptive_avg(x: Array, output: Sequence[int]) -> Array:
    """Mean over each adaptive bin, one axis after the other. Cells outside a bin are
    selected away, never multiplied by 0, so a NaN stays where it belongs."""
    for axis in (1, 2):
        cells, real = _bin_cells(x.shape[axis], output[axis - 1])
        shape = [1] * (x.ndim + 1)
        shape[axis : axis + 2] = real.shape
        gathered = np.where(real.reshape(shape), np.take(x, cells, axis=axis), 0)
        counts = [1] * x.ndim
        counts[axis] = real.shape[0]
        x = gathered.sum(axis=axis + 1) / real.sum(axis=1).reshape(counts).astype(x.dtype)
    return x


# --- the layer kinds ---------------------------------------------------------------------


def _conv(op: Conv, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    pads = window_pads(op.padding, x.shape[1:3], op.kernel, op.stride, op.dilation)
    return conv2d(x, w["weight"], w.get("bias"), pads, op.stride, op.dilation, op.groups)


def _conv_transpose(op: ConvTranspose, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    weight = w["weight"]  # (C, F/groups, kh, kw), PyTorch's layout
    channels, out_g, kh, kw = weight.shape
    groups = op.groups
    # the equivalent conv's HWIO kernel: flipped, input and output channels swapped per group
    as_conv = (
        weight.reshape(groups, channels // groups, out_g, kh, kw)[..., ::-1, ::-1]
        .transpose(3, 4, 1, 0, 2)
        .reshape(kh, kw, channels // groups, groups * out_g)
    )
    pads = transpose_as_conv_pads(op, x.shape[1:3])
    spread = dilate(x, op.stride)
    return conv2d(spread, as_conv, w.get("bias"), pads, (1, 1), op.dilation, groups)


def pool_pads(op: MaxPool | AvgPool, hw: tuple[int, int]) -> Pads:
    """A pooling window's padding on an H×W input, plus the ceil_mode overhang after."""
    dilation = op.dilation if isinstance(op, MaxPool) else (1, 1)
    t, b, left, r = window_pads(op.padding, hw, op.kernel, op.stride, dilation)
    if op.ceil_mode:
        b += ceil_overhang(hw[0], t, b, span(op.kernel[0], dilation[0]), op.stride[0])
        r += ceil_overhang(hw[1], left, r, span(op.kernel[1], dilation[1]), op.stride[1])
    return t, b, left, r


def pool_input(op: MaxPool | AvgPool, x: Array, fill: Any) -> tuple[Array, Pads]:
    """The pooling input padded with `fill`, plus the ceil_mode overhang after; its pads."""
    pads = pool_pads(op, x.shape[1:3])
    return pad_hw(x, pads, fill), pads


def _maxpool(op: MaxPool, inputs: list[Array], w: Weights) -> Array:
    xp, _ = pool_input(op, inputs[0], -np.inf)
    return window_reduce(xp, op.kernel, op.stride, op.dilation, np.maximum)


def avgpool_divisors(op: AvgPool, x: Array, xp: Array, pads: Pads) -> Array:
    """Each window's divisor, (1, OH, OW, 1): its cells inside the input (and, with
    count_include_pad, inside the explicit padding — never the ceil_mode overhang)."""
    t, _, left, _ = pads
    explicit = window_pads(op.padding, x.shape[1:3], op.kernel, op.stride, (1, 1))
    counted = np.zeros((1, *xp.shape[1:3], 1), dtype=x.dtype)
    if op.count_include_pad:
        counted[:, : t + x.shape[1] + explicit[1], : left + x.shape[2] + explicit[3]] = 1
    else:
        counted[:, t : t + x.shape[1], left : left + x.shape[2]] = 1
    return window_reduce(counted, op.kernel, op.stride, (1, 1), np.add)


def _avgpool(op: AvgPool, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    xp, pads = pool_input(op, x, 0.0)
    sums = window_reduce(xp, op.kernel, op.stride, (1, 1), np.add)
    return sums / avgpool_divisors(op, x, xp, pads)


def _global_avgpool(op: Any, inputs: list[Array], w: Weights) -> Array:
    return cast(Array, inputs[0].mean(axis=(1, 2), keepdims=True))


def _global_maxpool(op: Any, inputs: list[Array], w: Weights) -> Array:
    return cast(Array, inputs[0].max(axis=(1, 2), keepdims=True))


def _adaptive_avgpool(op: AdaptiveAvgPool, inputs: list[Array], w: Weights) -> Array:
    return adaptive_avg(inputs[0], op.output)


def _adaptive_maxpool(op: AdaptiveAvgPool, inputs: list[Array], w: Weights) -> Array:
    return adaptive_max(inputs[0], op.output)


def _dense(op: Dense, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    rows = x if op.per_position else x.reshape(x.shape[0], -1)  # per_position: the channels
    out: Array = rows @ w["weight"].T
    if "bias" in w:
        out += w["bias"]
    return out


def _flatten(op: Any, inputs: list[Array], w: Weights) -> Array:
    x = inputs[0]
    return x.reshape(x.shape[0], -1)  # H, W, C order (NHWC)


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
    the channels zero-padded by ⌊size/2⌋ before and ⌊(size − 1)/2⌋ after."""
    squares = np.zeros((*x.shape[:-1], x.shape[-1] + op.size - 1), dtype=x.dtype)
    squares[..., op.size // 2 : op.size // 2 + x.shape[-1]] = x * x
    sums = sliding_window_view(squares, op.size, axis=-1).sum(axis=-1)
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
    out = inputs[0] * inputs[1]  # NHWC: an N×1×1×C gate broadcasts over H×W
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
    **OPS_MORE,
}
"""The reference implementation of every layer kind, keyed by kind."""
