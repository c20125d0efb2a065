"""Views of the design tools' results (training FLOPs, solve, sweep): they format, never count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.errors import SpecError
from cnncalc.layers import fmt_shape
from cnncalc.render.columns import Col, table_of
from cnncalc.render.tabular import MISSING, Column, Tabular
from cnncalc.render.views import _base_columns, _shape_column, memory_view
from cnncalc.report import Report
from cnncalc.units import fmt_pair, human_bytes, num

if TYPE_CHECKING:  # the training views are on the cold path; the other tools' modules are not
    from cnncalc.design.roofline import Roofline
    from cnncalc.design.solve import SolveResult
    from cnncalc.design.sweep import SweepResult
    from cnncalc.design.symbolic import ClosedForm

TRAINING_NOTE = (
    "counted as torch.utils.flop_counter.FlopCounterMode counts them: 2 per weight MAC (conv, "
    "conv_transpose, dense), other layers 0; a grouped conv's weight gradient as if ungrouped; "
    "frozen layers skip the weight gradient, layers before the first trainable one the input "
    "gradient (the input has none); batch 1"
)


def training_view(report: Report) -> Tabular:
    """`flops --training`: forward, input-gradient and weight-gradient FLOPs per layer."""
    training = report.training
    assert training is not None
    totals = training.totals

    def column(header: str, part: str, drop: int = 0) -> Col:
        return Col(
            Column(header, True, drop=drop),
            [num(getattr(training.layers[r.node.name], part)) for r in report.layers],
            num(getattr(totals, part)),
        )

    columns = [
        *_base_columns(report, 4),
        _shape_column(report, 3),
        column("Forward", "forward"),
        column("Input grad", "input_grad", drop=2),
        column("Weight grad", "weight_grad", drop=2),
        column("Training", "total"),
    ]
    table = table_of("training FLOPs", report, columns)
    table.notes += [
        f"training {num(totals.total)} FLOPs = forward {num(totals.forward)} + backward "
        f"{num(totals.backward)} (input gradients {num(totals.input_grad)}, weight gradients "
        f"{num(totals.weight_grad)})",
        TRAINING_NOTE,
    ]
    return table


def solve_view(result: SolveResult, top: int | None = None) -> Tabular:
    """`cnncalc solve`: one row per solution, best first, and what the search covered."""
    shown = result.solutions[:top] if top is not None else result.solutions
    table = Tabular(
        f"solve — {len(result.solutions):,} solution{'s' if len(result.solutions) != 1 else ''}",
        [
            Column("#", True),
            *(Column(u.name) for u in result.unknowns),
            Column("Output shape"),
            Column("Params", True),
            Column("MACs", True, drop=1),
            Column("Peak memory", True, drop=2),
        ],
    )
    for rank, solution in enumerate(shown, start=1):
        network = solution.report.network
        table.rows.append(
            [
                str(rank),
                *solution.values,
                fmt_shape(network.shapes[network.output.name]),
                num(solution.params),
                num(solution.macs),
                human_bytes(solution.memory),
            ]
        )
    if result.solutions:
        table.notes.append(f"best: {result.headline()}")
    if len(shown) < len(result.solutions):
        table.notes.append(f"the first {len(shown)} of {len(result.solutions):,} (--top)")
    ranges = " · ".join(f"{u.name} {_span(u.candidates)}" for u in result.unknowns)
    table.notes += [
        f"searched {result.tried:,} combinations ({ranges}); {result.invalid:,} made no valid "
        "network",
        f"ranked by fewest {result.prefer}, then fewest MACs, then smaller values (a number "
        "before `same`)",
    ]
    return table


def _span(candidates: tuple[str, ...]) -> str:
    numbers = [c for c in candidates if c.isdigit()]
    words = [c for c in candidates if not c.isdigit()]
    consecutive = [int(n) for n in numbers] == list(range(int(numbers[0]), int(numbers[-1]) + 1))
    text = f"{numbers[0]}–{numbers[-1]}" if consecutive and len(numbers) > 2 else ", ".join(numbers)
    return ", ".join([text, *words])


def miss_lines(result: SolveResult) -> list[str]:
    """Why there is no solution: each unreachable target and the nearest values."""
    from cnncalc.design.solve import LAYER_FILE

    if not result.misses:
        lines = ["error: no combination meets every target together (each is met by some)"]
        lines += [
            f"  nearest: {values}, where {'; '.join(failures)}"
            for values, failures in result.closest
        ]
        return [*lines, "  hint: relax a target, or fix fewer fields (more `?`)"]
    lines = []
    for miss in result.misses:
        e = miss.result.expectation
        where = f"layer {e.layer}: " if e.layer else ""
        nearest = "; ".join(f"{value} ({values})" for value, values in miss.nearest)
        target = f"{e.pos}: error: {where}{e.key} {e.written}"
        if e.pos.file == LAYER_FILE:  # the single-layer form: the target is --out
            target = f"error: --out {_show_value(e.expected)}"  # (H, W, 1)
        lines.append(f"{target} is unreachable; nearest: {nearest}")
    lines.append("  hint: change the target, or fix fewer fields (more `?`)")
    return lines


def _show_value(value: object) -> str:
    """An expected output size of the single-layer form, without its one channel."""
    return fmt_shape(tuple(int(v) for v in value)[:2]) if isinstance(value, tuple) else str(value)


def sweep_view(result: SweepResult) -> Tabular:
    """`cnncalc sweep`: one row per variant (an invalid one with its error)."""
    show_input = result.inputs_varied or not result.names
    show_error = any(row.error is not None for row in result.rows)
    flops = result.convention != "macs"
    columns = [Column(name) for name in result.names]
    columns += [Column("Input")] if show_input else []
    columns += [Column("Output", drop=3), Column("Params", True), Column("MACs", True)]
    columns += [Column(f"FLOPs ({result.convention})", True)] if flops else []
    columns += [Column("RF", True, drop=2), Column("Peak bytes", True, drop=1)]
    columns += [Column("Error", wrap=True)] if show_error else []
    table = Tabular(f"{result.name} — sweep of {len(result.rows):,} variants", columns)
    for row in result.rows:
        cells = [str(v) for _, v in row.values]
        if show_input:
            cells.append(fmt_shape(row.input_shape) if row.input_shape else MISSING)
        if row.error is not None:
            table.rows.append([*cells, *[MISSING] * (len(columns) - len(cells) - 1), row.error])
            continue
        cells += [
            fmt_shape(row.output_shape) if row.output_shape else MISSING,
            num(row.params),
            num(row.macs),
        ]
        cells += [num(row.flops)] if flops else []
        cells += [fmt_pair(row.rf) if row.rf else MISSING, num(row.inference_peak_bytes)]
        table.rows.append(cells + ([""] if show_error else []))
    invalid = sum(row.error is not None for row in result.rows)
    table.notes.append(
        f"RF: the last spatial layer's receptive field · peak bytes: inference peak, "
        f"{result.memory.dtype}, batch {result.memory.batch}"
        + (f" · invalid: {invalid:,}" if invalid else "")
    )
    return table


def sweep_svg(result: SweepResult) -> str:
    """A scatter plot of the variants, MACs against parameters, as a standalone SVG."""
    rows = [row for row in result.rows if row.error is None]
    width, height, margin = 640, 420, 70
    xs = [row.macs for row in rows] or [0]
    ys = [row.params for row in rows] or [0]
    x_max, y_max = max(max(xs), 1), max(max(ys), 1)

    def x(value: int) -> float:
        return margin + (width - 2 * margin) * value / x_max

    def y(value: int) -> float:
        return height - margin - (height - 2 * margin) * value / y_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="15">'
        f"{_xml(result.name)}: {len(rows):,} variants</text>",
        f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" '
        f'y2="{height - margin}" stroke="black"/>',
        f'<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{height - margin}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 25}" text-anchor="middle">MACs (0 to '
        f"{num(x_max)})</text>",
        f'<text x="20" y="{height / 2}" text-anchor="middle" '
        f'transform="rotate(-90 20 {height / 2})">params (0 to {num(y_max)})</text>',
    ]
    for row in rows:
        label = ", ".join(f"{k}={v}" for k, v in row.values)
        if row.input_shape and result.inputs_varied:
            label += f" {fmt_shape(row.input_shape)}"
        parts.append(
            f'<circle cx="{x(row.macs):.1f}" cy="{y(row.params):.1f}" r="4" fill="#1f77b4" '
            f'fill-opacity="0.7"><title>{_xml(label)}: {num(row.params)} params, '
            f"{num(row.macs)} MACs</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sweep_png(result: SweepResult, path: str) -> None:
    """The same scatter plot with matplotlib (the optional extra `[plot]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SpecError(
            "a PNG plot needs matplotlib", None, 'pip install "cnncalc[plot]", or write an .svg'
        ) from None
    rows = [row for row in result.rows if row.error is None]
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    axes.scatter([row.macs for row in rows], [row.params for row in rows], alpha=0.7)
    axes.set_xlabel("MACs")
    axes.set_ylabel("params")
    axes.set_title(f"{result.name}: {len(rows):,} variants")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _seconds(value: float) -> str:
    """A latency: 12.3 µs, 4.56 ms, 1.23 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def roofline_view(result: Roofline) -> Tabular:
    """`cnncalc roofline`: bytes, FLOPs, intensity, the bound and the latency per layer."""
    table = Tabular(
        f"{result.name} — roofline on {result.device.name} ({result.dtype}, batch {result.batch})",
        [
            Column("Layer", name=True),
            Column("Kind", drop=4),
            Column("FLOPs", True),
            Column("Bytes", True),
            Column("FLOP/B", True, drop=2),
            Column("Bound", drop=1),
            Column("Latency ≥", True),
            Column("Share", True, drop=3),
        ],
    )
    total = result.seconds
    for layer in result.layers:
        table.rows.append(
            [
                layer.name,
                layer.kind,
                num(layer.flops),
                num(layer.bytes),
                f"{layer.intensity:.1f}",
                layer.bound,
                _seconds(layer.seconds),
                f"{100 * layer.seconds / total:.1f}%" if total else MISSING,
            ]
        )
    intensity = result.flops / result.bytes if result.bytes else 0.0
    table.totals = [
        "Total",
        "",
        num(result.flops),
        num(result.bytes),
        f"{intensity:.1f}",
        "",
        _seconds(total),
        "",
    ]
    device = result.device
    compute = sum(layer.bound == "compute" for layer in result.layers)
    table.notes += [
        f"latency ≥ {_seconds(total)} (the sum of the layers' bounds) · {compute} of "
        f"{len(result.layers)} layers compute-bound",
        f"{device.name}: {device.peak(result.dtype) / 1e9:,.1f} GFLOP/s {result.dtype}, "
        f"{device.bandwidth / 1e9:,.1f} GB/s, ridge {result.ridge:.1f} FLOP/B · {device.source}",
        "bytes: weights and buffers once, inputs and output per sample, each crossing memory "
        "once; FLOPs: the `flops` convention; bound: max(FLOPs / peak, bytes / bandwidth)",
    ]
    return table


CLOSED_FORM_COLUMNS = {  # command → the per-layer quantities it shows
    "params": ("params",),
    "flops": ("macs", "flops"),
    "memory": ("activation_bytes",),
    "summary": ("params", "macs", "activation_bytes"),
}
_HEADERS = {"params": "Params", "macs": "MACs", "flops": "FLOPs", "activation_bytes": "Act. bytes"}
_TOTALS = {
    "params": ("params", "trainable_params"),
    "flops": ("macs", "flops"),
    "memory": ("activation_bytes", "inference_peak_bytes", "training_bytes"),
    "summary": ("params", "macs", "inference_peak_bytes"),
}


def closed_form_view(form: ClosedForm, command: str, convention: str = "macs") -> Tabular:
    """Formulas per layer and in total, and the sizes for which they hold."""
    quantities = [q for q in CLOSED_FORM_COLUMNS[command] if q != "flops" or convention != "macs"]
    table = Tabular(
        f"{form.name} — closed forms in {', '.join(form.symbols)}",
        [
            Column("Layer", name=True),
            Column("Kind", drop=2),
            Column("Output shape", wrap=True, drop=1),
            *(Column(_HEADERS[q], True, wrap=True) for q in quantities),
        ],
    )
    for name, kind, rank in form.layers:
        table.rows.append(
            [
                name,
                kind,
                " × ".join(form.shape(name, rank)),
                *(form.layer(name, q) for q in quantities),
            ]
        )
    table.totals = ["Total", "", "", *(form.formula(q) for q in quantities)]
    labels = {
        "params": "params",
        "trainable_params": "trainable",
        "macs": "MACs",
        "flops": f"FLOPs ({convention})",
        "activation_bytes": "activation bytes",
        "inference_peak_bytes": "inference peak bytes",
        "training_bytes": "training bytes",
    }
    table.notes += [
        f"{labels[key]} = {form.formula(key)}"
        for key in _TOTALS[command]
        if key != "flops" or convention != "macs"
    ]
    checked = sorted({p for point in form.checked for p in point})
    table.notes += [
        f"exact for {form.condition()} (fitted and checked at {', '.join(map(str, checked))}); "
        "other sizes round down (⌊(in + pads − span)/stride⌋ + 1 per layer)",
        "— : no closed form (the figure did not follow one polynomial at the checked sizes)",
    ]
    return table


def training_memory_view(report: Report) -> Tabular:
    """`memory --training`: the memory table, and the training estimate under the what-ifs."""
    table = memory_view(report)
    t = report.training_memory
    assert t is not None
    w = t.whatif
    parts = [
        f"weights {human_bytes(t.weight_bytes)} ({t.options.dtype})",
        *(
            [f"master weights {human_bytes(t.master_weight_bytes)} ({w.master_weights})"]
            if w.master_weights
            else []
        ),
        f"buffers {human_bytes(t.buffer_bytes)}",
        f"gradients {human_bytes(t.gradient_bytes)}",
        f"optimizer ({t.options.optimizer}) {human_bytes(t.optimizer_bytes)}",
        f"input {human_bytes(t.input_bytes)}",
        f"saved activations {human_bytes(t.saved_activation_bytes)}",
        *([f"recomputed segment {human_bytes(t.recompute_bytes)}"] if w.checkpoint else []),
    ]
    table.notes.append(
        f"training what-if: {human_bytes(t.total)} ({num(t.total)} B) = " + " + ".join(parts)
    )
    assumptions = ["every layer's output kept for the backward pass (an upper bound)"]
    if w.checkpoint:
        assumptions.append(
            f"--checkpoint {w.checkpoint}: {t.segments} segments keep only the outputs used "
            f"outside them and run forward again in the backward pass (+{num(t.recompute_macs)} "
            "MACs), one at a time"
        )
    if w.inplace:
        assumptions.append(
            "--inplace: relu, relu6, leaky_relu and elu overwrite an input only they consume"
        )
    if w.master_weights:
        assumptions.append(
            f"--master-weights {w.master_weights}: activations, input and a working copy of "
            f"the weights in {t.options.dtype}; master weights, gradients, optimizer states "
            f"and buffers in {w.master_weights}"
        )
    table.notes += [f"assumed: {line}" for line in assumptions]
    return table
