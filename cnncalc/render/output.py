"""Writing a report or table to the terminal or a pipe, in the format the user chose."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

from cnncalc.errors import SourcePos, SpecError
from cnncalc.gcpause import gc_paused
from cnncalc.render.layout import PLAIN_WIDTH, plain_width
from cnncalc.render.safe import json_chunks, visible, visible_table
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


def console(width: int | None = None) -> Console:
    """rich's console for stdout; `width`: wider than the terminal (lines then run on)."""
    from rich.console import Console

    return Console(highlight=False, width=width)


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


MAX_SVG_LINES = 1_000  # rich lays out and exports 1,000 lines in about 0.5 s


def _check_svg_length(lines: int, path: Path) -> None:
    if lines > MAX_SVG_LINES:
        raise SpecError(
            f"an SVG of {lines:,} lines is too long to draw (at most {MAX_SVG_LINES:,})",
            SourcePos(str(path)),
            "draw one layer with --layer NAME, or write long tables with --format csv, "
            "markdown or latex",
        )


def table_svg(table: Tabular, path: Path) -> None:
    """The table and its notes, as a terminal shows them, saved as SVG."""
    from rich.text import Text

    _check_svg_length(len(table.to_text(PLAIN_WIDTH).splitlines()), path)
    width = max(table.fit(PLAIN_WIDTH).width, PLAIN_WIDTH)
    notes = [Text(line, style="dim") for line in table.rich_notes(PLAIN_WIDTH)]
    _save_svg(path, [table.to_rich(PLAIN_WIDTH), *notes], table.title, width)


def text_svg(text: str, path: Path, title: str) -> None:
    """Plain text (an --explain derivation) saved as SVG."""
    from rich.text import Text

    lines = text.splitlines()
    _check_svg_length(len(lines), path)
    width = max((len(line) for line in lines), default=40)
    _save_svg(path, [Text(text.rstrip("\n"))], title, width)


@gc_paused  # a 100,000-row table or report builds a million containers (see gcpause)
def emit(
    table: Callable[[], Tabular],
    fmt: Format,
    data: Callable[[], dict[str, Any]],
    *,
    svg: Path | None = None,
    quiet: bool = False,
) -> None:
    """Print the table `table()` (or `data()`, for JSON) on stdout in `fmt`; each is built
    only if needed (100,000 rows take a second). `svg`: also save the table as the terminal
    shows it; `quiet`: print nothing (the exit code and stderr still tell). Every format shows
    control characters in names as visible escapes (`safe`)."""

    def shown_table() -> Tabular:
        return visible_table(table())

    if svg is not None:
        table_svg(shown_table(), svg)
    if quiet:
        return
    if fmt is Format.json:
        emit_json(data())
    elif fmt is Format.csv:
        sys.stdout.write(shown_table().to_csv())
    elif fmt is Format.markdown:
        sys.stdout.write(shown_table().to_markdown())
    elif fmt is Format.latex:
        sys.stdout.write(shown_table().to_latex())
    elif plain_output():
        sys.stdout.write(shown_table().to_text(plain_width()))
    else:
        from rich.text import Text  # a note is text, never markup or :emoji: codes

        shown = shown_table()
        width = console().width
        needed = shown.fit(width).width
        # never narrower than the table: rich would cut cells to the console's width
        out = console(needed) if needed > width else console()
        out.print(shown.to_rich(width))
        for line in shown.rich_notes(width):
            out.print(Text(line, style="dim"), soft_wrap=True)


def emit_json(data: dict[str, Any]) -> None:
    """`data` as indented JSON, streamed (a large report's text is 500 bytes a layer), with
    control characters escaped (`safe.json_chunks`)."""
    sys.stdout.writelines(json_chunks(data))
    sys.stdout.write("\n")


def emit_text(text: str, *, title: str, svg: Path | None = None, quiet: bool = False) -> None:
    """Print text that is not a table (an --explain derivation); `svg` and `quiet` as `emit`."""
    if svg is not None:
        text_svg(text, svg, title)
    if not quiet:
        sys.stdout.write(text)
