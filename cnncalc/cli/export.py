"""Commands that say what a spec is in other languages: `schema` (JSON Schema) and `graph`."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated

import typer

from cnncalc.cli.common import ArchArg, InputOpt, app, input_option, reports_errors
from cnncalc.gcpause import gc_paused
from cnncalc.loader import load
from cnncalc.report import analyze


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"


@app.command()
@reports_errors
def schema() -> None:
    """Print the JSON Schema of spec files, for editors and validators.

    Save it with: cnncalc schema > cnncalc.schema.json
    and start a spec with: # yaml-language-server: $schema=./cnncalc.schema.json
    """
    from cnncalc.schema import spec_schema

    sys.stdout.write(json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n")


@app.command()
@reports_errors
@gc_paused  # one pause for the whole command: see gcpause
def graph(
    arch: ArchArg,
    input: InputOpt = None,
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="Mermaid flowchart or Graphviz DOT.")
    ] = GraphFormat.mermaid,
) -> None:
    """Draw the layer graph with the tensor shapes on its edges (Mermaid or Graphviz DOT).

    Paste Mermaid into a ```mermaid block of a Markdown file; draw DOT with Graphviz:
    cnncalc graph resnet18 -f dot | dot -Tsvg > resnet18.svg
    """
    from cnncalc.render.graph import to_dot, to_mermaid

    report = analyze(load(arch, input_option(input)))
    sys.stdout.write(to_dot(report) if format is GraphFormat.dot else to_mermaid(report))
