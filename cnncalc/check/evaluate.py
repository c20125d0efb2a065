"""Evaluating expectations against a `Report`: one `CheckResult` each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.check.expectations import (
    OPTIMIZER_QUANTITIES,
    Expectation,
    Expectations,
)
from cnncalc.check.values import (
    Op,
    Value,
    json_value,
    suggest,
)
from cnncalc.errors import SourcePos, SpecError
from cnncalc.layers import fmt_shape
from cnncalc.passes.flops import count_flops
from cnncalc.passes.memory import (
    MemoryOptions,
    MemoryTotals,
    activation_memory,
    memory_totals,
)
from cnncalc.report import LayerReport, Report
from cnncalc.units import exact_bytes, fmt_pair

_BEYOND = {"<=": "above", ">=": "below"}


@dataclass(frozen=True)
class CheckResult:
    """An expectation, what the network actually has, and whether it holds."""

    expectation: Expectation
    actual: Value
    passed: bool
    spec: str  # the spec file (the expectation may be in a budget file)

    @property
    def subject(self) -> str:
        """What was measured, as a message names it: `params`, `layer conv1: rf`."""
        e = self.expectation
        if e.memory is not None:
            what = e.quantity.removesuffix("_bytes").replace("_", " ") + " memory"
            options = f"{e.memory.dtype}, batch {e.memory.batch}"
            if e.quantity in OPTIMIZER_QUANTITIES:
                options += f", {e.memory.optimizer}"
            what += f" ({options})"
        elif e.quantity == "flops" and e.convention != "macs":
            what = f"flops ({e.convention})"
        else:
            what = e.quantity
        return f"layer {e.layer}: {what}" if e.layer else what

    def _show(self, value: Value) -> str:
        e = self.expectation
        if e.quantity == "output_shape":
            assert isinstance(value, tuple)
            return fmt_shape(tuple(int(v) for v in value))
        if e.quantity == "rf":
            assert isinstance(value, tuple)
            return fmt_pair(value)
        assert isinstance(value, int)
        return exact_bytes(value) if e.memory is not None else f"{value:,}"

    def _expected_text(self) -> str:
        e = self.expectation
        shown = self._show(e.expected)
        if e.quantity in ("output_shape", "rf") or e.written == shown:
            return shown
        assert isinstance(e.expected, int)
        if e.memory is not None and e.written == f"{e.expected:,}":
            return shown
        if e.memory is not None:
            return f"{e.written} ({e.expected:,} B)"
        return f"{e.written} ({shown})"

    @property
    def message(self) -> str:
        """`params is 25,557,032, above max_params 25M (25,000,000) by 557,032`."""
        e = self.expectation
        actual = self._show(self.actual)
        if e.op == "==":
            if self.passed:
                return f"{self.subject} is {actual} as expected"
            text = f"{self.subject} is {actual}, expected {self._expected_text()}"
            if isinstance(self.actual, int) and isinstance(e.expected, int):
                text += f" ({self.actual - e.expected:+,})"
            return text
        over = _BEYOND[e.op]
        if self.passed:
            return f"{self.subject} is {actual}, within {e.key} {self._expected_text()}"
        text = f"{self.subject} is {actual}, {over} {e.key} {self._expected_text()}"
        if isinstance(self.actual, int) and isinstance(e.expected, int):
            by = abs(self.actual - e.expected)
            text += f" by {exact_bytes(by) if e.memory is not None else f'{by:,}'}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.expectation.to_dict(),
            "actual": json_value(self.actual),
            "passed": self.passed,
            "message": self.message,
        }


def _holds(op: Op, actual: Value, expected: Value) -> bool:
    if isinstance(actual, tuple) and isinstance(expected, tuple):
        if op == "==":
            return actual == expected
        pairs = list(zip(actual, expected, strict=True))
        return all(a <= b for a, b in pairs) if op == "<=" else all(a >= b for a, b in pairs)
    assert isinstance(actual, int) and isinstance(expected, int)
    if op == "==":
        return actual == expected
    return actual <= expected if op == "<=" else actual >= expected


def _unknown_layer(name: str, pos: SourcePos, report: Report) -> SpecError:
    names = [row.node.name for row in report.layers]
    inside = [n for n in names if n.startswith(name + ".")]
    if inside:
        hint = (
            f"{name!r} is a block instance, not a layer: name one of its layers, "
            f"e.g. `{inside[-1]}` (its last)"
        )
    else:
        hint = suggest(name, names) or (
            "the layers: " + ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        )
    return SpecError(f"no layer named {name!r} in {report.name}", pos, hint)


class _Measure:
    """The actual values of one report, with flops and memory computed on demand."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.rows = {row.node.name: row for row in report.layers}
        self._flops: dict[str, dict[str, int]] = {}
        self._memory: dict[MemoryOptions, MemoryTotals] = {}

    def flops(self, convention: str, layer: str | None) -> int:
        report = self.report
        if convention == report.convention:
            return report.flops if layer is None else self.rows[layer].multiplies.flops
        if convention not in self._flops:
            counts = count_flops(report.network, convention)
            per_layer = {name: count.flops for name, count in counts.items()}
            self._flops[convention] = per_layer
        per_layer = self._flops[convention]
        return sum(per_layer.values()) if layer is None else per_layer[layer]

    def memory(self, options: MemoryOptions) -> MemoryTotals:
        report = self.report
        if options == report.memory.options:
            return report.memory
        if options not in self._memory:
            net, totals = report.network, report.totals
            self._memory[options] = memory_totals(
                net,
                activation_memory(net, options),
                totals.params,
                totals.trainable_params,
                totals.buffers,
                options,
            )
        return self._memory[options]

    def value(self, e: Expectation) -> Value:
        report = self.report
        row: LayerReport | None = self.rows[e.layer] if e.layer is not None else None
        if e.memory is not None:
            return int(getattr(self.memory(e.memory), e.quantity))
        if e.quantity == "output_shape":  # the network's: its (first) output's
            return row.output_shape if row else report.network.shapes[report.network.output.name]
        if e.quantity == "rf":
            assert row is not None
            if row.rf is None:
                raise SpecError(
                    f"layer {row.node.name} has a flat output "
                    f"({fmt_shape(row.output_shape)}): it has no receptive field",
                    e.pos,
                    "check the receptive field at a spatial (H×W×C) layer, "
                    "e.g. the last one before `flatten` or global pooling",
                )
            return row.rf.size
        if e.quantity == "flops":
            return self.flops(e.convention, e.layer)
        if row is None:
            totals = report.totals
            return {
                "params": totals.params,
                "trainable_params": totals.trainable_params,
                "buffers": totals.buffers,
                "macs": report.macs,
            }[e.quantity]
        return {
            "params": row.counts.params,
            "trainable_params": row.counts.trainable_params,
            "buffers": row.counts.buffers,
            "macs": row.multiplies.macs,
        }[e.quantity]


def evaluate(expectations: Expectations, report: Report, spec: str = "") -> list[CheckResult]:
    """Each expectation against `report`, in written order.

    Raises a SpecError at the expectation when it names a layer the network lacks, or asks
    for the receptive field of a flat layer.
    """
    measure = _Measure(report)
    for name, pos in expectations.layers.items():
        if name not in measure.rows:
            raise _unknown_layer(name, pos, report)
    results = []
    for e in expectations.items:
        actual = measure.value(e)
        results.append(CheckResult(e, actual, _holds(e.op, actual, _per_axis(e, actual)), spec))
    return results


def _per_axis(e: Expectation, actual: Value) -> Value:
    """A receptive-field expectation on each axis of the layer's field: one value stands for
    every axis; otherwise there must be one per axis."""
    expected = e.expected
    if e.quantity != "rf" or not isinstance(actual, tuple) or not isinstance(expected, tuple):
        return expected
    if len(expected) == 1:
        return expected * len(actual)
    if len(expected) != len(actual):
        raise SpecError(
            f"`{e.key}` must be a receptive-field size with one value per axis of layer "
            f"{e.layer}'s {len(actual)}-D field, got {len(expected)} values",
            e.pos,
            "write one positive integer for every axis, or "
            + {1: "[length]", 2: "[height, width]"}.get(len(actual), "[depth, height, width]"),
        )
    return expected
