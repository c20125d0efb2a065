"""`cnncalc report`: one self-contained HTML page (no script, style or font from the network).

The page is a Jinja2 template (`report.html.j2`, package data beside this module) filled from
the same `Report` the tables read: the summary table is `summary_view` at every `--depth`,
bars and curves are the report's own numbers scaled to a width, the graph is `dag.layered`.
Nothing here counts; it only places and formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

from cnncalc import __version__
from cnncalc.graph import INPUT, Network
from cnncalc.layers import fmt_shape
from cnncalc.passes.explain import Explanation
from cnncalc.render.html.dag import BOX_HEIGHT, layered
from cnncalc.render.tabular import Tabular
from cnncalc.render.views import folded_note, summary_view
from cnncalc.report import LayerReport, Report
from cnncalc.units import fmt_pair, human_bytes, num

DEEPEST = 8  # --depth levels offered by the table's block collapse


@dataclass(frozen=True)
class Bar:
    name: str
    value: str  # as shown
    share: float  # 0..100: the bar's width in % of the largest


@dataclass(frozen=True)
class Merge:
    name: str
    inputs: str
    aligned: bool  # this merge's paths agree in stride and center
    verdict: str


def _bars(report: Report, value: Sequence[int], shown: Sequence[str]) -> list[Bar]:
    largest = max(value, default=0) or 1
    return [
        Bar(row.name, text, 100 * v / largest)
        for row, v, text in zip(report.layers, value, shown, strict=True)
    ]


def _tables(report: Report) -> list[tuple[int, str, Tabular]]:
    """(depth, label, table) for every --depth that folds differently, all layers first."""
    tables = [(0, "every layer", summary_view(report, wide=True))]
    seen = len(report.layers)
    for depth in range(DEEPEST, 0, -1):
        folded = report.folded(depth)
        if len(folded.layers) < seen:
            seen = len(folded.layers)
            table = summary_view(folded, wide=True)
            table.notes.append(folded_note(depth))
            tables.append((depth, f"depth {depth} ({seen} rows)", table))
    return tables


def _merges(report: Report) -> list[Merge]:
    merges = []
    for row in report.layers:
        if len(row.node.inputs) < 2 or row.rf is None:
            continue
        if row.rf.disagree:
            verdict = "not aligned: " + " ≠ ".join(
                f"{name} (stride {fmt_pair(stride)}, center {fmt_pair(center)})"
                for name, stride, center in row.rf.disagree
            )
        elif not row.rf.aligned:
            verdict = "its paths agree, but an earlier merge is not aligned"
        else:
            verdict = "aligned"
        merges.append(Merge(row.name, ", ".join(row.node.inputs), not row.rf.disagree, verdict))
    return merges


def _rf_growth(report: Report) -> list[Bar]:
    extent = report.network.input_shape[:-1]
    sizes = [float(max(row.rf.size)) if row.rf else 0.0 for row in report.layers]
    largest = max(sizes, default=0.0) or 1.0
    return [
        Bar(
            row.name,
            (
                f"{fmt_pair(row.rf.size)} / stride {fmt_pair(row.rf.stride)}"
                + (" · whole input" if row.rf.covers(extent) else "")
                if row.rf
                else "flat"
            ),
            100 * size / largest,
        )
        for row, size in zip(report.layers, sizes, strict=True)
    ]


def _timeline(report: Report) -> dict[str, object]:
    """The live-bytes curve as SVG points in a 1000×200 box, and where the peak is."""
    steps = report.memory_timeline()
    largest = max(live for _, live in steps) or 1
    step_x = 1000 / max(1, len(steps) - 1)
    points = " ".join(
        f"{i * step_x:.1f},{200 - 190 * live / largest:.1f}" for i, (_, live) in enumerate(steps)
    )
    peak_index = next(
        i for i, (name, _) in enumerate(steps) if name == report.memory.inference_peak_layer
    )
    return {
        "points": f"0,200 {points} 1000,200",
        "peak_x": peak_index * step_x,
        "peak_y": 200 - 190 * steps[peak_index][1] / largest,
        "steps": [(name, human_bytes(live)) for name, live in steps],
    }


def _layer_bars(report: Report) -> dict[str, list[Bar]]:
    rows: tuple[LayerReport, ...] = report.layers
    return {
        "params": _bars(
            report, [r.counts.params for r in rows], [num(r.counts.params) for r in rows]
        ),
        "MACs": _bars(
            report, [r.multiplies.macs for r in rows], [num(r.multiplies.macs) for r in rows]
        ),
        "activation memory": _bars(
            report,
            [r.memory.activation_bytes for r in rows],
            [human_bytes(r.memory.activation_bytes) for r in rows],
        ),
    }


def _inputs(net: Network) -> str:
    """`input 224×224×3`, or each input's name and shape, and the outputs a spec lists."""
    if net.input_names == (INPUT,):
        text = f"input {fmt_shape(net.input_shape)}"
    else:
        text = "inputs " + ", ".join(f"{n} {fmt_shape(s)}" for n, s in net.inputs.items())
    return text + (f" · outputs {', '.join(net.outputs)}" if net.output_names else "")


def render_html(report: Report, explanations: Sequence[Explanation]) -> str:
    """The whole page. `explanations`: every layer's `--explain` derivation, in order."""
    from jinja2 import Environment, StrictUndefined, select_autoescape

    template_text = files("cnncalc.render.html").joinpath("report.html.j2").read_text("utf-8")
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    env.filters["num"] = num
    env.filters["bytes"] = human_bytes
    m = report.memory
    return env.from_string(template_text).render(
        report=report,
        version=__version__,
        inputs=_inputs(report.network),
        tables=_tables(report),
        totals={
            "params": report.totals.params,
            "trainable_params": report.totals.trainable_params,
            "buffers": report.totals.buffers,
            "macs": report.macs,
            "flops": report.flops,
            "activation_bytes": m.activation_bytes,
            "inference_peak_bytes": m.inference_peak_bytes,
        },
        bars=_layer_bars(report),
        timeline=_timeline(report),
        drawing=layered(report),
        box_height=BOX_HEIGHT,
        growth=_rf_growth(report),
        merges=_merges(report),
        explanations=explanations,
    )
