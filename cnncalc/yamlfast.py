"""A fast reader for the plain YAML that large specs are written in, beside libyaml.

A 100,000-layer spec is ~730,000 libyaml events; making them and handling them one by one in
`yamltree._build` costs ~1 s. Large specs are lines of a few shapes (`  - conv: {name: c0,
filters: 16}`, `  - relu`, `input: [32, 32, 16]`), so this reader matches each line with one
regular expression (runs of list items or of `key: value` lines with a pattern made for their
indent) and builds the same YMap/YList/scalars with the same positions, resolving scalars
with the functions both readers share (`yamlrules`).

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

from cnncalc.errors import SourcePos, SpecError
from cnncalc.yamlnodes import COLUMNS, YList, YMap, both_at
from cnncalc.yamlrules import (
    MAX_DEPTH,
    MAX_EVENTS,
    MAX_ITEMS,
    RESOLVER,
    SCALAR_TAGS,
    SHARED,
    SHARED_TEXT,
    STR,
    construct_checked,
    resolve_tag,
    share,
)

# Characters this reader leaves to libyaml wherever they are: tabs, `\r`, controls, NEL and
# the Unicode line breaks (YAML 1.1 breaks lines there), a BOM, lone surrogates, U+FFFE/FFFF.
_OUTSIDE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")

# A key is a plain name or number, kept as text as `_build` keeps keys (libyaml refuses a key
# over 1,024 characters; 128 stays far below).
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}"
# A plain scalar starts with no YAML indicator (`-` only before a character of its own: `-1`)
# and holds no `:` (`a:b`, `12:30`), `#` or bracket; in a flow collection no `,` either. It
# ends at its last non-space character. Each run is maximal, so a failed match gives back
# characters in O(1) each: no regular expression here backtracks more than linearly.
# (Letters, digits, `_$.+~(/` and any non-ASCII character, written as what is not: a class
# with a range up to U+10FFFF takes ~10 ms to compile in each pattern.)
_FIRST = r"""(?:[^\x00-\x20!"#%&')*,\-:;<=>?@\[\\\]^`{|}\x7f]|-(?=[^ \n:#,\[\]{}]))"""
_BLOCK_PLAIN = _FIRST + r"[^ \n:#\[\]{}]*(?: +[^ \n:#\[\]{}]+)*"
_FLOW_PLAIN = _FIRST + r"[^ \n:#,\[\]{}]*(?: +[^ \n:#,\[\]{}]+)*"
_QUOTED = r"\"[^\"\\\n]*\"|'[^'\n]*'"
# A flow collection written the usual way (`{a: 1, b: [c, d]}`, `[1, 2]`, `{}`: one space after
# each `:` and `,`, none inside the brackets), of plain scalars and, in a mapping, lists of
# them, is read in one go by splitting its text; any other token by token.
_FLAT_SEQ = rf"\[(?:\]|{_FLOW_PLAIN}(?:, {_FLOW_PLAIN})*\])"
_FLAT_VALUE = rf"(?:{_FLOW_PLAIN}|{_FLAT_SEQ})"
_FLAT_MAP = rf"\{{(?:\}}|{_KEY}: {_FLAT_VALUE}(?:, {_KEY}: {_FLAT_VALUE})*\}})"
_FLAT_PAIRS = re.compile(rf", (?={_KEY}: )")  # a value holds no `: `
# spaces, then a comment (after a space, or alone on its line), then the line break (the text
# is read with one put at its end if it has none)
_END = r" *(?:(?<![^ \n])#[^\n]*)?\n"

# (`(?=(X))\N` matches X without backtracking into it: Python 3.10 has no atomic groups.)
# One line: indent, `- `, `key:`, then a plain or quoted scalar, or a flat flow collection
# (groups 4 to 7), or the opening bracket of any other flow collection (group 8).
_LINE = re.compile(
    rf"( *)(?! )(- +(?! ))?(?:(?=({_KEY}))\3:(?= |\n) *(?! ))?"
    rf"(?:(?:({_BLOCK_PLAIN})|({_QUOTED})|({_FLAT_MAP})|({_FLAT_SEQ}))?{_END}|([\[{{]))"
)
_LINE_END = re.compile(_END)
# the rest of a line the usual way: a plain scalar or a flat flow collection (groups 2 to 4)
_FLAT_LINE_VALUE = rf"(?:({_BLOCK_PLAIN})|({_FLAT_MAP})|({_FLAT_SEQ})){_END}"


@lru_cache(maxsize=64)
def _item_line(indent: int) -> re.Pattern[str]:
    """A line of a sequence at `indent` written the usual way: `- key: value` or `- value`,
    one space after `-` and `:`, the value a plain scalar or a flat flow collection."""
    # (`(?:X|)` rather than `(?:X)?`: the same match, 10% faster in `re`)
    return re.compile(rf" {{{indent}}}- (?:(?=({_KEY}))\1: |){_FLAT_LINE_VALUE}")


@lru_cache(maxsize=64)
def _key_line(indent: int) -> re.Pattern[str]:
    """A line of a mapping at `indent` written the usual way: `key: value`, one space after
    `:`, the value a plain scalar or a flat flow collection."""
    return re.compile(rf" {{{indent}}}(?=({_KEY}))\1: {_FLAT_LINE_VALUE}")


# a token of a flow collection: opener, `,` or closer, `key: `, plain or quoted scalar
_FLOW_TOKEN = re.compile(rf" *(?:([\[{{])|([,\]}}])|({_KEY}): +|({_FLOW_PLAIN})|({_QUOTED}))")

_PLAIN = (True, False)  # how libyaml marks a plain scalar's tag as implicit
_QUOTED_IMPLICIT = (False, True)
# PyYAML resolves a plain scalar by the resolvers listed for its first character: with none
# (`c0`, `relu`) it is text, and asking is skipped
_ASKED = frozenset(RESOLVER.yaml_implicit_resolvers)
_ALWAYS_ASK = None in _ASKED  # resolvers for any first character
_MISSING = object()
_DEPTH = MAX_DEPTH // 2  # nesting this reader gives up at: specs need a few levels
# The longest line read: patterns match a line only within this many characters of its start,
# so a long line (JSON on one line, or hostile text) costs little before libyaml reads it, and
# a flat collection is far from MAX_ITEMS.
_LINE_LIMIT = 10_000
# More lines than this hold more than MAX_EVENTS events unless most are one-event lines (`- x`):
# a text over it is near a limit (4 MiB of `- {}` lines, read to MAX_ITEMS before giving up,
# would cost 0.2 s more); libyaml reads it.
_MAX_LINES = MAX_EVENTS // 2


class _NotSimple(Exception):
    """The text is outside the subset, or near a limit: libyaml reads it."""


def read_simple_yaml(text: str, file: str) -> Any | None:
    """What `yamltree._build` returns for `text`, or None when the text is not in the subset
    this reader is certain of (it never raises and never decides an error)."""
    if _OUTSIDE.search(text) is not None or text.count("\n") > _MAX_LINES:
        return None
    if not text.endswith("\n"):
        text += "\n"  # no position changes
    try:
        return _Reader(text, file).document()
    except _NotSimple:
        return None


class _Reader:
    """One pass over the lines; the open block collections are a stack of indents and values."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.shared: dict[str, str] = {}  # as `_build` shares keys and short text
        self.values: dict[str, Any] = {}  # plain scalar → its value
        # libyaml's events: stream and document start and end, then a start and an end per
        # collection, an event per list item and two per key and value: 5 + collections +
        # items + 2 × keys in all, counted per collection when it is complete
        self.events = 5

    def closed(self, value: YMap | YList) -> None:
        """Count a finished collection's events; refuse one past MAX_ITEMS."""
        size = len(value)
        if size > MAX_ITEMS:
            raise _NotSimple
        self.events += 1 + (2 * size if type(value) is YMap else size)
        if self.events > MAX_EVENTS:
            raise _NotSimple

    def key(self, key: str) -> str:
        return self.shared.get(key) or share(self.shared, key)

    def plain(self, token: str, at: int) -> Any:
        """The value of a plain scalar at `at` (packed), as `_build` makes it; the callers
        look in `values` first."""
        tag = resolve_tag(token, _PLAIN) if _ALWAYS_ASK or token[0] in _ASKED else STR
        if tag == STR:
            value = token
            if len(token) <= SHARED_TEXT:
                value = self.shared.get(token) or share(self.shared, token)
        elif tag in SCALAR_TAGS:
            try:
                value = construct_checked(tag, token, self.file, at)
            except SpecError:
                raise _NotSimple from None
        else:
            raise _NotSimple  # `=`, YAML 1.1's !!value
        if len(self.values) < SHARED:
            self.values[token] = value
        return value

    def quoted(self, token: str) -> str:
        """A quoted scalar without escapes: its text, always a string."""
        value = token[1:-1]
        if resolve_tag(value, _QUOTED_IMPLICIT) != STR:
            raise _NotSimple
        if len(value) <= SHARED_TEXT:
            return self.shared.get(value) or share(self.shared, value)
        return value

    def flat_value(
        self, token: str | None, mapping: str | None, seq: str | None, at: int, line: int
    ) -> Any:
        """The value a line holds at `at` (packed): a plain scalar `token`, or a flat flow
        mapping or sequence (the other two are None)."""
        if token is not None:
            value = self.values.get(token, _MISSING)
            return self.plain(token, at) if value is _MISSING else value
        pos = SourcePos(self.file, line, at - line * COLUMNS)
        if mapping is not None:
            return self.flat_map(mapping, at, pos)
        assert seq is not None
        return self.flat_seq(seq, at, pos)

    def flat_map(self, flat: str, at: int, pos: SourcePos) -> YMap:
        """The flow mapping `flat` written at `at` (packed) that `_LINE` found flat."""
        value = YMap(pos)
        table = value._at
        shared, values, plain = self.shared, self.values, self.plain
        inner = flat[1:-1]
        if not inner:
            self.events += 1
            return value
        pairs = _FLAT_PAIRS.split(inner) if "[" in inner else inner.split(", ")
        at += 1  # the first key, past `{`
        for pair in pairs:
            key, _, token = pair.partition(": ")
            value_at = at + len(key) + 2
            key = shared.get(key) or share(shared, key)
            item = values.get(token, _MISSING)
            if item is _MISSING:
                if token[0] == "[":
                    column = value_at - pos.line * COLUMNS
                    item = self.flat_seq(token, value_at, SourcePos(pos.file, pos.line, column))
                else:
                    item = plain(token, value_at)
            value[key] = item
            table[key] = both_at(at, value_at)
            at = value_at + len(token) + 2
        if len(value) != len(pairs):
            raise _NotSimple  # a duplicate key
        self.events += 1 + 2 * len(pairs)
        return value

    def flat_seq(self, flat: str, at: int, pos: SourcePos) -> YList:
        """The flow sequence `flat` written at `at` (packed) that `_LINE` found flat."""
        value = YList(pos)
        table = value._item_at
        values, plain = self.values, self.plain
        inner = flat[1:-1]
        at += 1
        for token in inner.split(", ") if inner else ():
            item = values.get(token, _MISSING)
            value.append(plain(token, at) if item is _MISSING else item)
            table.append(at)
            at += len(token) + 2
        self.events += 1 + len(value)
        return value

    def flow(self, start: int, limit: int, base: int, line: int, depth: int) -> tuple[Any, int]:
        """The flow collection opening at text[start], closed on its line before `limit`,
        nested `depth` levels deep, and the index just past it; `base` turns an index into a
        packed position."""
        text, file = self.text, self.file
        # per open collection: [value, its key waiting for a value, the key's position,
        # state: 0 expects an item (or the end), 1 a `,` or the end, 2 an item after a `,`]
        stack: list[list[Any]] = []
        index = start
        while True:
            token = _FLOW_TOKEN.match(text, index, limit)
            if token is None:
                raise _NotSimple
            index = token.end()
            opener, mark, key, plain, quoted = token.groups()
            at = base + token.start(token.lastindex or 0)
            top = stack[-1] if stack else None
            if mark is not None:
                if top is None or top[1] is not None:
                    raise _NotSimple
                if mark == ",":
                    if top[3] != 1:
                        raise _NotSimple
                    top[3] = 2
                    continue
                if top[3] == 2 or (mark == "]") != (type(top[0]) is YList):
                    raise _NotSimple  # a `,` before the end, or the wrong bracket
                stack.pop()
                self.closed(top[0])
                if not stack:
                    return top[0], index
                stack[-1][3] = 1
                continue
            if top is None and opener is None:
                raise _NotSimple
            if key is not None:
                if top is None or type(top[0]) is not YMap or top[1] is not None or top[3] == 1:
                    raise _NotSimple
                key = self.key(key)
                if key in top[0]:
                    raise _NotSimple
                top[1], top[2] = key, at
                continue
            if top is not None and (top[3] == 1 or (type(top[0]) is YMap and top[1] is None)):
                raise _NotSimple  # two values in a row, or a value without a key
            value: Any
            if opener is not None:
                if depth + len(stack) >= _DEPTH:
                    raise _NotSimple
                pos = SourcePos(file, line, at - line * COLUMNS)
                value = YMap(pos) if opener == "{" else YList(pos)
            elif plain is not None:
                value = self.values.get(plain, _MISSING)
                if value is _MISSING:
                    value = self.plain(plain, at)
            else:
                value = self.quoted(quoted)
            if top is not None:
                if top[1] is None:
                    top[0].append(value)
                    top[0]._item_at.append(at)
                else:
                    top[0][top[1]] = value
                    top[0]._at[top[1]] = both_at(top[2], at)
                    top[1] = None
                top[3] = 1
            if opener is not None:
                stack.append([value, None, 0, 0])

    def items(
        self, seq: YList, index: int, line: int, loose: YMap | None
    ) -> tuple[int, int, YMap | None]:
        """Read on from text[index] (line `line` + 1) the lines of `seq` that `_item_line`
        matches, the bulk of a large spec, with the least work per line. Return where it
        stopped, the last line read, and the mapping of the last line if `- key: value`
        (see `loose` in `document`)."""
        text, file, shared, values = self.text, self.file, self.shared, self.values
        flat_value = self.flat_value
        column = seq.pos.col + 2  # of the value or key after `- `
        match = _item_line(column - 3).match
        add, add_at = seq.append, seq._item_at.append
        item_maps = 0
        value: Any
        while len(seq) < MAX_ITEMS:
            found = match(text, index, index + _LINE_LIMIT)
            if found is None:
                break
            line += 1
            index = found.end()
            key, token, flat_mapping, flat_list = found.groups()
            at = value_at = line * COLUMNS + column
            if key is not None:
                key = shared.get(key) or share(shared, key)
                value_at += len(key) + 2
            value = values.get(token, _MISSING) if token is not None else _MISSING
            if value is _MISSING:
                value = flat_value(token, flat_mapping, flat_list, value_at, line)
            if key is None:
                loose = None
                add(value)
            else:
                loose = YMap(SourcePos(file, line, column))
                add(loose)
                item_maps += 1
                loose[key] = value
                loose._at[key] = both_at(at, value_at)
            add_at(at)
        self.events += 3 * item_maps  # as for the one-key mappings of `document`
        return index, line, loose

    def keys(self, mapping: YMap, index: int, line: int) -> tuple[int, int]:
        """Read on from text[index] (line `line` + 1) the lines of `mapping` that `_key_line`
        matches (fields written in block style, a spec's top level); return where it stopped
        and the last line read."""
        text, shared, flat_value = self.text, self.shared, self.flat_value
        column = mapping.pos.col
        match = _key_line(column - 1).match
        table = mapping._at
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
                raise _NotSimple
            value_at = at + len(key) + 2
            mapping[key] = flat_value(token, flat_mapping, flat_list, value_at, line)
            table[key] = both_at(at, value_at)
        return index, line

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
                raise _NotSimple
            start = index
            index = found.end()
            spaces, dash, key, token, quoted, flat_map, flat_seq, opener = found.groups()
            if dash is None and key is None:
                if found.lastindex == 1:
                    continue  # a blank or comment line
                raise _NotSimple  # a value where a key or an item belongs
            indent = len(spaces)
            base = line * COLUMNS + 1 - start
            if loose is not None:
                if indent == loose.pos.col - 1 and dash is None:
                    indents.append(indent)
                    opened.append(loose)
                    self.events -= 3
                loose = None
            if pending is not None:
                # the block value of `pending_key:`: a collection indented deeper, or a
                # sequence at the mapping's own indent
                if indent < indents[-1] or (indent == indents[-1] and dash is None):
                    raise _NotSimple  # an empty value
                if len(opened) >= _DEPTH:
                    raise _NotSimple
                pos = SourcePos(file, line, indent + 1)
                block: YMap | YList = YList(pos) if dash is not None else YMap(pos)
                pending[pending_key] = block
                pending._at[pending_key] = both_at(pending_at, base + start + indent)
                indents.append(indent)
                opened.append(block)
                pending = None
            elif not opened:  # the first line
                pos = SourcePos(file, line, indent + 1)
                opened.append(YList(pos) if dash is not None else YMap(pos))
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
                        raise _NotSimple  # a second document's text
                if indents[-1] != indent:
                    raise _NotSimple
            into = seq = opened[-1]
            if dash is not None:
                if type(into) is not YList or len(into) >= MAX_ITEMS:
                    raise _NotSimple
                if key is not None:  # `- key: ...`: the item is a block mapping
                    if len(opened) >= _DEPTH:
                        raise _NotSimple
                    column = indent + len(dash) + 1
                    loose = YMap(SourcePos(file, line, column))
                    into.append(loose)
                    into._item_at.append(line * COLUMNS + column)
                    into = loose
                    self.events += 3
            elif type(into) is not YMap or len(into) >= MAX_ITEMS:
                raise _NotSimple
            if key is not None:
                key = shared.get(key) or share(shared, key)
                if key in into:
                    raise _NotSimple
                key_at = base + found.start(3)
            value: Any
            if token is not None or flat_map is not None or flat_seq is not None:
                at = base + found.start(found.lastindex or 0)
                value = self.flat_value(token, flat_map, flat_seq, at, line)
            elif quoted is not None:
                at = base + found.start(5)
                value = self.quoted(quoted)
            elif opener is not None:
                limit = start + _LINE_LIMIT
                value, stop = self.flow(found.start(8), limit, base, line, len(opened))
                rest = _LINE_END.match(text, stop, limit)
                if rest is None:
                    raise _NotSimple
                at, index = base + found.start(8), rest.end()
            elif key is not None:  # `key:` and its value on the lines below
                if loose is not None:
                    indents.append(loose.pos.col - 1)
                    opened.append(loose)
                    self.events -= 3
                    loose = None
                pending, pending_key, pending_at = into, key, key_at
                continue
            else:
                raise _NotSimple  # an empty item
            if key is None:
                into.append(value)
                into._item_at.append(at)
            else:
                into[key] = value
                into._at[key] = both_at(key_at, at)
            if dash is not None:
                index, line, loose = self.items(seq, index, line, loose)
            else:
                index, line = self.keys(into, index, line)
        if pending is not None or not opened:
            raise _NotSimple
        root = opened[0]
        while opened:
            closed(opened.pop())
        return root
