"""What every reader (ONNX, torch.fx, Keras) produces: the layers of a model in spec terms.

A reader walks its source node by node, maps each op to a layer kind through a table (one
entry per op), and adds the layer here; the tracker computes each output shape with the
kind's own rule as it goes, since a reader sometimes needs its input's channels (Keras'
depthwise multiplier). Ops outside the spec vocabulary are collected, never skipped: without
`--allow-unsupported` they end the import with every one listed; with it they become
`opaque` layers carrying their measured output shape and tensor sizes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import LayerError, SourcePos, SpecError
from cnncalc.graph import INPUT
from cnncalc.layers import KINDS, Shape, fmt_shape


@dataclass
class Layer:
    name: str
    kind: str
    fields: dict[str, Any]  # the kind's constructor values (pairs as tuples), defaults included
    inputs: list[str]  # layer names, or INPUT
    weights: int | None = None  # elements of the source's tensors for it (params + buffers)
    functional: bool = False  # applied as a function (F.relu, torch.flatten), not a module
    unused: bool = False  # the end of a branch no output needs (a module called for nothing)


@dataclass
class Imported:
    name: str
    source: str  # the file or model it came from, for messages
    input_shape: Shape
    layers: list[Layer] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    unsupported: list[tuple[str, str]] = field(default_factory=list)  # (op, node name)
    class_names: dict[str, str] = field(default_factory=dict)  # module prefix → its class
    outputs: list[str] = field(default_factory=list)  # the layers it gives; []: the last one

    def __post_init__(self) -> None:
        self.shapes[INPUT] = self.input_shape
        self._taken: set[str] = {INPUT}
        self.input_names: list[str] = [INPUT]

    def name_inputs(self, shapes: Sequence[tuple[str, Shape]]) -> list[str]:
        """Several inputs, each named (a name taken twice, or `input`, made unique) with its
        shape, in place of the one `input`; the names given. One input stays `input`."""
        if len(shapes) < 2:
            return [INPUT] * len(shapes)
        del self.shapes[INPUT]
        self.input_names = []
        for name, shape in shapes:
            made = self.unique(name)
            self._taken.add(made)
            self.shapes[made] = tuple(shape)
            self.input_names.append(made)
        self.input_shape = self.shapes[self.input_names[0]]
        return list(self.input_names)

    @property
    def inputs(self) -> dict[str, Shape]:
        """Each input's name → its shape."""
        return {name: self.shapes[name] for name in self.input_names}

    def set_outputs(self, layers: Sequence[str]) -> None:
        """The layers the model gives (each once, in order; an input given back, or what an
        op not imported made, is not a layer); the last layer alone is the default, not kept."""
        made = {layer.name for layer in self.layers}
        unique = [name for name in dict.fromkeys(layers) if name in made]
        last = self.layers[-1].name if self.layers else None
        self.outputs = [] if unique == [last] else unique

    def unique(self, name: str) -> str:
        """`name`, or `name_1`, `name_2` ... when it is taken (a module called twice)."""
        candidate, n = name, 0
        while candidate in self._taken:
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    def add(
        self,
        name: str,
        kind: str,
        fields: dict[str, Any],
        inputs: Sequence[str],
        weights: int | None = None,
        functional: bool = False,
    ) -> str:
        """Append a layer (its name made unique) and infer its output shape; its name."""
        name = self.unique(name)
        self._taken.add(name)
        inputs = list(inputs)
        if kind == "add" and len(inputs) == 2 and self._feeds(inputs[0], inputs[1]):
            # `x + f(x)`: f(x) first, as a person writes it (and so a block whose residual
            # add is skipped by `when:` passes f(x) on)
            inputs.reverse()
        layer = Layer(name, kind, fields, inputs, weights, functional)
        try:
            op = KINDS[kind](**fields)
            shape = tuple(int(d) for d in op.output_shape([self.shapes[i] for i in inputs]))
        except LayerError as exc:
            raise SpecError(
                f"layer {name} ({kind}): {exc.message}", SourcePos(self.source), exc.hint
            ) from None
        self.layers.append(layer)
        self.shapes[name] = shape
        return name

    def rename(self, old: str, new: str) -> str:
        """Call layer `old` `new` (and every reference to it), unless `new` is taken; the
        layer's name."""
        if new in self._taken or old not in self.shapes or old in self.input_names:
            return old
        for layer in self.layers:
            if layer.name == old:
                layer.name = new
            layer.inputs = [new if i == old else i for i in layer.inputs]
        self.shapes[new] = self.shapes.pop(old)
        self._taken.discard(old)
        self._taken.add(new)
        return new

    def mark_unreached(self) -> None:
        """With named inputs or outputs a spec counts only what its outputs need: the end
        of a branch no output needs becomes `unused`, an input none reads is dropped."""
        if (self.input_names == [INPUT] and not self.outputs) or not self.layers:
            return
        needed = set(self.outputs or [self.layers[-1].name])
        read: set[str] = set()
        for layer in reversed(self.layers):
            if layer.name in needed:
                needed.update(layer.inputs)
            read.update(layer.inputs)
        for layer in self.layers:
            layer.unused = layer.name not in needed and layer.name not in read
        kept = [name for name in self.input_names if name in needed]
        for name in set(self.input_names) - set(kept) if kept else ():
            del self.shapes[name]
        self.input_names = kept or self.input_names
        self.input_shape = self.shapes[self.input_names[0]]

    def drop_last(self) -> Layer:
        """Take back the last layer added (a reader that finds it began a longer pattern)."""
        layer = self.layers.pop()
        del self.shapes[layer.name]
        self._taken.discard(layer.name)
        return layer

    def _feeds(self, early: str, late: str, steps: int = 64) -> bool:
        """Whether `late` is computed from `early` along first inputs (a few steps back)."""
        first_input = {
            layer.name: layer.inputs[0] for layer in self.layers[-steps:] if layer.inputs
        }
        for _ in range(steps):
            if late not in first_input:
                return False
            late = first_input[late]
            if late == early:
                return True
        return False

    def add_unsupported(
        self,
        allow: bool,
        op: str,
        name: str,
        inputs: Sequence[str],
        shape: Shape | None,
        params: int,
        buffers: int = 0,
    ) -> str | None:
        """Record an op outside the vocabulary; with `allow`, import it as `opaque`."""
        self.unsupported.append((op, name))
        if not allow or shape is None:
            return None
        # a list: a shape is written as it is, not as per-axis values ([4, 4, 4] is not 4)
        fields = {"output_shape": list(shape), "params": params, "buffers": buffers, "op": op}
        return self.add(name, "opaque", fields, inputs, params + buffers)

    def check_supported(self, allow: bool) -> None:
        """Exit 2 listing every unsupported op (with its nodes), unless it was imported."""
        missing = [(op, node) for op, node in self.unsupported if not allow]
        if allow:  # an op whose output shape could not be measured is still missing
            imported = {layer.name for layer in self.layers}
            missing = [(op, node) for op, node in self.unsupported if node not in imported]
        if not missing:
            return
        counts = Counter(op for op, _ in missing)
        lines = []
        for op, count in counts.most_common():
            nodes = [node for o, node in missing if o == op]
            shown = ", ".join(nodes[:5]) + (
                f", … ({len(nodes) - 5} more)" if len(nodes) > 5 else ""
            )
            lines.append(f"{op} ×{count}: {shown}")
        total = sum(counts.values())
        hint = (
            "the output shape of these could not be measured"
            if allow
            else "--allow-unsupported imports the rest, with an `opaque` layer (measured "
            "output shape and parameters) for each of these"
        )
        raise SpecError(
            f"{total} operation(s) cnncalc cannot express:",
            SourcePos(self.source),
            hint,
            tuple(lines),
        )

    def check_weights(self, params: dict[str, tuple[int, int]]) -> None:
        """The source's tensor sizes per layer equal cnncalc's params + buffers for it."""
        for layer in self.layers:
            if layer.weights is None or layer.name not in params:  # not counted: unused
                continue
            counted = sum(params[layer.name])
            if counted != layer.weights:
                raise SpecError(
                    f"layer {layer.name}: cnncalc counts {counted:,} parameters and buffers, "
                    f"the source's tensors hold {layer.weights:,}",
                    SourcePos(self.source),
                    "this is a bug in cnncalc's importer: please report it with the model",
                )


def hwc(shape: Sequence[int]) -> Shape:
    """A framework's channels-first activation shape (N, C, L), (N, C, H, W), (N, C, D, H, W)
    or (N, F) as cnncalc's channels-last (L, C), (H, W, C), (D, H, W, C) or (F,)."""
    dims = [int(d) for d in shape]
    if 3 <= len(dims) <= 5:
        return (*dims[2:], dims[1])
    if len(dims) == 2:
        return (dims[1],)
    raise ValueError(
        f"shape {fmt_shape(tuple(dims))} is neither N×C×spatial (1 to 3 spatial axes) nor N×F"
    )
