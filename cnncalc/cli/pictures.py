"""Pictures: `report` (one self-contained HTML page), and the file writing `rf --image` shares.

Jinja2 and the page's modules are imported inside the command, so other commands' cold start
does not pay for them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cnncalc.cli.common import (
    ArchArg,
    BatchOpt,
    ConventionOpt,
    DtypeOpt,
    InputOpt,
    OptimizerOpt,
    app,
    input_option,
    reports_errors,
)
from cnncalc.errors import SourcePos, SpecError
from cnncalc.loader import load
from cnncalc.passes.memory import MemoryOptions
from cnncalc.report import analyze
from cnncalc.units import human_bytes


def write_file(path: Path, data: bytes) -> None:
    """Write a picture or page; a folder that is missing or not writable is exit 2."""
    try:
        path.write_bytes(data)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise SpecError(
            f"cannot write the file: {getattr(exc, 'strerror', None) or exc}",
            SourcePos(str(path)),
            "check that the folder exists and is writable",
        ) from None


@app.command()
@reports_errors
def report(
    arch: ArchArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to save the page (default: stdout).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    optimizer: OptimizerOpt = "sgd",
) -> None:
    """One self-contained HTML page: the sortable summary table with block collapse, bars
    per layer, the memory timeline, the layer graph, receptive-field growth and alignment,
    and every layer's derivation. Opens offline (nothing is fetched).

    cnncalc report resnet50 -o resnet50.html
    """
    from cnncalc.passes.explain import TOPICS, explain
    from cnncalc.render.html.page import render_html

    result = analyze(
        load(arch, input_option(input)), convention, MemoryOptions(dtype, batch, optimizer)
    )
    for warning in result.warnings:
        sys.stderr.write(f"{warning}\n")
    explanations = [
        explain(result.network, row.node, TOPICS, row.rf, result.memory.options, convention)
        for row in result.layers
    ]
    page = render_html(result, explanations).encode("utf-8")
    if output is None:
        sys.stdout.write(page.decode("utf-8"))
        return
    write_file(output, page)
    sys.stdout.write(f"wrote {output} ({human_bytes(len(page))})\n")
