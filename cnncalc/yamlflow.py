"""The values on a line of the fast YAML reader (`yamlfast`): scalars and flow collections.

A large spec's lines hold the same few flow mappings (`{name: c0, filters: 16, kernel: 3}`):
the keys and where each key and value sits are worked out once per such shape and shared, as
a `Layout`, by every mapping written alike; one alike but for its first value (a layer's name)
is copied whole from one kept, and only that value is read.
"""

from __future__ import annotations

import re
from typing import Any

from cnncalc.errors import SpecError
from cnncalc.yamlnodes import COLUMNS, Entry, Layout, YList, YMap, entry
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

# A key is a plain name or number, kept as text as `_build` keeps keys (libyaml refuses a key
# over 1,024 characters; 128 stays far below).
NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}"
# A plain scalar starts with no YAML indicator (`-` only before a character of its own: `-1`)
# and holds no `:` (`a:b`, `12:30`), `#` or bracket; in a flow collection no `,` either. It
# ends at its last non-space character. Each run is maximal, so a failed match gives back
# characters in O(1) each: no regular expression here backtracks more than linearly.
# (Letters, digits, `_$.+~(/` and any non-ASCII character, written as what is not: a class
# with a range up to U+10FFFF takes ~10 ms to compile in each pattern.)
FIRST = r"""(?:[^\x00-\x20!"#%&')*,\-:;<=>?@\[\\\]^`{|}\x7f]|-(?=[^ \n:#,\[\]{}]))"""
_FLOW_PLAIN = FIRST + r"[^ \n:#,\[\]{}]*(?: +[^ \n:#,\[\]{}]+)*"
QUOTED = r"\"[^\"\\\n]*\"|'[^'\n]*'"
# A flow collection written the usual way (`{a: 1, b: [c, d]}`, `[1, 2]`, `{}`: one space after
# each `:` and `,`, none inside the brackets), of plain scalars and, in a mapping, lists of
# them, is read in one go by splitting its text; any other token by token.
FLAT_SEQ = rf"\[(?:\]|{_FLOW_PLAIN}(?:, {_FLOW_PLAIN})*\])"
_FLAT_VALUE = rf"(?:{_FLOW_PLAIN}|{FLAT_SEQ})"
FLAT_MAP = rf"\{{(?:\}}|{NAME}: {_FLAT_VALUE}(?:, {NAME}: {_FLAT_VALUE})*\}})"

# a token of a flow collection: opener, `,` or closer, `key: `, plain or quoted scalar
_FLOW_TOKEN = re.compile(rf" *(?:([\[{{])|([,\]}}])|({NAME}): +|({_FLOW_PLAIN})|({QUOTED}))")

_PLAIN = (True, False)  # how libyaml marks a plain scalar's tag as implicit
_QUOTED_IMPLICIT = (False, True)
# PyYAML resolves a plain scalar by the resolvers listed for its first character: with none
# (`c0`, `relu`) it is text, and asking is skipped
_ASKED = frozenset(RESOLVER.yaml_implicit_resolvers)
_ALWAYS_ASK = None in _ASKED  # resolvers for any first character
DEPTH = MAX_DEPTH // 2  # nesting this reader gives up at: specs need a few levels
# a YMap or YList without its __init__: the reader sets their slots itself
new_map, new_list = dict.__new__, list.__new__


_Layout = tuple[tuple[str, ...], Layout, list[int], int]
_Tail = tuple[str, dict[str, Entry], dict[str, Any], int]


class NotSimple(Exception):
    """The text is outside the subset, or near a limit: libyaml reads it."""


class _Values(dict[str, Any]):
    """Plain scalar → its value as `_build` makes it, made on the first look-up (`values[x]`)
    and kept for the first SHARED scalars; text kept once in `shared`, as `_build` does."""

    __slots__ = ("shared",)

    def __init__(self, shared: dict[str, str]) -> None:
        self.shared = shared

    def __missing__(self, token: str) -> Any:
        tag = resolve_tag(token, _PLAIN) if _ALWAYS_ASK or token[0] in _ASKED else STR
        value: Any = token
        if tag != STR:
            if tag not in SCALAR_TAGS:
                raise NotSimple  # `=`, YAML 1.1's !!value
            try:
                value = construct_checked(tag, token, "", 0)
            except SpecError:
                raise NotSimple from None
        elif len(token) <= SHARED_TEXT:
            value = self.shared.get(token) or share(self.shared, token)
        if len(self) < SHARED:
            self[token] = value
        return value


class FlowReader:
    """What the line reader needs to read a line's value; the events it counts as it goes."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.shared: dict[str, str] = {}  # as `_build` shares keys and short text
        self.values = _Values(self.shared)
        self.value_of = self.values.__getitem__
        self.layouts: dict[tuple[Any, ...], _Layout] = {}  # a flat mapping's shape → `layout`
        # A large spec names each layer first and writes the rest alike (`{name: c7, filters:
        # 16, kernel: 3}`): a flat mapping's first key, the length of its value and the rest of
        # its text → its first key kept once, table, keys and values, and events, copied whole
        # by those written alike (None once SHARED are kept: the texts do not recur)
        self.tails: dict[tuple[str, int, str], _Tail] | None = {}
        # libyaml's events: stream and document start and end, then a start and an end per
        # collection, an event per list item and two per key and value: 5 + collections +
        # items + 2 × keys in all, counted per collection when it is complete
        self.events = 5

    def closed(self, value: YMap | YList) -> None:
        """Count a finished collection's events; refuse one past MAX_ITEMS."""
        size = len(value)
        if size > MAX_ITEMS:
            raise NotSimple
        self.events += 1 + (2 * size if type(value) is YMap else size)
        if self.events > MAX_EVENTS:
            raise NotSimple

    def key(self, key: str) -> str:
        return self.shared.get(key) or share(self.shared, key)

    def quoted(self, token: str) -> str:
        """A quoted scalar without escapes: its text, always a string."""
        value = token[1:-1]
        if resolve_tag(value, _QUOTED_IMPLICIT) != STR:
            raise NotSimple
        if len(value) <= SHARED_TEXT:
            return self.shared.get(value) or share(self.shared, value)
        return value

    def flat_value(self, token: str | None, mapping: str | None, seq: str | None, at: int) -> Any:
        """The value a line holds at `at` (packed): a plain scalar `token`, or a flat flow
        mapping or sequence (the other two are None)."""
        if token is not None:
            return self.value_of(token)
        if mapping is not None:
            return self.flat_map(mapping, at)
        assert seq is not None
        return self.flat_seq(seq, at)

    def flat_map(self, flat: str, at: int) -> YMap:
        """The flow mapping `flat` written at `at` (packed) that `_LINE` found flat."""
        inner = flat[1:-1]
        if not inner or "[" in inner:
            return self.flat_map_with_lists(inner, at)
        tails = self.tails
        if tails is None:
            return self.flat_map_split(inner, at)
        head, _, rest = inner.partition(", ")
        first, _, token = head.partition(": ")
        tail = (first, len(token), rest)
        known = tails.get(tail)
        if known is None:
            value = self.flat_map_split(inner, at)
            if len(tails) < SHARED:
                tails[tail] = next(iter(value)), value._at, dict(value), 1 + 2 * len(value)
            else:
                self.tails = None  # the texts do not recur
            return value
        first, table, values, events = known
        value = new_map(YMap)  # YMap(at, self.file), its table shared, without __init__
        value._pos, value._file, value._at = at, self.file, table
        value.update(values)  # (copied whole: the keys in order, with the values of `rest`)
        value[first] = self.value_of(token)
        self.events += events
        return value

    def flat_map_split(self, inner: str, at: int) -> YMap:
        """The flow mapping `{inner}` at `at` (packed) that `_LINE` found flat, without lists
        among its values: split into its keys and values."""
        if ", " in inner:
            parts = inner.replace(": ", ", ").split(", ")
            tokens = parts[1::2]
            shape = (*parts[::2], *map(len, tokens))
        else:  # one key, the commonest: the same with less work
            parts = inner.split(": ")
            tokens = parts[1:]
            shape = (parts[0], len(parts[1]))
        keys, table, _, events = self.layouts.get(shape) or self.layout(parts, shape)
        value = new_map(YMap)  # YMap(at, self.file), its table shared, without __init__
        value._pos, value._file, value._at = at, self.file, table
        for key, item in zip(keys, map(self.value_of, tokens), strict=False):
            value[key] = item
        self.events += events
        return value

    def flat_map_with_lists(self, inner: str, at: int) -> YMap:
        """The flow mapping `{inner}` at `at` (packed) that `_LINE` found flat, empty or with
        flat lists (`[a, b]`) among its values."""
        if not inner:
            self.events += 1
            return YMap(at, self.file)
        value = new_map(YMap)  # YMap(at, self.file), its table shared, without __init__
        value._pos, value._file = at, self.file
        parts = inner.split(": ")  # `key`, `value, key`, ..., `value`: a list holds no `: `
        if len(parts) > 2:
            pieces, parts = parts, parts[:1]
            for piece in pieces[1:-1]:
                parts += piece.rpartition(", ")[::2]  # a key holds no `, `
            parts.append(pieces[-1])
        tokens = parts[1::2]
        shape = (*parts[::2], *map(len, tokens))
        keys, value._at, offsets, events = self.layouts.get(shape) or self.layout(parts, shape)
        for key, token, offset in zip(keys, tokens, offsets, strict=True):
            value[key] = (
                self.flat_seq(token, at + offset) if token[0] == "[" else self.value_of(token)
            )
        self.events += events
        return value

    def layout(self, parts: list[str], shape: tuple[Any, ...]) -> _Layout:
        """The keys, shared position table, value offsets and events of the flat mappings
        whose keys and values are `parts`; remembered by `shape` (the keys and the length of
        each value) for the first SHARED shapes."""
        keys = tuple(map(self.key, parts[::2]))
        tokens = parts[1::2]
        table, offsets = Layout(), []
        column = 1  # of the first key, past `{`
        for key, token in zip(keys, tokens, strict=True):
            if key in table:
                raise NotSimple  # a duplicate key
            value_column = column + len(key) + 2
            table[key] = entry(0, column, value_column)
            offsets.append(value_column)
            column = value_column + len(token) + 2
        layout = keys, table, offsets, 1 + 2 * len(keys)
        if len(self.layouts) < SHARED:
            self.layouts[shape] = layout
        return layout

    def flat_seq(self, flat: str, at: int) -> YList:
        """The flow sequence `flat` written at `at` (packed) that `_LINE` found flat."""
        value = new_list(YList)  # YList(at, self.file), without its __init__ call
        value._pos, value._file, value._item_at = at, self.file, []
        inner = flat[1:-1]
        if inner:
            tokens = inner.split(", ")
            value.extend(map(self.value_of, tokens))
            table = value._item_at
            at += 1
            for token in tokens:
                table.append(at)
                at += len(token) + 2
        self.events += 1 + len(value)
        return value

    def flow(self, start: int, limit: int, base: int, depth: int) -> tuple[Any, int]:
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
                raise NotSimple
            index = token.end()
            opener, mark, key, plain, quoted = token.groups()
            at = base + token.start(token.lastindex or 0)
            top = stack[-1] if stack else None
            if mark is not None:
                if top is None or top[1] is not None:
                    raise NotSimple
                if mark == ",":
                    if top[3] != 1:
                        raise NotSimple
                    top[3] = 2
                    continue
                if top[3] == 2 or (mark == "]") != (type(top[0]) is YList):
                    raise NotSimple  # a `,` before the end, or the wrong bracket
                stack.pop()
                self.closed(top[0])
                if not stack:
                    return top[0], index
                stack[-1][3] = 1
                continue
            if top is None and opener is None:
                raise NotSimple
            if key is not None:
                if top is None or type(top[0]) is not YMap or top[1] is not None or top[3] == 1:
                    raise NotSimple
                key = self.key(key)
                if key in top[0]:
                    raise NotSimple
                top[1], top[2] = key, at
                continue
            if top is not None and (top[3] == 1 or (type(top[0]) is YMap and top[1] is None)):
                raise NotSimple  # two values in a row, or a value without a key
            value: Any
            if opener is not None:
                if depth + len(stack) >= DEPTH:
                    raise NotSimple
                value = YMap(at, file) if opener == "{" else YList(at, file)
            elif plain is not None:
                value = self.value_of(plain)
            else:
                value = self.quoted(quoted)
            if top is not None:
                if top[1] is None:
                    top[0].append(value)
                    top[0]._item_at.append(at)
                else:
                    top[0][top[1]] = value
                    top[0]._at[top[1]] = entry(top[0]._pos, top[2], at)
                    top[1] = None
                top[3] = 1
            if opener is not None:
                stack.append([value, None, 0, 0])


def column_of(value: YMap | YList) -> int:
    """The column where a collection the reader made starts."""
    return value._pos & (COLUMNS - 1)  # type: ignore[operator]
