"""`cnncalc verify`: check the analytic numbers against a NumPy forward pass.

NumPy is imported inside the command, never when the CLI starts: the analytic commands keep
their cold start.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from cnncalc.cli.common import (
    ArchArg,
    FormatOpt,
    InputOpt,
    QuietOpt,
    SvgOpt,
    app,
    input_option,
    reports_errors,
)
from cnncalc.errors import SpecError
from cnncalc.loader import load
from cnncalc.render.output import Format, emit, plain_output
from cnncalc.render.safe import visible
from cnncalc.yamlrules import MAX_INT

if TYPE_CHECKING:
    from rich.progress import TaskID

ProgressFn = Callable[[str, int, int], None]


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressFn | None]:
    """A transient rich progress bar (per layer) while stdout is a terminal; else nothing."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}", markup=False),  # names are text, not markup
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        tasks: dict[bool, TaskID] = {}  # per layer (a total), then open-ended

        def update(stage: str, done: int, total: int) -> None:
            counted = bool(total)
            if counted not in tasks:
                for other in tasks.values():
                    bar.update(other, visible=False)
                tasks[counted] = bar.add_task(stage, total=total or None)
            bar.update(tasks[counted], description=visible(stage), completed=done)

        yield update


@app.command()
@reports_errors
def verify(
    arch: ArchArg,
    input: InputOpt = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=4096, help="Batch size of the random input.")
    ] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the weights and input.")] = 0,
    max_memory: Annotated[
        str,
        typer.Option(
            "--max-memory",
            metavar="SIZE",
            help="Refuse a forward pass estimated to need more (e.g. 2GiB, 512MiB).",
        ),
    ] = "2GiB",
    rf: Annotated[
        bool, typer.Option("--rf/--no-rf", help="Measure the receptive field as well.")
    ] = True,
    format: FormatOpt = Format.table,
    svg: SvgOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the network forward in NumPy (random weights) and check every layer's shape,
    parameters and receptive field against the analytic numbers; exit 1 on a disagreement."""
    from cnncalc.reference.verify import parse_bytes, verify_network
    from cnncalc.render.verify import failure_lines, verify_view

    limit = parse_bytes(max_memory)
    if not 0 <= seed <= MAX_INT:
        raise SpecError(
            f"--seed must be from 0 to 2^63 − 1, got {seed}", None, "any such number, e.g. 1"
        )
    net = load(arch, input_option(input))
    show = not quiet and format is Format.table and not plain_output()
    with _progress(show) as progress:
        result = verify_network(
            net, batch=batch, seed=seed, max_memory=limit, rf=rf, progress=progress
        )
    emit(lambda: verify_view(result), format, result.to_dict, svg=svg, quiet=quiet)
    if not result.ok:
        for line in failure_lines(result):
            sys.stderr.write(line + "\n")
        raise typer.Exit(1)
