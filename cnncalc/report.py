"""`analyze()`: run the passes over a network and gather one row per layer plus totals."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import repeat
from operator import attrgetter, is_
from typing import Any, TypeVar

from cnncalc.design.training import Training
from cnncalc.design.training_memory import TrainingMemory
from cnncalc.errors import SpecError
from cnncalc.gcpause import gc_paused
from cnncalc.graph import Network, Node, per_layer
from cnncalc.layers import Shape
from cnncalc.passes.flat_signal import flattened_signal
from cnncalc.passes.flooring import SpecWarning, unseen_pixels
from cnncalc.passes.flops import MultiplyCount, flops_per_layer
from cnncalc.passes.memory import (
    LayerMemory,
    MemoryOptions,
    MemoryTotals,
    live_timeline,
    memory_per_layer,
    memory_totals_of,
    tensor_size,
)
from cnncalc.passes.params import ParamCount, params_per_layer
from cnncalc.passes.receptive_field import ReceptiveField, receptive_fields
from cnncalc.select import select_names

PARAM_FIELDS = ("params", "trainable_params", "buffers")  # ParamCount's, in order
T = TypeVar("T")


class Later:
    """What a report works out only when it is first shown (`params` shows no receptive
    field): the receptive-field pass over its network, run at most once; and the network,
    where a row's input shapes are read."""

    def __init__(self, net: Network) -> None:
        self.net = net

    @cached_property
    @gc_paused
    def fields(self) -> dict[str, ReceptiveField | None]:
        return receptive_fields(self.net)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: one per layer (see graph.Node)
class LayerReport:
    """One layer's numbers; or, folded (`block` set), the subtotals of a run of layers whose
    names share the prefix `block`, with the last one's node, shape and receptive field."""

    node: Node
    counts: ParamCount
    multiplies: MultiplyCount
    memory: LayerMemory  # its activations (a block's: the sum of its layers')
    output_shape: Shape
    later: Later = field(repr=False, compare=False)
    block: str | None = None
    folded: int = 1  # how many layers this row stands for
    sources: tuple[str, ...] | None = None  # a block's inputs from outside it

    @property
    def input_shapes(self) -> tuple[Shape, ...]:
        shapes = self.later.net.shapes
        return tuple([shapes[name] for name in self.inputs])

    @property
    def rf(self) -> ReceptiveField | None:
        return self.later.fields[self.node.name]

    @property
    def name(self) -> str:
        return self.node.name if self.block is None else self.block

    @property
    def kind(self) -> str:
        return self.node.kind if self.block is None else f"{self.folded} layers"

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.node.inputs if self.sources is None else self.sources

    def measure(self, quantity: str) -> int:
        """The count --sort orders by: `params` or `macs`."""
        return self.counts.params if quantity == "params" else self.multiplies.macs

    def to_dict(self, extent: tuple[int, ...] = ()) -> dict[str, Any]:
        """`extent`: the network input's (h, w), for `rf.whole_input`."""
        return RowForms(extent).row(self)


class RowForms:
    """The JSON forms (`LayerReport.to_dict`) of a report's rows, in order. What rows share
    is converted once and its form shared: a pointwise layer keeps the receptive field (the
    same object) of the layer before it, and a long network has few shapes."""

    def __init__(self, extent: tuple[int, ...]) -> None:
        self.extent = extent  # the network input's (h, w), for `rf.whole_input`
        self.field: ReceptiveField | None = None  # the last row's field, and its form
        self.field_form: dict[str, Any] | None = None
        self.shapes: dict[Shape, list[int]] = {}

    def row(self, row: LayerReport) -> dict[str, Any]:
        return self.rows((row,), (row.rf,))[0]

    def rows(
        self, rows: Iterable[LayerReport], fields: Iterable[ReceptiveField | None]
    ) -> list[dict[str, Any]]:
        """The forms of `rows` with their receptive `fields`, in order (one loop: 100,000
        rows take ~0.1 s)."""
        forms = []
        extent, shapes = self.extent, self.shapes
        last, rf = self.field, self.field_form
        for row, seen in zip(rows, fields, strict=True):
            node = row.node
            if row.block is None:  # a layer, not a folded block: its node's, read directly
                name, kind, inputs = node.name, node.op.kind, node.inputs
            else:
                name, kind, inputs = row.name, row.kind, row.inputs
            if seen is not last:
                last = seen
                if seen is None:
                    rf = None
                else:
                    form: dict[str, Any] = seen.to_dict()
                    form["whole_input"] = seen.covers(extent)
                    rf = form
            shape = row.output_shape
            shown = shapes.get(shape)
            if shown is None:
                shown = shapes[shape] = list(shape)
            counts, multiplies, memory = row.counts, row.multiplies, row.memory
            forms.append(
                {
                    "name": name,
                    "kind": kind,
                    "inputs": list(inputs),
                    "output_shape": shown,
                    "params": counts.params,
                    "trainable_params": counts.trainable_params,
                    "buffers": counts.buffers,
                    "macs": multiplies.macs,
                    "flops": multiplies.flops,
                    "rf": rf,
                    "activation_elements": memory.activation_elements,
                    "activation_bytes": memory.activation_bytes,
                }
            )
        self.field, self.field_form = last, rf
        return forms


@dataclass(frozen=True)
class Selection:
    """The layers `--layers PATTERN` picked, and their subtotals (a branch's cost)."""

    pattern: str
    layers: tuple[str, ...]
    counts: ParamCount
    macs: int
    flops: int
    activation_elements: int
    activation_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "layers": list(self.layers),
            "params": self.counts.params,
            "trainable_params": self.counts.trainable_params,
            "buffers": self.counts.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "activation_elements": self.activation_elements,
            "activation_bytes": self.activation_bytes,
        }


@dataclass(frozen=True)
class Report:
    network: Network
    layers: tuple[LayerReport, ...]
    totals: ParamCount
    macs: int
    flops: int
    convention: str
    memory: MemoryTotals
    warnings: tuple[SpecWarning, ...] = ()
    selection: Selection | None = None
    training: Training | None = None  # `flops --training`: forward and backward FLOPs
    training_memory: TrainingMemory | None = None  # `memory --training`: the what-ifs

    @property
    def name(self) -> str:
        return self.network.name

    def layer(self, name: str) -> LayerReport:
        for row in self.layers:
            if row.node.name == name:
                return row
        raise KeyError(name)

    def memory_timeline(self) -> list[tuple[str, int]]:
        """(layer, bytes alive while it runs) in run order from the input: the curve whose
        maximum is the inference peak."""
        sizes = {row.node.name: row.memory.activation_bytes for row in self.layers}
        for name, shape in self.network.inputs.items():
            sizes[name] = int(tensor_size(shape, self.memory.options)[1])
        return live_timeline(self.network, sizes)

    def only(self, layer: str | None) -> Report:
        """This report with one layer's row (totals stay the network's); None: unchanged."""
        if layer is None:
            return self
        names = [row.node.name for row in self.layers]
        if layer not in names:
            close = difflib.get_close_matches(layer, names, n=1)
            raise SpecError(
                f"no layer named {layer!r} in {self.name}",
                None,
                f"did you mean `{close[0]}`?" if close else "list the layers with `params`",
            )
        return replace(self, layers=(self.layer(layer),))

    def ranked(self, quantity: str, top: int | None = None) -> Report:
        """The layers heaviest first by `quantity` (params or macs), the first `top` of them;
        ties keep network order. Totals stay the network's."""
        rows = sorted(self.layers, key=lambda row: -row.measure(quantity))
        return replace(self, layers=tuple(rows[:top] if top is not None else rows))

    def folded(self, depth: int) -> Report:
        """Each run of layers whose names share their first `depth` dotted parts as one row
        (`layer1.0.conv1` … `layer1.0.relu3` as `layer1.0` at depth 2) with subtotals."""
        groups = _runs(self.layers, depth)
        return replace(
            self, layers=tuple(g[1][0] if len(g[1]) == 1 else self._fold(*g) for g in groups)
        )

    def depth_within(self, rows: int, deepest: int = 8) -> int | None:
        """The deepest folding that shows at most `rows` rows; None when every layer fits."""
        if len(self.layers) <= rows:
            return None
        best = 1
        for depth in range(2, deepest + 1):
            if len(_runs(self.layers, depth)) > rows:
                break
            best = depth
        return best

    def _fold(self, block: str, rows: list[LayerReport]) -> LayerReport:
        inside = {row.node.name for row in rows}
        sources = tuple(
            dict.fromkeys(name for row in rows for name in row.node.inputs if name not in inside)
        )
        last = rows[-1]
        return LayerReport(
            last.node,
            sum((row.counts for row in rows), ParamCount(0, 0, 0)),
            MultiplyCount(
                sum(row.multiplies.macs for row in rows), sum(row.multiplies.flops for row in rows)
            ),
            LayerMemory(
                sum(row.memory.activation_elements for row in rows),
                sum(row.memory.activation_bytes for row in rows),
            ),
            last.output_shape,
            last.later,
            block,
            len(rows),
            sources,
        )

    def select(self, pattern: str) -> Report:
        """This report with the rows `pattern` selects (see `cnncalc.select`) and their
        subtotals; the totals stay the network's."""
        names = select_names([row.node.name for row in self.layers], pattern, self.name)
        chosen = set(names)
        rows = tuple(row for row in self.layers if row.node.name in chosen)
        selection = Selection(
            pattern,
            tuple(names),
            sum((row.counts for row in rows), ParamCount(0, 0, 0)),
            sum(row.multiplies.macs for row in rows),
            sum(row.multiplies.flops for row in rows),
            sum(row.memory.activation_elements for row in rows),
            sum(row.memory.activation_bytes for row in rows),
        )
        return replace(self, layers=rows, selection=selection)

    def subtotals(self) -> Report:
        """This report with the selection's subtotals as its totals (for a subtotal row)."""
        sel = self.selection
        if sel is None:
            return self
        memory = replace(self.memory, activation_bytes=sel.activation_bytes)
        return replace(self, totals=sel.counts, macs=sel.macs, flops=sel.flops, memory=memory)

    @cached_property
    def node_names(self) -> list[str]:
        """Each row's node's name, in order (read once: tables and fields look them up)."""
        return list(map(attrgetter("node.name"), self.layers))

    @cached_property
    def all_layers(self) -> bool:
        """Whether every row is one layer (none a folded block): its name, kind and inputs
        are then its node's."""
        blocks = list(map(attrgetter("block"), self.layers))
        return blocks.count(None) == len(blocks)

    def by_row(self, by_name: Mapping[str, T]) -> list[T]:
        """`by_name[row's node name]` for each row, in order; where the rows are the
        mapping's keys in order (every layer, unsorted), without a lookup per name (100,000
        lookups cost ~15 ms, mostly cache misses)."""
        if self.node_names == list(by_name):
            return list(by_name.values())
        return list(map(by_name.__getitem__, self.node_names))

    def row_fields(self) -> list[ReceptiveField | None]:
        """Each row's `rf`, in order (read in C where the rows share one `Later`)."""
        rows = self.layers
        if not rows or not all(map(is_, map(attrgetter("later"), rows), repeat(rows[0].later))):
            return [row.rf for row in rows]
        return self.by_row(rows[0].later.fields)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `cnncalc summary --format json` (fields are only ever added)."""
        net = self.network
        layers = RowForms(net.input_shape[:-1]).rows(self.layers, self.row_fields())
        training: dict[str, Any] = {}
        if self.training is not None:
            for row in layers:
                row.update(self.training.layers[row["name"]].to_dict())
            training = self.training.totals.to_dict()
        if self.training_memory is not None:
            training["training_memory"] = self.training_memory.to_dict()
        ends: dict[str, Any] = {}
        if not net.plain:  # a plain network's JSON stays as it was before several inputs
            ends["inputs"] = [
                {"name": name, "input_shape": list(shape)} for name, shape in net.inputs.items()
            ]
            ends["outputs"] = [
                {"name": name, "output_shape": list(net.shapes[name])} for name in net.outputs
            ]
            ends["unused"] = list(net.unused)
        return {
            "name": net.name,
            "input_shape": list(net.input_shape),
            **ends,
            "layers": layers,
            "totals": {
                "params": self.totals.params,
                "trainable_params": self.totals.trainable_params,
                "buffers": self.totals.buffers,
                "macs": self.macs,
                "flops": self.flops,
                "convention": self.convention,
                "memory": self.memory.to_dict(),
            }
            | training,
            "warnings": [w.to_dict() for w in self.warnings],
        } | ({"selection": self.selection.to_dict()} if self.selection else {})


def _runs(layers: tuple[LayerReport, ...], depth: int) -> list[tuple[str, list[LayerReport]]]:
    """Consecutive layers grouped by the first `depth` parts of their dotted names."""
    runs: list[tuple[str, list[LayerReport]]] = []
    for row in layers:
        key = ".".join(row.name.split(".", depth)[:depth])
        if runs and runs[-1][0] == key:
            runs[-1][1].append(row)
        else:
            runs.append((key, [row]))
    return runs


@gc_paused
def analyze(net: Network, convention: str = "macs", memory: MemoryOptions | None = None) -> Report:
    """Every analysis of `net`. `convention` names what `flops` counts (see CONVENTIONS).
    The receptive fields are worked out when a row's `rf` is first read (see `Later`)."""
    memory = memory or MemoryOptions()
    counts = params_per_layer(net)
    multiplies = flops_per_layer(net, convention)
    sizes = memory_per_layer(net, memory)
    shapes = per_layer(net, lambda node: net.shapes[node.name])
    later = repeat(Later(net))
    rows = tuple(map(LayerReport, net.nodes, counts, multiplies, sizes, shapes, later))
    layer_bytes = list(map(attrgetter("activation_bytes"), sizes))
    totals = ParamCount(*(sum(map(attrgetter(name), counts)) for name in PARAM_FIELDS))
    return Report(
        net,
        rows,
        totals,
        sum(map(attrgetter("macs"), multiplies)),
        sum(map(attrgetter("flops"), multiplies)),
        convention,
        memory_totals_of(
            net, layer_bytes, totals.params, totals.trainable_params, totals.buffers, memory
        ),
        (*unseen_pixels(net), *flattened_signal(net)),
    )
