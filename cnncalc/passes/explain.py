"""`--explain`: the worked derivation behind a layer's numbers, in course notation.

Every line re-runs the rule that produced the number (layer rules compute with
`cnncalc.derive.Q`), so what is printed is the arithmetic that ran, not a second copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.derive import Derived, derivations
from cnncalc.graph import Network, Node
from cnncalc.layers import fmt_shape
from cnncalc.passes.flops import CONVENTIONS, Site
from cnncalc.passes.memory import MemoryOptions, tensor_size
from cnncalc.passes.receptive_field import ReceptiveField, Way, layer_rule

TOPICS = ("shape", "params", "macs", "rf", "memory")
SHAPE_LABELS = {
    1: ("N_out",),
    2: ("L_out", "C_out"),
    3: ("H_out", "W_out", "C_out"),
    4: ("D_out", "H_out", "W_out", "C_out"),
}
AXIS_NAMES = {1: "l", 2: "hw", 3: "dhw"}  # rf[h], rf[w] lines per spatial axis


@dataclass(frozen=True)
class Step:
    """One line of a derivation: `label = derivation = value`, or `label: text` (value None)."""

    label: str
    derivation: str
    value: int | None = None

    @property
    def text(self) -> str:
        if self.value is None:
            return f"{self.label}: {self.derivation}"
        shown = f"{self.value:,}"
        if self.derivation == str(self.value):
            return f"{self.label} = {shown}"
        return f"{self.label} = {self.derivation} = {shown}"

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "derivation": self.derivation, "value": self.value}


@dataclass(frozen=True)
class Explanation:
    layer: str
    kind: str
    heading: str  # `conv1 (conv): 32×32×3 → 32×32×20`
    steps: tuple[Step, ...]

    def lines(self) -> list[str]:
        return [self.heading, *(step.text for step in self.steps)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.layer,
            "kind": self.kind,
            "heading": self.heading,
            "steps": [step.to_dict() for step in self.steps],
        }


def _step(label: str, value: int) -> Step:
    text = value.text if isinstance(value, Derived) else str(int(value))
    return Step(label, text, int(value))


def explain(
    net: Network,
    node: Node,
    topics: tuple[str, ...],
    rf: ReceptiveField | None = None,
    memory: MemoryOptions | None = None,
    convention: str = "macs",
) -> Explanation:
    """The derivation of `node`'s numbers on `topics`; with a `convention` other than macs,
    the `macs` topic also derives that convention's FLOPs from the MACs."""
    with derivations():
        steps = _steps(net, node, topics, rf, memory, convention)
    inputs = net.input_shapes(node)
    heading = (
        f"{node.name} ({node.kind}): {' + '.join(fmt_shape(s) for s in inputs)} → "
        f"{fmt_shape(net.shapes[node.name])}"
    )
    return Explanation(node.name, node.kind, heading, tuple(steps))


def explain_layer(
    net: Network,
    node: Node,
    topics: tuple[str, ...],
    rf: ReceptiveField | None = None,
    memory: MemoryOptions | None = None,
    convention: str = "macs",
) -> list[str]:
    """`explain` as printed lines: the heading, then one line a step."""
    return explain(net, node, topics, rf, memory, convention).lines()


def _steps(
    net: Network,
    node: Node,
    topics: tuple[str, ...],
    rf: ReceptiveField | None,
    memory: MemoryOptions | None,
    convention: str,
) -> list[Step]:
    inputs = net.input_shapes(node)
    output = net.shapes[node.name]
    steps = []
    if "shape" in topics:
        dims = node.op.output_shape(inputs)
        labels = SHAPE_LABELS[len(dims)]
        steps += [_step(label, d) for label, d in zip(labels, dims, strict=True)]
    if "params" in topics:
        steps.append(_step("params", node.op.params(inputs)))
        buffers = node.op.buffers(inputs)
        if buffers:
            steps.append(_step("buffers", buffers))
    if "macs" in topics:
        macs = node.op.macs(inputs, output)
        steps.append(_step("MACs", macs))
        if convention != "macs":
            rule = CONVENTIONS[convention].rules[node.kind]
            site = Site(node, inputs, output, Derived(int(macs)))
            steps.append(_step(f"FLOPs ({convention})", rule(site)))
    if "rf" in topics:
        steps += _rf_steps(rf, layer_rule(net, node) is Way.KEEP)
    if "memory" in topics and memory is not None:
        elements, size = tensor_size(output, memory)
        steps.append(_step("activations", elements))
        steps.append(_step(f"bytes ({memory.dtype})", size))
    return steps


def _rf_steps(rf: ReceptiveField | None, pointwise: bool) -> list[Step]:
    """`pointwise`: the layer passes its input's field on (the same object, whose derivation
    is the layer's that made it)."""
    if rf is None:
        return [Step("rf", "none (flat output: every input pixel)")]
    if pointwise or rf.derivation is None:
        return [Step("rf", "unchanged (pointwise)")]
    lines = rf.derivation()
    if len(set(lines)) == 1:
        return [Step("rf", lines[0])]
    return [
        Step(f"rf[{axis}]", line) for axis, line in zip(AXIS_NAMES[len(lines)], lines, strict=True)
    ]
