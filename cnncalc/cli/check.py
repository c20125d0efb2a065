"""The commands for repositories and review: `check` (expectations, budgets) and `diff`."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from cnncalc.cli.common import (
    BatchOpt,
    ConventionOpt,
    DtypeOpt,
    FormatOpt,
    InputOpt,
    app,
    input_option,
    reports_errors,
)
from cnncalc.errors import SourcePos, SpecError
from cnncalc.gcpause import gc_paused
from cnncalc.loader import load
from cnncalc.passes.memory import MemoryOptions
from cnncalc.render.output import Format, emit
from cnncalc.render.safe import visible_table
from cnncalc.report import analyze


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    github = "github"


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def check(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="ARCH...",
            help="Spec files, folders (every *.yaml and *.yml below) or globs like "
            "'archs/**/*.yaml'; a bundled name or `-` (stdin) works too.",
            show_default=False,
        ),
    ],
    budget: Annotated[
        list[str] | None,
        typer.Option(
            "--budget",
            "-b",
            metavar="FILE",
            help="Expectations kept outside the specs: one mapping for every spec, or spec "
            "paths/globs mapped to expectations. May be repeated.",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="table; json; github: Actions annotations."),
    ] = CheckFormat.table,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every check, passed ones too.")
    ] = False,
) -> None:
    """Check specs against their `expect:` block and budgets; exit 0 all good, 1 a check
    failed, 2 a spec is invalid (2 wins; every spec is still checked)."""
    from cnncalc.check import check as run_checks  # only this command needs it
    from cnncalc.render.check import (
        check_json,
        check_view,
        diagnostics,
        file_lines,
        github_annotations,
    )

    run = run_checks(paths, budget or ())
    if format is CheckFormat.json:
        sys.stdout.write(check_json(run))
    else:
        listing = [line for f in run.files for line in file_lines(f)] if verbose else []
        if format is CheckFormat.github:
            table = visible_table(check_view(run))
            text = "\n".join([*github_annotations(run), *listing, ""]) + table.to_text()
            sys.stdout.write(text.lstrip("\n"))
        else:
            problems = diagnostics(run)
            if problems:
                sys.stderr.write("\n".join(problems) + "\n")
            if listing:
                sys.stdout.write("\n".join(listing) + "\n")
            emit(lambda: check_view(run), Format.table, run.to_dict)
    raise typer.Exit(run.exit_code)


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def diff(
    a: Annotated[str, typer.Argument(metavar="A", help="The network before.", show_default=False)],
    b: Annotated[str, typer.Argument(metavar="B", help="The network after.", show_default=False)],
    input: InputOpt = None,
    convention: ConventionOpt = "macs",
    dtype: DtypeOpt = "float32",
    batch: BatchOpt = 1,
    format: FormatOpt = Format.table,
    all: Annotated[
        bool, typer.Option("--all", help="List unchanged layers too.", show_default=False)
    ] = False,
) -> None:
    """What changes from A to B: per-layer and total shapes, params, MACs and RF."""
    if a == "-" and b == "-":
        raise SpecError(
            "only one of A and B can be `-` (stdin)", SourcePos("-"), "give the other as a file"
        )
    shape = input_option(input)
    memory = MemoryOptions(dtype, batch)
    before = analyze(load(a, shape), convention, memory)
    after = before if b == a else analyze(load(b, shape), convention, memory)  # read once
    from cnncalc.diff import diff_reports  # only this command needs it
    from cnncalc.render.check import diff_view

    result = diff_reports(before, after)
    emit(lambda: diff_view(result, all), format, lambda: result.to_dict(all))
