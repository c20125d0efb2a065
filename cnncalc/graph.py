"""The IR: a network is its input shape and a DAG of nodes in topological (spec) order.

Every node's output shape is inferred while the network is built, so a `Network` that exists
is a valid one: later passes never meet a kernel larger than its input or a bad merge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from cnncalc.errors import LayerError, SourcePos, SpecError
from cnncalc.fields import MAX_SIZE
from cnncalc.layers import Op, Shape, fmt_shape

INPUT = "input"


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    op: Op
    inputs: tuple[str, ...]
    trainable: bool
    pos: SourcePos
    functional: bool = False  # PyTorch applies it as F.* rather than a module (ptflops counts)
    # where each field of the layer is written, so errors can point at the value at fault
    field_pos: Mapping[str, SourcePos] = field(default_factory=dict, repr=False, compare=False)

    def pos_of(self, name: str | None) -> SourcePos:
        """The position of field `name` (`kernel`, `from`, ...), or of the layer."""
        return self.field_pos.get(name, self.pos) if name else self.pos

    @property
    def kind(self) -> str:
        return self.op.kind


@dataclass(frozen=True)
class Network:
    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    shapes: Mapping[str, Shape] = field(repr=False)  # every node's output, and INPUT's

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def input_shapes(self, node: Node) -> list[Shape]:
        return [self.shapes[i] for i in node.inputs]

    @property
    def output(self) -> Node:
        return self.nodes[-1]


def _describe_inputs(node: Node, shapes: Mapping[str, Shape]) -> str:
    if len(node.inputs) == 1:
        return f" (from {node.inputs[0]})"
    return ": " + ", ".join(f"{i} is {fmt_shape(shapes[i])}" for i in node.inputs)


def build_network(name: str, input_shape: Shape, nodes: list[Node]) -> Network:
    """Check arity and infer every output shape; errors point at the offending layer."""
    shapes: dict[str, Shape] = {INPUT: input_shape}
    for node in nodes:
        op = node.op
        n = len(node.inputs)
        if n < op.min_inputs or (op.max_inputs is not None and n > op.max_inputs):
            if op.max_inputs == 1:
                raise SpecError(
                    f"layer {node.name}: {op.kind} takes one input, got {n}",
                    node.pos_of("from"),
                    "name one layer in `from`, or merge the inputs first (add, concat)",
                )
            raise SpecError(
                f"layer {node.name}: {op.kind} needs at least {op.min_inputs} inputs, got {n}",
                node.pos_of("from"),
                f"list them: `{op.kind}: {{from: [a, b]}}`",
            )
        try:
            # plain ints: a shape's derivation (see cnncalc.derive) belongs to its own layer
            shapes[node.name] = tuple(map(int, op.output_shape([shapes[i] for i in node.inputs])))
        except LayerError as exc:
            message = f"layer {node.name}: {exc.message}"
            if exc.field == "from":  # the inputs are at fault: say which they are
                message += _describe_inputs(node, shapes)
            raise SpecError(message, node.pos_of(exc.field), exc.hint) from None
        if any(d <= 0 for d in shapes[node.name]):
            raise SpecError(
                f"layer {node.name}: output size {fmt_shape(shapes[node.name])} is not positive",
                node.pos,
            )
        if any(d > MAX_SIZE for d in shapes[node.name]):  # (a 5,000-digit size has no str())
            bits = max(d.bit_length() for d in shapes[node.name])
            raise SpecError(
                f"layer {node.name}: an output size of {bits:,} bits is beyond 2^63 − 1",
                node.pos,
                "a size this large is a runaway: look for repeated concats or flattens",
            )
    if not nodes:
        raise SpecError("the network has no layers", None)
    return Network(name, input_shape, tuple(nodes), shapes)
