"""Views: which columns each command shows, as display strings (a view formats, never counts)."""

from __future__ import annotations

from cnncalc.layers import fmt_shape
from cnncalc.render.tabular import Column, Tabular
from cnncalc.report import Report


def num(value: int) -> str:
    return f"{value:,}"


def _inputs_cell(report: Report, index: int) -> str:
    """`from` shown only where the graph is not a plain chain."""
    node = report.layers[index].node
    previous = report.layers[index - 1].node.name if index else "input"
    return "" if node.inputs == (previous,) else ", ".join(node.inputs)


def params_view(report: Report) -> Tabular:
    totals = report.totals
    show_trainable = totals.trainable_params != totals.params
    show_buffers = totals.buffers > 0
    columns = [
        Column("Layer", wrap=True),
        Column("Kind"),
        Column("Output shape"),
        Column("Params", True),
    ]
    if show_trainable:
        columns.append(Column("Trainable", True))
    if show_buffers:
        columns.append(Column("Buffers", True))
    table = Tabular(f"{report.name} — parameters", columns)
    for row in report.layers:
        cells = [row.node.name, row.node.kind, fmt_shape(row.output_shape), num(row.counts.params)]
        if show_trainable:
            cells.append(num(row.counts.trainable_params))
        if show_buffers:
            cells.append(num(row.counts.buffers))
        table.rows.append(cells)
    total_cells = ["Total", "", "", num(totals.params)]
    if show_trainable:
        total_cells.append(num(totals.trainable_params))
    if show_buffers:
        total_cells.append(num(totals.buffers))
    table.totals = total_cells
    table.notes.append(
        f"input {fmt_shape(report.network.input_shape)} · {len(report.layers)} layers · "
        f"params {num(totals.params)} · trainable {num(totals.trainable_params)} · "
        f"buffers {num(totals.buffers)}"
    )
    return table


def summary_view(report: Report) -> Tabular:
    table = params_view(report)
    table.title = f"{report.name} — summary"
    from_cells = [_inputs_cell(report, i) for i in range(len(report.layers))]
    if any(from_cells):
        table.columns.insert(2, Column("From", wrap=True))
        for row, cell in zip(table.rows, from_cells, strict=True):
            row.insert(2, cell)
        assert table.totals is not None
        table.totals.insert(2, "")
    return table
