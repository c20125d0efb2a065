"""Warnings pass: sliding windows that never reach the last rows or columns of their input.

⌊(H + pads − span)/stride⌋ + 1 windows leave input rows unseen when the division is not whole:
AlexNet, written for 227×227, run at the paper's stated 224 — conv1 never sees the last
column. The network still computes, so this is a warning, never an error. Rows a stride larger
than the window skips anyway (a 1×1 conv with stride 2) are not counted: between any two
windows such rows are skipped by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from cnncalc.errors import SourcePos
from cnncalc.graph import Network, Node, per_layer
from cnncalc.layers import fmt_shape
from cnncalc.layers.conv import Conv
from cnncalc.layers.pool import AvgPool, MaxPool

AXIS_WORDS = {
    1: ("sample",),
    2: ("row", "column"),
    3: ("frame", "row", "column"),
}


@dataclass(frozen=True)
class SpecWarning:
    """Something probably unintended in a valid network, at a layer."""

    layer: str
    pos: SourcePos
    message: str
    hint: str

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos.file else ""
        return f"{where}warning: {self.message}\n  hint: {self.hint}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "message": self.message,
            "hint": self.hint,
            "file": self.pos.file,
            "line": self.pos.line,
            "col": self.pos.col,
        }


WINDOWED = (Conv, MaxPool, AvgPool)  # the layers warned about
Shortfall = tuple[list[int], list[list[int]]]  # per axis: rows lost; smaller, larger exact


def _shortfall(net: Network, node: Node) -> Shortfall | None:
    """The input rows (columns, ...) per axis that a conv or pooling layer's windows never
    reach, and the exact input sizes below and above; None if they reach every row (or it is
    another kind). A function of the layer's op and input shapes: once per class of layers."""
    if not isinstance(node.op, WINDOWED):
        return None
    inputs = net.input_shapes(node)
    window = node.op.window(inputs)
    if window is None:
        return None
    size, out = inputs[0][:-1], net.shapes[node.name][:-1]
    rank = len(size)
    lost, exact = [0] * rank, [list(size), list(size)]
    for axis in range(rank):
        stride = window.stride[axis]
        span = window.dilation[axis] * (window.kernel[axis] - 1) + 1
        reach = (out[axis] - 1) * stride + span - window.pad_before[axis]
        if size[axis] - reach > max(0, stride - span):
            lost[axis] = size[axis] - reach
            exact[0][axis] = size[axis] - lost[axis]
            exact[1][axis] = size[axis] - lost[axis] + stride
    return (lost, exact) if any(lost) else None


def _unseen(node: Node, net: Network, shortfall: Shortfall) -> SpecWarning:
    """The warning for one conv or pooling layer whose windows leave input rows unseen."""
    lost, exact = shortfall
    inputs = net.input_shapes(node)
    dropped = "the last " + " and ".join(
        word if n == 1 else f"{n:,} {word}s"
        for n, word in zip(lost, AXIS_WORDS[len(lost)], strict=True)
        if n
    )
    channels = inputs[0][-1:]
    larger, smaller = (fmt_shape((*e, *channels)) for e in (exact[1], exact[0]))
    what = "an input" if node.inputs[0] in net.input_names else "an input to this layer"
    return SpecWarning(
        node.name,
        node.pos,
        f"layer {node.name} never sees {dropped} of its {fmt_shape(inputs[0])} input (its "
        "windows do not fit a whole number of times; the output size rounds down)",
        f"{what} of {larger} (or {smaller}) would be exact",
    )


def unseen_pixels(net: Network) -> list[SpecWarning]:
    """A warning per conv or pooling layer whose windows never reach its last rows/columns."""
    shortfalls = per_layer(net, partial(_shortfall, net))
    return [
        _unseen(node, net, shortfall)
        for node, shortfall in zip(net.nodes, shortfalls, strict=True)
        if shortfall is not None
    ]
