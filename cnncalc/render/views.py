"""Views: which columns each command shows, as display strings (a view formats, never counts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from operator import itemgetter
from typing import TypeVar

from cnncalc.graph import INPUT
from cnncalc.layers import Shape, fmt_shape
from cnncalc.layers.base import Window
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.receptive_field import ReceptiveField
from cnncalc.passes.window_cache import window_memo
from cnncalc.render.safe import visible
from cnncalc.render.tabular import MISSING, Column, Tabular
from cnncalc.report import LayerReport, Report
from cnncalc.units import fmt_pair, human_bytes, num

T = TypeVar("T")
R = TypeVar("R")

# a long network repeats a few shapes and fields: each is formatted once
_shape_text = lru_cache(maxsize=4096)(fmt_shape)
_pair_text = lru_cache(maxsize=4096)(fmt_pair)
_num_text = lru_cache(maxsize=4096)(num)


def rf_cell(rf: ReceptiveField | None) -> str:
    """`212/32`: size over stride; `—` for flat outputs."""
    if rf is None:
        return MISSING
    return f"{_pair_text(rf.size)}/{_pair_text(rf.stride)}"


def _inputs_cell(report: Report, index: int) -> str:
    """`from` shown only where the graph is not a plain chain."""
    row = report.layers[index]
    previous = report.layers[index - 1].name if index else "input"
    return "" if row.inputs == (previous,) else ", ".join(row.inputs)


@lru_cache(maxsize=4096)  # a long network repeats a few counts
def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else MISSING


@lru_cache(maxsize=4096)
def _shapes_text(shapes: tuple[Shape, ...]) -> str:
    return " + ".join(map(_shape_text, shapes))


@dataclass(frozen=True)
class Col:
    """A column of a per-layer table: its header, how to show one row, and its total."""

    column: Column
    cell: Callable[[LayerReport, int], str] | list[str]  # or every row's cell, made already
    total: str = ""


def _table(title: str, report: Report, columns: list[Col]) -> Tabular:
    table = Tabular(f"{report.name} — {title}", [c.column for c in columns])
    rows, indices = report.layers, range(len(report.layers))
    # column by column: C loops
    by_column = [
        c.cell if isinstance(c.cell, list) else map(c.cell, rows, indices) for c in columns
    ]
    table.rows = list(map(list, zip(*by_column, strict=True)))
    outputs = set(report.network.output_names)  # marked when the spec lists `outputs`
    if outputs and columns[0].column.name:
        for cells, row in zip(table.rows, rows, strict=True):
            if row.block is None and row.node.name in outputs:
                cells[0] += " (output)"
    table.totals = [c.total for c in columns]
    return table


def _base_columns(kind_drop: int) -> list[Col]:
    return [
        Col(Column("Layer", name=True), lambda r, i: r.name, "Total"),
        Col(Column("Kind", drop=kind_drop), lambda r, i: r.kind, ""),
    ]


def _input_shape_column(drop: int) -> Col:
    return Col(
        Column("Input shape", wrap=True, drop=drop),
        lambda r, i: _shapes_text(r.input_shapes),
        "",
    )


def _shape_column(drop: int) -> Col:
    return Col(Column("Output shape", drop=drop), lambda r, i: _shape_text(r.output_shape), "")


def _footer(report: Report) -> str:
    t = report.totals
    return (
        f"{_ends(report)}{len(report.network)} layers · "
        f"params {num(t.params)} · trainable {num(t.trainable_params)} · "
        f"buffers {num(t.buffers)}"
    )


def _ends(report: Report) -> str:
    """`input 224×224×3 · `; for a network of several inputs or outputs, each one, and the
    layers `unused` left out."""
    net = report.network
    if net.input_names == (INPUT,):
        text = f"input {fmt_shape(net.input_shape)} · "
    else:
        text = "inputs " + ", ".join(f"{n} {fmt_shape(s)}" for n, s in net.inputs.items()) + " · "
    if net.output_names:
        text += "outputs " + ", ".join(net.outputs) + " · "
    if net.unused:
        text += f"{len(net.unused)} unused layers left out · "
    return text


def _multiplies(report: Report) -> str:
    """`MACs 4,089,184,256 (4.089 G)`, and the chosen convention's FLOPs when it is not MACs."""
    text = f"MACs {num(report.macs)} ({report.macs / 1e9:.3f} G)"
    if report.convention != "macs":
        text += f" · FLOPs ({report.convention}) {num(report.flops)} ({report.flops / 1e9:.3f} G)"
    return text


def params_view(report: Report) -> Tabular:
    t = report.totals
    columns = [*_base_columns(4), _input_shape_column(5), _shape_column(3)]
    columns.append(
        Col(Column("Params", True), lambda r, i: _num_text(r.counts.params), num(t.params))
    )
    columns.append(
        Col(Column("Share", True, drop=2), lambda r, i: _share(r.counts.params, t.params), "")
    )
    if t.trainable_params != t.params:
        columns.append(
            Col(
                Column("Trainable", True, drop=1),
                lambda r, i: _num_text(r.counts.trainable_params),
                num(t.trainable_params),
            )
        )
    if t.buffers:
        columns.append(
            Col(
                Column("Buffers", True, drop=1),
                lambda r, i: _num_text(r.counts.buffers),
                num(t.buffers),
            )
        )
    table = _table("parameters", report, columns)
    table.notes.append(_footer(report))
    return table


def _flops_columns(report: Report, drop: int = 0) -> list[Col]:
    columns: list[Col] = [
        Col(
            Column("MACs", True, drop=drop),
            lambda r, i: _num_text(r.multiplies.macs),
            num(report.macs),
        )
    ]
    if report.convention != "macs":
        columns.append(
            Col(
                Column(f"FLOPs ({report.convention})", True, drop=drop),
                lambda r, i: _num_text(r.multiplies.flops),
                num(report.flops),
            )
        )
    return columns


def flops_view(report: Report) -> Tabular:
    columns = [*_base_columns(4), _shape_column(3), *_flops_columns(report)]
    columns.append(
        Col(
            Column("Share", True, drop=1),
            lambda r, i: _share(r.multiplies.flops, report.flops),
            "",
        )
    )
    table = _table("multiply counts", report, columns)
    convention = CONVENTIONS[report.convention]
    table.notes += [
        _multiplies(report),
        f"--convention {report.convention}: {convention.description}",
    ]
    return table


def _field_cells(rf: ReceptiveField | None, largest: float) -> tuple[str, str, str, str]:
    """A field's RF size, RF stride, center and growth bar (`largest`: the largest size)."""
    if rf is None:
        return MISSING, MISSING, MISSING, ""
    bar = "█" * max(1, round(10 * float(max(rf.size)) / largest)) if largest > 0 else ""
    return _pair_text(rf.size), _pair_text(rf.stride), _pair_text(rf.center), bar


def _rf_note(seen: ReceptiveField | Shape, extent: tuple[int, ...]) -> str:
    """A row's field, or where it has none, its output shape: a flat output sees everything;
    a spatial one comes after an opaque layer."""
    if not isinstance(seen, ReceptiveField):
        return "whole input" if len(seen) != 3 else "unknown (opaque layer)"
    rf = seen
    notes = []
    if rf.covers(extent):
        notes.append("whole input")
    if not rf.aligned:
        notes.append("not aligned")
    return ", ".join(notes)


def _window_cells(window: Window | None) -> tuple[str, str, str, str]:
    """The layer's own window: kernel, stride, padding, dilation; empty for layers without
    one and for blocks."""
    if window is None:
        return "", "", "", ""
    if window.whole_input:
        return "global", "", "", ""
    parts = window.kernel, window.stride, window.pad_before, window.dilation
    kernel, stride, pad, dilation = map(_pair_text, parts)
    return kernel, stride, pad, dilation


def _row_windows(report: Report) -> list[Window | None]:
    """Each row's window (None for a block's): one object per class of layers."""
    window_of, net = window_memo(), report.network
    return [
        None if row.block else window_of(row.node.op, net.input_shapes(row.node))
        for row in report.layers
    ]


def _split(cells: list[tuple[str, ...]], columns: list[Column]) -> list[Col]:
    """One column for each part of the rows' `cells` (made once per shared object)."""
    return [Col(c, list(map(itemgetter(k), cells))) for k, c in enumerate(columns)]


def rf_view(report: Report) -> Tabular:
    fields = [r.rf for r in report.layers]  # five columns show each: looked up once
    distinct = dict(zip(map(id, fields), fields, strict=True)).values()
    largest = max((float(max(rf.size)) for rf in distinct if rf is not None), default=0.0)
    extent = report.network.input_shape[:-1]
    windows = _row_windows(report)
    # the Note's subject: a row's field (shared by rows), or without one, its output shape
    seen = [r.output_shape if f is None else f for f, r in zip(fields, report.layers, strict=True)]
    columns = [
        *_base_columns(7),
        _shape_column(6),
        *_split(
            _once(windows, _window_cells),
            [
                Column("Kernel", True, drop=3),
                Column("Stride", True, drop=3),
                Column("Pad", True, drop=4),
                Column("Dil.", True, drop=5),
            ],
        ),
        *_split(
            _once(fields, partial(_field_cells, largest=largest)),
            [
                Column("RF size", True),
                Column("RF stride", True, drop=1),
                Column("Center", True, drop=2),
                Column("Growth", drop=8),
            ],
        ),
        _shown_once(Column("Note", wrap=True, drop=2), seen, partial(_rf_note, extent=extent)),
    ]
    table = _table("receptive field", report, columns)
    table.totals = None
    table.notes.append(
        "kernel, stride, pad (top, left), dilation: the layer's window; RF size and stride in "
        "input pixels; center: input coordinate of output unit (0, 0)"
    )
    return table


def memory_view(report: Report) -> Tabular:
    m = report.memory
    columns = [
        *_base_columns(4),
        _shape_column(3),
        Col(
            Column("Activations", True, drop=1),
            lambda r, i: _num_text(r.memory.activation_elements),
            num(sum(r.memory.activation_elements for r in report.layers)),
        ),
        Col(
            Column(f"Bytes ({m.options.dtype})", True),
            lambda r, i: _num_text(r.memory.activation_bytes),
            num(m.activation_bytes),
        ),
    ]
    table = _table(f"memory (batch {m.options.batch}, {m.options.dtype})", report, columns)
    table.notes += [
        f"param memory {human_bytes(m.param_bytes)} · buffers {human_bytes(m.buffer_bytes)} · "
        f"input {human_bytes(m.input_bytes)} · activations {human_bytes(m.activation_bytes)}",
        f"inference peak {human_bytes(m.inference_peak_bytes)} "
        f"({num(m.inference_peak_bytes)} B) at {m.inference_peak_layer}",
        f"training ({m.options.optimizer}) {human_bytes(m.training_bytes)}: parameters, "
        f"buffers, gradients {human_bytes(m.gradient_bytes)}, optimizer "
        f"{human_bytes(m.optimizer_bytes)}, input and all activations",
    ]
    return table


def _shown_once(column: Column, values: Sequence[T], show: Callable[[T], str]) -> Col:
    """A column of `show(value)` for each row's value, worked out once per value object: rows
    share them (a layer keeping its input's field, as an activation does; layers of one
    class, their window)."""
    return Col(column, _once(values, show))


def _once(values: Sequence[T], show: Callable[[T], R]) -> list[R]:
    """`show(value)` for each value, called once per object (by id: `values` keeps every
    object alive); the rows themselves are walked in C."""
    ids = list(map(id, values))
    made = {key: show(value) for key, value in dict(zip(ids, values, strict=True)).items()}
    return list(map(made.__getitem__, ids))


def _summary_rf(rf: ReceptiveField | None, extent: tuple[int, ...]) -> str:
    """`212/32`, with `*` when the field covers the whole input."""
    return rf_cell(rf) + ("*" if rf is not None and rf.covers(extent) else "")


def summary_view(report: Report, wide: bool = False) -> Tabular:
    t = report.totals
    extent = report.network.input_shape[:-1]
    columns = _base_columns(6)
    if wide:
        columns += [
            Col(Column("From", wrap=True, drop=9), lambda r, i: _inputs_cell(report, i), ""),
            _input_shape_column(8),
        ]
    columns += [
        _shape_column(4),
        Col(Column("Params", True), lambda r, i: _num_text(r.counts.params), num(t.params)),
    ]
    if wide:
        columns += [
            Col(
                Column("% params", True, drop=7),
                lambda r, i: _share(r.counts.params, t.params),
                "",
            ),
            Col(
                Column("Trainable", True, drop=10),
                lambda r, i: _num_text(r.counts.trainable_params),
                num(t.trainable_params),
            ),
            Col(
                Column("Buffers", True, drop=10),
                lambda r, i: _num_text(r.counts.buffers),
                num(t.buffers),
            ),
            *_flops_columns(report, drop=1),
            Col(
                Column("% MACs", True, drop=7),
                lambda r, i: _share(r.multiplies.macs, report.macs),
                "",
            ),
        ]
    else:
        columns += _flops_columns(report, drop=1)[-1:]
    fields = [r.rf for r in report.layers]
    columns.append(
        _shown_once(Column("RF", True, drop=3), fields, partial(_summary_rf, extent=extent))
    )
    if wide:
        columns.append(
            Col(
                Column("Act. bytes", True, drop=5),
                lambda r, i: _num_text(r.memory.activation_bytes),
                num(report.memory.activation_bytes),
            )
        )
    table = _table("summary", report, columns)
    m = report.memory
    table.notes += [
        _footer(report),
        f"{_multiplies(report)} · param memory {human_bytes(m.param_bytes)} · inference peak "
        f"{human_bytes(m.inference_peak_bytes)} ({m.options.dtype}, batch {m.options.batch})",
    ]
    if any(rf is not None and rf.covers(extent) for rf in set(fields)):
        table.notes.append("RF size/stride in input pixels; * the field covers the whole input")
    return table


def ranked_note(quantity: str, shown: int, total: int) -> str:
    return f"the {shown} heaviest of {total} rows by {quantity}"


def folded_note(depth: int) -> str:
    return (
        f"folded to depth {depth}: a row of N layers is a block's subtotals and last shape "
        "(--depth 0 lists every layer)"
    )


def with_subtotal(view: Callable[[Report], Tabular], report: Report) -> Tabular:
    """`view` of the report, plus a row with the subtotals of its `--layers` selection (the
    totals row of the same view over the selection's sums)."""
    table = view(report)
    if report.selection is not None and table.totals:
        subtotals = view(report.subtotals()).totals or []
        count = len(report.selection.layers)
        label = f"Subtotal ({count} layer{'s' if count != 1 else ''})"
        table.rows.append([label, *subtotals[1:]])
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
    "folded_note",
    "memory_view",
    "params_view",
    "ranked_note",
    "rf_view",
    "summary_view",
    "with_subtotal",
]
