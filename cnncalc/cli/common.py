"""What every command shares: the typer app, common options, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from cnncalc import __version__
from cnncalc.errors import CnncalcError
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.memory import DTYPE_BYTES, OPTIMIZER_STATES
from cnncalc.render.output import Format

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


def normalize_argv(args: Sequence[str]) -> list[str]:
    """Let `--explain` stand alone (all layers) as well as take a LAYER: click options cannot
    have an optional value, so a bare `--explain` becomes `--explain *`."""
    out = []
    for index, arg in enumerate(args):
        out.append(arg)
        if arg == "--explain" and (index + 1 == len(args) or args[index + 1].startswith("-")):
            out.append(ALL_LAYERS)
    return out
