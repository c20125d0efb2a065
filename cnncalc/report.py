"""`analyze()`: run the passes over a network and gather one row per layer plus totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.graph import Network, Node
from cnncalc.layers import Shape
from cnncalc.passes.params import ParamCount, count_params


@dataclass(frozen=True)
class LayerReport:
    node: Node
    output_shape: Shape
    counts: ParamCount

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.node.name,
            "kind": self.node.kind,
            "inputs": list(self.node.inputs),
            "output_shape": list(self.output_shape),
            "params": self.counts.params,
            "trainable_params": self.counts.trainable_params,
            "buffers": self.counts.buffers,
        }


@dataclass(frozen=True)
class Report:
    network: Network
    layers: tuple[LayerReport, ...]
    totals: ParamCount

    @property
    def name(self) -> str:
        return self.network.name

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `cnncalc summary --format json` (fields are only ever added)."""
        return {
            "name": self.network.name,
            "input_shape": list(self.network.input_shape),
            "layers": [row.to_dict() for row in self.layers],
            "totals": {
                "params": self.totals.params,
                "trainable_params": self.totals.trainable_params,
                "buffers": self.totals.buffers,
            },
        }


def analyze(net: Network) -> Report:
    counts = count_params(net)
    rows = tuple(LayerReport(node, net.shapes[node.name], counts[node.name]) for node in net)
    totals = sum(counts.values(), ParamCount(0, 0, 0))
    return Report(net, rows, totals)
