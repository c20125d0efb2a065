"""Writing a report or table to the terminal or a pipe, in the format the user chose."""

from __future__ import annotations

import io
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

from cnncalc.errors import SourcePos, SpecError
from cnncalc.render.safe import json_text, visible, visible_table
from cnncalc.render.tabular import Tabular


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


def plain_output() -> bool:
    """Plain text when stdout is not a terminal or NO_COLOR is set to anything but the empty
    string (https://no-color.org)."""
    return not sys.stdout.isatty() or bool(os.environ.get("NO_COLOR"))


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _save_svg(path: Path, items: list[RenderableType], title: str, width: int) -> None:
    """Render `items` with rich, as a terminal `width` columns wide shows them, and save
    rich's own SVG export of that to `path`."""
    from rich.console import Console

    out = Console(
        record=True,
        width=max(40, min(width, 400)),
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
    )
    for item in items:
        out.print(item)
    try:
        out.save_svg(str(path), title=visible(title))
    except OSError as exc:
        raise SpecError(
            f"cannot write the SVG: {exc.strerror or exc}",
            SourcePos(str(path)),
            "check that the folder exists and is writable",
        ) from None


def table_svg(table: Tabular, path: Path) -> None:
    """The table and its notes, as a terminal shows them, saved as SVG."""
    from rich.text import Text

    width = max(len(line) for line in table.to_text().splitlines())
    notes = [Text(note, style="dim") for note in table.notes]
    _save_svg(path, [table.to_rich(), *notes], table.title, width)


def text_svg(text: str, path: Path, title: str) -> None:
    """Plain text (an --explain derivation) saved as SVG."""
    from rich.text import Text

    width = max((len(line) for line in text.splitlines()), default=40)
    _save_svg(path, [Text(text.rstrip("\n"))], title, width)


def emit(
    table: Tabular,
    fmt: Format,
    data: dict[str, Any],
    *,
    svg: Path | None = None,
    quiet: bool = False,
) -> None:
    """Print `table` (or `data`, for JSON) on stdout in `fmt`. `svg`: also save the table as
    the terminal shows it; `quiet`: print nothing (the exit code and stderr still tell).
    Every format shows control characters in names as visible escapes (`safe`)."""
    table = visible_table(table)
    if svg is not None:
        table_svg(table, svg)
    if quiet:
        return
    if fmt is Format.json:
        sys.stdout.write(json_text(data))
    elif fmt is Format.csv:
        sys.stdout.write(table.to_csv())
    elif fmt is Format.markdown:
        sys.stdout.write(table.to_markdown())
    elif fmt is Format.latex:
        sys.stdout.write(table.to_latex())
    elif plain_output():
        sys.stdout.write(table.to_text())
    else:
        from rich.text import Text  # a note is text, never markup or :emoji: codes

        out = console()
        out.print(table.to_rich())
        for note in table.notes:
            out.print(Text(note, style="dim"))


def emit_text(text: str, *, title: str, svg: Path | None = None, quiet: bool = False) -> None:
    """Print text that is not a table (an --explain derivation); `svg` and `quiet` as `emit`."""
    if svg is not None:
        text_svg(text, svg, title)
    if not quiet:
        sys.stdout.write(text)
