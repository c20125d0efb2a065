"""The `cnncalc` command: thin typer commands over `cnncalc.load` / `cnncalc.analyze`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from cnncalc import __version__
from cnncalc.errors import CnncalcError
from cnncalc.graph import Network
from cnncalc.loader import load
from cnncalc.render.output import Format, emit
from cnncalc.render.tabular import Column, Tabular
from cnncalc.render.views import params_view, summary_view
from cnncalc.report import analyze
from cnncalc.spec import parse_input_option
from cnncalc.zoo import zoo_description, zoo_names, zoo_path

app = typer.Typer(
    name="cnncalc",
    help="What a CNN is, before you build it: shapes, parameters and more from a spec.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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


def _load(arch: str, input_shape: str | None) -> Network:
    return load(arch, parse_input_option(input_shape) if input_shape else None)


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
    """cnncalc: shapes, parameters and more of a CNN from a YAML spec or shorthand."""


@app.command()
@reports_errors
def params(arch: ArchArg, input: InputOpt = None, format: FormatOpt = Format.table) -> None:
    """Parameters per layer: learnable, trainable, and buffers."""
    report = analyze(_load(arch, input))
    emit(params_view(report), format, report.to_dict())


@app.command()
@reports_errors
def summary(arch: ArchArg, input: InputOpt = None, format: FormatOpt = Format.table) -> None:
    """Everything cnncalc knows about each layer, with totals."""
    report = analyze(_load(arch, input))
    emit(summary_view(report), format, report.to_dict())


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
