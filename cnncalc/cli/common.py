"""What every command shares: the typer app, common options, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from cnncalc import __version__
from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.memory import DTYPE_BYTES, OPTIMIZER_STATES
from cnncalc.render.output import Format
from cnncalc.render.safe import error_text, visible
from cnncalc.spec import InputOverride, WrittenShape, parse_input_option, parse_input_options
from cnncalc.yamlrules import MAX_INT

F = TypeVar("F", bound=Callable[..., Any])


class _Command(TyperCommand):
    """typer's command, with the usage line naming arguments as their help does: `ARCH`,
    not typer's `{ARCH}`."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


class _Group(TyperGroup):
    """typer's command group, whose usage errors (an unknown option, a value out of range, a
    missing argument) read like every other cnncalc error: `error: MESSAGE`, a hint with the
    command's usage, exit 2, instead of typer's box.

    click's exceptions are recognised by their interface (`format_message`, `exit_code`), not
    their class: typer ≥ 0.2x carries its own copy of click, older typer uses click itself."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        try:
            result = super().main(*args, **{**kwargs, "standalone_mode": False})
            code = result if isinstance(result, int) else 0
        except Exception as exc:
            code = _usage_error(exc)
        if standalone:
            sys.exit(code)
        return code


def _usage_error(exc: Exception) -> int:
    """Print click's `exc` as a cnncalc error and return its exit code (re-raise others)."""
    message, code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
    if type(exc).__name__ == "Abort":  # click's answer to end of input at a prompt
        sys.stderr.write("error: aborted\n")
        return 1
    if not callable(message) or not isinstance(code, int):
        raise exc
    sys.stderr.write(f"error: {visible(message())}\n")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:  # a usage error: how the command is called
        usage = ctx.get_usage().replace("Usage: ", "", 1)
        sys.stderr.write(f"  hint: {visible(usage)}; see `{visible(ctx.command_path)} --help`\n")
    return code


class _Typer(typer.Typer):
    """Every command is a `_Command`; `-h` works as `--help` everywhere."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        kwargs.setdefault("cls", _Command)
        decorator: Callable[[F], F] = super().command(*args, **kwargs)
        return decorator


app = _Typer(
    cls=_Group,
    name="cnncalc",
    help="What a CNN is, before you build it: shapes, parameters, FLOPs, receptive field and "
    "memory from a YAML spec or a shorthand line.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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
    list[str] | None,
    typer.Option(
        "--input",
        "-i",
        metavar="HxWxC",
        help="Override the spec's input shape (one sample; CxHxW if the spec says layout: chw); "
        "NAME=HxWxC for one of several inputs, once per input.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="Output format: " + ", ".join(f.value for f in Format) + ".",
    ),
]
ExplainOpt = Annotated[
    str | None,
    typer.Option(
        "--explain",
        metavar="[LAYER]",
        help="Print the worked derivation of every layer's numbers, or of one LAYER "
        "(with --format json, as data).",
        show_default=False,
    ),
]
LayerOpt = Annotated[str | None, typer.Option("--layer", help="Report only this layer.")]
DepthOpt = Annotated[
    int | None,
    typer.Option(
        "--depth",
        min=0,
        max=64,
        metavar="N",
        help="Fold layers into one row per block: names cut to N dotted parts (layer1.0 at 2), "
        "with subtotals. 0: every layer. Default: every layer, except in a terminal too short "
        "for them. Tables only; JSON lists every layer.",
        show_default=False,
    ),
]


class Ranking(str, Enum):
    params = "params"
    macs = "macs"


SortOpt = Annotated[
    Ranking | None,
    typer.Option("--sort", help="List the rows heaviest first.", show_default=False),
]
TopOpt = Annotated[
    int | None,
    typer.Option(
        "--top",
        min=1,
        metavar="K",
        help="Only the K heaviest rows (by --sort, or by the command's own count).",
        show_default=False,
    ),
]
LayersOpt = Annotated[
    str | None,
    typer.Option(
        "--layers",
        metavar="PATTERN",
        help="Report these layers and their subtotal: globs (`branch2.*`), ranges "
        "(`conv1..conv3`), comma-separated.",
        show_default=False,
    ),
]
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


def shape_option(text: str) -> WrittenShape:
    """One `--input HxWxC` (or N; CxHxW for a spec with `layout: chw`); sizes are bounded as
    a spec's integers are."""
    shape = parse_input_option(text)
    if any(d > MAX_INT for d in shape):
        raise SpecError(
            f"--input sizes are at most 2^63 − 1, got {text[:40]}", SourcePos("--input")
        )
    return shape


def input_option(texts: list[str] | None) -> InputOverride | None:
    """`--input HxWxC` as a shape, or one `--input NAME=HxWxC` per input as name → shape."""
    if not texts:
        return None
    for text in texts:
        shape_option(text.partition("=")[2] or text)
    return parse_input_options(texts)


def one_input_option(texts: list[str] | None) -> WrittenShape | None:
    """A lone unnamed `--input HxWxC`, for what takes a single shape (importers)."""
    if not texts:
        return None
    if len(texts) > 1 or "=" in texts[0]:
        raise SpecError(
            "this command takes one input shape", SourcePos("--input"), "write `--input HxWxC`"
        )
    return shape_option(texts[0])


def one_input_text(texts: list[str] | None) -> str | None:
    """The text of a lone unnamed `--input` (closed forms read `HxWx3` from it)."""
    return texts[0] if texts and len(texts) == 1 and "=" not in texts[0] else None


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
    have an optional value, so a bare `--explain` becomes `--explain *`. The word after it is
    its LAYER only when the command has its ARCH elsewhere: in `params --explain seed_32x32`
    it is the architecture."""
    args = list(args)
    if "--explain" not in args:
        return args
    out = []
    positionals = _positional_count(args)
    for index, arg in enumerate(args):
        out.append(arg)
        if arg != "--explain":
            continue
        following = args[index + 1] if index + 1 < len(args) else None
        bare = following is None or (following.startswith("-") and following != "-")
        # `positionals < 3`: the command and this word only, so this word is the ARCH
        if bare or positionals < 3:
            out.append(ALL_LAYERS)
    return out


def _positional_count(args: list[str]) -> int:
    """The words of `args` that are not options or option values (the command name too),
    counting the one after `--explain` among them."""
    import typer.main

    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    command = commands.get(next((a for a in args if not a.startswith("-")), ""), group)
    takes_value = {
        name
        for param in command.params
        if param.param_type_name == "option"
        and not getattr(param, "is_flag", False)
        and param.name != "explain"
        for name in (*param.opts, *param.secondary_opts)
    }
    count, index = 0, 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return count + len(args) - index - 1
        if arg in takes_value:
            index += 1
        elif not arg.startswith("-") or arg == "-":
            count += 1
        index += 1
    return count
