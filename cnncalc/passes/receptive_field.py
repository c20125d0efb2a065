"""Receptive field: for each spatial layer, the input region one output unit sees.

Per axis, with the layer's window (kernel k, stride s, dilation d, leading padding p; span
k' = d·(k − 1) + 1) and its input's field (size r, jump j, centre c):

    r_out = r + (k' − 1)·j      j_out = j·s      c_out = c + ((k' − 1)/2 − p)·j

A transposed conv spreads its input s apart: j_out = j/s, the size grows by the widest span
of input units one output unit mixes, and c_out follows the first output unit. Where a merge
joins paths of different jump or centre the field is "not aligned"; its size is the largest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from functools import partial
from math import gcd
from operator import ge
from typing import cast

from cnncalc.errors import SpecError
from cnncalc.fields import MAX_SIZE
from cnncalc.graph import Network, Node, per_layer
from cnncalc.layers.base import Window
from cnncalc.layers.opaque import Opaque
from cnncalc.units import fmt_number as fmt

Num = int | Fraction  # ints stay ints (fast); only a transposed conv makes fractions
Pair = tuple[Num, ...]  # one value per spatial axis: (h, w) in 2-D


def exact(numerator: int, denominator: int) -> Num:
    """numerator/denominator as an int when it divides, else a Fraction."""
    return (
        numerator // denominator
        if numerator % denominator == 0
        else Fraction(numerator, denominator)
    )


@dataclass(slots=True, unsafe_hash=True)  # not frozen: one per layer (see graph.Node)
class ReceptiveField:
    size: Pair
    stride: Pair  # the jump: input pixels between neighbouring output units
    center: Pair  # input coordinate of the centre of output unit (0, 0, ...)
    aligned: bool = True
    whole_input: bool = False  # global pooling: every input pixel
    # --explain: formats (per axis) the very numbers the rule combined; None where unchanged
    derivation: Callable[[], tuple[str, ...]] | None = field(default=None, compare=False)
    # at a merge whose paths disagree: each input's (name, stride, center)
    disagree: tuple[tuple[str, Pair, Pair], ...] = field(default=(), compare=False)

    def covers(self, extent: tuple[int, ...]) -> bool:
        """Whether the field is at least the input's `extent` (h, w) on every axis, or global."""
        return self.whole_input or (bool(extent) and all(map(ge, self.size, extent)))

    def to_dict(self) -> dict[str, list[Num] | list[int | float]]:
        size, stride, center = self.size, self.stride, self.center
        if type(sum(size) + sum(stride) + sum(center)) is int:  # all ints: nearly always
            return {"size": list(size), "stride": list(stride), "center": list(center)}
        return {
            "size": _numbers(self.size),
            "stride": _numbers(self.stride),
            "center": _numbers(self.center),
        }


def _numbers(values: Pair) -> list[int | float]:
    """JSON numbers: ints as they are, fractions as ints or floats."""
    return [v if type(v) is int else _number(v) for v in values]


def _number(value: Num) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def input_field(rank: int) -> ReceptiveField:
    """The input's own field: each pixel sees itself."""
    return ReceptiveField((1,) * rank, (1,) * rank, (0,) * rank)


INPUT_FIELD = input_field(2)


def _axis(window: Window, axis: int, r: Num, j: Num, c: Num) -> tuple[Num, Num, Num, int]:
    """(size, jump, center) on one axis, and the span (or, transposed, the widest input span)
    that `_axis_text` shows; no text is made here (100,000 layers would not read it)."""
    k, s, d, p = (
        window.kernel[axis],
        window.stride[axis],
        window.dilation[axis],
        window.pad_before[axis],
    )
    span = d * (k - 1) + 1
    if not window.transposed:
        return r + (span - 1) * j, j * s, c + (exact(span - 1, 2) - p) * j, span
    # output o gathers input i = (o + p − m·d)/s for the taps m with m·d ≡ o + p (mod s): with
    # g = gcd(d, s) they step by s/g, and each step moves i by d/g (closed forms, O(1) in k, s)
    g = gcd(d, s)
    period = s // g
    widest = (k - 1) // period * (d // g)  # the residue with tap 0 has the most taps
    center = c
    if p % g == 0:  # output 0's taps: the smallest m0, then m0 + period, ... below k
        m0 = (p // g) * pow(d // g, -1, period) % period
        if m0 < k:
            m1 = m0 + (k - 1 - m0) // period * period
            center = c + Fraction((p - m1 * d) // s + (p - m0 * d) // s, 2) * j
    jump = j / s if isinstance(j, Fraction) else exact(j, s)
    return r + widest * j, jump, center, widest


def _axis_text(window: Window, axis: int, r: Num, j: Num, c: Num) -> str:
    """The --explain line of `_axis`: the very numbers it combined."""
    size, jump, center, span = _axis(window, axis, r, j, c)
    s, p = window.stride[axis], window.pad_before[axis]
    if window.transposed:
        return (
            f"size = {fmt(r)} + {span}·{fmt(j)} = {fmt(size)} (transposed: widest input span); "
            f"stride = {fmt(j)}/{s} = {fmt(jump)}; center = {fmt(center)}"
        )
    return (
        f"size = {fmt(r)} + ({span} − 1)·{fmt(j)} = {fmt(size)}; "
        f"stride = {fmt(j)}·{s} = {fmt(jump)}; "
        f"center = {fmt(c)} + (({span} − 1)/2 − {p})·{fmt(j)} = {fmt(center)}"
    )


def _merge(
    fields: list[ReceptiveField], shapes: list[tuple[int, ...]], names: tuple[str, ...]
) -> ReceptiveField:
    """Largest size over paths; a 1×1 input broadcast over H×W (SE gates) does not align."""
    paths = list(zip(names, fields, strict=True))
    positional = [p for p, s in zip(paths, shapes, strict=True) if set(s[:-1]) != {1}] or paths
    size = tuple(map(max, *[f.size for f in fields]))
    first = positional[0][1]
    agree = all(f.stride == first.stride and f.center == first.center for _, f in positional)
    aligned = agree and all(f.aligned for _, f in positional)
    whole = any(f.whole_input for f in fields)
    disagree = () if agree else tuple((n, f.stride, f.center) for n, f in positional)
    derivation = partial(_merge_derivation, fields, size, disagree)
    return ReceptiveField(size, first.stride, first.center, aligned, whole, derivation, disagree)


def _merge_derivation(
    fields: list[ReceptiveField], size: Pair, disagree: tuple[tuple[str, Pair, Pair], ...]
) -> tuple[str, ...]:
    """The --explain text of a merge, worked out when asked (see `_window_derivation`)."""
    lines = []
    for a in range(len(size)):
        line = f"size = max({', '.join(fmt(f.size[a]) for f in fields)}) = {fmt(size[a])}"
        if disagree:
            line += "; not aligned: " + ", ".join(
                f"{n} stride {fmt(j[a])} center {fmt(c[a])}" for n, j, c in disagree
            )
        lines.append(line)
    return tuple(lines)


def _beyond_64_bits(values: tuple[Num, ...]) -> bool:
    """Past what any size may be (and, after thousands of strides, past what str() prints)."""
    if type(sum(values)) is int:  # all ints (a Fraction makes the sum one): nearly always
        return max(values) > MAX_SIZE or min(values) < -MAX_SIZE
    return any(abs(v.numerator) > MAX_SIZE or v.denominator > MAX_SIZE for v in values)


class Way(Enum):
    """How a layer passes its input's field on, if not through a window."""

    UNKNOWN = "unknown"  # a flat output (dense, flatten), or an opaque layer
    KEEP = "keep"  # pointwise, or a merge (the largest of its inputs')


Rule = Way | Window


def layer_rule(net: Network, node: Node) -> Rule:
    """What `node` does to its input's field: a function of its op and input shapes, the
    same for every layer of its class (see `Network.classes`)."""
    if len(net.shapes[node.name]) < 2 or isinstance(node.op, Opaque):
        return Way.UNKNOWN
    if len(node.inputs) > 1:
        return Way.KEEP
    window = node.op.window(net.input_shapes(node))
    return Way.KEEP if window is None else window


def layer_field(
    net: Network, node: Node, fields: dict[str, ReceptiveField | None], rule: Rule
) -> ReceptiveField | None:
    """`node`'s field from its inputs' `fields` by its `layer_rule`."""
    if rule is Way.UNKNOWN:
        return None
    names = node.inputs
    if len(names) > 1:
        known = [fields[name] for name in names]
        if any(f is None for f in known):  # after an opaque layer: unknown
            return None
        return _merge(cast(list[ReceptiveField], known), net.input_shapes(node), names)
    field = fields[names[0]]
    if field is None or rule is Way.KEEP:
        return field
    size, stride, center = field.size, field.stride, field.center
    axes = [_axis(rule, a, size[a], stride[a], center[a]) for a in range(len(rule.kernel))]
    sizes, jumps, centers, _ = zip(*axes, strict=True)
    if _beyond_64_bits((*sizes, *jumps, *centers)):
        raise SpecError(
            f"layer {node.name}: its receptive field is beyond 2^63 − 1 pixels "
            "(the strides on the way multiply)",
            node.pos,
            "a field this large is a runaway: look for huge strides or dilations",
        )
    return ReceptiveField(
        sizes,
        jumps,
        centers,
        field.aligned,
        field.whole_input or rule.whole_input,
        partial(_window_derivation, rule, field),
    )


def _window_derivation(window: Window, field: ReceptiveField) -> tuple[str, ...]:
    """The --explain text of every axis, worked out again when asked: a 100,000-layer report
    would otherwise keep five closures a layer."""
    return tuple(
        _axis_text(window, a, field.size[a], field.stride[a], field.center[a])
        for a in range(len(window.kernel))
    )


def receptive_fields(net: Network) -> dict[str, ReceptiveField | None]:
    """Each layer's field, in the pixels of the inputs it sees: every image input starts as
    one pixel, so where paths from several inputs merge, the merge rule applies as to any
    merge (aligned when the paths' jumps and centres agree)."""
    fields: dict[str, ReceptiveField | None] = {
        name: input_field(len(shape) - 1) if len(shape) > 1 else None
        for name, shape in net.inputs.items()
    }
    rules = per_layer(net, partial(layer_rule, net))
    for node, rule in zip(net.nodes, rules, strict=True):
        fields[node.name] = layer_field(net, node, fields, rule)
    for name in net.input_names:
        del fields[name]
    return fields
