"""Views: which columns each command shows, as display strings (a view formats, never counts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnncalc.layers import fmt_shape
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.receptive_field import ReceptiveField
from cnncalc.render.safe import visible
from cnncalc.render.tabular import Column, Tabular
from cnncalc.report import LayerReport, Report
from cnncalc.units import fmt_pair, human_bytes, num


def rf_cell(rf: ReceptiveField | None) -> str:
    """`212/32`: size over stride; `—` for flat outputs."""
    if rf is None:
        return "—"
    return f"{fmt_pair(rf.size)}/{fmt_pair(rf.stride)}"


def _inputs_cell(report: Report, index: int) -> str:
    """`from` shown only where the graph is not a plain chain."""
    node = report.layers[index].node
    previous = report.layers[index - 1].node.name if index else "input"
    return "" if node.inputs == (previous,) else ", ".join(node.inputs)


@dataclass(frozen=True)
class Col:
    """A column of a per-layer table: its header, how to show one row, and its total."""

    column: Column
    cell: Callable[[LayerReport, int], str]
    total: str = ""


def _table(title: str, report: Report, columns: list[Col]) -> Tabular:
    table = Tabular(f"{report.name} — {title}", [c.column for c in columns])
    for index, row in enumerate(report.layers):
        table.rows.append([c.cell(row, index) for c in columns])
    table.totals = [c.total for c in columns]
    return table


def _base_columns(report: Report) -> list[Col]:
    return [
        Col(Column("Layer", wrap=True), lambda r, i: r.node.name, "Total"),
        Col(Column("Kind"), lambda r, i: r.node.kind, ""),
    ]


def _shape_column() -> Col:
    return Col(Column("Output shape"), lambda r, i: fmt_shape(r.output_shape), "")


def _footer(report: Report) -> str:
    t = report.totals
    return (
        f"input {fmt_shape(report.network.input_shape)} · {len(report.layers)} layers · "
        f"params {num(t.params)} · trainable {num(t.trainable_params)} · "
        f"buffers {num(t.buffers)}"
    )


def params_view(report: Report) -> Tabular:
    t = report.totals
    columns = [*_base_columns(report), _shape_column()]
    columns.append(Col(Column("Params", True), lambda r, i: num(r.counts.params), num(t.params)))
    if t.trainable_params != t.params:
        columns.append(
            Col(
                Column("Trainable", True),
                lambda r, i: num(r.counts.trainable_params),
                num(t.trainable_params),
            )
        )
    if t.buffers:
        columns.append(
            Col(Column("Buffers", True), lambda r, i: num(r.counts.buffers), num(t.buffers))
        )
    table = _table("parameters", report, columns)
    table.notes.append(_footer(report))
    return table


def _flops_columns(report: Report) -> list[Col]:
    columns: list[Col] = [
        Col(Column("MACs", True), lambda r, i: num(r.multiplies.macs), num(report.macs))
    ]
    if report.convention != "macs":
        columns.append(
            Col(
                Column(f"FLOPs ({report.convention})", True),
                lambda r, i: num(r.multiplies.flops),
                num(report.flops),
            )
        )
    return columns


def flops_view(report: Report) -> Tabular:
    total = report.flops or 1
    columns = [*_base_columns(report), _shape_column(), *_flops_columns(report)]
    columns.append(
        Col(Column("Share", True), lambda r, i: f"{100 * r.multiplies.flops / total:.1f}%", "")
    )
    table = _table("multiply counts", report, columns)
    convention = CONVENTIONS[report.convention]
    table.notes.append(
        f"MACs {num(report.macs)} ({report.macs / 1e9:.3f} G) · "
        f"{report.convention}: {num(report.flops)} — {convention.description}"
    )
    return table


def _growth_bar(rf: ReceptiveField | None, largest: float) -> str:
    if rf is None or largest <= 0:
        return ""
    return "█" * max(1, round(10 * float(max(rf.size)) / largest))


def _rf_note(rf: ReceptiveField | None) -> str:
    if rf is None:
        return "whole input"
    notes = []
    if rf.whole_input:
        notes.append("whole input")
    if not rf.aligned:
        notes.append("not aligned")
    return ", ".join(notes)


def rf_view(report: Report) -> Tabular:
    sizes = [float(max(r.rf.size)) for r in report.layers if r.rf is not None]
    largest = max(sizes, default=0.0)
    columns = [
        *_base_columns(report),
        _shape_column(),
        Col(Column("RF size", True), lambda r, i: fmt_pair(r.rf.size) if r.rf else "—", ""),
        Col(Column("Stride", True), lambda r, i: fmt_pair(r.rf.stride) if r.rf else "—", ""),
        Col(Column("Center", True), lambda r, i: fmt_pair(r.rf.center) if r.rf else "—", ""),
        Col(Column("Growth"), lambda r, i: _growth_bar(r.rf, largest), ""),
        Col(Column("Note", wrap=True), lambda r, i: _rf_note(r.rf), ""),
    ]
    table = _table("receptive field", report, columns)
    table.totals = None
    table.notes.append(
        "size and stride in input pixels; center: input coordinate of output unit (0, 0)"
    )
    return table


def memory_view(report: Report) -> Tabular:
    m = report.memory
    columns = [
        *_base_columns(report),
        _shape_column(),
        Col(
            Column("Activations", True),
            lambda r, i: num(r.memory.activation_elements),
            num(sum(r.memory.activation_elements for r in report.layers)),
        ),
        Col(
            Column(f"Bytes ({m.options.dtype})", True),
            lambda r, i: num(r.memory.activation_bytes),
            num(m.activation_bytes),
        ),
    ]
    table = _table(f"memory (batch {m.options.batch}, {m.options.dtype})", report, columns)
    table.notes += [
        f"parameters {human_bytes(m.param_bytes)} · buffers {human_bytes(m.buffer_bytes)} · "
        f"input {human_bytes(m.input_bytes)} · activations {human_bytes(m.activation_bytes)}",
        f"inference peak {human_bytes(m.inference_peak_bytes)} "
        f"({num(m.inference_peak_bytes)} B) at {m.inference_peak_layer}",
        f"training ({m.options.optimizer}) {human_bytes(m.training_bytes)}: parameters, "
        f"buffers, gradients {human_bytes(m.gradient_bytes)}, optimizer "
        f"{human_bytes(m.optimizer_bytes)}, input and all activations",
    ]
    return table


def summary_view(report: Report, wide: bool = False) -> Tabular:
    t = report.totals
    columns = _base_columns(report)
    if wide:
        columns.append(Col(Column("From", wrap=True), lambda r, i: _inputs_cell(report, i), ""))
    columns += [
        _shape_column(),
        Col(Column("Params", True), lambda r, i: num(r.counts.params), num(t.params)),
    ]
    if wide:
        columns += [
            Col(
                Column("Trainable", True),
                lambda r, i: num(r.counts.trainable_params),
                num(t.trainable_params),
            ),
            Col(Column("Buffers", True), lambda r, i: num(r.counts.buffers), num(t.buffers)),
        ]
    columns += _flops_columns(report) if wide else _flops_columns(report)[-1:]
    columns.append(Col(Column("RF", True), lambda r, i: rf_cell(r.rf), ""))
    if wide:
        columns.append(
            Col(
                Column("Act. bytes", True),
                lambda r, i: num(r.memory.activation_bytes),
                num(report.memory.activation_bytes),
            )
        )
    table = _table("summary", report, columns)
    if wide:
        table.width = 200
    m = report.memory
    table.notes += [
        _footer(report),
        f"MACs {num(report.macs)} · {report.convention} {num(report.flops)} · "
        f"params {human_bytes(m.param_bytes)} · inference peak "
        f"{human_bytes(m.inference_peak_bytes)} ({m.options.dtype}, batch {m.options.batch})",
    ]
    return table


def explain_view(lines_per_layer: list[list[str]]) -> str:
    """The derivations, a layer's lines under its heading; each line `visible` (names in it
    cannot break it)."""
    return (
        "\n\n".join(
            "\n".join([visible(lines[0]), *("  " + visible(line) for line in lines[1:])])
            for lines in lines_per_layer
        )
        + "\n"
    )


__all__ = [
    "LayerReport",
    "explain_view",
    "flops_view",
    "memory_view",
    "params_view",
    "rf_view",
    "summary_view",
]
