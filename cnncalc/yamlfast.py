"""A fast reader for the plain YAML that large specs are written in, beside libyaml.

A 100,000-layer spec is ~730,000 libyaml events; making them and handling them one by one in
`yamltree._build` costs ~1 s. Large specs are lines of a few shapes (`  - conv: {name: c0,
filters: 16}`, `  - relu`, `input: [32, 32, 16]`), so this reader matches each line with one
regular expression (runs of list items or of `key: value` lines with a pattern made for their
indent) and builds the same YMap/YList/scalars with the same positions (the values on a line
in `yamlflow`), resolving scalars with the functions both readers share (`yamlrules`).

It reads only a strict subset whose meaning is certain: block mappings with plain-name keys,
block sequences (also indentless under a key), one-line flow collections, plain scalars without
`:`, `#` or brackets, quoted scalars without escapes, full-line and trailing comments. On
anything else, and near any of `_build`'s limits, it gives up (None) and libyaml reads the text:
libyaml stays the reference, and every error comes from it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from cnncalc.yamlflow import (
    DEPTH,
    FIRST,
    FLAT_MAP,
    FLAT_SEQ,
    NAME,
    QUOTED,
    FlowReader,
    NotSimple,
    column_of,
    new_map,
)
from cnncalc.yamlnodes import COLUMNS, Layout, YList, YMap, entry
from cnncalc.yamlrules import MAX_EVENTS, MAX_ITEMS, share

# Characters this reader leaves to libyaml wherever they are: tabs, `\r`, controls, NEL and
# the Unicode line breaks (YAML 1.1 breaks lines there), a BOM, lone surrogates, U+FFFE/FFFF.
_OUTSIDE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_ASCII_INSIDE = b"\n" + bytes(range(0x20, 0x7F))  # what is left of them in ASCII text

# a plain scalar in block context (see `yamlflow.FIRST`): `,` is allowed
_BLOCK_PLAIN = FIRST + r"[^ \n:#\[\]{}]*(?: +[^ \n:#\[\]{}]+)*"
# spaces, then a comment (after a space, or alone on its line), then the line break (the text
# is read with one put at its end if it has none)
_END = r" *(?:(?<![^ \n])#[^\n]*)?\n"

# (`(?=(X))\N` matches X without backtracking into it: Python 3.10 has no atomic groups.)
# One line: indent, `- `, `key:`, then a plain or quoted scalar, or a flat flow collection
# (groups 4 to 7), or the opening bracket of any other flow collection (group 8).
_LINE = re.compile(
    rf"( *)(?! )(- +(?! ))?(?:(?=({NAME}))\3:(?= |\n) *(?! ))?"
    rf"(?:(?:({_BLOCK_PLAIN})|({QUOTED})|({FLAT_MAP})|({FLAT_SEQ}))?{_END}|([\[{{]))"
)
_LINE_END = re.compile(_END)
# the rest of a line the usual way: a plain scalar or a flat flow collection (groups 2 to 4)
_FLAT_LINE_VALUE = rf"(?:({_BLOCK_PLAIN})|({FLAT_MAP})|({FLAT_SEQ})){_END}"


@lru_cache(maxsize=64)
def _item_line(indent: int) -> re.Pattern[str]:
    """A line of a sequence at `indent` written the usual way: `- key: value` or `- value`,
    one space after `-` and `:`, the value a plain scalar or a flat flow collection."""
    # (`(?:X|)` rather than `(?:X)?`: the same match, 10% faster in `re`)
    return re.compile(rf" {{{indent}}}- (?:(?=({NAME}))\1: |){_FLAT_LINE_VALUE}")


@lru_cache(maxsize=64)
def _key_line(indent: int) -> re.Pattern[str]:
    """A line of a mapping at `indent` written the usual way: `key: value`, one space after
    `:`, the value a plain scalar or a flat flow collection."""
    return re.compile(rf" {{{indent}}}(?=({NAME}))\1: {_FLAT_LINE_VALUE}")


# The longest line read: patterns match a line only within this many characters of its start,
# so a long line (JSON on one line, or hostile text) costs little before libyaml reads it, and
# a flat collection is far from MAX_ITEMS.
_LINE_LIMIT = 10_000
# More lines than this hold more than MAX_EVENTS events unless most are one-event lines (`- x`):
# a text over it is near a limit (4 MiB of `- {}` lines, read to MAX_ITEMS before giving up,
# would cost 0.2 s more); libyaml reads it.
_MAX_LINES = MAX_EVENTS // 2


def read_simple_yaml(text: str, file: str) -> Any | None:
    """What `yamltree._build` returns for `text`, or None when the text is not in the subset
    this reader is certain of (it never raises and never decides an error)."""
    if _outside(text) or text.count("\n") > _MAX_LINES:
        return None
    if not text.endswith("\n"):
        text += "\n"  # no position changes
    try:
        return _Reader(text, file).document()
    except NotSimple:
        return None


def _outside(text: str) -> bool:
    """Whether `text` holds a character of `_OUTSIDE`."""
    if text.isascii():  # the usual case, checked 6× faster than by the search
        return bool(text.encode("ascii").translate(None, _ASCII_INSIDE))
    return _OUTSIDE.search(text) is not None


class _Reader(FlowReader):
    """One pass over the lines; the open block collections are a stack of indents and values."""

    def items(
        self, seq: YList, indent: int, index: int, line: int, loose: YMap | None
    ) -> tuple[int, int, YMap | None]:
        """Read on from text[index] (line `line` + 1) the lines of `seq` (at `indent`) that
        `_item_line` matches, the bulk of a large spec, with the least work per line. Return
        where it stopped, the last line read, and the mapping of the last line if `- key:
        value` (see `loose` in `document`)."""
        text, file, values = self.text, self.file, self.values
        flat_value, flat_map = self.flat_value, self.flat_map
        column = indent + 3  # of the value or key after `- `
        match = _item_line(indent).match
        add, add_at = seq.append, seq._item_at.append
        # each key → the key kept once, and the table of the mappings `- key: value` it
        # starts (key and value counted from the key)
        keyed: dict[str, tuple[str, Layout]] = {}
        item_maps = 0
        value: Any
        at = line * COLUMNS + column
        for _ in range(MAX_ITEMS - len(seq)):
            found = match(text, index, index + _LINE_LIMIT)
            if found is None:
                break
            at += COLUMNS  # the next line's
            index = found.end()
            key, token, flat_mapping, flat_list = found.groups()
            if key is None:
                loose = None
                add(
                    values[token]
                    if token is not None
                    else flat_value(None, flat_mapping, flat_list, at)
                )
            else:
                key, table = keyed.get(key) or self.item_table(keyed, key)
                if flat_mapping is not None:
                    value = flat_map(flat_mapping, at + len(key) + 2)
                elif token is not None:
                    value = values[token]
                else:
                    value = self.flat_seq(flat_list, at + len(key) + 2)
                loose = new_map(YMap)  # YMap(at, file), its table shared, without __init__
                loose._pos, loose._file, loose._at = at, file, table
                loose[key] = value
                add(loose)
                item_maps += 1
            add_at(at)
        self.events += 3 * item_maps  # as for the one-key mappings of `document`
        return index, at // COLUMNS, loose

    def item_table(self, keyed: dict[str, tuple[str, Layout]], key: str) -> tuple[str, Layout]:
        """`key` kept once, and the table of a mapping `- key: value` (for `items`)."""
        kept = self.key(key)
        table = Layout()
        table[kept] = entry(0, 0, len(kept) + 2)
        keyed[key] = kept, table
        return kept, table

    def keys(self, mapping: YMap, indent: int, index: int, line: int) -> tuple[int, int]:
        """Read on from text[index] (line `line` + 1) the lines of `mapping` (at `indent`)
        that `_key_line` matches (fields written in block style, a spec's top level); return
        where it stopped and the last line read."""
        text, shared, flat_value = self.text, self.shared, self.flat_value
        column = indent + 1
        match = _key_line(indent).match
        table, origin = mapping._at, mapping._pos
        while len(mapping) < MAX_ITEMS:
            found = match(text, index, index + _LINE_LIMIT)
            if found is None:
                break
            line += 1
            index = found.end()
            key, token, flat_mapping, flat_list = found.groups()
            at = line * COLUMNS + column
            key = shared.get(key) or share(shared, key)
            if key in mapping:
                raise NotSimple
            value_at = at + len(key) + 2
            mapping[key] = flat_value(token, flat_mapping, flat_list, value_at)
            table[key] = entry(origin, at, value_at)  # type: ignore[arg-type]
        return index, line

    def reopened(self, loose: YMap) -> YMap:
        """`loose` (see `document`) as an open collection: with a table of its own, and its
        events counted as it closes."""
        if type(loose._at) is not dict:
            loose._at = dict(loose._at)
        self.events -= 3
        return loose

    def document(self) -> Any:
        """The document, read line by line: each line is `- `, `key:` or both, then a value
        written on the line or, after `key:`, a block collection on the lines below."""
        text, file = self.text, self.file
        shared, closed = self.shared, self.closed
        size = len(text)
        match_line = _LINE.match
        indents: list[int] = []  # the open block collections, outermost first
        opened: list[Any] = []
        into: Any  # the collection a line adds to
        pending: YMap | None = None  # a mapping whose last key waits for a block value
        pending_key, pending_at = "", 0
        # The mapping of the last `- key: value` line, put on the stack only when a line below
        # adds a key to it: most such mappings have one key. Its events are counted as it is
        # made (1 + 2 × 1 key), taken back when it goes on the stack (counted as it closes).
        loose: YMap | None = None
        index, line = 0, 0
        while index < size:
            line += 1
            found = match_line(text, index, index + _LINE_LIMIT)
            if found is None:
                raise NotSimple
            start = index
            index = found.end()
            spaces, dash, key, token, quoted, flat_map, flat_seq, opener = found.groups()
            if dash is None and key is None:
                if found.lastindex == 1:
                    continue  # a blank or comment line
                raise NotSimple  # a value where a key or an item belongs
            indent = len(spaces)
            base = line * COLUMNS + 1 - start
            if loose is not None:
                if indent == column_of(loose) - 1 and dash is None:
                    indents.append(indent)
                    opened.append(self.reopened(loose))
                loose = None
            if pending is not None:
                # the block value of `pending_key:`: a collection indented deeper, or a
                # sequence at the mapping's own indent
                if indent < indents[-1] or (indent == indents[-1] and dash is None):
                    raise NotSimple  # an empty value
                if len(opened) >= DEPTH:
                    raise NotSimple
                at = base + start + indent
                block: YMap | YList = YList(at, file) if dash is not None else YMap(at, file)
                pending[pending_key] = block
                pending._at[pending_key] = entry(pending._pos, pending_at, at)  # type: ignore[arg-type]
                indents.append(indent)
                opened.append(block)
                pending = None
            elif not opened:  # the first line
                at = line * COLUMNS + indent + 1
                opened.append(YList(at, file) if dash is not None else YMap(at, file))
                indents.append(indent)
            else:
                while indents[-1] > indent or (
                    # an indentless sequence ends at its mapping's next key
                    dash is None
                    and indents[-1] == indent
                    and type(opened[-1]) is YList
                    and len(indents) > 1
                    and indents[-2] == indent
                ):
                    indents.pop()
                    closed(opened.pop())
                    if not indents:
                        raise NotSimple  # a second document's text
                if indents[-1] != indent:
                    raise NotSimple
            into = seq = opened[-1]
            if dash is not None:
                if type(into) is not YList or len(into) >= MAX_ITEMS:
                    raise NotSimple
                if key is not None:  # `- key: ...`: the item is a block mapping
                    if len(opened) >= DEPTH:
                        raise NotSimple
                    column = indent + len(dash) + 1
                    at = line * COLUMNS + column
                    loose = YMap(at, file)
                    into.append(loose)
                    into._item_at.append(at)
                    into = loose
                    self.events += 3
            elif type(into) is not YMap or len(into) >= MAX_ITEMS:
                raise NotSimple
            if key is not None:
                key = shared.get(key) or share(shared, key)
                if key in into:
                    raise NotSimple
                key_at = base + found.start(3)
            value: Any
            if token is not None or flat_map is not None or flat_seq is not None:
                at = base + found.start(found.lastindex or 0)
                value = self.flat_value(token, flat_map, flat_seq, at)
            elif quoted is not None:
                at = base + found.start(5)
                value = self.quoted(quoted)
            elif opener is not None:
                limit = start + _LINE_LIMIT
                value, stop = self.flow(found.start(8), limit, base, len(opened))
                rest = _LINE_END.match(text, stop, limit)
                if rest is None:
                    raise NotSimple
                at, index = base + found.start(8), rest.end()
            elif key is not None:  # `key:` and its value on the lines below
                if loose is not None:
                    indents.append(column_of(loose) - 1)
                    opened.append(self.reopened(loose))
                    loose = None
                pending, pending_key, pending_at = into, key, key_at
                continue
            else:
                raise NotSimple  # an empty item
            if key is None:
                into.append(value)
                into._item_at.append(at)
            else:
                into[key] = value
                into._at[key] = entry(into._pos, key_at, at)
            if dash is not None:
                index, line, loose = self.items(seq, indent, index, line, loose)
            else:
                index, line = self.keys(into, indent, index, line)
        if pending is not None or not opened:
            raise NotSimple
        root = opened[0]
        while opened:
            closed(opened.pop())
        return root
