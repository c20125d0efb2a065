"""Fitting a table to a width without ever cutting a name or a number.

Both the rich and the plain renderer draw the `Layout` that `fit` chooses, so a terminal and
a pipe drop the same columns. In order, until the table fits: drop optional columns (highest
`drop` first), show sibling layers under a row naming their block (`layer1.0`, then `…conv1`,
`…bn1`), fold wrapping columns between words. If it still does not fit,
the table is wider than asked: a name or a number is never cut or folded.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnncalc.render.tabular import Column, Tabular

PLAIN_WIDTH = 100  # the promised width of piped tables
ITEM_SEPARATOR = " · "  # between the items of a note, where a note may wrap


def plain_width() -> int:
    """The width of piped output: `COLUMNS` when set (a narrower terminal), at most 100."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return PLAIN_WIDTH
    return max(1, min(columns, PLAIN_WIDTH))


def table_width(widths: list[int]) -> int:
    """Characters of a box-drawn row with these column widths (`│ a │ b │`)."""
    return sum(widths) + 3 * len(widths) + 1


@dataclass(frozen=True)
class Layout:
    columns: list[Column]
    widths: list[int]
    rows: list[list[str]]
    totals: list[str] | None
    dropped: list[str]  # headers of the columns left out for width
    one_line: bool = False  # every row's cells fit their widths: each row is one line

    @property
    def width(self) -> int:
        return table_width(self.widths)

    def dropped_note(self) -> str | None:
        if not self.dropped:
            return None
        return (
            f"not shown for width: {', '.join(self.dropped)} "
            "(a wider terminal or --format csv shows them)"
        )


def under_blocks(rows: list[list[str]], column: int) -> list[list[str]]:
    """Rows whose dotted names share a parent with a neighbour, under a row naming that
    parent: `layer1.0.conv1`, `layer1.0.bn1` read `layer1.0` then `…conv1`, `…bn1`."""
    parents = [row[column].rpartition(".")[0] for row in rows]
    out: list[list[str]] = []
    for index, (row, parent) in enumerate(zip(rows, parents, strict=True)):
        before = parents[index - 1] if index else ""
        after = parents[index + 1] if index + 1 < len(rows) else ""
        if not parent or parent not in (before, after):
            out.append(row)
            continue
        if parent != before:
            out.append(["" if i != column else parent for i in range(len(row))])
        out.append([*row[:column], "…" + row[column][len(parent) + 1 :], *row[column + 1 :]])
    return out


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def fit(table: Tabular, width: int) -> Layout:
    """The columns, their widths and the cells that `table` shows within `width`."""
    keep = list(range(len(table.columns)))
    rows = table.rows
    totals = list(table.totals) if table.totals else None
    all_rows = rows + ([totals] if totals else [])
    measured: dict[tuple[int, bool], int] = {}  # each column's widths, measured once per rows
    columns: list[tuple[str, ...]] = []  # the cells by column, made when first measured

    def cells(i: int) -> tuple[str, ...]:
        if not columns:
            columns.extend(zip(*all_rows, strict=True))
        return columns[i] if columns else ()  # a table may have no rows

    def natural(i: int) -> int:
        if (i, False) not in measured:
            longest = max(map(len, cells(i)), default=0)
            measured[i, False] = max(len(table.columns[i].header), longest)
        return measured[i, False]

    def narrowest(i: int) -> int:
        col = table.columns[i]
        if not col.wrap:
            return natural(i)
        if (i, True) not in measured:
            longest = max(map(_longest_word, set(cells(i))), default=0)
            measured[i, True] = max(len(col.header), longest)
        return measured[i, True]

    dropped: list[int] = []
    fits = table_width([natural(i) for i in keep]) <= width  # the common case: all fits
    while not fits and table_width([narrowest(i) for i in keep]) > width:
        optional = [i for i in keep if table.columns[i].drop]
        if not optional:
            break
        out = max(optional, key=lambda i: (table.columns[i].drop, i))
        keep.remove(out)
        dropped.append(out)
    if table_width([narrowest(i) for i in keep]) > width:
        for i in keep:
            if table.columns[i].name:
                rows = under_blocks(rows, i)
                all_rows = rows + ([totals] if totals else [])
                measured.clear()
                columns.clear()
    widths = {i: natural(i) for i in keep}
    excess = table_width(list(widths.values())) - width
    for i in reversed(keep):
        if excess > 0 and table.columns[i].wrap:
            shrink = min(excess, widths[i] - narrowest(i))
            widths[i] -= shrink
            excess -= shrink
    every = len(keep) == len(table.columns)
    return Layout(
        [table.columns[i] for i in keep],
        [widths[i] for i in keep],
        rows if every else [[row[i] for i in keep] for row in rows],
        [totals[i] for i in keep] if totals else None,
        [table.columns[i].header for i in sorted(dropped)],
        all(widths[i] >= natural(i) for i in keep),
    )


def wrap_cell(text: str, width: int) -> list[str]:
    """A cell's lines: folded between words only (a word longer than `width` stays whole)."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def wrap_note(note: str, width: int) -> list[str]:
    """A note's lines: `a · b · c` breaks between its items (an item is never broken, even
    when longer than a line), continuation lines indented; a note of one item, prose, folds
    between its words."""
    if ITEM_SEPARATOR not in note:
        return textwrap.wrap(
            note, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
        ) or [""]
    lines: list[str] = []
    line = ""
    for item in note.split(ITEM_SEPARATOR):
        joined = f"{line}{ITEM_SEPARATOR}{item}" if line else item
        if not line or len(joined) <= width:
            line = joined
            continue
        lines.append(line)
        line = "  " + item
    lines.append(line)
    return lines
