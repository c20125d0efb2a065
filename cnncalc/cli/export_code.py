"""`cnncalc export`: a network as framework source code (PyTorch, Keras).

The writers (`cnncalc.io.pytorch_code`, `keras_code`) print source without importing any
framework; they are imported inside the command, so the CLI starts as fast as before.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.cli.common import ArchArg, InputOpt, app, input_option, reports_errors
from cnncalc.errors import SourcePos, SpecError
from cnncalc.loader import load


class Framework(str, Enum):
    pytorch = "pytorch"
    keras = "keras"


@app.command("export")
@reports_errors
def export_code(
    arch: ArchArg,
    to: Annotated[
        Framework,
        typer.Option("--to", "-t", help="The framework: pytorch (an nn.Module) or keras."),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the source to FILE instead of stdout.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Append a __main__ that builds the model and asserts cnncalc's parameters, "
            "buffers and output shape.",
        ),
    ] = False,
    input: InputOpt = None,
) -> None:
    """Write the network as one self-contained Python file: a PyTorch nn.Module (attribute
    paths = the spec's layer names) or a Keras functional model, a comment with each layer's
    output shape. Layers the framework cannot express are an error naming them."""
    net = load(arch, input_option(input))
    command = f"cnncalc export {net.name} --to {to.value}"
    if to is Framework.pytorch:
        from cnncalc.io.pytorch_code import write
    else:
        from cnncalc.io.keras_code import write
    source = write(net, check=check, command=command)
    if output is None:
        sys.stdout.write(source)
        return
    try:
        Path(output).write_text(source, encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(
            f"cannot write the source: {reason}",
            SourcePos(output),
            "check that the folder exists and is writable",
        ) from None
