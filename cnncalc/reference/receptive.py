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
forward).

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
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import numpy as np

from cnncalc.errors import SpecError
from cnncalc.graph import Network, Node, build_network
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

# channels of a box map: −lo_y, hi_y, −lo_x, hi_x (so every union is a max), flag
PAD = np.array([-np.inf, -np.inf, -np.inf, -np.inf, 1.0], dtype=np.float32)
GAP = np.array([-np.inf, -np.inf, -np.inf, -np.inf, 0.0], dtype=np.float32)
CHANNELS = 5


def input_boxes(h: int, w: int) -> Array:
    m = np.zeros((1, h, w, CHANNELS), dtype=np.float32)
    m[..., 0] = -np.arange(h, dtype=np.float32)[:, None]
    m[..., 1] = np.arange(h, dtype=np.float32)[:, None]
    m[..., 2] = -np.arange(w, dtype=np.float32)[None, :]
    m[..., 3] = np.arange(w, dtype=np.float32)[None, :]
    return m


def _conv_transpose_boxes(op: Any, m: Array) -> Array:
    """As the forward: spread `stride` apart, then a stride-1 window. The input is first
    extended by virtual units (flagged) so that windows reaching past it are flagged too."""
    hw = (m.shape[1], m.shape[2])
    kernel, stride, dilation = (per_axis(v, 2) for v in (op.kernel, op.stride, op.dilation))
    ext = [-(-span(kernel[a], dilation[a]) // stride[a]) + 1 for a in range(2)]  # per side
    extended = pad_spatial(m, (ext[0], ext[0], ext[1], ext[1]), PAD)
    spread = dilate(extended, stride, GAP)
    t, b, left, r = transpose_as_conv_pads(op, hw)
    shift = (ext[0] * stride[0], ext[1] * stride[1])
    pads = (t - shift[0], b - shift[0], left - shift[1], r - shift[1])
    return window_reduce(pad_spatial(spread, pads, PAD), kernel, (1, 1), dilation, np.maximum)


def layer_boxes(node: Node, inputs: list[Array | None]) -> Array | None:
    """The box map of one layer's output from its inputs' (None: a flat tensor)."""
    if any(m is None for m in inputs):
        return None
    maps = [m for m in inputs if m is not None]
    op: Any = node.op
    kind = node.kind
    m = maps[0]
    if kind == "mean":
        return mean_boxes(op, m)
    if kind == "groupnorm" or (kind == "instancenorm" and not op.track_running_stats):
        # per-sample statistics over all positions reach every unit
        return cast(Array, np.maximum(m, m.max(axis=tuple(range(1, m.ndim - 1)), keepdims=True)))
    if kind == "dense" and op.per_position:
        return m
    if kind in ("dense", "flatten"):
        return None
    if kind == "conv":
        kernel, stride, dilation = (per_axis(v, 2) for v in (op.kernel, op.stride, op.dilation))
        pads = window_pads(op.padding, m.shape[1:3], kernel, stride, dilation)
        return window_reduce(pad_spatial(m, pads, PAD), kernel, stride, dilation, np.maximum)
    if kind == "conv_transpose":
        return _conv_transpose_boxes(op, m)
    if kind in ("maxpool", "avgpool"):
        padded, _ = pool_input(op, m, PAD)
        kernel, stride, dilation = pool_window(op, 2)
        return window_reduce(padded, kernel, stride, dilation, np.maximum)
    if kind in ("global_avgpool", "global_maxpool"):
        return cast(Array, m.max(axis=(1, 2), keepdims=True))
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        return adaptive_max(m, per_axis(op.output, 2))
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
    axes: tuple[AxisField, AxisField]
    whole_input: bool  # every unit that sees any input sees all the layer sees (one box)
    clean: int  # units that touched no padding
    empty: bool  # no unit sees any input (all windows fell in padding)

    @property
    def size(self) -> tuple[int | None, int | None]:
        return self.axes[0].size, self.axes[1].size


def _longest_run(flags: Array) -> tuple[int, int]:
    """(start, length) of the longest run of True in a 1-D boolean array."""
    best = (0, 0)
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if end - start > best[1]:
            best = (int(start), int(end - start))
    return best


def _axis(lo: Array, hi: Array, clean: Array, axis: int) -> AxisField:
    """Measure along `axis` (0: rows, 1: columns) of (OH, OW) arrays of box bounds (NaN
    for units that see nothing)."""
    seen = clean & ~np.isnan(lo)
    if not seen.any():
        return AxisField(None)
    size = int((hi - lo)[seen].max()) + 1
    lines = clean.T if axis == 0 else clean  # one line per column (rows axis) or per row
    seen_lines = seen.T if axis == 0 else seen
    runs = [_longest_run(line) for line in lines]
    # the longest run among those where units see something, then the one where most do,
    # then the most central
    score = []
    for i, (start, length) in enumerate(runs):
        seen_units = int(seen_lines[i, start : start + length].sum())
        score.append((min(seen_units, 1), length, seen_units))
    best = max(score)
    candidates = [i for i, sc in enumerate(score) if sc == best]
    line = candidates[len(candidates) // 2]
    start, longest = runs[line]
    units = slice(start, start + longest)
    lo_run = lo[units, line] if axis == 0 else lo[line, units]
    hi_run = hi[units, line] if axis == 0 else hi[line, units]
    return AxisField(size, start, tuple(map(float, lo_run)), tuple(map(float, hi_run)))


def measure(boxes: Array) -> MeasuredField:
    """The field of one layer from its box map (1, OH, OW, 5)."""
    m = boxes[0]
    lo_y, hi_y, lo_x, hi_x = -m[..., 0], m[..., 1], -m[..., 2], m[..., 3]
    nonempty = np.isfinite(hi_y) & np.isfinite(hi_x)
    # "whole input": every unit sees all the input the layer sees at all — the image, unless
    # strides skip pixels or drop the last rows on the way
    whole = bool(nonempty.any()) and all(
        (bound[nonempty] == bound[nonempty].max()).all() for bound in (m[..., k] for k in range(4))
    )
    clean = m[..., 4] == 0
    lo_y, hi_y, lo_x, hi_x = (np.where(nonempty, b, np.nan) for b in (lo_y, hi_y, lo_x, hi_x))
    return MeasuredField(
        (_axis(lo_y, hi_y, clean, 0), _axis(lo_x, hi_x, clean, 1)),
        whole,
        int((clean & nonempty).sum()),
        not nonempty.any(),
    )


def initial_boxes(net: Network) -> dict[str, Array | None]:
    """Each input's boxes: every pixel sees itself (None for a flat input). Each input counts
    in its own pixels, as the analytic pass does."""
    return {
        name: input_boxes(shape[0], shape[1]) if len(shape) == 3 else None
        for name, shape in net.inputs.items()
    }


def measure_fields(net: Network) -> dict[str, MeasuredField | None]:
    """Every layer's measured field on `net`'s own input size (None for flat outputs; the
    box maps are those of images, so 1-D and 3-D inputs are not measured either)."""
    if all(len(shape) != 3 for shape in net.inputs.values()):
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


def _stride_period(net: Network) -> tuple[int, int]:
    """Per axis, an S such that input sizes H + m·S give every layer the same rounding, the
    same `same` padding and the same merges: the lcm over layers of the product of the
    strides on the way (conv_transpose multiplies sizes, so it adds no constraint)."""
    cumulative: dict[str, tuple[int, int]] = {name: (1, 1) for name in net.input_names}
    period = (1, 1)
    for node in net:
        ins = [cumulative[name] for name in node.inputs]
        cum = (math.lcm(*(c[0] for c in ins)), math.lcm(*(c[1] for c in ins)))
        op: Any = node.op
        if node.kind in ("conv", "maxpool", "avgpool"):
            stride = per_axis(op.stride, 2)
            cum = (cum[0] * stride[0], cum[1] * stride[1])
        cumulative[node.name] = cum
        period = (math.lcm(period[0], cum[0]), math.lcm(period[1], cum[1]))
    return period


def _adaptive_divides(net: Network) -> bool:
    for node in net:
        if node.kind in ("adaptive_avgpool", "adaptive_maxpool"):
            h, w = net.shapes[node.inputs[0]][:2]
            out = per_axis(cast(Any, node.op).output, 2)
            if h % out[0] or w % out[1]:
                return False
    return True


def _rebuild(net: Network, h: int, w: int) -> Network | None:
    try:
        inputs = {net.input_names[0]: (h, w, net.input_shape[2])}
        return build_network(net.name, inputs, list(net.nodes), net.output_names)
    except SpecError:
        return None


def enlarged(net: Network, max_side: int = 4096) -> Iterator[Network]:
    """`net` itself, then `net` on inputs about 2, 4, 8, ... times larger, of sizes H + m·S
    (see `_stride_period`) so that every layer rounds and pads as on the original input;
    among the first eight such sizes of each step, one where adaptive pooling bins divide
    evenly is preferred (and one where the network is valid at all is needed)."""
    yield net
    if len(net.input_shape) != 3 or len(net.input_names) > 1:
        return  # several inputs: measured on their own sizes only
    h, w = net.input_shape[0], net.input_shape[1]
    sh, sw = _stride_period(net)
    factor = 2
    while True:
        m0 = max(-(-(h * (factor - 1)) // sh), -(-(w * (factor - 1)) // sw), 1)
        if h + m0 * sh > max_side or w + m0 * sw > max_side:
            return
        first: Network | None = None
        for m in range(m0, m0 + 8):
            if h + m * sh > max_side or w + m * sw > max_side:
                break
            candidate = _rebuild(net, h + m * sh, w + m * sw)
            if candidate is None:
                continue
            if _adaptive_divides(candidate):
                first = candidate
                break
            first = first or candidate
        if first is not None:
            yield first
        factor *= 2
