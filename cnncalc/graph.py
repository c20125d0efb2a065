"""The IR: a network is its inputs, a DAG of nodes in topological (spec) order, and outputs.

Every node's output shape is inferred while the network is built, so a `Network` that exists
is a valid one: later passes never meet a kernel larger than its input or a bad merge, nor a
layer whose result no output uses (those marked `unused` are left out of the IR).
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
    unused: bool = False  # marked `unused: true`: the end of a branch no output needs

    def pos_of(self, name: str | None) -> SourcePos:
        """The position of field `name` (`kernel`, `from`, ...), or of the layer."""
        return self.field_pos.get(name, self.pos) if name else self.pos

    @property
    def kind(self) -> str:
        return self.op.kind


@dataclass(frozen=True)
class Network:
    name: str
    input_shape: Shape  # the first input's shape (for most networks, the only input)
    nodes: tuple[Node, ...]
    shapes: Mapping[str, Shape] = field(repr=False)  # every node's output, and each input's
    input_names: tuple[str, ...] = (INPUT,)
    output_names: tuple[str, ...] = ()  # () means the last layer
    unused: tuple[str, ...] = ()  # layers left out: marked `unused`, or feeding only those
    # each node's input shapes, made on first asking: every pass asks for every node's
    _inputs_of: dict[str, list[Shape]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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
        """The shapes `node` takes (one list per node, shared: do not change it)."""
        found = self._inputs_of.get(node.name)
        if found is None:
            found = self._inputs_of[node.name] = [self.shapes[i] for i in node.inputs]
        return found

    @property
    def inputs(self) -> dict[str, Shape]:
        """Each input's name → its shape, in the spec's order."""
        return {name: self.shapes[name] for name in self.input_names}

    @property
    def outputs(self) -> tuple[str, ...]:
        """The output layers' names: the spec's `outputs`, or the last layer."""
        return self.output_names or (self.nodes[-1].name,)

    @property
    def plain(self) -> bool:
        """Written as before `inputs:`/`outputs:`: one input called `input`, the last layer
        the output, no layer left out (its JSON has no `inputs`/`outputs`/`unused`)."""
        return self.input_names == (INPUT,) and not self.output_names and not self.unused

    @property
    def output(self) -> Node:
        """The first output (the last layer unless the spec lists `outputs`)."""
        return self.node(self.output_names[0]) if self.output_names else self.nodes[-1]


def _describe_inputs(node: Node, shapes: Mapping[str, Shape]) -> str:
    if len(node.inputs) == 1:
        return f" (from {node.inputs[0]})"
    return ": " + ", ".join(f"{i} is {fmt_shape(shapes[i])}" for i in node.inputs)


def build_network(
    name: str,
    inputs: Shape | Mapping[str, Shape],
    nodes: list[Node],
    outputs: tuple[str, ...] = (),
    input_pos: Mapping[str, SourcePos] | None = None,
) -> Network:
    """Check arity, infer every output shape and drop the layers marked `unused`; errors
    point at the offending layer. `inputs` is one shape (the input is called `input`) or
    each input's name → shape; `outputs` () means the last layer."""
    if not isinstance(inputs, Mapping):
        inputs = {INPUT: tuple(inputs)}
    shapes: dict[str, Shape] = dict(inputs)
    # a long network repeats a few layers on a few shapes: an (op, inputs) worked out and
    # checked once is not worked out again (equal ops are one object, see spec.expand)
    known: dict[tuple[int, tuple[Shape, ...]], Shape] = {}
    for node in nodes:
        op = node.op
        given = tuple([shapes[i] for i in node.inputs])
        seen = known.get((id(op), given))
        if seen is not None:
            shapes[node.name] = seen
            continue
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
            shapes[node.name] = tuple(map(int, op.output_shape(list(given))))
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
        known[id(op), given] = shapes[node.name]
    if not nodes:
        raise SpecError("the network has no layers", None)
    strict = bool(outputs) or list(inputs) != [INPUT]
    kept, unused = _reachable(nodes, outputs, list(inputs), input_pos or {}, strict)
    for dropped in unused:
        del shapes[dropped]
    first = next(iter(inputs.values()))
    return Network(name, first, kept, shapes, tuple(inputs), tuple(outputs), unused)


def _reachable(
    nodes: list[Node],
    outputs: tuple[str, ...],
    input_names: list[str],
    input_pos: Mapping[str, SourcePos],
    strict: bool,
) -> tuple[tuple[Node, ...], tuple[str, ...]]:
    """(the layers an output needs, the names of those left out). In a `strict` network (one
    that names its inputs or lists its outputs) a layer no output needs is an error unless
    it is marked `unused` or feeds only layers that are: marking the end of a dead branch
    marks the branch. Otherwise, as before outputs could be listed, every layer nobody takes
    counts as an output unless it is marked. One walk back from the outputs, one from the
    marks."""
    consumed = {name for node in nodes for name in node.inputs}
    seeds = outputs or (nodes[-1].name,)
    if not strict:
        seeds += tuple(n.name for n in nodes if n.name not in consumed and not n.unused)
    needed = set(seeds)
    for node in reversed(nodes):
        if node.name in needed:
            needed.update(node.inputs)
    marked: set[str] = set()
    for node in reversed(nodes):
        if node.unused and node.name in needed:
            raise SpecError(
                f"layer {node.name} is marked `unused` but an output needs it",
                node.pos_of("unused"),
                "remove `unused: true`",
            )
        if node.unused or node.name in marked:
            marked.update(node.inputs)
            marked.add(node.name)
    dead = [n for n in nodes if n.name not in needed and n.name not in marked]
    if dead:
        tips = [n for n in dead if n.name not in consumed]
        tip = tips[0] if tips else dead[0]
        more = f" (nor do {len(tips) - 1} other branches)" if len(tips) > 1 else ""
        raise SpecError(
            f"layer {tip.name} reaches no output of the network{more}",
            tip.pos,
            "take it into a later layer with `from:`, list it in `outputs:`, "
            "or mark the end of the branch `unused: true`",
        )
    for name in input_names:
        if name not in needed and name not in marked:
            raise SpecError(
                f"input {name} reaches no output of the network",
                input_pos.get(name),
                f"take it into a layer with `from: {name}`, or remove it from `inputs:`",
            )
    kept = tuple(n for n in nodes if n.name in needed)
    unused = tuple(n.name for n in nodes if n.name not in needed)
    return kept, unused
