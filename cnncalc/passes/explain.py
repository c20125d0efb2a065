"""`--explain`: the worked derivation behind a layer's numbers, in course notation.

Every line re-runs the rule that produced the number (layer rules compute with
`cnncalc.derive.Q`), so what is printed is the arithmetic that ran, not a second copy of it.
"""

from __future__ import annotations

from cnncalc.derive import derivations, equation
from cnncalc.graph import Network, Node
from cnncalc.layers import fmt_shape
from cnncalc.passes.memory import MemoryOptions, tensor_size
from cnncalc.passes.receptive_field import ReceptiveField

TOPICS = ("shape", "params", "macs", "rf", "memory")


def explain_layer(
    net: Network,
    node: Node,
    topics: tuple[str, ...],
    rf: ReceptiveField | None = None,
    memory: MemoryOptions | None = None,
) -> list[str]:
    with derivations():
        return _explain(net, node, topics, rf, memory)


def _explain(
    net: Network,
    node: Node,
    topics: tuple[str, ...],
    rf: ReceptiveField | None,
    memory: MemoryOptions | None,
) -> list[str]:
    inputs = net.input_shapes(node)
    output = net.shapes[node.name]
    lines = [
        f"{node.name} ({node.kind}): {' + '.join(fmt_shape(s) for s in inputs)} → "
        f"{fmt_shape(output)}"
    ]
    if "shape" in topics:
        dims = node.op.output_shape(inputs)
        labels = ("H_out", "W_out", "C_out") if len(dims) == 3 else ("N_out",)
        lines += [equation(label, d) for label, d in zip(labels, dims, strict=True)]
    if "params" in topics:
        lines.append(equation("params", node.op.params(inputs)))
        buffers = node.op.buffers(inputs)
        if buffers:
            lines.append(equation("buffers", buffers))
    if "macs" in topics:
        lines.append(equation("MACs", node.op.macs(inputs, output)))
    if "rf" in topics:
        if rf is None:
            lines.append("rf: none (flat output: every input pixel)")
        elif rf.derivation is not None:
            lines_hw = rf.derivation()
            axes = ("h", "w") if lines_hw[0] != lines_hw[1] else ("",)
            for axis, text in zip(axes, lines_hw, strict=False):
                lines.append(f"rf{'[' + axis + ']' if axis else ''}: {text}")
        else:
            lines.append("rf: unchanged (pointwise)")
    if "memory" in topics and memory is not None:
        elements, size = tensor_size(output, memory)
        lines.append(equation("activations", elements))
        lines.append(equation(f"bytes ({memory.dtype})", size))
    return lines
