"""The design commands (solve, sweep, ...) and the `--training` option of `flops`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.cli.common import (
    BatchOpt,
    ConventionOpt,
    DtypeOpt,
    FormatOpt,
    InputOpt,
    QuietOpt,
    TopOpt,
    app,
    input_option,
    reports_errors,
    shape_option,
)
from cnncalc.design.training import training_flops
from cnncalc.design.training_memory import WhatIf, training_memory
from cnncalc.errors import SourcePos, SpecError
from cnncalc.loader import load, read_stdin
from cnncalc.passes.memory import MemoryOptions
from cnncalc.render.output import Format, emit
from cnncalc.spec import read_text
from cnncalc.zoo import zoo_path

if TYPE_CHECKING:  # (the design tools are imported by their commands: not on the cold path)
    from cnncalc.cli.analysis import Output
    from cnncalc.design.symbols import SymbolicInput
    from cnncalc.report import Report

TrainingOpt = Annotated[
    bool,
    typer.Option(
        "--training",
        help="Also the backward pass: input- and weight-gradient FLOPs per layer, as "
        "torch's FlopCounterMode counts them.",
    ),
]


def with_training(output: Output, report: Report) -> tuple[Output, Report]:
    """The report with its training FLOPs, listed layer by layer (never folded)."""
    if output.layers is not None or output.depth:
        option = "--layers" if output.layers is not None else "--depth"
        raise SpecError(
            f"--training lists every layer: it cannot be combined with {option}",
            None,
            "use --layer NAME, --sort or --top to pick layers",
        )
    return replace(output, depth=0), replace(report, training=training_flops(report.network))


def _size(text: str, option: str) -> tuple[int, int]:
    """`224` (square) or `224x200`."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) in (1, 2) and all(p.isdigit() and 0 < int(p) <= 10**9 for p in parts):
        h = int(parts[0])
        return h, int(parts[-1])
    raise SpecError(
        f"{option} must be a size like 224 or 224x200, got {text[:40]!r}", SourcePos(option)
    )


def _spec_text(source: str) -> tuple[str, str, str]:
    """The text of a spec named as `load` takes it (file, `-`, YAML text, zoo name)."""
    if source == "-":
        return read_stdin(), "<stdin>", "stdin"
    if "\n" in source:
        return source, "<text>", "network"
    path = (
        zoo_path(source) if "/" not in source and not source.endswith((".yaml", ".yml")) else None
    )
    path = path or Path(source)
    return read_text(path), source, path.stem


Size = Annotated[str | None, typer.Option(help="Size 224 or 224x200 (single-layer form).")]
Field = Annotated[str | None, typer.Option(help="A value, or `?` to solve for it.")]


@app.command()
@reports_errors
def solve(
    spec: Annotated[
        str | None,
        typer.Argument(
            metavar="SPEC",
            help="A spec with unknowns (`stride: ?`, `$(?)`) and an `expect:` block of targets.",
        ),
    ] = None,
    size_in: Annotated[str | None, typer.Option("--in", help="Input size: 224 or 224x200.")] = None,
    size_out: Annotated[
        str | None, typer.Option("--out", help="Output size to reach: 112 or 112x100.")
    ] = None,
    kernel: Field = None,
    stride: Field = None,
    padding: Field = None,
    dilation: Field = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="The layer (single-layer form): conv, conv_transpose, maxpool, avgpool."
        ),
    ] = "conv",
    prefer: Annotated[
        str, typer.Option("--prefer", help="Rank by fewest params, macs or memory.")
    ] = "params",
    top: TopOpt = None,
    write: Annotated[
        Path | None, typer.Option("--write", help="Write the best solution's spec to this file.")
    ] = None,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Solve for unknown kernel, stride, padding, ...: every choice that meets the targets."""
    from cnncalc.design.solve import LAYER_FILE, layer_spec
    from cnncalc.design.solve import solve as solve_spec
    from cnncalc.render.design import miss_lines, solve_view

    if spec is None:
        if size_in is None or size_out is None:
            raise SpecError(
                "give a SPEC with unknowns, or --in and --out for one layer",
                None,
                "cnncalc solve --in 224 --out 112 --kernel 7",
            )
        given = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
        fields = {name: value or "?" for name, value in given.items()}
        if dilation is None:
            fields["dilation"] = "1"
        if kind == "avgpool":
            fields.pop("dilation")
        text = layer_spec(kind, _size(size_in, "--in"), _size(size_out, "--out"), fields)
        file, stem = LAYER_FILE, "layer"
    else:
        if size_in or size_out or kernel or stride or padding or dilation:
            raise SpecError(
                "--in, --out, --kernel, --stride, --padding and --dilation are for the "
                "single-layer form",
                None,
                "mark the unknowns in the spec with `?` instead",
            )
        text, file, stem = _spec_text(spec)
    result = solve_spec(text, file, stem, prefer)
    table = solve_view(result, top)
    if result.solutions and write is not None:
        write.write_text(result.solved_text(), encoding="utf-8")
        table.notes.append(f"wrote the best solution to {write}")
    if result.solutions or format is Format.json:
        emit(lambda: table, format, result.to_dict, quiet=quiet)
    if not result.solutions:
        sys.stderr.write("\n".join(miss_lines(result)) + "\n")
        raise typer.Exit(1)


@app.command()
@reports_errors
def sweep(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help="A spec file, bundled name or -.")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="NAME=VALUES: a block argument, layer field or `times` set to each value "
            "(32,64,128 or 2..6); repeatable.",
        ),
    ] = None,
    inputs: Annotated[
        str | None, typer.Option("--input", help="Input sizes: 128x128x3,224x224x3.")
    ] = None,
    convention: ConventionOpt = "macs",
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=256, help="Processes to analyze with.")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="A Dask scheduler's address (the dask extra)."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Also plot MACs against params: FILE.svg, or .png (matplotlib)."
        ),
    ] = None,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Many variants of a spec, one row each: params, MACs, RF and memory."""
    from cnncalc.design.sweep import parse_values
    from cnncalc.design.sweep import sweep as run_sweep
    from cnncalc.render.design import sweep_png, sweep_svg, sweep_view

    sets = dict(parse_values(item) for item in set_ or [])
    shapes = [shape_option(s.strip()) for s in inputs.split(",")] if inputs else []
    text, file, stem = _spec_text(spec)
    if plot is not None and plot.suffix.lower() not in (".svg", ".png"):
        raise SpecError(f"--plot writes .svg or .png, got {plot.name!r}", SourcePos("--plot"))
    result = run_sweep(
        text,
        sets,
        shapes,
        file=file,
        stem=stem,
        convention=convention,
        memory=MemoryOptions(dtype, batch),
        workers=workers,
        scheduler=scheduler,
    )
    table = sweep_view(result)
    if plot is not None:
        if plot.suffix.lower() == ".png":
            sweep_png(result, str(plot))
        else:
            plot.write_text(sweep_svg(result), encoding="utf-8")
        table.notes.append(f"plot: {plot}")
    emit(lambda: table, format, result.to_dict, quiet=quiet)


@app.command()
@reports_errors
def roofline(
    arch: Annotated[
        str | None, typer.Argument(metavar="ARCH", help="A spec file, bundled name or -.")
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            "--device", help="A bundled profile (see --help text) or a profile YAML file."
        ),
    ] = "cpu-2core-avx512",
    input: InputOpt = None,
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    measure: Annotated[
        bool,
        typer.Option("--measure", help="Measure this machine and print its profile (YAML)."),
    ] = False,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Bytes moved, arithmetic intensity and a latency lower bound per layer on a device."""
    if measure:
        from cnncalc.design.measure import measure_profile

        sys.stdout.write(measure_profile())
        return
    if arch is None:
        raise SpecError("give an ARCH, or --measure", None, "cnncalc roofline resnet50")
    from cnncalc.design.roofline import load_device
    from cnncalc.design.roofline import roofline as bounds
    from cnncalc.render.design import roofline_view

    net = load(arch, input_option(input))
    result = bounds(net, load_device(device), dtype, batch)
    emit(lambda: roofline_view(result), format, result.to_dict, quiet=quiet)


def show_closed_form(
    arch: str,
    written: SymbolicInput,
    command: str,
    format: Format,
    quiet: bool,
    convention: str = "macs",
    memory: MemoryOptions | None = None,
) -> None:
    """`params/flops/memory/summary --input HxWx3`: the figures as formulas in H and W."""
    from cnncalc.design.symbolic import closed_form
    from cnncalc.render.design import closed_form_view
    from cnncalc.report import analyze

    def analyze_at(text: str) -> Report:
        return analyze(load(arch, shape_option(text)), convention, memory)

    form = closed_form(written, analyze_at)
    emit(lambda: closed_form_view(form, command, convention), format, form.to_dict, quiet=quiet)


CheckpointOpt = Annotated[
    str | None,
    typer.Option(
        "--checkpoint",
        help="With --training: checkpoint these layers' blocks (a --layers pattern: 'layer*').",
    ),
]
InplaceOpt = Annotated[
    bool,
    typer.Option("--inplace", help="With --training: in-place relu, relu6, leaky_relu and elu."),
]
MasterOpt = Annotated[
    str | None,
    typer.Option(
        "--master-weights",
        help="With --training: mixed precision, master weights in this dtype (--dtype computes).",
    ),
]


def with_training_memory(report: Report, whatif: WhatIf, asked: bool) -> Report:
    """The report with the training estimate under the what-ifs (`memory --training`)."""
    if not asked:
        if whatif != WhatIf():
            raise SpecError(
                "--checkpoint, --inplace and --master-weights are what-ifs of --training",
                None,
                "add --training",
            )
        return report
    totals = report.totals
    estimate = training_memory(
        report.network,
        totals.params,
        totals.trainable_params,
        totals.buffers,
        report.memory.options,
        whatif,
    )
    return replace(report, training_memory=estimate)
