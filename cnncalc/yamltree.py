"""Safe YAML reading that keeps the line and column of every key and value.

PyYAML's node graph carries positions; plain `safe_load` throws them away. We build the node
graph ourselves from the parser's event stream, without recursion (libyaml's own composer
recurses in C and crashes on very deep nesting), construct no Python objects from tags, reject
what a spec never needs (duplicate keys, alias bombs, absurd nesting, tags) and convert it to
dicts and lists that remember where each item came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from cnncalc.errors import SourcePos, SpecError

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.constructor.SafeConstructor()
_RESOLVER: Any = yaml.resolver.Resolver()  # untyped in the stubs

MAX_NODES = 2_000_000  # after alias expansion; a 10,000-layer spec is ~100,000
MAX_DEPTH = 64

_STD = "tag:yaml.org,2002:"
_CONSTRUCTED = {_STD + t for t in ("int", "float", "bool", "null")}
_SCALAR_TAGS = {_STD + "str", _STD + "timestamp", _STD + "merge", *_CONSTRUCTED}
_NO_TAG_HINT = "a cnncalc spec is plain YAML: remove the tag"


class YMap(dict[str, Any]):
    """A YAML mapping with the position of itself, each key and each value."""

    def __init__(self, pos: SourcePos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, SourcePos] = {}
        self.value_pos: dict[str, SourcePos] = {}

    def pos_of(self, key: str) -> SourcePos:
        return self.value_pos.get(key, self.pos)


class YList(list[Any]):
    """A YAML sequence with the position of itself and each item."""

    def __init__(self, pos: SourcePos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[SourcePos] = []


def _pos(file: str, node: Any) -> SourcePos:
    """The 1-based start of a node or event (libyaml's marks are not typed as PyYAML's)."""
    return SourcePos(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


def _too_deep(file: str, where: Any) -> SpecError:
    return SpecError(
        f"the YAML is nested more than {MAX_DEPTH} levels deep",
        _pos(file, where),
        "a spec needs only a few levels; look for runaway brackets",
    )


def _marks(event: Any) -> tuple[Any, Any]:
    """(start, end) marks of an event; libyaml's marks are a type of their own."""
    return event.start_mark, event.end_mark


def _check_tag(file: str, event: Any, tag: str, allowed: set[str]) -> None:
    if tag in allowed:
        return
    raise SpecError(f"YAML tag {_short_tag(tag)} is not allowed", _pos(file, event), _NO_TAG_HINT)


def _compose(text: str, file: str) -> yaml.Node | None:
    """The single document's node graph, built iteratively from the parser's events.

    An anchor is usable only after its node is complete, so `&a [*a]` is an unknown alias
    rather than a cycle.
    """
    anchors: dict[str, yaml.Node] = {}
    stack: list[yaml.CollectionNode] = []
    pending_key: list[yaml.Node | None] = []  # per open mapping: a key waiting for its value
    open_anchors: list[str | None] = []
    root: yaml.Node | None = None
    documents = 0

    def attach(node: yaml.Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        if isinstance(parent, yaml.SequenceNode):
            parent.value.append(node)
        elif pending_key[-1] is None:
            pending_key[-1] = node
        else:
            parent.value.append((pending_key[-1], node))
            pending_key[-1] = None

    events: Iterator[Any] = yaml.parse(text, Loader=_Loader)
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise SpecError(
                    "the file holds more than one YAML document",
                    _pos(file, event),
                    "a spec is one document: remove the second `---` and what follows",
                )
        elif isinstance(event, yaml.AliasEvent):
            anchor = str(event.anchor)
            if anchor not in anchors:
                raise SpecError(
                    f"unknown alias *{anchor}",
                    _pos(file, event),
                    f"define `&{anchor}` on a complete value before using `*{anchor}`",
                )
            attach(anchors[anchor])
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
            _check_tag(file, event, tag, _SCALAR_TAGS)
            start, end = _marks(event)
            node: yaml.Node = yaml.ScalarNode(tag, event.value, start, end, event.style)
            if event.anchor is not None:
                anchors[event.anchor] = node
            attach(node)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) > MAX_DEPTH:  # this collection would sit deeper than MAX_DEPTH
                raise _too_deep(file, event)
            is_seq = isinstance(event, yaml.SequenceStartEvent)
            cls: type[yaml.CollectionNode] = yaml.SequenceNode if is_seq else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(cls, None, event.implicit)
            _check_tag(file, event, tag, {_STD + ("seq" if is_seq else "map")})
            collection = cls(tag, [], _marks(event)[0], None, event.flow_style)
            attach(collection)
            stack.append(collection)
            pending_key.append(None)
            open_anchors.append(event.anchor)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            done = stack.pop()
            pending_key.pop()
            done.end_mark = _marks(event)[1]
            done_anchor = open_anchors.pop()
            if done_anchor is not None:
                anchors[done_anchor] = done
    return root


def _expanded_size(root: yaml.Node) -> tuple[int, yaml.Node]:
    """Node count once aliases are expanded, in time linear in distinct nodes.

    Stops at the first (innermost) node that expands to more than MAX_NODES and returns it
    with the count, so an alias bomb is reported where it goes off.
    """
    memo: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in memo:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if children_done:
            size = 1 + sum(memo[id(c)] for c in children)
            if size > MAX_NODES:
                return size, node
            memo[id(node)] = size
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)], root


def _scalar(file: str, node: yaml.ScalarNode) -> Any:
    if node.tag in _CONSTRUCTED:
        return _SCALARS.construct_object(node)
    if node.tag in _SCALAR_TAGS:
        return node.value  # strings, and timestamps and the like kept as text
    raise SpecError(
        f"YAML tag {_short_tag(node.tag)} is not allowed", _pos(file, node), _NO_TAG_HINT
    )


def _convert(file: str, node: yaml.Node, depth: int) -> Any:
    if depth > MAX_DEPTH:  # reachable through aliases nested in aliases
        raise _too_deep(file, node)
    if isinstance(node, yaml.ScalarNode):
        return _scalar(file, node)
    if isinstance(node, yaml.SequenceNode):
        seq = YList(_pos(file, node))
        for item in node.value:
            seq.append(_convert(file, item, depth + 1))
            seq.item_pos.append(_pos(file, item))
        return seq
    assert isinstance(node, yaml.MappingNode)
    mapping = YMap(_pos(file, node))
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise SpecError(
                "a mapping key must be a plain name, not a list or mapping",
                _pos(file, key_node),
                "check the indentation and brackets on this line",
            )
        key = str(key_node.value)
        if key == "<<":
            raise SpecError(
                "YAML merge keys (<<) are not supported",
                _pos(file, key_node),
                "use a block (see `blocks:` in the README) to reuse layers",
            )
        if key in mapping:
            raise SpecError(
                f"duplicate key {key!r} (first at line {mapping.key_pos[key].line})",
                _pos(file, key_node),
                "each key may appear once in a mapping; remove or rename one",
            )
        mapping[key] = _convert(file, value_node, depth + 1)
        mapping.key_pos[key] = _pos(file, key_node)
        mapping.value_pos[key] = _pos(file, value_node)
    return mapping


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


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into YMap/YList/scalars; raise SpecError on anything unsafe."""
    try:
        root = _compose(text, file)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", SourcePos(file)) from None
    if root is None:
        return None
    size, where = _expanded_size(root)
    if size > MAX_NODES:
        raise SpecError(
            f"this YAML value expands to more than {MAX_NODES:,} values through aliases "
            "(an alias bomb?)",
            _pos(file, where),
            "a spec never needs aliases (*name) that repeat this much; write the values out",
        )
    return _convert(file, root, 0)
