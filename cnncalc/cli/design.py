"""The design commands (solve, sweep, ...) and the `--training` option of `flops`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.design.training import training_flops
from cnncalc.errors import SpecError

if TYPE_CHECKING:
    from cnncalc.cli.analysis import Output
    from cnncalc.report import Report

TrainingOpt = Annotated[
    bool,
    typer.Option(
        "--training",
        help="Also the backward pass: input- and weight-gradient FLOPs per layer, as "
        "torch's FlopCounterMode counts them.",
    ),
]


def with_training(output: Output, report: Report) -> tuple[Output, Report]:
    """The report with its training FLOPs, listed layer by layer (never folded)."""
    if output.layers is not None or output.depth:
        option = "--layers" if output.layers is not None else "--depth"
        raise SpecError(
            f"--training lists every layer: it cannot be combined with {option}",
            None,
            "use --layer NAME, --sort or --top to pick layers",
        )
    return replace(output, depth=0), replace(report, training=training_flops(report.network))
