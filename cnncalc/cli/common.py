"""What every command shares: the typer app, common options, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from cnncalc import __version__
from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.layers import Shape
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.memory import DTYPE_BYTES, OPTIMIZER_STATES
from cnncalc.render.output import Format
from cnncalc.render.safe import error_text
from cnncalc.spec import parse_input_option
from cnncalc.yamltree import MAX_INT

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
SvgOpt = Annotated[
    Path | None,
    typer.Option(
        "--svg",
        metavar="FILE",
        help="Also save the table as the terminal shows it, as an SVG picture.",
        dir_okay=False,
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print nothing on stdout (errors still go to stderr; see --svg)."
    ),
]
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
BatchOpt = Annotated[int, typer.Option("--batch", min=1, max=10**9, help="Batch size for memory.")]
OptimizerOpt = Annotated[
    str,
    typer.Option(
        "--optimizer", help="Training state per parameter: " + ", ".join(OPTIMIZER_STATES) + "."
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a CnncalcError as `FILE:LINE:COL: error: ...` on stderr (control characters in
    it made visible) and exit with its code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CnncalcError as exc:
            sys.stderr.write(error_text(exc) + "\n")
            raise typer.Exit(exc.exit_code) from None
        except OverflowError:  # a count past floats' range (~10^308), as bytes or GFLOPs
            sys.stderr.write(
                "error: a number in this network is too large to report (beyond 10^308)\n"
                "  hint: look for a huge size built by a $(...) expression\n"
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def input_option(text: str | None) -> Shape | None:
    """`--input HxWxC` (or N) as a shape; sizes are bounded as a spec's integers are."""
    if text is None:
        return None
    shape = parse_input_option(text)
    if any(d > MAX_INT for d in shape):
        raise SpecError(
            f"--input sizes are at most 2^63 − 1, got {text[:40]}", SourcePos("--input")
        )
    return shape


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
