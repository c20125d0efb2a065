"""`diff`: what changes from one network to another, layer by layer and in total.

Layers are matched by name. The rows follow B's order; a layer only in A is placed after the
nearest layer before it (in A) that both networks have, so a removed block shows where it was.
A renamed layer shows as one removed and one added.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from cnncalc.layers import Shape
from cnncalc.passes.receptive_field import ReceptiveField
from cnncalc.report import PARAM_FIELDS, LayerReport, Report

Status = Literal["added", "removed", "changed", "same"]
COUNTS = (*PARAM_FIELDS, "macs", "flops")


def _count(row: LayerReport, quantity: str) -> int:
    """One of COUNTS: ParamCount's fields, then MultiplyCount's."""
    counts = row.counts if quantity in PARAM_FIELDS else row.multiplies
    return int(getattr(counts, quantity))


def _rf_key(rf: ReceptiveField | None) -> Any:
    return None if rf is None else (rf.size, rf.stride)


def _status(a: LayerReport | None, b: LayerReport | None) -> Status:
    """How a layer changes: its kind, inputs, output shape, COUNTS and field's size/stride."""
    if a is None:
        return "added"
    if b is None:
        return "removed"
    same = a is b or (  # one report against itself (`diff A A` analyses A once)
        a.node.kind == b.node.kind
        and a.node.inputs == b.node.inputs
        and a.output_shape == b.output_shape
        and a.counts == b.counts  # ParamCount and MultiplyCount: exactly COUNTS
        and a.multiplies == b.multiplies
        and _rf_key(a.rf) == _rf_key(b.rf)
    )
    return "same" if same else "changed"


@dataclass(slots=True, unsafe_hash=True)  # not frozen: five per layer (see graph.Node)
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


@dataclass(slots=True, unsafe_hash=True)  # not frozen: one per layer (see graph.Node)
class LayerDiff:
    name: str
    a: LayerReport | None
    b: LayerReport | None
    status: Status  # `_status(a, b)`, worked out once: views and totals read it many times

    def count(self, quantity: str) -> Delta:
        return Delta(
            _count(self.a, quantity) if self.a else None,
            _count(self.b, quantity) if self.b else None,
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
            rf = row.rf
            return {
                "kind": row.node.kind,
                "inputs": list(row.node.inputs),
                "output_shape": list(row.output_shape),
                "rf": None if rf is None else rf.to_dict(),
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
        name = row.node.name
        if name in b_names:
            anchor = name
        else:
            removed_after.setdefault(anchor, []).append(row)

    def removed(anchor: str | None) -> list[LayerDiff]:
        return [LayerDiff(r.node.name, r, None, "removed") for r in removed_after[anchor]]

    out = removed(None) if None in removed_after else []
    for row in b.layers:
        name = row.node.name
        before = a_rows.get(name)
        out.append(LayerDiff(name, before, row, _status(before, row)))
        if name in removed_after:  # a layer of both: the ones only A has after it
            out += removed(name)
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
        return self._tally[status]

    @cached_property
    def _tally(self) -> Counter[Status]:
        return Counter(layer.status for layer in self.layers)

    @cached_property
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
