"""The `cnncalc` command: thin typer commands over `cnncalc.load` / `cnncalc.analyze`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from cnncalc import __version__
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.loader import load
from cnncalc.passes.explain import explain_layer
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.memory import DTYPE_BYTES, OPTIMIZER_STATES, MemoryOptions
from cnncalc.render.output import Format, emit
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
from cnncalc.spec import parse_input_option
from cnncalc.zoo import zoo_description, zoo_names, zoo_path

app = typer.Typer(
    name="cnncalc",
    help="What a CNN is, before you build it: shapes, parameters, FLOPs, receptive field and "
    "memory from a YAML spec or a shorthand line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ALL_LAYERS = "*"  # the value of a bare `--explain`

ArchArg = Annotated[
    str,
    typer.Argument(
        metavar="ARCH",
        help="A spec file, a bundled name (see `cnncalc zoo`), `-` for stdin, "
        'or shorthand like "Conv4-5-Pvalid-S2,Pool3,FC5".',
        show_default=False,
    ),
]
InputOpt = Annotated[
    str | None,
    typer.Option("--input", "-i", metavar="HxWxC", help="Override the spec's input shape."),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ExplainOpt = Annotated[
    str | None,
    typer.Option(
        "--explain",
        metavar="[LAYER]",
        help="Print the worked derivation of every layer's numbers, or of one LAYER.",
        show_default=False,
    ),
]
LayerOpt = Annotated[str | None, typer.Option("--layer", help="Report only this layer.")]
ConventionOpt = Annotated[
    str,
    typer.Option(
        "--convention",
        "-c",
        help="What the FLOPs column counts: " + ", ".join(CONVENTIONS) + ".",
    ),
]
DtypeOpt = Annotated[
    str, typer.Option("--dtype", help="Bytes per value: " + ", ".join(DTYPE_BYTES) + ".")
]
BatchOpt = Annotated[int, typer.Option("--batch", min=1, help="Batch size for memory.")]
OptimizerOpt = Annotated[
    str,
    typer.Option(
        "--optimizer", help="Training state per parameter: " + ", ".join(OPTIMIZER_STATES) + "."
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a CnncalcError as `FILE:LINE:COL: error: ...` on stderr and exit with its code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CnncalcError as exc:
            sys.stderr.write(f"{exc}\n")
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _analyze(
    arch: str,
    input_shape: str | None,
    convention: str = "macs",
    memory: MemoryOptions | None = None,
) -> Report:
    net = load(arch, parse_input_option(input_shape) if input_shape else None)
    return analyze(net, convention, memory)


def _select(report: Report, layer: str | None) -> Report:
    """The report restricted to one layer's row (totals stay the network's)."""
    if layer is None:
        return report
    names = [row.node.name for row in report.layers]
    if layer not in names:
        import difflib

        close = difflib.get_close_matches(layer, names, n=1)
        raise SpecError(
            f"no layer named {layer!r} in {report.name}",
            None,
            f"did you mean `{close[0]}`?" if close else "see the layer names with `params`",
        )
    return Report(
        report.network,
        (report.layer(layer),),
        report.totals,
        report.macs,
        report.flops,
        report.convention,
        report.memory,
    )


def _explain(report: Report, explain: str, topics: tuple[str, ...]) -> None:
    selected = _select(report, None if explain == ALL_LAYERS else explain)
    net = report.network
    sys.stdout.write(
        explain_view(
            [
                explain_layer(net, row.node, topics, row.rf, report.memory.options)
                for row in selected.layers
            ]
        )
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """cnncalc: what a CNN is — shapes, parameters, FLOPs, receptive field and memory."""


@app.command()
@reports_errors
def params(
    arch: ArchArg,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
) -> None:
    """Output shape and parameters per layer: learnable, trainable, and buffers."""
    report = _analyze(arch, input)
    if explain:
        return _explain(report, explain, ("shape", "params"))
    report = _select(report, layer)
    emit(params_view(report), format, report.to_dict())


@app.command()
@reports_errors
def flops(
    arch: ArchArg,
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    format: FormatOpt = Format.table,
    explain: ExplainOpt = None,
    layer: LayerOpt = None,
) -> None:
    """Multiply-accumulates per layer, and FLOPs under a named convention."""
    report = _analyze(arch, input, convention)
    if explain:
        return _explain(report, explain, ("macs",))
    report = _select(report, layer)
    emit(flops_view(report), format, report.to_dict())


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
) -> None:
    """Receptive field per layer: size, stride (jump) and center, with how it grows."""
    report = _analyze(arch, input)
    if explain:
        _explain(report, explain, ("rf",))
    else:
        shown = _select(report, layer)
        emit(rf_view(shown), format, shown.to_dict())
    misaligned = [r.node.name for r in report.layers if r.rf is not None and not r.rf.aligned]
    if strict and misaligned:
        sys.stderr.write(
            f"error: receptive fields not aligned at {', '.join(misaligned[:5])}"
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
) -> None:
    """Activation memory per layer, parameter bytes, inference peak and training estimate."""
    report = _analyze(arch, input, memory=MemoryOptions(dtype, batch, optimizer))
    if explain:
        return _explain(report, explain, ("memory",))
    report = _select(report, layer)
    emit(memory_view(report), format, report.to_dict())


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
) -> None:
    """Everything cnncalc knows about each layer, with totals."""
    report = _select(
        _analyze(arch, input, convention, MemoryOptions(dtype, batch, optimizer)), layer
    )
    emit(summary_view(report, wide), format, report.to_dict())


@app.command()
@reports_errors
def zoo(format: FormatOpt = Format.table) -> None:
    """List the bundled architectures."""
    table = Tabular("Bundled architectures", [Column("Name"), Column("Description")])
    entries = []
    for name in zoo_names():
        path = zoo_path(name)
        description = zoo_description(path) if path else ""
        table.rows.append([name, description])
        entries.append({"name": name, "description": description})
    emit(table, format, {"architectures": entries})


def normalize_argv(args: Sequence[str]) -> list[str]:
    """Let `--explain` stand alone (all layers) as well as take a LAYER: click options cannot
    have an optional value, so a bare `--explain` becomes `--explain *`."""
    out = []
    for index, arg in enumerate(args):
        out.append(arg)
        if arg == "--explain" and (index + 1 == len(args) or args[index + 1].startswith("-")):
            out.append(ALL_LAYERS)
    return out


def main() -> None:
    app(args=normalize_argv(sys.argv[1:]), prog_name="cnncalc")


if __name__ == "__main__":
    main()
