"""Safe YAML reading that keeps the line and column of every key and value.

PyYAML's node graph carries positions; plain `safe_load` throws them away. We build the node
graph ourselves from the parser's event stream, without recursion (libyaml's own composer
recurses in C and crashes on very deep nesting), construct no Python objects from tags, reject
what a spec never needs (duplicate keys, alias bombs, absurd nesting, tags) and convert it to
dicts and lists that remember where each item came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from cnncalc.errors import SourcePos, SpecError
from cnncalc.gcpause import gc_paused
from cnncalc.yamlfast import read_simple_yaml
from cnncalc.yamlnodes import COLUMNS, YList, YMap, entry, unpack
from cnncalc.yamlrules import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_EVENTS,
    MAX_ITEMS,
    MAX_NODES,
    SCALAR_TAGS,
    SHARED_TEXT,
    STD,
    STR,
    construct_checked,
    resolve_tag,
    share,
    short_tag,
)

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NO_TAG_HINT = "a cnncalc spec is plain YAML: remove the tag"


def _pos(file: str, node: Any) -> SourcePos:
    """The 1-based start of a node or event (libyaml's marks are not typed as PyYAML's)."""
    return SourcePos(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _pos_at(text: str, file: str, index: int) -> SourcePos:
    """The 1-based line and column of text[index] (for errors only: it counts from the start)."""
    return SourcePos(file, text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index))


def _too_deep(pos: SourcePos) -> SpecError:
    return SpecError(
        f"the YAML is nested more than {MAX_DEPTH} levels deep",
        pos,
        "a spec needs only a few levels; look for runaway brackets",
    )


# Flow brackets in YAML text, skipping quoted scalars and comments; an opener or quote counts
# only where a token can start (after a space, a bracket, `,` or `:`), not inside `a[1]`.
_FLOW_SYNTAX = re.compile(
    r"""(?<![^\s\[{,:])(?:'(?:[^']|'')*'?|"(?:[^"\\]|\\.)*"?|[\[{])|(?<!\S)#[^\n]*|[\]}]"""
)


def _too_deep_ahead(text: str, file: str, start: int, end: int, depth: int) -> SpecError | None:
    """The too-deep error for a bracket in text[start:end] that opens a level deeper than
    MAX_DEPTH, `depth` levels being open at `start`; None if there is none.

    libyaml scans up to a line ahead of the events it hands out, and from 0.2.6 it refuses
    1,000 levels of nesting itself: when it stops with an error, the level past MAX_DEPTH may
    lie in text it never turned into events.
    """
    for token in _FLOW_SYNTAX.finditer(text, start, end):
        char = token.group()[0]
        if char in "[{":
            if depth > MAX_DEPTH:
                return _too_deep(_pos_at(text, file, token.start()))
            depth += 1
        elif char in "]}":
            depth -= 1
    return None


def _events(text: str, file: str, stack: list[_Open]) -> Iterator[Any]:
    """libyaml's events for `_build`; an error of libyaml's own becomes our too-deep error when
    the nesting went past MAX_DEPTH before the point it stopped at (see `_too_deep_ahead`)."""
    event: Any = None  # the last event handed out
    try:
        loader = _Loader(text)
        for event in iter(loader.get_event, None):  # yaml.parse() without its wrapper
            yield event
    except yaml.MarkedYAMLError as exc:
        stopped = exc.problem_mark
        if stopped is not None:
            start = event.end_mark.index if event is not None else 0
            deep = _too_deep_ahead(text, file, start, stopped.index + 1, len(stack))
            if deep is not None:
                raise deep from None
        raise


def _check_tag(file: str, event: Any, tag: str, allowed: set[str]) -> None:
    if tag in allowed:
        return
    raise SpecError(f"YAML tag {short_tag(tag)} is not allowed", _pos(file, event), _NO_TAG_HINT)


class _Open:
    """A mapping or sequence being read: its value, where it started, and its totals."""

    __slots__ = ("anchor", "height", "key", "key_at", "pos", "size", "value")

    def __init__(self, value: YMap | YList, pos: SourcePos, anchor: str | None) -> None:
        self.value = value
        self.pos = pos
        self.anchor = anchor
        self.size = 1  # values after alias expansion
        self.height = 1  # levels of nesting below and including this one
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_at = 0


def _build(text: str, file: str) -> Any:
    """The single document as YMap/YList/scalars, in one pass over libyaml's events.

    No recursion (libyaml's own composer recurses in C and crashes on very deep nesting), no
    object constructed from a tag, and aliases are shared values whose expanded size and depth
    are counted, so an alias bomb is stopped where it goes off. An anchor is usable only after
    its value is complete, so `&a [*a]` is an unknown alias rather than a cycle. This loop runs
    once per YAML event (a 100,000-layer spec has ~700,000): it keeps to local names and packed
    positions.
    """
    anchors: dict[str, tuple[Any, int, int]] = {}  # value, expanded size, height
    shared: dict[str, str] = {}
    stack: list[_Open] = []
    root: Any = None
    documents = 0

    def add(value: Any, at: int, size: int, height: int) -> None:
        """Put a finished (or, for collections, just opened) value into its parent."""
        nonlocal root
        if not stack:
            root = value
            return
        parent = stack[-1]
        if len(stack) + height - 1 > MAX_DEPTH:
            raise _too_deep(unpack(file, at))
        parent.size += size
        if parent.size > MAX_NODES:
            raise SpecError(
                f"this YAML value expands to more than {MAX_NODES:,} values through aliases "
                "(an alias bomb?)",
                parent.pos,
                "a spec never needs aliases (*name) that repeat this much; write the values out",
            )
        if height >= parent.height:
            parent.height = height + 1
        container: Any = parent.value  # a YList, or a YMap given its key
        if len(container) >= MAX_ITEMS:
            raise SpecError(
                f"a YAML {'mapping' if parent.key is not None else 'list'} holds more than "
                f"{MAX_ITEMS:,} items",
                unpack(file, parent.key_at if parent.key is not None else at),
                "a spec expands to at most 100,000 layers; is this the right file?",
            )
        key = parent.key
        if key is None:
            container.append(value)
            container._item_at.append(at)
            return
        container[key] = value
        container._at[key] = entry(container._pos, parent.key_at, at)
        parent.key = None

    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for count, event in enumerate(_events(text, file, stack)):
        kind = type(event)
        if kind is scalar_event:
            mark = event.start_mark
            at = (mark.line + 1) * COLUMNS + mark.column + 1
            top = stack[-1] if stack else None
            if top is not None and top.key is None and type(top.value) is YMap:
                if event.tag is not None and event.tag != "!":
                    _check_tag(file, event, event.tag, set())  # a key is a plain name
                key = str(event.value)
                key = shared.get(key) or share(shared, key)
                if key == "<<":
                    raise SpecError(
                        "YAML merge keys (<<) are not supported",
                        unpack(file, at),
                        "use a block (see `blocks:` in the README) to reuse layers",
                    )
                if key in top.value:
                    first = top.value.key_pos[key]
                    raise SpecError(
                        f"duplicate key {key!r} (first at line {first.line})",
                        unpack(file, at),
                        "each key may appear once in a mapping; remove or rename one",
                    )
                top.key, top.key_at = key, at
                continue
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve_tag(event.value, event.implicit)
            if tag == STR:
                value = event.value
                if len(value) <= SHARED_TEXT:
                    value = shared.get(value) or share(shared, value)
            else:
                _check_tag(file, event, tag, SCALAR_TAGS)
                value = construct_checked(tag, event.value, file, at)
            add(value, at, 1, 0)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, 0)
        elif kind in starts:
            is_seq = kind is yaml.SequenceStartEvent
            mark = event.start_mark
            pos = SourcePos(file, mark.line + 1, mark.column + 1)
            if stack and stack[-1].key is None and type(stack[-1].value) is YMap:
                raise SpecError(
                    "a mapping key must be a plain name, not a list or mapping",
                    pos,
                    "check the indentation and brackets on this line",
                )
            if len(stack) > MAX_DEPTH:  # the top-level mapping is depth 0
                raise _too_deep(pos)
            if count > MAX_EVENTS:  # checked here, as each collection holds MAX_ITEMS at most
                raise SpecError(
                    f"the YAML holds more than {MAX_EVENTS:,} keys and values",
                    pos,
                    "a spec expands to at most 100,000 layers; is this the right file?",
                )
            tag = event.tag
            if tag is not None and tag != "!":
                _check_tag(file, event, tag, {STD + ("seq" if is_seq else "map")})
            at = pos.line * COLUMNS + pos.col
            collection: YMap | YList = YList(at, file) if is_seq else YMap(at, file)
            add(collection, at, 0, 0)  # counted when it closes
            stack.append(_Open(collection, pos, event.anchor))
        elif kind in ends:
            done = stack.pop()
            if stack:
                parent = stack[-1]
                parent.size += done.size
                if done.height >= parent.height:
                    parent.height = done.height + 1
            if done.anchor is not None:
                anchors[done.anchor] = (done.value, done.size, done.height)
        elif kind is alias_event:
            pos = _pos(file, event)
            anchor = str(event.anchor)
            if anchor not in anchors:
                raise SpecError(
                    f"unknown alias *{anchor}",
                    pos,
                    f"define `&{anchor}` on a complete value before using `*{anchor}`",
                )
            if stack and stack[-1].key is None and type(stack[-1].value) is YMap:
                raise SpecError("a mapping key must be a plain name, not an alias", pos)
            value, size, height = anchors[anchor]
            add(value, pos.line * COLUMNS + pos.col, size, height)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise SpecError(
                    "the file holds more than one YAML document",
                    _pos(file, event),
                    "a spec is one document: remove the second `---` and what follows",
                )
    return root


def too_large(file: str, size: int | None) -> SpecError:
    """The error for a spec of `size` bytes (None: unknown, a stream) over MAX_BYTES."""
    limit = f"{MAX_BYTES // 2**20} MiB"
    what = f"{size / 2**20:,.1f} MiB" if size is not None else f"more than {limit}"
    return SpecError(
        f"the spec is {what}; cnncalc reads specs of at most {limit}",
        SourcePos(file),
        "is this the right file? a network of 10,000 layers takes 0.3 to 1.5 MiB; "
        "`repeat:` writes long stacks in a line",
    )


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return SpecError(f"YAML syntax error: {exc.problem or exc}", SourcePos(file))
    pos = SourcePos(file, mark.line + 1, mark.column + 1)
    problem = str(exc.problem or exc.context or "invalid YAML")
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if mark.column < len(line) and line[mark.column] == "\t":
        if not line[: mark.column].strip():
            return SpecError(
                "a tab is used for indentation",
                pos,
                "YAML indents with spaces only: replace the tab with spaces",
            )
        return SpecError("a tab is not allowed here", pos, "replace the tab with a space")
    hint = None
    ctx = exc.context_mark
    if "mapping values are not allowed" in problem:
        hint = (
            "a value cannot hold another `key: value` on the same line; "
            "write `- conv: {filters: 64, kernel: 3}` or put the fields on their own lines"
        )
    elif ctx is not None and exc.context and (ctx.line, ctx.column) != (mark.line, mark.column):
        opener = {"flow mapping": "{", "flow sequence": "["}
        kind = next((k for k in opener if k in exc.context), None)
        where = f"line {ctx.line + 1}, column {ctx.column + 1}"
        if kind is not None:
            close = "}" if opener[kind] == "{" else "]"
            hint = f"the `{opener[kind]}` at {where} is not closed with `{close}` (missing `,`?)"
        else:
            hint = f"{exc.context} that starts at {where}; check the indentation"
    return SpecError(f"YAML syntax error: {problem}", pos, hint)


# what YAML 1.1 accepts in a stream; the lone surrogates of undecodable stdin bytes are left to
# the UnicodeEncodeError below
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@gc_paused  # every caller (a spec, a budget file, `check` reading `expect:`) builds 1 object/event
def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into YMap/YList/scalars; raise SpecError on anything unsafe."""
    if len(text) > MAX_BYTES:
        raise too_large(file, len(text.encode("utf-8", "surrogatepass")))
    simple = read_simple_yaml(text, file)
    if simple is not None:
        return simple
    try:
        return _build(text, file)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: where is it?
        found = _NOT_PRINTABLE.search(text)
        if found is None:
            raise SpecError(f"YAML error: {exc}", SourcePos(file)) from None
        raise SpecError(
            f"the text holds the control character U+{ord(found.group()):04X}",
            _pos_at(text, file, found.start()),
            "a spec is plain text: remove the character (is this a binary file?)",
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", SourcePos(file)) from None
    except UnicodeEncodeError as exc:  # a lone surrogate: a byte that was not UTF-8 (stdin)
        bad = ord(text[exc.start])
        what = f"byte 0x{bad - 0xDC00:02x}" if 0xDC80 <= bad <= 0xDCFF else f"U+{bad:04X}"
        raise SpecError(
            f"the text is not UTF-8: {what} is not valid UTF-8",
            _pos_at(text, file, exc.start),
            "save it as UTF-8",
        ) from None
