"""`diff`: what changes from one network to another, layer by layer and in total.

Layers are matched by name. The rows follow B's order; a layer only in A is placed after the
nearest layer before it (in A) that both networks have, so a removed block shows where it was.
A renamed layer shows as one removed and one added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cnncalc.layers import Shape
from cnncalc.passes.receptive_field import ReceptiveField
from cnncalc.report import LayerReport, Report

Status = Literal["added", "removed", "changed", "same"]
COUNTS = ("params", "trainable_params", "buffers", "macs", "flops")


def _counts(row: LayerReport) -> dict[str, int]:
    return {
        "params": row.counts.params,
        "trainable_params": row.counts.trainable_params,
        "buffers": row.counts.buffers,
        "macs": row.multiplies.macs,
        "flops": row.multiplies.flops,
    }


def _rf_key(rf: ReceptiveField | None) -> Any:
    return None if rf is None else (rf.size, rf.stride)


@dataclass(frozen=True)
class Delta:
    """A count in A and in B (None where the layer is absent) and the change B − A."""

    a: int | None
    b: int | None

    @property
    def delta(self) -> int:
        return (self.b or 0) - (self.a or 0)

    @property
    def ratio(self) -> float | None:
        """B / A − 1 (None when A is 0 or absent)."""
        return None if not self.a or self.b is None else self.b / self.a - 1

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "delta": self.delta}


@dataclass(frozen=True)
class LayerDiff:
    name: str
    a: LayerReport | None
    b: LayerReport | None

    @property
    def status(self) -> Status:
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        a, b = self.a, self.b
        same = (
            a.node.kind == b.node.kind
            and a.node.inputs == b.node.inputs
            and a.output_shape == b.output_shape
            and _counts(a) == _counts(b)
            and _rf_key(a.rf) == _rf_key(b.rf)
        )
        return "same" if same else "changed"

    def count(self, quantity: str) -> Delta:
        return Delta(
            _counts(self.a)[quantity] if self.a else None,
            _counts(self.b)[quantity] if self.b else None,
        )

    @property
    def shapes(self) -> tuple[Shape | None, Shape | None]:
        return (
            self.a.output_shape if self.a else None,
            self.b.output_shape if self.b else None,
        )

    @property
    def rfs(self) -> tuple[ReceptiveField | None, ReceptiveField | None]:
        return (self.a.rf if self.a else None, self.b.rf if self.b else None)

    def to_dict(self) -> dict[str, Any]:
        def side(row: LayerReport | None) -> dict[str, Any] | None:
            if row is None:
                return None
            return {
                "kind": row.node.kind,
                "inputs": list(row.node.inputs),
                "output_shape": list(row.output_shape),
                "rf": row.rf.to_dict() if row.rf else None,
            }

        return {
            "name": self.name,
            "status": self.status,
            "a": side(self.a),
            "b": side(self.b),
            **{q: self.count(q).to_dict() for q in COUNTS},
        }


def _order(a: Report, b: Report) -> list[LayerDiff]:
    a_rows = {row.node.name: row for row in a.layers}
    b_names = {row.node.name for row in b.layers}
    removed_after: dict[str | None, list[LayerReport]] = {}
    anchor: str | None = None
    for row in a.layers:
        if row.node.name in b_names:
            anchor = row.node.name
        else:
            removed_after.setdefault(anchor, []).append(row)
    out = [LayerDiff(r.node.name, r, None) for r in removed_after.get(None, [])]
    for row in b.layers:
        name = row.node.name
        out.append(LayerDiff(name, a_rows.get(name), row))
        if name in a_rows:
            out += [LayerDiff(r.node.name, r, None) for r in removed_after.get(name, [])]
    return out


@dataclass(frozen=True)
class Diff:
    """Network B compared with network A: per layer (matched by name) and in total."""

    a: Report
    b: Report
    layers: tuple[LayerDiff, ...]

    def total(self, quantity: str) -> Delta:
        """A total count (`params`, `trainable_params`, `buffers`, `macs`, `flops`) or a
        memory figure (`inference_peak_bytes`, `param_bytes`, `training_bytes`, ...)."""

        def value(report: Report) -> int:
            if quantity in ("params", "trainable_params", "buffers"):
                return int(getattr(report.totals, quantity))
            if quantity in ("macs", "flops"):
                return int(getattr(report, quantity))
            return int(getattr(report.memory, quantity))

        return Delta(value(self.a), value(self.b))

    def count(self, status: Status) -> int:
        return sum(1 for layer in self.layers if layer.status == status)

    @property
    def changed(self) -> list[LayerDiff]:
        return [layer for layer in self.layers if layer.status != "same"]

    def to_dict(self, all_layers: bool = False) -> dict[str, Any]:
        """The JSON of `cnncalc diff --format json`; only differing layers unless all_layers."""

        def side(report: Report) -> dict[str, Any]:
            return {
                "name": report.name,
                "input_shape": list(report.network.input_shape),
                "output_shape": list(report.layers[-1].output_shape),
                "layers": len(report.layers),
            }

        memory = self.a.memory.options
        return {
            "a": side(self.a),
            "b": side(self.b),
            "convention": self.a.convention,
            "memory": {"dtype": memory.dtype, "batch": memory.batch},
            "totals": {
                q: self.total(q).to_dict()
                for q in (*COUNTS, "param_bytes", "inference_peak_bytes", "training_bytes")
            },
            "layer_counts": {s: self.count(s) for s in ("added", "removed", "changed", "same")},
            "layers": [layer.to_dict() for layer in (self.layers if all_layers else self.changed)],
        }


def diff_reports(a: Report, b: Report) -> Diff:
    """B compared with A. Both reports should use the same convention and memory options."""
    return Diff(a, b, tuple(_order(a, b)))
