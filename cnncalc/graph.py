"""The IR: a network is its inputs, a DAG of nodes in topological (spec) order, and outputs.

Every node's output shape is inferred while the network is built, so a `Network` that exists
is a valid one: later passes never meet a kernel larger than its input or a bad merge, nor a
layer whose result no output uses (those marked `unused` are left out of the IR).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import TypeVar

from cnncalc.errors import LayerError, SourcePos, SpecError
from cnncalc.fields import MAX_SIZE
from cnncalc.layers import Op, Shape, fmt_shape
from cnncalc.yamlnodes import Packed, unpack

INPUT = "input"
T = TypeVar("T")
# where field `name` (`kernel`, `from`, ...) of a layer is written, for an error about it
FieldPos = Callable[["Node", str], SourcePos]


# Not frozen, though never changed after it is made: a frozen dataclass's __init__ costs 4×
# (one object.__setattr__ per field) and a spec makes one node per layer. Hashed as if frozen.
@dataclass(slots=True, unsafe_hash=True)
class Node:
    name: str
    op: Op
    inputs: tuple[str, ...]
    trainable: bool
    # where the layer is written: a SourcePos, or packed in `file` as the YAML reader keeps
    # it (see yamlnodes), made a SourcePos only when `pos` is read (for errors and notes)
    at: Packed
    functional: bool = False  # PyTorch applies it as F.* rather than a module (ptflops counts)
    unused: bool = False  # marked `unused: true`: the end of a branch no output needs
    file: str = field(default="", repr=False, compare=False)  # the spec `at` is packed in

    @property
    def pos(self) -> SourcePos:
        return unpack(self.file, self.at)

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
    # layers that compute alike (one op object on equal input shapes) share a class: its
    # index for each node. A long network repeats a few layers on a few shapes, so a pass
    # works out each class once (see `per_layer`).
    classes: Mapping[str, int] = field(kw_only=True, repr=False, compare=False)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @cached_property
    def layer_classes(self) -> list[int]:
        """Each node's class (see `classes`), in the nodes' order: what the passes walk."""
        return list(map(self.classes.__getitem__, map(attrgetter("name"), self.nodes)))

    @cached_property
    def class_layers(self) -> dict[int, Node]:
        """Each class's first layer, in the order the classes first appear."""
        first = dict(zip(reversed(self.layer_classes), reversed(self.nodes), strict=True))
        return {index: first[index] for index in sorted(first)}

    def input_shapes(self, node: Node) -> list[Shape]:
        """The shapes `node` takes."""
        return list(map(self.shapes.__getitem__, node.inputs))

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


class ClassTable(Mapping[str, int]):
    """Each layer's class by name (`Network.classes`), made into a dict when first read: the
    passes walk `Network.layer_classes` instead, and 100,000 names take ~25 ms to index."""

    __slots__ = ("_nodes", "_order", "_table")

    def __init__(self, nodes: Sequence[Node], order: Sequence[int]) -> None:
        self._nodes = nodes
        self._order = order
        self._table: dict[str, int] | None = None

    def _dict(self) -> dict[str, int]:
        if self._table is None:
            names = map(attrgetter("name"), self._nodes)
            self._table = dict(zip(names, self._order, strict=True))
        return self._table

    def __getitem__(self, name: str) -> int:
        return self._dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._order)


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
    field_pos: FieldPos | None = None,
) -> Network:
    """Check arity, infer every output shape and drop the layers marked `unused`; errors
    point at the offending layer, or at the field at fault when `field_pos` tells where it
    is written. `inputs` is one shape (the input is called `input`) or each input's name →
    shape; `outputs` () means the last layer."""
    where = field_pos or _layer_pos
    if not isinstance(inputs, Mapping):
        inputs = {INPUT: tuple(inputs)}
    shapes: dict[str, Shape] = dict(inputs)
    shape_of = shapes.__getitem__
    # a long network repeats a few layers on a few shapes: a class (one op object on equal
    # input shapes; equal ops are one object, see spec.expand) is worked out and checked once
    known: dict[tuple[int, Shape | tuple[Shape, ...]], int] = {}
    order: list[int] = []  # each node's class
    class_outputs: list[Shape] = []
    for node in nodes:
        names = node.inputs
        # one input, nearly always: the key holds its shape itself (a tuple of ints, so never
        # equal to the tuple of shapes of several)
        given: Shape | tuple[Shape, ...] = (
            shape_of(names[0]) if len(names) == 1 else tuple(map(shape_of, names))
        )
        key = (id(node.op), given)
        index = known.get(key)
        if index is None:
            output = _output_shape(node, list(map(shape_of, names)), shapes, where)
            index = known[key] = len(class_outputs)
            class_outputs.append(output)
        order.append(index)
        shapes[node.name] = class_outputs[index]
    if not nodes:
        raise SpecError("the network has no layers", None)
    strict = bool(outputs) or list(inputs) != [INPUT]
    kept, unused = _reachable(nodes, outputs, list(inputs), input_pos or {}, strict, where)
    if unused:
        dropped = set(unused)
        order = [
            index for node, index in zip(nodes, order, strict=True) if node.name not in dropped
        ]
        for name in unused:
            del shapes[name]
    first = next(iter(inputs.values()))
    net = Network(
        name,
        first,
        kept,
        shapes,
        tuple(inputs),
        tuple(outputs),
        unused,
        classes=ClassTable(kept, order),
    )
    vars(net)["layer_classes"] = order  # known already: filled in as the cached property would
    return net


def _layer_pos(node: Node, name: str) -> SourcePos:
    return node.pos


def _output_shape(
    node: Node, given: list[Shape], shapes: Mapping[str, Shape], where: FieldPos
) -> Shape:
    """`node`'s output shape on the input shapes `given`, checked: arity, the layer's own
    rule, a positive size within 2^63 − 1; errors point at the layer."""
    op = node.op
    n = len(node.inputs)
    if n < op.min_inputs or (op.max_inputs is not None and n > op.max_inputs):
        if op.max_inputs == 1:
            raise SpecError(
                f"layer {node.name}: {op.kind} takes one input, got {n}",
                where(node, "from"),
                "name one layer in `from`, or merge the inputs first (add, concat)",
            )
        raise SpecError(
            f"layer {node.name}: {op.kind} needs at least {op.min_inputs} inputs, got {n}",
            where(node, "from"),
            f"list them: `{op.kind}: {{from: [a, b]}}`",
        )
    try:
        # plain ints: a shape's derivation (see cnncalc.derive) belongs to its own layer
        output: Shape = tuple(map(int, op.output_shape(given)))
    except LayerError as exc:
        message = f"layer {node.name}: {exc.message}"
        if exc.field == "from":  # the inputs are at fault: say which they are
            message += _describe_inputs(node, shapes)
        at = where(node, exc.field) if exc.field else node.pos
        raise SpecError(message, at, exc.hint) from None
    if any(d <= 0 for d in output):
        raise SpecError(
            f"layer {node.name}: output size {fmt_shape(output)} is not positive", node.pos
        )
    if any(d > MAX_SIZE for d in output):  # (a 5,000-digit size has no str())
        bits = max(d.bit_length() for d in output)
        raise SpecError(
            f"layer {node.name}: an output size of {bits:,} bits is beyond 2^63 − 1",
            node.pos,
            "a size this large is a runaway: look for repeated concats or flattens",
        )
    return output


def _reachable(
    nodes: list[Node],
    outputs: tuple[str, ...],
    input_names: list[str],
    input_pos: Mapping[str, SourcePos],
    strict: bool,
    where: FieldPos,
) -> tuple[tuple[Node, ...], tuple[str, ...]]:
    """(the layers an output needs, the names of those left out). In a `strict` network (one
    that names its inputs or lists its outputs) a layer no output needs is an error unless
    it is marked `unused` or feeds only layers that are: marking the end of a dead branch
    marks the branch. Otherwise, as before outputs could be listed, every layer nobody takes
    counts as an output unless it is marked. One walk back from the outputs, one from the
    marks."""
    if not strict and not any(map(attrgetter("unused"), nodes)):
        # every layer is an output or feeds a later one: by induction from the last layer,
        # the outputs need them all (and whatever they take; the first takes the input)
        _check_inputs_reached(
            input_names, input_pos, lambda name: any(name in n.inputs for n in nodes)
        )
        return tuple(nodes), ()
    consumed = set(chain.from_iterable(map(attrgetter("inputs"), nodes)))
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
                where(node, "unused"),
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
    _check_inputs_reached(input_names, input_pos, lambda name: name in needed or name in marked)
    kept = tuple(n for n in nodes if n.name in needed)
    unused = tuple(n.name for n in nodes if n.name not in needed)
    return kept, unused


def _check_inputs_reached(
    input_names: list[str], input_pos: Mapping[str, SourcePos], reached: Callable[[str], bool]
) -> None:
    for name in input_names:
        if not reached(name):
            raise SpecError(
                f"input {name} reaches no output of the network",
                input_pos.get(name),
                f"take it into a layer with `from: {name}`, or remove it from `inputs:`",
            )


def per_layer(net: Network, work: Callable[[Node], T]) -> list[T]:
    """`work(node)` for each node in order, worked out once per class of layers that compute
    alike (see `Network.classes`): for a rule that reads only a layer's op and input shapes."""
    done = {index: work(node) for index, node in net.class_layers.items()}
    return list(map(done.__getitem__, net.layer_classes))


def per_layer_and_flag(
    net: Network, work: Callable[[Node], T], flag: Callable[[Node], bool]
) -> list[T]:
    """`per_layer` for a rule that also reads one flag of the layer (`trainable`,
    `functional`): worked out once per class and flag, on the first layer of each, in the
    order they first appear."""
    keys = list(zip(net.layer_classes, map(flag, net.nodes), strict=True))
    first = dict(zip(reversed(keys), reversed(net.nodes), strict=True))  # the earliest wins
    done = {key: work(first[key]) for key in dict.fromkeys(keys)}
    return list(map(done.__getitem__, keys))
