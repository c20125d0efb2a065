"""Writing a report or table to the terminal or a pipe, in the format the user chose."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

from cnncalc.render.tabular import Tabular


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


def plain_output() -> bool:
    """Plain text when stdout is not a terminal or NO_COLOR is set (https://no-color.org)."""
    return not sys.stdout.isatty() or "NO_COLOR" in os.environ


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def emit(table: Tabular, fmt: Format, data: dict[str, Any]) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(table.to_csv())
    elif fmt is Format.markdown:
        sys.stdout.write(table.to_markdown())
    elif fmt is Format.latex:
        sys.stdout.write(table.to_latex())
    elif plain_output():
        sys.stdout.write(table.to_text())
    else:
        out = console()
        out.print(table.to_rich())
        for note in table.notes:
            out.print(note, style="dim")
