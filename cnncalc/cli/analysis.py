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
    DtypeOpt,
    ExplainOpt,
    FormatOpt,
    InputOpt,
    LayerOpt,
    OptimizerOpt,
    QuietOpt,
    SvgOpt,
    app,
    input_option,
    reports_errors,
)
from cnncalc.loader import load
from cnncalc.passes.explain import explain_layer
from cnncalc.passes.memory import MemoryOptions
from cnncalc.render.output import Format, emit, emit_text
from cnncalc.render.safe import visible
from cnncalc.render.tabular import Column, Tabular
from cnncalc.render.views import (
    explain_view,
    flops_view,
    memory_view,
    params_view,
    rf_view,
    summary_view,
)
from cnncalc.report import Report, analyze
from cnncalc.zoo import zoo_description, zoo_names, zoo_path


def _analyze(
    arch: str,
    input_shape: str | None,
    convention: str = "macs",
    memory: MemoryOptions | None = None,
) -> Report:
    net = load(arch, input_option(input_shape))
    return analyze(net, convention, memory)


@dataclass(frozen=True)
class Output:
    """The output options every analysis command shares."""

    format: Format
    explain: str | None
    layer: str | None
    svg: Path | None
    quiet: bool


def _show(
    report: Report,
    view: Callable[[Report], Tabular],
    topics: tuple[str, ...],
    options: Output,
) -> None:
    """Print the command's table (or, with --explain, the derivations behind it)."""
    if options.explain:
        selected = report.only(None if options.explain == ALL_LAYERS else options.explain)
        text = explain_view(
            [
                explain_layer(report.network, row.node, topics, row.rf, report.memory.options)
                for row in selected.layers
            ]
        )
        emit_text(text, title=f"{report.name} — derivation", svg=options.svg, quiet=options.quiet)
        return
    shown = report.only(options.layer)
    emit(view(shown), options.format, shown.to_dict(), svg=options.svg, quiet=options.quiet)


@app.command()
@reports_errors
def params(
    arch: ArchArg,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Output shape and parameters per layer: learnable, trainable, and buffers."""
    output = Output(format, explain, layer, svg, quiet)
    _show(_analyze(arch, input), params_view, ("shape", "params"), output)


@app.command()
@reports_errors
def flops(
    arch: ArchArg,
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Multiply-accumulates per layer, and FLOPs under a named convention."""
    output = Output(format, explain, layer, svg, quiet)
    _show(_analyze(arch, input, convention), flops_view, ("macs",), output)


@app.command()
@reports_errors
def rf(
    arch: ArchArg,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when merged paths are not aligned.")
    ] = False,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Receptive field per layer: size, stride (jump) and center, with how it grows."""
    report = _analyze(arch, input)
    _show(report, rf_view, ("rf",), Output(format, explain, layer, svg, quiet))
    misaligned = [r.node.name for r in report.layers if r.rf is not None and not r.rf.aligned]
    if strict and misaligned:
        sys.stderr.write(
            f"error: receptive fields not aligned at {visible(', '.join(misaligned[:5]))}"
            + (f" and {len(misaligned) - 5} more" if len(misaligned) > 5 else "")
            + "\n"
        )
        raise typer.Exit(1)


@app.command()
@reports_errors
def memory(
    arch: ArchArg,
    input: InputOpt = None,
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    optimizer: OptimizerOpt = "sgd",
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Activation memory per layer, parameter bytes, inference peak and training estimate."""
    report = _analyze(arch, input, memory=MemoryOptions(dtype, batch, optimizer))
    _show(report, memory_view, ("memory",), Output(format, explain, layer, svg, quiet))


@app.command()
@reports_errors
def summary(
    arch: ArchArg,
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    optimizer: OptimizerOpt = "sgd",
    format: FormatOpt = Format.table,
    wide: Annotated[bool, typer.Option("--wide", help="Show every column.")] = False,
    layer: LayerOpt = None,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Everything cnncalc knows about each layer, with totals."""
    report = _analyze(arch, input, convention, MemoryOptions(dtype, batch, optimizer))
    output = Output(format, None, layer, svg, quiet)
    _show(report, lambda shown: summary_view(shown, wide), (), output)


@app.command()
@reports_errors
def zoo(format: FormatOpt = Format.table, svg: SvgOpt = None, quiet: QuietOpt = False) -> None:
    """List the bundled architectures."""
    table = Tabular("Bundled architectures", [Column("Name"), Column("Description", wrap=True)])
    entries = []
    for name in zoo_names():
        path = zoo_path(name)
        description = zoo_description(path) if path else ""
        table.rows.append([name, description])
        entries.append({"name": name, "description": description})
    emit(table, format, {"architectures": entries}, svg=svg, quiet=quiet)
