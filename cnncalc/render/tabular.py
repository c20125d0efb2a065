"""One table model, four outputs: rich (terminal), CSV, Markdown and LaTeX.

A `Tabular` holds cells as display strings already formatted by a view, so every output
format shows the same numbers the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, starmap
from operator import le
from typing import TYPE_CHECKING

from cnncalc.render.layout import PLAIN_WIDTH, Layout, fit, wrap_cell, wrap_note

if TYPE_CHECKING:
    from rich.table import Table

MISSING = "—"  # a cell with no value (a flat layer's receptive field)

# LaTeX: its special characters, and the non-ASCII ones the views use that LaTeX's default
# (OT1/T1, utf8) setup cannot print or prints wrongly (`<` as ¡ in OT1)
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "[": "{[}",  # `\\` before a row starting with `[` would read it as `\\[length]`
    "]": "{]}",
    "×": r"$\times$",
    "→": r"$\to$",
    "·": r"$\cdot$",
    "−": r"$-$",
    "—": "---",
    "–": "--",
    "…": r"\dots{}",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "α": r"$\alpha$",
    "Δ": r"$\Delta$",
}
_LATEX_SPECIAL = re.compile("█+|" + "|".join(re.escape(c) for c in _LATEX))


def latex_escape(text: str) -> str:
    """Text as LaTeX typesets it literally (a bar of █ becomes a \\rule of that length)."""

    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if found[0] == "█":
            return rf"\rule{{{len(found) * 0.5:g}em}}{{1ex}}"
        return _LATEX[found]

    return _LATEX_SPECIAL.sub(replace, text)


_MD_CHARS = "\\`*|<>[]&~$"  # escaped wherever they are
_MD_UNDERSCORE = r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # escaped where it could be emphasis
_MD_SPECIAL = re.compile(f"[{re.escape(_MD_CHARS)}]|{_MD_UNDERSCORE}")
_MD_UNDERSCORE_RE = re.compile(_MD_UNDERSCORE)
_LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # what splitlines splits at
_CSV_QUOTED = re.compile('[,"\n]')  # csv (QUOTE_MINIMAL, lineterminator "\n") quotes these
_MD_BLOCK_START = re.compile(r"[#>+=-]|\d+(?=[.)])")


def markdown_escape(text: str, paragraph: bool = False) -> str:
    """Text that Markdown (CommonMark, GitHub) shows literally: `*`, `|`, `<`, brackets,
    backticks, `$` and `~` are escaped, `_` only where it could start or end emphasis (not in
    conv_1). `paragraph`: the text starts a block, so a leading `#`, `-`, `1.` … is escaped
    too (it would start a heading, list or quote). A line break, which would end a table row,
    becomes a space."""
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(), " ".join(text.splitlines()))
    start = _MD_BLOCK_START.match(text) if paragraph else None
    if start is not None:
        at = start.end() if start.group()[0].isdigit() else 0
        text = text[:at] + "\\" + text[at:]
    return text


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False  # right-aligned
    wrap: bool = False  # may fold between words (lists, descriptions); never inside a word
    drop: int = 0  # 0: always shown; others are left out, highest first, when too wide
    name: bool = False  # dotted layer names: may read `…conv1` under a sibling when too wide


@dataclass
class Tabular:
    title: str
    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    totals: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    def fit(self, width: int) -> Layout:
        return fit(self, width)

    def to_rich(self, width: int) -> Table:
        """rich's table of the layout for `width`; print it at least `Layout.width` wide."""
        from rich.table import Table
        from rich.text import Text  # cells are text, never rich markup: `[b]` is a name

        layout = self.fit(width)
        table = Table(
            title=Text(self.title),
            show_footer=layout.totals is not None,
            title_justify="left",
        )
        for i, (col, col_width) in enumerate(zip(layout.columns, layout.widths, strict=True)):
            table.add_column(
                Text(col.header),
                justify="right" if col.numeric else "left",
                footer=Text(layout.totals[i]) if layout.totals else "",
                width=col_width,
                overflow="fold",
                no_wrap=not col.wrap,
            )
        for row in layout.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table

    def rich_notes(self, width: int) -> list[str]:
        """The notes as lines, for a terminal `width` wide."""
        return self._note_lines(self.fit(width), width)

    def to_text(self, width: int = PLAIN_WIDTH) -> str:
        """Plain box-drawn text like rich's, without its per-cell cost (~1 ms per 100 rows),
        fitted to `width` as `fit` says (wider only where a name or number would be cut)."""
        layout = self.fit(width)
        widths = layout.widths

        def border(left: str, fill: str, mid: str, right: str) -> str:
            return left + mid.join(fill * (w + 2) for w in widths) + right

        # a row whose cells all fit their widths is one line, padded by one format call
        single = {
            edge: edge
            + edge.join(
                f" {{: {'>' if col.numeric else '<'}{w}}} "
                for col, w in zip(layout.columns, widths, strict=True)
            )
            + edge
            for edge in "┃│"
        }

        def line(cells: list[str], edge: str) -> list[str]:
            if all(map(le, map(len, cells), widths)):
                return [single[edge].format(*cells)]
            chunks = [wrap_cell(cell, w) for cell, w in zip(cells, widths, strict=True)]
            out = []
            for depth in range(max(len(c) for c in chunks)):
                parts = []
                for col, chunk, w in zip(layout.columns, chunks, widths, strict=True):
                    text = chunk[depth] if depth < len(chunk) else ""
                    parts.append(text.rjust(w) if col.numeric else text.ljust(w))
                out.append(edge + edge.join(f" {p} " for p in parts) + edge)
            return out

        lines = [self.title, border("┏", "━", "┳", "┓")]
        lines += line([c.header for c in layout.columns], "┃")
        lines.append(border("┡", "━", "╇", "┩"))
        if layout.one_line:
            lines += starmap(single["│"].format, layout.rows)
        else:
            for row in layout.rows:
                lines += line(row, "│")
        if layout.totals:
            lines.append(border("├", "─", "┼", "┤"))
            lines += line(layout.totals, "│")
        lines.append(border("└", "─", "┴", "┘"))
        return "\n".join([*lines, *self._note_lines(layout, width)]) + "\n"

    def _note_lines(self, layout: Layout, width: int) -> list[str]:
        dropped = layout.dropped_note()
        notes = [*self.notes, dropped] if dropped else self.notes
        return [line for note in notes for line in wrap_note(note, width)]

    def to_csv(self) -> str:
        """RFC 4180 CSV with a header row; numbers without thousands separators, an empty cell
        where a value is missing. The last row is the totals (first cell `Total`), if any.
        Written as Python's `csv` module writes it (quoted only where a field holds `,`, `"`
        or a line feed), a column at a time: each distinct cell is converted once."""
        one = len(self.columns) == 1  # csv quotes a row of one empty field: `""`

        def field(cell: str, numeric: bool) -> str:
            cell = "" if cell == MISSING else cell.replace(",", "") if numeric else cell
            if one and not cell:
                return '""'
            return '"' + cell.replace('"', '""') + '"' if _CSV_QUOTED.search(cell) else cell

        def column(cells: tuple[str, ...], numeric: bool) -> Sequence[str]:
            text = "".join(cells)  # a column without these characters is written as it is
            if one or any(char in text for char in (MISSING, ",", '"', "\n")):
                return _each_distinct(partial(field, numeric=numeric), cells)
            return cells

        header = [field(c.header, False) for c in self.columns]
        by_column = list(zip(*self._all_rows(), strict=True)) or [()] * len(self.columns)
        fields = [
            column(cells, c.numeric) for c, cells in zip(self.columns, by_column, strict=True)
        ]
        return "\n".join(map(",".join, [header, *zip(*fields, strict=True)])) + "\n"

    def to_markdown(self) -> str:
        """A GitHub/CommonMark pipe table under its bold title, the notes as paragraphs."""
        lines = [
            "| " + " | ".join(markdown_escape(c.header) for c in self.columns) + " |",
            "|" + "|".join("---:" if c.numeric else "---" for c in self.columns) + "|",
        ]
        if self.rows:
            lines.append(_markdown_rows(self.rows))
        if self.totals:  # the totals row in bold, so it reads as a footer
            cells = [f"**{markdown_escape(c)}**" if c else "" for c in self.totals]
            lines.append("| " + " | ".join(cells) + " |")
        title = f"**{markdown_escape(self.title)}**"
        notes = [markdown_escape(note, paragraph=True) for note in self.notes]
        return "\n\n".join([title, "\n".join(lines), *notes]) + "\n"

    def to_latex(self) -> str:
        """A `tabular` to paste into a paper (plain LaTeX, no packages needed): the title and
        the notes come along as comments above and below it."""
        spec = "".join("r" if c.numeric else "l" for c in self.columns)

        escaped = _each_cell(latex_escape, self._all_rows())

        def row(cells: list[str]) -> str:
            return " & ".join(map(escaped.__getitem__, cells)) + r" \\"

        lines = [
            f"% {_comment(self.title)}",
            r"\begin{tabular}{" + spec + "}",
            r"\hline",
            " & ".join(latex_escape(c.header) for c in self.columns) + r" \\",
            r"\hline",
            *(row(cells) for cells in self.rows),
        ]
        if self.totals:
            lines += [r"\hline", row(self.totals)]
        lines += [r"\hline", r"\end{tabular}", *(f"% {_comment(note)}" for note in self.notes)]
        return "\n".join(lines) + "\n"

    def _all_rows(self) -> list[list[str]]:
        return self.rows + ([self.totals] if self.totals else [])


def _markdown_rows(rows: list[list[str]]) -> str:
    """The rows' lines, `| a | b |`, their cells escaped as `markdown_escape` does, but over
    the whole text at once: cells are joined with \\x00 and rows with \\x01 (neither a
    special character nor a letter or digit, so each cell is escaped as if alone), and each
    special character is one `str.replace` (a regex calling back per match is ~1 µs each).
    Cells holding a separator or a line break go cell by cell."""
    text = "\x01".join(map("\x00".join, rows))
    if (
        text.count("\x00") + text.count("\x01") != sum(map(len, rows)) - 1
        or _LINE_BREAK.search(text) is not None
    ):
        escaped = _each_cell(markdown_escape, rows)
        return "\n".join("| " + " | ".join(map(escaped.__getitem__, row)) + " |" for row in rows)
    for char in _MD_CHARS:  # the backslash first: the others add backslashes
        if char in text:
            text = text.replace(char, "\\" + char)
    if "_" in text:
        text = _MD_UNDERSCORE_RE.sub(r"\\_", text)
    return "| " + text.replace("\x00", " | ").replace("\x01", " |\n| ") + " |"


def _each_distinct(convert: Callable[[str], str], cells: tuple[str, ...]) -> list[str]:
    """`convert(cell)` for each cell, called once per distinct cell."""
    made = {cell: convert(cell) for cell in set(cells)}
    return list(map(made.__getitem__, cells))


def _each_cell(escape: Callable[[str], str], rows: list[list[str]]) -> dict[str, str]:
    """Each distinct cell → `escape(cell)`: a long table repeats its shapes and counts."""
    return {cell: escape(cell) for cell in set(chain.from_iterable(rows))}


def _comment(text: str) -> str:
    """One line of a LaTeX comment."""
    return " ".join(text.splitlines())
