"""Views: which columns each command shows, as display strings (a view formats, never counts)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from itertools import compress, repeat
from operator import (
    add,
    and_,
    attrgetter,
    countOf,
    eq,
    getitem,
    is_,
    itemgetter,
    methodcaller,
    not_,
)
from typing import TypeVar

from cnncalc.graph import INPUT
from cnncalc.layers import Shape, fmt_shape
from cnncalc.layers.base import Window
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.receptive_field import Pair, ReceptiveField
from cnncalc.passes.window_cache import window_memo
from cnncalc.render.columns import (
    Col,
    each,
    inputs_cells,
    names,
    num_text,
    once,
    once_all,
    pair_text,
    shape_text,
    shapes_text,
    share,
    table_of,
)
from cnncalc.render.safe import visible
from cnncalc.render.tabular import MISSING, Column, Tabular
from cnncalc.report import LayerReport, Report
from cnncalc.units import human_bytes, num

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)
R = TypeVar("R")


def rf_cell(rf: ReceptiveField | None) -> str:
    """`212/32`: size over stride; `—` for flat outputs."""
    return MISSING if rf is None else _size_over_stride([rf])[0]


def _base_columns(report: Report, kind_drop: int) -> list[Col]:
    if report.all_layers:
        kinds = list(map(attrgetter("node.op.kind"), report.layers))
    else:
        kinds = [row.kind for row in report.layers]
    return [
        Col(Column("Layer", name=True), names(report), "Total"),
        Col(Column("Kind", drop=kind_drop), kinds, ""),
    ]


def _input_shape_column(report: Report, drop: int) -> Col:
    if report.all_layers:  # a layer's input shapes: its class's list, shared
        net = report.network
        per_class = {index: net.input_shapes(node) for index, node in net.class_layers.items()}
        shapes = once(list(map(per_class.__getitem__, report.by_row(net.classes))), tuple)
    else:
        shapes = [row.input_shapes for row in report.layers]
    return Col(Column("Input shape", wrap=True, drop=drop), once(shapes, shapes_text), "")


def _shape_column(report: Report, drop: int) -> Col:
    cells = each(report, "output_shape", shape_text)
    return Col(Column("Output shape", drop=drop), cells, "")


def _count_column(report: Report, column: Column, count: str, total: str) -> Col:
    """A count (`counts.params`, `memory.activation_bytes`, …) with thousands separators."""
    return Col(column, each(report, count, num_text), total)


def _share_column(report: Report, column: Column, count: str, whole: int) -> Col:
    return Col(column, each(report, count, partial(share, whole=whole)))


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
    columns = [
        *_base_columns(report, 4),
        _input_shape_column(report, 5),
        _shape_column(report, 3),
        _count_column(report, Column("Params", True), "counts.params", num(t.params)),
        _share_column(report, Column("Share", True, drop=2), "counts.params", t.params),
    ]
    if t.trainable_params != t.params:
        trainable = Column("Trainable", True, drop=1)
        columns.append(
            _count_column(report, trainable, "counts.trainable_params", num(t.trainable_params))
        )
    if t.buffers:
        buffers = Column("Buffers", True, drop=1)
        columns.append(_count_column(report, buffers, "counts.buffers", num(t.buffers)))
    table = table_of("parameters", report, columns)
    table.notes.append(_footer(report))
    return table


def _flops_columns(report: Report, drop: int = 0) -> list[Col]:
    macs = Column("MACs", True, drop=drop)
    columns = [_count_column(report, macs, "multiplies.macs", num(report.macs))]
    if report.convention != "macs":
        flops = Column(f"FLOPs ({report.convention})", True, drop=drop)
        columns.append(_count_column(report, flops, "multiplies.flops", num(report.flops)))
    return columns


def flops_view(report: Report) -> Tabular:
    columns = [
        *_base_columns(report, 4),
        _shape_column(report, 3),
        *_flops_columns(report),
        _share_column(report, Column("Share", True, drop=1), "multiplies.flops", report.flops),
    ]
    table = table_of("multiply counts", report, columns)
    convention = CONVENTIONS[report.convention]
    table.notes += [
        _multiplies(report),
        f"--convention {report.convention}: {convention.description}",
    ]
    return table


def _pair_texts(pairs: list[Pair]) -> list[str]:
    """`fmt_pair` of each pair; the common case (one int on every axis) checked in C, as a
    100,000-layer chain has ~40,000 distinct fields."""
    firsts = list(map(itemgetter(0), pairs))
    texts = list(map(str, firsts))
    ints = map(is_, map(type, firsts), repeat(int))
    alike = map(eq, map(countOf, pairs, firsts), map(len, pairs))
    for index in compress(range(len(pairs)), map(not_, map(and_, ints, alike))):
        texts[index] = pair_text(pairs[index])
    return texts


def _present(
    fields: list[ReceptiveField | None], make: Callable[[list[ReceptiveField]], list[R]], none: R
) -> list[R]:
    """`make` of the fields that are not None, in their places; `none` elsewhere."""
    made = iter(make([rf for rf in fields if rf is not None]))
    return [none if rf is None else next(made) for rf in fields]


def _size_over_stride(fields: list[ReceptiveField]) -> list[str]:
    """`212/32` for each field: size over stride."""
    sizes = _pair_texts(list(map(attrgetter("size"), fields)))
    strides = _pair_texts(list(map(attrgetter("stride"), fields)))
    return list(map("".join, zip(sizes, repeat("/"), strides)))


def _field_cells(fields: list[ReceptiveField], largest: float) -> list[tuple[str, ...]]:
    """Each field's RF size, RF stride, center and growth bar (`largest`: the largest size)."""
    sizes = list(map(attrgetter("size"), fields))
    bars = [
        "█" * max(1, round(10 * float(size) / largest)) if largest > 0 else ""
        for size in map(max, sizes)
    ]
    parts = map(
        _pair_texts, (sizes, *(list(map(attrgetter(a), fields)) for a in ("stride", "center")))
    )
    return list(zip(*parts, bars, strict=True))


def _rf_notes(seen: list[ReceptiveField | Shape], extent: tuple[int, ...]) -> list[str]:
    """For each row's field, or where it has none, its output shape: a flat output sees
    everything; a spatial one (1-D, 2-D or 3-D) comes after an opaque layer."""
    fields = [s for s in seen if isinstance(s, ReceptiveField)]
    covers = map(ReceptiveField.covers, fields, repeat(extent))
    aligned = map(attrgetter("aligned"), fields)
    notes = iter([_FIELD_NOTES[c, a] for c, a in zip(covers, aligned, strict=True)])
    return [
        next(notes)
        if isinstance(s, ReceptiveField)
        else "whole input"
        if len(s) < 2
        else "unknown (opaque layer)"
        for s in seen
    ]


# a flat output's RF size, stride, center and bar
_NO_FIELD: tuple[str, ...] = (MISSING, MISSING, MISSING, "")
_FIELD_NOTES = {  # (covers the input, aligned) → the Note
    (True, True): "whole input",
    (True, False): "whole input, not aligned",
    (False, True): "",
    (False, False): "not aligned",
}


def _window_cells(window: Window | None) -> tuple[str, str, str, str]:
    """The layer's own window: kernel, stride, padding, dilation; empty for layers without
    one and for blocks."""
    if window is None:
        return "", "", "", ""
    if window.whole_input:
        return "global", "", "", ""
    parts = window.kernel, window.stride, window.pad_before, window.dilation
    kernel, stride, pad, dilation = map(pair_text, parts)
    return kernel, stride, pad, dilation


def _row_windows(report: Report) -> list[Window | None]:
    """Each row's window (None for a block's): one object per class of layers."""
    window_of, net = window_memo(), report.network
    if not report.all_layers:
        return [
            None if row.block else window_of(row.node.op, net.input_shapes(row.node))
            for row in report.layers
        ]
    nodes = list(map(attrgetter("node"), report.layers))
    classes = report.by_row(net.classes)
    first = dict(zip(classes, nodes, strict=True))  # a node of each class
    windows = {c: window_of(node.op, net.input_shapes(node)) for c, node in first.items()}
    return list(map(windows.__getitem__, classes))


def _split(cells: list[tuple[str, ...]], columns: list[Column]) -> list[Col]:
    """One column for each part of the rows' `cells` (made once per shared object)."""
    return [Col(c, list(map(itemgetter(k), cells))) for k, c in enumerate(columns)]


def rf_view(report: Report) -> Tabular:
    fields = report.row_fields()  # five columns show each: looked up once
    distinct = dict(zip(map(id, fields), fields, strict=True)).values()
    largest = max((float(max(rf.size)) for rf in distinct if rf is not None), default=0.0)
    extent = report.network.input_shape[:-1]
    windows = _row_windows(report)
    # the Note's subject: a row's field (shared by rows), or without one, its output shape
    seen = [r.output_shape if f is None else f for f, r in zip(fields, report.layers, strict=True)]
    columns = [
        *_base_columns(report, 7),
        _shape_column(report, 6),
        *_split(
            once(windows, _window_cells),
            [
                Column("Kernel", True, drop=3),
                Column("Stride", True, drop=3),
                Column("Pad", True, drop=4),
                Column("Dil.", True, drop=5),
            ],
        ),
        *_split(
            once_all(
                fields,
                partial(_present, make=partial(_field_cells, largest=largest), none=_NO_FIELD),
            ),
            [
                Column("RF size", True),
                Column("RF stride", True, drop=1),
                Column("Center", True, drop=2),
                Column("Growth", drop=8),
            ],
        ),
        Col(Column("Note", wrap=True, drop=2), once_all(seen, partial(_rf_notes, extent=extent))),
    ]
    table = table_of("receptive field", report, columns)
    table.totals = None
    table.notes.append(
        "kernel, stride, pad (top, left), dilation: the layer's window; RF size and stride in "
        "input pixels; center: input coordinate of output unit (0, 0)"
    )
    return table


def memory_view(report: Report) -> Tabular:
    m = report.memory
    elements = num(sum(r.memory.activation_elements for r in report.layers))
    columns = [
        *_base_columns(report, 4),
        _shape_column(report, 3),
        _count_column(
            report, Column("Activations", True, drop=1), "memory.activation_elements", elements
        ),
        _count_column(
            report,
            Column(f"Bytes ({m.options.dtype})", True),
            "memory.activation_bytes",
            num(m.activation_bytes),
        ),
    ]
    table = table_of(f"memory (batch {m.options.batch}, {m.options.dtype})", report, columns)
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


def _summary_rf(fields: list[ReceptiveField], extent: tuple[int, ...]) -> list[str]:
    """`212/32` for each field, with `*` where it covers the whole input."""
    covers = map(ReceptiveField.covers, fields, repeat(extent))
    stars = map(getitem, repeat(("", "*")), covers)
    return list(map(add, _size_over_stride(fields), stars))


def summary_view(report: Report, wide: bool = False) -> Tabular:
    t = report.totals
    extent = report.network.input_shape[:-1]
    columns = _base_columns(report, 6)
    if wide:
        columns += [
            Col(Column("From", wrap=True, drop=9), inputs_cells(report), ""),
            _input_shape_column(report, 8),
        ]
    columns += [
        _shape_column(report, 4),
        _count_column(report, Column("Params", True), "counts.params", num(t.params)),
    ]
    if wide:
        columns += [
            _share_column(report, Column("% params", True, drop=7), "counts.params", t.params),
            _count_column(
                report,
                Column("Trainable", True, drop=10),
                "counts.trainable_params",
                num(t.trainable_params),
            ),
            _count_column(
                report, Column("Buffers", True, drop=10), "counts.buffers", num(t.buffers)
            ),
            *_flops_columns(report, drop=1),
            _share_column(report, Column("% MACs", True, drop=7), "multiplies.macs", report.macs),
        ]
    else:
        columns += _flops_columns(report, drop=1)[-1:]
    rf_cells = once_all(
        report.row_fields(),
        partial(_present, make=partial(_summary_rf, extent=extent), none=MISSING),
    )
    columns.append(Col(Column("RF", True, drop=3), rf_cells))
    if wide:
        columns.append(
            _count_column(
                report,
                Column("Act. bytes", True, drop=5),
                "memory.activation_bytes",
                num(report.memory.activation_bytes),
            )
        )
    table = table_of("summary", report, columns)
    m = report.memory
    table.notes += [
        _footer(report),
        f"{_multiplies(report)} · param memory {human_bytes(m.param_bytes)} · inference peak "
        f"{human_bytes(m.inference_peak_bytes)} ({m.options.dtype}, batch {m.options.batch})",
    ]
    if any(map(methodcaller("endswith", "*"), rf_cells)):
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
