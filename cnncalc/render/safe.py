"""Output safety: user-written text (layer, block and network names, file names, values quoted
in messages) never reaches a terminal, a file or a pipe as control characters.

A name like `"\\e]0;title\\a\\e[2J"` would retitle and clear the terminal, a bidi override
(U+202E) would reorder what follows it, a newline would split a table row or an error line.
`visible` writes every such character as a visible escape (`\\x1b`, `\\n`, `\\u202e`); the
renderers and the error printer pass user text through it at the output boundary, before
layout (so a cell's width is the width it shows with). JSON keeps its own escaping
(`json_text`). Rich markup is no concern here: tables and notes reach rich as `Text`, never
as markup.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

from cnncalc.errors import CnncalcError, SpecError
from cnncalc.render.indented_json import indented_json
from cnncalc.render.tabular import Tabular

# Beyond C0 (which JSON escapes itself): DEL and C1 controls, the line and paragraph
# separators, the bidi embeddings, overrides, isolates and marks, and lone surrogates
# (undecodable bytes of a file name, which a UTF-8 stdout cannot even encode)
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_JSON_UNSAFE = re.compile(f"[{_BEYOND_C0}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control, bidi and line-break character written as an escape."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def visible_table(table: Tabular) -> Tabular:
    """A copy of `table` whose title, headers, cells, totals and notes are `visible` (its
    rows are `table`'s own when no cell needs an escape)."""
    # printable cells are safe (a quick test in C); otherwise one scan of all the cells
    cells = chain.from_iterable(table.rows)
    unsafe = not all(map(str.isprintable, cells)) and (
        _UNSAFE.search("".join(chain.from_iterable(table.rows))) is not None
    )
    return dataclasses.replace(
        table,
        title=visible(table.title),
        columns=[dataclasses.replace(c, header=visible(c.header)) for c in table.columns],
        rows=[[visible(cell) for cell in row] for row in table.rows] if unsafe else table.rows,
        totals=[visible(cell) for cell in table.totals] if table.totals else table.totals,
        notes=[visible(note) for note in table.notes],
    )


def error_text(error: CnncalcError) -> str:
    """`FILE:LINE:COL: error: MESSAGE`, its detail lines and its hint line, each part
    `visible` (so a name in the message cannot fake another line or a hint)."""
    if not isinstance(error, SpecError):
        return visible(str(error))
    pos = error.pos._replace(file=visible(error.pos.file)) if error.pos else None
    hint = visible(error.hint) if error.hint else None
    details = tuple(visible(line) for line in error.details)
    return str(SpecError(visible(error.message), pos, hint, details))


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_chunks(data: Any) -> Iterator[str]:
    """`data` as indented JSON (non-ASCII text as is), piece by piece. `json` escapes C0
    itself; DEL, C1, bidi controls, separators and lone surrogates are escaped here too, as
    `\\uXXXX` (the same string to a JSON reader). They can only occur inside strings, and the
    encoder hands out each string whole, within a piece."""
    for chunk in indented_json(data):
        if chunk.isascii() and "\x7f" not in chunk:  # the common case, without a regex scan
            yield chunk
        else:
            yield _JSON_UNSAFE.sub(_json_escape, chunk)


def json_text(data: Any) -> str:
    """`data` as `json_chunks` with a final newline."""
    return "".join(json_chunks(data)) + "\n"
