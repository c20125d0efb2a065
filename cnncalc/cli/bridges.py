"""`cnncalc import`: a model from another framework → a readable spec."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.cli.common import InputOpt, app, input_option, reports_errors
from cnncalc.errors import SourcePos, SpecError


class SourceFormat(str, Enum):
    onnx = "onnx"
    torch = "torch"
    keras = "keras"


@app.command("import")
@reports_errors
def import_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE",
            help="model.onnx, model.keras, model.json, or (--from torch) module:function, "
            "module:Class or a saved full model (.pt).",
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the spec here (default: stdout).")
    ] = None,
    source_format: Annotated[
        SourceFormat | None,
        typer.Option("--from", help="What SOURCE is (default: by its file name)."),
    ] = None,
    allow_unsupported: Annotated[
        bool,
        typer.Option(
            "--allow-unsupported",
            help="Import ops cnncalc cannot express as `opaque` layers (measured output shape "
            "and parameters) instead of failing.",
        ),
    ] = False,
    flat: Annotated[
        bool, typer.Option("--flat", help="One line per layer: do not recover blocks.")
    ] = False,
    arg: Annotated[
        list[str] | None,
        typer.Option(
            "--arg", help="KEY=VALUE keyword argument for a torch function or class (repeatable)."
        ),
    ] = None,
    input: InputOpt = None,
) -> None:
    """Write a readable spec (blocks and repeats recovered) from an ONNX, PyTorch or Keras model.

    Shapes and counts come from cnncalc's own passes, checked against the model's weights.
    Examples: cnncalc import resnet50.onnx -o resnet50.yaml;
    cnncalc import --from torch torchvision.models:resnet50 --arg num_classes=10
    """
    from cnncalc.io.importer import import_model

    kwargs = None
    if arg:
        from cnncalc.io.torch_fx import parse_kwargs

        if source_format not in (None, SourceFormat.torch):
            raise SpecError("--arg applies to --from torch", SourcePos("--arg"))
        kwargs = parse_kwargs(arg)
        source_format = SourceFormat.torch
    result = import_model(
        source,
        source_format.value if source_format else None,
        allow_unsupported,
        input_option(input),
        structure=not flat,
        torch_kwargs=kwargs,
    )
    if output is None:
        sys.stdout.write(result.text)
    else:
        try:
            output.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            raise SpecError(
                f"cannot write {output}: {exc.strerror}", SourcePos(str(output))
            ) from None
    from cnncalc.passes.params import count_params

    layers = len(result.network)
    params = sum(c.params for c in count_params(result.network).values())
    opaque = sum(1 for n in result.network if n.kind == "opaque")
    note = f"{layers} layers, {int(params):,} params"
    if result.structured:
        note += ", blocks recovered"
    if opaque:
        note += f", {opaque} opaque"
    where = f"wrote {output}" if output else "imported"
    sys.stderr.write(f"{where}: {note}\n")
