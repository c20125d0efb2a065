"""`cnncalc run`: the output values of a network for a given input and weights.

NumPy is imported inside the command, never when the CLI starts.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated

import typer

from cnncalc.cli.common import ArchArg, InputOpt, app, input_option, reports_errors


class RunFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
@reports_errors
def run(
    arch: ArchArg,
    x: Annotated[
        list[str] | None,
        typer.Option(
            "--x",
            "-x",
            metavar="FILE",
            help="The input: a CSV matrix per channel (repeat --x to stack channels) or one "
            ".npy (H×W×C). Default: seeded random values.",
            show_default=False,
        ),
    ] = None,
    weights: Annotated[
        list[str] | None,
        typer.Option(
            "--weights",
            "-w",
            metavar="LAYER=FILE",
            help="A layer's weights: LAYER=kernel.csv (one kernel for every filter and "
            "channel), LAYER\\[f]=FILE (filter f), LAYER\\[f,c]=FILE, LAYER.bias=FILE, or an .npy "
            "in PyTorch's layout (filters, in, kh, kw) / dense (units, inputs). Repeatable. "
            "Layers not given get seeded random weights.",
            show_default=False,
        ),
    ] = None,
    layer: Annotated[
        str | None,
        typer.Option("--layer", help="Show this layer's output (default: the last layer's)."),
    ] = None,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            metavar="i,j",
            help="Write out the sum of products of output cell i,j (i,j,c: one channel; "
            "n: a flat output) of a conv, dense or pooling layer.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random weights/input.")] = 0,
    input: InputOpt = None,
    format: Annotated[RunFormat, typer.Option("--format", "-f", help="Output format.")] = (
        RunFormat.table
    ),
) -> None:
    """Compute a network's output values (float32, NumPy) for a concrete input and weights,
    e.g. a course exercise's 4×4 matrix and 2×2 kernel. Convolutions are cross-correlations,
    as PyTorch and TensorFlow compute them (the kernel is not flipped)."""
    from cnncalc.reference.run import explain_cell, parse_cell
    from cnncalc.reference.run import run as run_values
    from cnncalc.render.values import run_text

    cell = parse_cell(explain) if explain is not None else None
    result = run_values(arch, x, weights, layer=layer, seed=seed, input_shape=input_option(input))
    cells = explain_cell(result, cell) if cell is not None else None
    if format is RunFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(run_text(result, cells))
