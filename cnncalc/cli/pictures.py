"""Pictures: `report` (one self-contained HTML page), and the file writing `rf --image` shares.

Jinja2 and the page's modules are imported inside the command, so other commands' cold start
does not pay for them.
"""

from __future__ import annotations

import sys
from dataclasses import replace
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
from cnncalc.passes.receptive_field import ReceptiveField
from cnncalc.report import Report, analyze
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


def _unit(text: str | None, grid: tuple[int, int], layer: str, strip: bool) -> tuple[int, int]:
    """`--unit i,j` (default: the middle unit), inside the layer's output grid; on a 1-D
    `strip` (one row) `--unit j` as well."""
    if text is None:
        return grid[0] // 2, grid[1] // 2
    parts = text.split(",")
    if strip and len(parts) == 1:
        parts = ["0", *parts]
    if len(parts) != 2 or not all(p.strip().isdigit() and len(p.strip()) < 20 for p in parts):
        example = "e.g. --unit 7 (a 1-D output's position)" if strip else "e.g. --unit 3,4"
        raise SpecError(f"--unit {text!r} is not two whole numbers i,j", None, example)
    unit = (int(parts[0]), int(parts[1]))
    if unit[0] >= grid[0] or unit[1] >= grid[1]:
        raise SpecError(
            f"--unit {unit[0]},{unit[1]} is outside {layer}'s {grid[0]}×{grid[1]} output",
            None,
            f"rows 0..{grid[0] - 1}, columns 0..{grid[1] - 1}",
        )
    return unit


def _as_strip(rf: ReceptiveField) -> ReceptiveField:
    """A 1-D field as a field on a one-row image: a row axis of one cell in front."""
    return replace(rf, size=(1, *rf.size), stride=(1, *rf.stride), center=(0, *rf.center))


def rf_image(
    result: Report, path: Path, layer: str | None, unit_text: str | None, empirical: bool
) -> str:
    """Draw one output unit's receptive field on the input grid into `path` (.png or .svg);
    returns a line saying what was drawn."""
    from cnncalc.passes.unit_field import path_fields, unit_field
    from cnncalc.render.rf_image import Picture, to_png, to_svg

    net = result.network
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise SpecError(
            f"--image {path.name}: cannot tell the format", None, "name it .png or .svg"
        )
    strip = len(net.input_shape) == 2
    if len(net.input_shape) not in (2, 3):
        raise SpecError(
            "--image draws 2-D inputs (H×W×C) and 1-D ones as a strip (L×C); this network's "
            f"input is {'×'.join(map(str, net.input_shape))}"
            + (f" ({len(net.input_shape) - 1}-D)" if len(net.input_shape) > 3 else " (flat)"),
            None,
            "use `cnncalc rf` without --image for its numbers (every axis)",
        )
    spatial = [row for row in result.layers if row.rf is not None]
    if layer is None and spatial:
        layer = spatial[-1].name
    row = result.only(layer).layers[0] if layer is not None else None
    if row is None or row.rf is None:
        raise SpecError(
            f"layer {layer}: its output is flat, with no receptive field to draw",
            None,
            "choose a layer before the flatten (or dense) with --layer",
        )
    rf = _as_strip(row.rf) if strip else row.rf
    grid = (1, row.output_shape[0]) if strip else (row.output_shape[0], row.output_shape[1])
    unit = _unit(unit_text, grid, row.name, strip)
    neighbours = [
        unit_field(f"unit {i},{j}", rf, (i, j))
        for i, j in (
            (unit[0], unit[1] + 1 if unit[1] + 1 < grid[1] else unit[1] - 1),
            (unit[0] + 1 if unit[0] + 1 < grid[0] else unit[0] - 1, unit[1]),
        )
        if 0 <= i < grid[0] and 0 <= j < grid[1] and (i, j) != unit
    ]
    fields = {r.node.name: _as_strip(r.rf) if strip and r.rf else r.rf for r in result.layers}
    measured = None
    if empirical:
        from cnncalc.reference.unit_box import unit_box

        box = unit_box(net, row.name, unit[1:] if strip else unit)
        if box is not None:
            lo, hi = ((0, *b) for b in box) if strip else box
            measured = (lo[0], lo[1]), (hi[0], hi[1])
    picture = Picture(
        row.name,
        unit,
        (1, net.input_shape[0]) if strip else (net.input_shape[0], net.input_shape[1]),
        unit_field(row.name, rf, unit),
        row.rf.size,
        row.rf.stride,
        tuple(neighbours),
        tuple(path_fields(net, fields, row.name, unit)),
        measured,
        strip,
    )
    data = to_png(picture) if suffix == ".png" else to_svg(picture).encode("utf-8")
    write_file(path, data)
    return f"wrote {path}: " + "; ".join(picture.legend()) + "\n"
