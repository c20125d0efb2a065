"""The empirical receptive field: which input pixels each output unit actually depends on.

Every unit carries the bounding box of the input pixels that reach it, plus a flag for
"some window on the way touched padding (or ceil_mode's overhang, or a position past the
input)". The input's unit (y, x) starts as the box [y, y] × [x, x], unflagged. Each layer then
does to these boxes what it does to data, with the same window geometry as the NumPy forward
(`cnncalc.reference.ops`): a window's box is the union of the boxes in it — the max of −lo and
hi over the window, padding contributing nothing but the flag; conv_transpose spreads its
input `stride` apart first, exactly as its forward does; adaptive pooling takes the union over
each bin; global pooling over everything; a merge (add, multiply, concat) the union of its
inputs'; element-wise layers pass boxes through. The boxes are exact: every weight of a conv
is one dependence, whatever its value (the tests check them against NaN-probing the real
forward). A box is per position, over all its channels: a layer taking some of a position's
channels (pixel_shuffle, a channel slice) after a concat of branches with different fields
gets their union, an upper bound, as the analytic pass does.

A unit whose flag is clear ("clean") sees its whole theoretical field, so its box is the
unclipped field the analytic pass describes: the size is the box's extent, the stride how far
the boxes move along a run of clean units — D input pixels every P units, D/P, where P is the
period after which the layer's boxes repeat (1, until a conv_transpose spreads its input:
that is how its fractional jump shows) — and the center that of unit 0, extrapolated along
the run. (A strided conv_transpose also leaves clean units that see nothing at all: its
kernel taps fall between the spread pixels.)

`enlarged()` yields the same network on larger inputs whose every layer rounds and pads as on
the original, for when the original leaves no run of clean units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import numpy as np

from cnncalc.errors import SpecError
from cnncalc.graph import Network, Node, build_network
from cnncalc.reference.ops_resample import (
    crop_boxes,
    pad_boxes,
    pixel_shuffle_boxes,
    pixel_unshuffle_boxes,
    upsample_boxes,
)
from cnncalc.reference.windows import (
    Array,
    adaptive_max,
    dilate,
    pad_spatial,
    per_axis,
    pool_input,
    pool_window,
    span,
    transpose_as_conv_pads,
    window_pads,
    window_reduce,
)


def channels(rank: int) -> int:
    """Values per unit of a box map: −lo and hi per spatial axis (so every union is a max),
    then the flag."""
    return 2 * rank + 1


def _fill(rank: int, flag: float) -> Array:
    """A unit that sees no input pixel, flagged (padding) or not (a conv_transpose's gap)."""
    fill = np.full(channels(rank), -np.inf, dtype=np.float32)
    fill[-1] = flag
    return fill


RESAMPLE_BOXES: dict[str, Callable[[Any, Array], Array]] = {
    "upsample": lambda op, m: upsample_boxes(op, m, _fill(m.ndim - 2, 1.0)),
    "pixel_shuffle": pixel_shuffle_boxes,
    "pixel_unshuffle": pixel_unshuffle_boxes,
    "pad": lambda op, m: pad_boxes(op, m, _fill(m.ndim - 2, 1.0)),
    "crop": crop_boxes,
}


def input_boxes(sizes: Sequence[int]) -> Array:
    """The input's box map (1, *sizes, 2·rank + 1): every pixel sees itself, unflagged."""
    rank = len(sizes)
    m = np.zeros((1, *sizes, channels(rank)), dtype=np.float32)
    for a, size in enumerate(sizes):
        coords = np.arange(size, dtype=np.float32).reshape([-1] + [1] * (rank - 1 - a))
        m[0, ..., 2 * a] = -coords
        m[0, ..., 2 * a + 1] = coords
    return m


def _conv_transpose_boxes(op: Any, m: Array) -> Array:
    """As the forward: spread `stride` apart, then a stride-1 window. The input is first
    extended by virtual units (flagged) so that windows reaching past it are flagged too."""
    sizes = m.shape[1:-1]
    rank = len(sizes)
    kernel, stride, dilation = (per_axis(v, rank) for v in (op.kernel, op.stride, op.dilation))
    ext = [-(-span(kernel[a], dilation[a]) // stride[a]) + 1 for a in range(rank)]  # per side
    extended = pad_spatial(m, tuple(e for e in ext for _ in (0, 1)), _fill(rank, 1.0))
    spread = dilate(extended, stride, _fill(rank, 0.0))
    pads = transpose_as_conv_pads(op, sizes)
    shifted = tuple(p - ext[i // 2] * stride[i // 2] for i, p in enumerate(pads))
    padded = pad_spatial(spread, shifted, _fill(rank, 1.0))
    return window_reduce(padded, kernel, (1,) * rank, dilation, np.maximum)


def layer_boxes(node: Node, inputs: list[Array | None]) -> Array | None:
    """The box map of one layer's output from its inputs' (None: a flat tensor)."""
    if any(m is None for m in inputs):
        return None
    maps = [m for m in inputs if m is not None]
    op: Any = node.op
    kind = node.kind
    m = maps[0]
    rank = m.ndim - 2
    spatial = tuple(range(1, rank + 1))
    if kind == "mean":
        return mean_boxes(op, m)
    if kind == "groupnorm" or (kind == "instancenorm" and not op.track_running_stats):
        # per-sample statistics over all positions reach every unit
        return cast(Array, np.maximum(m, m.max(axis=spatial, keepdims=True)))
    if kind == "dense" and op.per_position:
        return m
    if kind in ("dense", "flatten"):
        return None
    if kind == "conv":
        kernel, stride, dilation = (per_axis(v, rank) for v in (op.kernel, op.stride, op.dilation))
        pads = window_pads(op.padding, m.shape[1:-1], kernel, stride, dilation)
        padded = pad_spatial(m, pads, _fill(rank, 1.0))
        return window_reduce(padded, kernel, stride, dilation, np.maximum)
    if kind == "conv_transpose":
        return _conv_transpose_boxes(op, m)
    if kind in ("maxpool", "avgpool"):
        padded, _ = pool_input(op, m, _fill(rank, 1.0))
        kernel, stride, dilation = pool_window(op, rank)
        return window_reduce(padded, kernel, stride, dilation, np.maximum)
    if kind in ("global_avgpool", "global_maxpool"):
        return cast(Array, m.max(axis=spatial, keepdims=True)) if op.keepdims else None
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        return adaptive_max(m, per_axis(op.output, rank))
    if kind in RESAMPLE_BOXES:
        return RESAMPLE_BOXES[kind](op, m)
    if len(maps) > 1:  # add, multiply (a 1×1 gate broadcasts), concat: the union
        out = maps[0]
        for other in maps[1:]:
            out = np.maximum(out, other)
        return out
    return m  # element-wise


def mean_boxes(op: Any, m: Array) -> Array | None:
    """A mean over spatial axes sees all of them (None: it leaves a flat vector)."""
    rank = m.ndim - 1  # box maps carry their box values where the channels would be
    spatial = set(range(1, rank))
    axes: set[int] = set()
    for axis in op.axes:
        if axis == "spatial":
            axes |= spatial
        elif isinstance(axis, int) and axis % rank + 1 in spatial:
            axes.add(axis % rank + 1)
    if not op.keepdims and axes:
        return None
    return cast(Array, m.max(axis=tuple(sorted(axes)), keepdims=True)) if axes else m


@dataclass(frozen=True)
class AxisField:
    """One axis of a layer's measured field: the widest box among clean units, and the
    boxes (lo, hi) along the longest run of consecutive clean units, which starts at unit
    `start`. A strided conv_transpose leaves units that see no input at all (its kernel taps
    all fall between the spread input pixels): they are clean and empty (lo = hi = NaN)."""

    size: int | None
    start: int = 0
    lo: tuple[float, ...] = ()
    hi: tuple[float, ...] = ()

    @property
    def run(self) -> int:
        return len(self.lo)

    def period(self, multiple: int = 1, largest: int | None = None) -> tuple[int, int] | None:
        """(D, P): the smallest P, a multiple of `multiple` (and at most `largest`), such
        that every box along the run is the box P units earlier moved by D pixels (and
        empty units recur every P units). A period counts only when the run holds it three
        times; None when none does (yet)."""
        n = len(self.lo)
        lo, hi = np.array(self.lo), np.array(self.hi)
        empty = np.isnan(lo)
        top = n // 3 if largest is None else min(n // 3, largest)
        for p in range(multiple, top + 1, multiple):
            seen = ~empty[p:]
            if (empty[p:] != empty[:-p]).any() or not seen.any():
                continue
            shift = (lo[p:] - lo[:-p])[seen]
            if (shift == shift[0]).all() and ((hi[p:] - hi[:-p])[seen] == shift[0]).all():
                return int(shift[0]), p
        return None

    def stride(self, multiple: int = 1, largest: int | None = None) -> Fraction | None:
        """D/P: input pixels per unit (a conv_transpose's fractional jump shows as P > 1)."""
        found = self.period(multiple, largest)
        return None if found is None else Fraction(found[0], found[1])

    def center(self) -> Fraction | None:
        """The center of unit 0's box, when boxes move by one whole stride per unit."""
        found = self.period(1, 1)
        if found is None:
            return None
        return Fraction(int(self.lo[0]) + int(self.hi[0]), 2) - self.start * found[0]


@dataclass(frozen=True)
class MeasuredField:
    axes: tuple[AxisField, ...]  # one per spatial axis
    whole_input: bool  # every unit that sees any input sees all the layer sees (one box)
    clean: int  # units that touched no padding
    empty: bool  # no unit sees any input (all windows fell in padding)

    @property
    def size(self) -> tuple[int | None, ...]:
        return tuple(axis.size for axis in self.axes)


def _longest_runs(flags: Array) -> tuple[Array, Array]:
    """Per row of a 2-D boolean array, (start, length) of its first longest run of True
    ((0, 0) when none): vectorized, since a 3-D map has thousands of lines per axis."""
    n = flags.shape[1]
    index = np.arange(n)
    last_false = np.maximum.accumulate(np.where(flags, -1, index), axis=1)
    ending = np.where(flags, index - last_false, 0)  # the run's length so far at each unit
    end = ending.argmax(axis=1)
    length = ending[np.arange(len(flags)), end]
    return np.where(length > 0, end - length + 1, 0), length


def _axis(lo: Array, hi: Array, clean: Array, axis: int) -> AxisField:
    """Measure along spatial `axis` of arrays of box bounds over the output's units (NaN
    for units that see nothing): along every line of units parallel to that axis."""
    seen = clean & ~np.isnan(lo)
    if not seen.any():
        return AxisField(None)
    size = int((hi - lo)[seen].max()) + 1

    def lines(values: Array) -> Array:  # one row per line along `axis`
        return np.moveaxis(values, axis, -1).reshape(-1, values.shape[axis])

    clean_lines, seen_lines, lo_lines, hi_lines = map(lines, (clean, seen, lo, hi))
    starts, lengths = _longest_runs(clean_lines)
    rows = np.arange(len(starts))
    seen_before = np.concatenate(
        (np.zeros((len(rows), 1), dtype=np.int64), np.cumsum(seen_lines, axis=1)), axis=1
    )
    seen_units = seen_before[rows, starts + lengths] - seen_before[rows, starts]
    # the longest run among those where units see something, then the one where most do,
    # then the most central
    n = clean_lines.shape[1] + 1
    score = (np.minimum(seen_units, 1) * n + lengths) * n + seen_units
    candidates = np.flatnonzero(score == score.max())
    line = int(candidates[len(candidates) // 2])
    start, longest = int(starts[line]), int(lengths[line])
    units = slice(start, start + longest)
    lo_run, hi_run = lo_lines[line, units], hi_lines[line, units]
    return AxisField(size, start, tuple(map(float, lo_run)), tuple(map(float, hi_run)))


def measure(boxes: Array) -> MeasuredField:
    """The field of one layer from its box map (1, *sizes, 2·rank + 1)."""
    m = boxes[0]
    rank = m.ndim - 1
    bounds = [(-m[..., 2 * a], m[..., 2 * a + 1]) for a in range(rank)]
    nonempty = np.logical_and.reduce([np.isfinite(hi) for _, hi in bounds])
    # "whole input": every unit sees all the input the layer sees at all — the image, unless
    # strides skip pixels or drop the last rows on the way
    whole = bool(nonempty.any()) and all(
        (bound[nonempty] == bound[nonempty].max()).all()
        for bound in (m[..., k] for k in range(2 * rank))
    )
    clean = m[..., -1] == 0
    axes = tuple(
        _axis(np.where(nonempty, lo, np.nan), np.where(nonempty, hi, np.nan), clean, a)
        for a, (lo, hi) in enumerate(bounds)
    )
    return MeasuredField(axes, whole, int((clean & nonempty).sum()), not nonempty.any())


def initial_boxes(net: Network) -> dict[str, Array | None]:
    """Each input's boxes: every pixel sees itself (None for a flat input). Each input counts
    in its own pixels, as the analytic pass does."""
    return {
        name: input_boxes(shape[:-1]) if len(shape) > 1 else None
        for name, shape in net.inputs.items()
    }


def measure_fields(net: Network) -> dict[str, MeasuredField | None]:
    """Every layer's measured field on `net`'s own input size (None for flat outputs), in
    any spatial rank."""
    if all(len(shape) < 2 for shape in net.inputs.values()):
        return {node.name: None for node in net}
    last_use: dict[str, int] = {}
    for index, node in enumerate(net):
        for name in node.inputs:
            last_use[name] = index
    live = initial_boxes(net)
    out: dict[str, MeasuredField | None] = {}
    for index, node in enumerate(net):
        boxes = layer_boxes(node, [live[name] for name in node.inputs])
        out[node.name] = None if boxes is None else measure(boxes)
        live[node.name] = boxes
        for name in set(node.inputs):
            if last_use[name] == index:
                del live[name]
    return out


# --- growing the input until interior units see no padding ---------------------------------


def _stride_period(net: Network) -> tuple[int, ...]:
    """Per axis, an S such that input sizes H + m·S give every layer the same rounding, the
    same `same` padding and the same merges: the lcm over layers of the product of the
    strides on the way (conv_transpose multiplies sizes, so it adds no constraint)."""
    rank = len(net.input_shape) - 1
    cumulative: dict[str, tuple[int, ...]] = dict.fromkeys(net.input_names, (1,) * rank)
    period = (1,) * rank
    for node in net:
        ins = [cumulative[name] for name in node.inputs]
        cum = tuple(math.lcm(*(c[a] for c in ins)) for a in range(rank))
        op: Any = node.op
        if node.kind in ("conv", "maxpool", "avgpool"):
            cum = tuple(c * t for c, t in zip(cum, per_axis(op.stride, rank), strict=True))
        elif node.kind in ("upsample", "pixel_unshuffle"):  # downsampling by an integer
            window = op.window(net.input_shapes(node))
            if not window.transposed:
                cum = tuple(c * t for c, t in zip(cum, window.stride, strict=True))
        cumulative[node.name] = cum
        period = tuple(math.lcm(p, c) for p, c in zip(period, cum, strict=True))
    return period


def _adaptive_divides(net: Network) -> bool:
    for node in net:
        if node.kind in ("adaptive_avgpool", "adaptive_maxpool"):
            sizes = net.shapes[node.inputs[0]][:-1]
            out = per_axis(cast(Any, node.op).output, len(sizes))
            if any(s % o for s, o in zip(sizes, out, strict=True)):
                return False
    return True


def _rebuild(net: Network, sizes: tuple[int, ...]) -> Network | None:
    try:
        inputs = {net.input_names[0]: (*sizes, net.input_shape[-1])}
        return build_network(net.name, inputs, list(net.nodes), net.output_names)
    except SpecError:
        return None


def enlarged(net: Network, max_side: int = 4096) -> Iterator[Network]:
    """`net` itself, then `net` on inputs about 2, 4, 8, ... times larger along every axis
    (up to `max_side`, or its square for a 1-D signal), of sizes H + m·S (see
    `_stride_period`) so that every layer rounds and pads as on the original input; among
    the first eight such sizes of each step, one where adaptive pooling bins divide evenly
    is preferred (and one where the network is valid at all is needed)."""
    yield net
    if len(net.input_shape) < 2 or len(net.input_names) > 1:
        return  # flat, or several inputs: measured on their own sizes only
    sizes = net.input_shape[:-1]
    if len(sizes) == 1:  # a signal may be as long as an image has pixels
        max_side *= max_side
    period = _stride_period(net)
    factor = 2
    while True:
        m0 = max(max(-(-(h * (factor - 1)) // s) for h, s in zip(sizes, period, strict=True)), 1)
        first: Network | None = None
        for m in range(m0, m0 + 8):
            grown = tuple(h + m * s for h, s in zip(sizes, period, strict=True))
            if max(grown) > max_side:
                if m == m0:
                    return
                break
            candidate = _rebuild(net, grown)
            if candidate is None:
                continue
            if _adaptive_divides(candidate):
                first = candidate
                break
            first = first or candidate
        if first is not None:
            yield first
        factor *= 2
