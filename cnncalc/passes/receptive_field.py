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
from itertools import repeat
from math import gcd
from operator import add, attrgetter, ge, mul
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
    # what --explain derives it from: a window's rule and its input's field, or a merge's
    # inputs' fields (a layer keeps two references, not a closure: see `derivation`)
    rule: WindowRule | None = field(default=None, compare=False, repr=False)
    source: ReceptiveField | list[ReceptiveField] | None = field(
        default=None, compare=False, repr=False
    )
    # at a merge whose paths disagree: each input's (name, stride, center)
    disagree: tuple[tuple[str, Pair, Pair], ...] = field(default=(), compare=False)

    @property
    def derivation(self) -> Callable[[], tuple[str, ...]] | None:
        """--explain: formats (per axis) the very numbers the rule combined; None for an
        input's own field."""
        source = self.source
        if isinstance(source, ReceptiveField) and self.rule is not None:
            return partial(_window_derivation, self.rule, source)
        if isinstance(source, list):
            return partial(_merge_derivation, source, self.size, self.disagree)
        return None

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


@dataclass(frozen=True, slots=True)  # one per class of layers (see `layer_rule`)
class WindowRule:
    """A window's effect on the field, with what every layer of its class shares worked out
    once: per axis, r_out = r + grow·j and c_out = c + offset·j (unused when transposed)."""

    window: Window
    grow: tuple[int, ...]  # span − 1
    offset: tuple[Num, ...]  # (span − 1)/2 − p


def window_rule(window: Window) -> WindowRule:
    if window.transposed:
        return WindowRule(window, (), ())
    spans = [d * (k - 1) + 1 for k, d in zip(window.kernel, window.dilation, strict=True)]
    offsets = [exact(span - 1, 2) - p for span, p in zip(spans, window.pad_before, strict=True)]
    return WindowRule(window, tuple(span - 1 for span in spans), tuple(offsets))


def _advance(rule: WindowRule, field: ReceptiveField) -> tuple[Pair, Pair, Pair]:
    """(sizes, jumps, centers) of the field one window further, every axis at once."""
    window = rule.window
    size, stride, center = field.size, field.stride, field.center
    if window.transposed:
        axes = [_transposed(window, a, size[a], stride[a], center[a]) for a in range(len(size))]
        sizes, jumps, centers, _ = zip(*axes, strict=True)
        return sizes, jumps, centers
    if len(size) == 2:  # an image: the same sums unrolled, 5× faster than the maps below
        (r0, r1), (j0, j1), (c0, c1) = size, stride, center
        (g0, g1), (s0, s1), (o0, o1) = rule.grow, window.stride, rule.offset
        return (r0 + g0 * j0, r1 + g1 * j1), (j0 * s0, j1 * s1), (c0 + o0 * j0, c1 + o1 * j1)
    return (
        tuple(map(add, size, map(mul, rule.grow, stride))),
        tuple(map(mul, stride, window.stride)),
        tuple(map(add, center, map(mul, rule.offset, stride))),
    )


def _transposed(window: Window, axis: int, r: Num, j: Num, c: Num) -> tuple[Num, Num, Num, int]:
    """A transposed window's (size, jump, center) on one axis, and the widest input span."""
    k, s, d, p = (
        window.kernel[axis],
        window.stride[axis],
        window.dilation[axis],
        window.pad_before[axis],
    )
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


def _window_derivation(rule: WindowRule, field: ReceptiveField) -> tuple[str, ...]:
    """The --explain text of every axis, the field worked out again when asked: a
    100,000-layer report would otherwise keep its texts."""
    window = rule.window
    sizes, jumps, centers = _advance(rule, field)
    lines = []
    for a, (r, j, c) in enumerate(zip(field.size, field.stride, field.center, strict=True)):
        s, p = window.stride[a], window.pad_before[a]
        size, jump, center = fmt(sizes[a]), fmt(jumps[a]), fmt(centers[a])
        if window.transposed:
            widest = _transposed(window, a, r, j, c)[3]
            lines.append(
                f"size = {fmt(r)} + {widest}·{fmt(j)} = {size} (transposed: widest input span); "
                f"stride = {fmt(j)}/{s} = {jump}; center = {center}"
            )
        else:
            span = rule.grow[a] + 1
            lines.append(
                f"size = {fmt(r)} + ({span} − 1)·{fmt(j)} = {size}; "
                f"stride = {fmt(j)}·{s} = {jump}; "
                f"center = {fmt(c)} + (({span} − 1)/2 − {p})·{fmt(j)} = {center}"
            )
    return tuple(lines)


@dataclass(frozen=True, slots=True)  # one per class of layers (see `layer_rule`)
class MergeRule:
    """A merge's inputs whose positions count: not a 1×1 input broadcast over H×W (an SE
    gate), unless every input is one."""

    positional: tuple[int, ...]


def merge_rule(shapes: list[tuple[int, ...]]) -> MergeRule:
    positional = [i for i, shape in enumerate(shapes) if set(shape[:-1]) != {1}]
    return MergeRule(tuple(positional or range(len(shapes))))


def _merge(node: Node, fields: list[ReceptiveField], rule: MergeRule) -> ReceptiveField:
    """Largest size over paths; aligned where the positional paths' jumps and centres agree.
    (Maps of attrgetters: generator expressions cost ~1 µs each, 10,000 merges in a chain.)"""
    size = tuple(map(max, *map(_SIZE, fields)))
    positional = [fields[i] for i in rule.positional]
    first = positional[0]
    stride, center = first.stride, first.center
    agree = all(map(_same_place, positional, repeat(first)))
    aligned = agree and all(map(_ALIGNED, positional))
    whole = any(map(_WHOLE, fields))
    disagree: tuple[tuple[str, Pair, Pair], ...] = ()
    if not agree:
        disagree = tuple(
            (node.inputs[i], fields[i].stride, fields[i].center) for i in rule.positional
        )
    return ReceptiveField(size, stride, center, aligned, whole, None, fields, disagree)


_SIZE, _ALIGNED, _WHOLE = attrgetter("size"), attrgetter("aligned"), attrgetter("whole_input")


def _same_place(field: ReceptiveField, other: ReceptiveField) -> bool:
    return field.stride == other.stride and field.center == other.center


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
    """How a layer passes its input's field on, if not through a window or a merge."""

    UNKNOWN = "unknown"  # a flat output (dense, flatten), or an opaque layer
    KEEP = "keep"  # pointwise: its input's field, the same object


Rule = Way | WindowRule | MergeRule
_KEEP, _UNKNOWN = Way.KEEP, Way.UNKNOWN  # an Enum member read from its class costs 70 ns


def layer_rule(net: Network, node: Node) -> Rule:
    """What `node` does to its input's field: a function of its op and input shapes, the
    same for every layer of its class (see `Network.classes`)."""
    if len(net.shapes[node.name]) < 2 or isinstance(node.op, Opaque):
        return Way.UNKNOWN
    if len(node.inputs) > 1:
        return merge_rule(net.input_shapes(node))
    window = node.op.window(net.input_shapes(node))
    return Way.KEEP if window is None else window_rule(window)


def layer_field(
    node: Node, fields: dict[str, ReceptiveField | None], rule: WindowRule | MergeRule
) -> ReceptiveField | None:
    """`node`'s field from its inputs' `fields` by its window's or merge's `layer_rule`."""
    if isinstance(rule, MergeRule):
        known = list(map(fields.__getitem__, node.inputs))
        if not all(known):  # after an opaque layer: unknown (a field itself is always true)
            return None
        return _merge(node, cast(list[ReceptiveField], known), rule)
    field = fields[node.inputs[0]]
    if field is None:
        return None
    sizes, jumps, centers = _advance(rule, field)
    if _beyond_64_bits(sizes + jumps + centers):
        raise SpecError(
            f"layer {node.name}: its receptive field is beyond 2^63 − 1 pixels "
            "(the strides on the way multiply)",
            node.pos,
            "a field this large is a runaway: look for huge strides or dilations",
        )
    whole = field.whole_input or rule.window.whole_input
    return ReceptiveField(sizes, jumps, centers, field.aligned, whole, rule, field)


def receptive_fields(net: Network) -> dict[str, ReceptiveField | None]:
    """Each layer's field, in the pixels of the inputs it sees: every image input starts as
    one pixel, so where paths from several inputs merge, the merge rule applies as to any
    merge (aligned when the paths' jumps and centres agree)."""
    fields: dict[str, ReceptiveField | None] = {
        name: input_field(len(shape) - 1) if len(shape) > 1 else None
        for name, shape in net.inputs.items()
    }
    rules = per_layer(net, partial(layer_rule, net))
    for node, rule in zip(net.nodes, rules, strict=True):  # the hot loop: 100,000 layers
        if rule is _KEEP:
            fields[node.name] = fields[node.inputs[0]]
        elif rule is _UNKNOWN:
            fields[node.name] = None
        else:
            fields[node.name] = layer_field(node, fields, cast(WindowRule | MergeRule, rule))
    for name in net.input_names:
        del fields[name]
    return fields
