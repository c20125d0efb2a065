"""The analysis commands: params, flops, rf, memory, summary, zoo."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.cli.common import (
    ALL_LAYERS,
    ArchArg,
    BatchOpt,
    ConventionOpt,
    DepthOpt,
    DtypeOpt,
    ExplainOpt,
    FormatOpt,
    InputOpt,
    LayerOpt,
    LayersOpt,
    OptimizerOpt,
    QuietOpt,
    Ranking,
    SortOpt,
    SvgOpt,
    TopOpt,
    app,
    input_option,
    one_input_text,
    reports_errors,
)
from cnncalc.cli.design import (
    CheckpointOpt,
    InplaceOpt,
    MasterOpt,
    TrainingOpt,
    show_closed_form,
    with_training,
    with_training_memory,
)
from cnncalc.design.symbols import symbolic_input
from cnncalc.design.training_memory import WhatIf
from cnncalc.errors import SpecError
from cnncalc.gcpause import gc_paused
from cnncalc.layers import fmt_shape
from cnncalc.loader import load
from cnncalc.passes.explain import TOPICS, explain
from cnncalc.passes.memory import MemoryOptions
from cnncalc.render.design import training_memory_view, training_view
from cnncalc.render.output import (
    Format,
    console,
    emit,
    emit_json,
    emit_text,
    plain_output,
    text_svg,
)
from cnncalc.render.safe import visible
from cnncalc.render.tabular import Column, Tabular
from cnncalc.render.views import (
    explain_view,
    flops_view,
    folded_note,
    memory_view,
    params_view,
    ranked_note,
    rf_view,
    summary_view,
    with_subtotal,
)
from cnncalc.report import Report, analyze
from cnncalc.units import fmt_pair, num
from cnncalc.zoo import zoo_description, zoo_names, zoo_path


def _analyze(
    arch: str,
    input_shape: list[str] | None,
    convention: str = "macs",
    memory: MemoryOptions | None = None,
) -> Report:
    net = load(arch, input_option(input_shape))
    report = analyze(net, convention, memory)
    for warning in report.warnings:
        sys.stderr.write(f"{warning}\n")
    return report


@dataclass(frozen=True)
class Output:
    """The output options every analysis command shares."""

    format: Format
    explain: str | None
    layer: str | None
    svg: Path | None
    quiet: bool
    depth: int | None = None
    sort: Ranking | None = None
    top: int | None = None
    layers: str | None = None  # --layers PATTERN: those rows and their subtotal


def _explain(report: Report, topics: tuple[str, ...], options: Output) -> None:
    """Print the derivations behind the numbers, as text or (--format json) as data."""
    assert options.explain is not None
    selected = report.only(None if options.explain == ALL_LAYERS else options.explain)
    explanations = [
        explain(report.network, row.node, topics, row.rf, report.memory.options, report.convention)
        for row in selected.layers
    ]
    text = explain_view([e.lines() for e in explanations])
    if options.format is Format.json:
        if options.svg is not None:
            text_svg(text, options.svg, f"{report.name} — derivation")
        if not options.quiet:
            emit_json({"name": report.name, "layers": [e.to_dict() for e in explanations]})
        return
    emit_text(text, title=f"{report.name} — derivation", svg=options.svg, quiet=options.quiet)


def _depth(report: Report, options: Output) -> int | None:
    """--depth, or by default every layer unless a terminal is too short to show them."""
    if options.depth is not None:
        return options.depth or None
    if options.format is not Format.table or plain_output():
        return None
    return report.depth_within(max(console().height - 12, 20))


def _show(
    report: Report,
    view: Callable[[Report], Tabular],
    topics: tuple[str, ...],
    options: Output,
    ranking: Ranking = Ranking.params,
) -> None:
    """Print the command's table (or, with --explain, the derivations behind it)."""
    if options.layers is not None:
        if options.layer is not None:
            raise SpecError(
                "--layer and --layers cannot be combined", None, "--layers NAME selects one too"
            )
        report = report.select(options.layers)
    if options.explain:
        _explain(report, topics, options)
        return
    shown = report.only(options.layer)
    quantity = (options.sort or ranking).value
    ranked = options.sort is not None or options.top is not None
    depth = _depth(shown, options)
    rows = shown.folded(depth) if depth else shown
    if ranked:
        shown, rows = shown.ranked(quantity, options.top), rows.ranked(quantity, options.top)

    def table() -> Tabular:
        shown_table = with_subtotal(view, rows)
        if depth:
            shown_table.notes.append(folded_note(depth))
        if ranked:
            shown_table.notes.append(ranked_note(quantity, len(rows.layers), len(report.layers)))
        return shown_table

    emit(table, options.format, shown.to_dict, svg=options.svg, quiet=options.quiet)


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def params(
    arch: ArchArg,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    depth: DepthOpt = None,
    sort: SortOpt = None,
    top: TopOpt = None,
    layers: LayersOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Output shape and parameters per layer: learnable, trainable, and buffers."""
    if written := symbolic_input(one_input_text(input)):  # --input HxWx3: closed forms
        return show_closed_form(arch, written, "params", format, quiet)
    output = Output(format, explain, layer, svg, quiet, depth, sort, top, layers)
    _show(_analyze(arch, input), params_view, ("shape", "params"), output)


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def flops(
    arch: ArchArg,
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    depth: DepthOpt = None,
    sort: SortOpt = None,
    top: TopOpt = None,
    layers: LayersOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
    training: TrainingOpt = False,
) -> None:
    """Multiply-accumulates per layer, and FLOPs under a named convention."""
    if written := symbolic_input(one_input_text(input)):  # --input HxWx3: closed forms
        return show_closed_form(arch, written, "flops", format, quiet, convention)
    output = Output(format, explain, layer, svg, quiet, depth, sort, top, layers)
    report = _analyze(arch, input, convention)
    if training:
        output, report = with_training(output, report)
    view = training_view if training and not explain else flops_view
    _show(report, view, ("macs",), output, Ranking.macs)


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def rf(
    arch: ArchArg,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    depth: DepthOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when merged paths are not aligned.")
    ] = False,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
    image: Annotated[
        Path | None,
        typer.Option(
            "--image",
            metavar="FILE",
            help="Draw --layer's field of one unit on the input grid instead (.png or .svg).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit", metavar="I,J", help="With --image: the output unit (default: the middle one)."
        ),
    ] = None,
    empirical: Annotated[
        bool,
        typer.Option(
            "--empirical", help="With --image: also the box the NumPy reference measures."
        ),
    ] = False,
) -> None:
    """Receptive field per layer: the layer's window; the field's size, stride and center."""
    report = _analyze(arch, input)
    if image is not None:
        from cnncalc.cli.pictures import rf_image

        drawn = rf_image(report, image, layer, unit, empirical)
        if not quiet:
            sys.stdout.write(drawn)
    else:
        _show(report, rf_view, ("rf",), Output(format, explain, layer, svg, quiet, depth))
    if strict and any(r.rf is not None and not r.rf.aligned for r in report.layers):
        sys.stderr.write(misaligned_message(report))
        raise typer.Exit(1)


def misaligned_message(report: Report) -> str:
    """Where merged paths disagree, each path's stride and center (the first five merges)."""
    merges = [r for r in report.layers if r.rf is not None and r.rf.disagree]
    lines = [
        f"error: receptive fields not aligned at {visible(row.name)}: "
        + " ≠ ".join(
            f"{visible(name)} (stride {fmt_pair(stride)}, center {fmt_pair(center)})"
            for name, stride, center in row.rf.disagree
        )
        for row in merges[:5]
        if row.rf is not None
    ]
    if len(merges) > 5:
        lines.append(f"error: and {len(merges) - 5} more merges")
    lines.append(
        "  hint: pad the paths alike (same total stride and leading padding), or see "
        "`cnncalc rf ARCH --explain LAYER`"
    )
    return "\n".join(lines) + "\n"


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def memory(
    arch: ArchArg,
    input: InputOpt = None,
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    optimizer: OptimizerOpt = "sgd",
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    depth: DepthOpt = None,
    layers: LayersOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
    training: TrainingOpt = False,
    checkpoint: CheckpointOpt = None,
    inplace: InplaceOpt = False,
    master_weights: MasterOpt = None,
) -> None:
    """Activation memory per layer, parameter bytes, inference peak and training estimate."""
    if written := symbolic_input(one_input_text(input)):  # --input HxWx3: closed forms
        options = MemoryOptions(dtype, batch, optimizer)
        return show_closed_form(arch, written, "memory", format, quiet, memory=options)
    report = _analyze(arch, input, memory=MemoryOptions(dtype, batch, optimizer))
    whatif = WhatIf(checkpoint, inplace, master_weights)
    report = with_training_memory(report, whatif, training)
    output = Output(format, explain, layer, svg, quiet, depth, layers=layers)
    _show(report, training_memory_view if training else memory_view, ("memory",), output)


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def summary(
    arch: ArchArg,
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    optimizer: OptimizerOpt = "sgd",
    format: FormatOpt = Format.table,
    wide: Annotated[bool, typer.Option("--wide", help="Show every column.")] = False,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    depth: DepthOpt = None,
    sort: SortOpt = None,
    top: TopOpt = None,
    layers: LayersOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Everything cnncalc knows about each layer, with totals."""
    if written := symbolic_input(one_input_text(input)):  # --input HxWx3: closed forms
        options = MemoryOptions(dtype, batch, optimizer)
        return show_closed_form(arch, written, "summary", format, quiet, convention, options)
    report = _analyze(arch, input, convention, MemoryOptions(dtype, batch, optimizer))
    output = Output(format, explain, layer, svg, quiet, depth, sort, top, layers)
    _show(report, lambda shown: summary_view(shown, wide), TOPICS, output)


@app.command()
@reports_errors
def zoo(format: FormatOpt = Format.table, svg: SvgOpt = None, quiet: QuietOpt = False) -> None:
    """List the bundled architectures with their input, parameters and MACs."""
    table = Tabular(
        "Bundled architectures",
        [
            Column("Name"),
            Column("Input", drop=3),
            Column("Params", numeric=True),
            Column("MACs", numeric=True, drop=1),
            Column("Description", wrap=True, drop=2),
        ],
    )
    entries = []
    for name in zoo_names():
        path = zoo_path(name)
        description = zoo_description(path) if path else ""
        report = _analyze(name, None)
        input_shape = report.network.input_shape
        table.rows.append(
            [name, fmt_shape(input_shape), num(report.totals.params), num(report.macs), description]
        )
        entries.append(
            {
                "name": name,
                "description": description,
                "input_shape": list(input_shape),
                "params": report.totals.params,
                "macs": report.macs,
            }
        )
    emit(lambda: table, format, lambda: {"architectures": entries}, svg=svg, quiet=quiet)
