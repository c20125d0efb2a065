"""Safe YAML reading that keeps the line and column of every key and value.

PyYAML's node graph carries positions; plain `safe_load` throws them away. We compose the
node graph (safe: no Python tags are ever constructed), reject what a spec never needs
(duplicate keys, alias bombs, absurd nesting, unknown tags) and convert it to dicts and
lists that remember where each item came from.
"""

from __future__ import annotations

from typing import Any

import yaml

from cnncalc.errors import SourcePos, SpecError

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.constructor.SafeConstructor()

MAX_NODES = 2_000_000  # after alias expansion; a 10,000-layer spec is ~100,000
MAX_DEPTH = 64


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


def _pos(file: str, node: yaml.Node) -> SourcePos:
    return SourcePos(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _expanded_size(root: yaml.Node) -> int:
    """Node count once aliases are expanded, computed in time linear in distinct nodes."""
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
            memo[id(node)] = min(MAX_NODES + 1, 1 + sum(memo.get(id(c), 0) for c in children))
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)]


def _scalar(file: str, node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag == "tag:yaml.org,2002:str":
        return node.value
    if tag in (
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
    ):
        return _SCALARS.construct_object(node)
    if tag.startswith("tag:yaml.org,2002:"):
        return node.value  # timestamps and the like: keep the text
    raise SpecError(
        f"unsupported YAML tag {tag!r}",
        _pos(file, node),
        "a cnncalc spec uses plain YAML values only; remove the tag",
    )


def _convert(file: str, node: yaml.Node, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", _pos(file, node))
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
            raise SpecError("a mapping key must be a plain name", _pos(file, key_node))
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
                "each key may appear once in a mapping",
            )
        mapping[key] = _convert(file, value_node, depth + 1)
        mapping.key_pos[key] = _pos(file, key_node)
        mapping.value_pos[key] = _pos(file, value_node)
    return mapping


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into YMap/YList/scalars; raise SpecError on anything unsafe."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = SourcePos(file, mark.line + 1, mark.column + 1) if mark else SourcePos(file)
        problem = exc.problem or exc.context or "invalid YAML"
        hint = None
        if "\t" in text and "tab" in str(problem).lower():
            hint = "indent with spaces, not tabs"
        raise SpecError(f"YAML syntax error: {problem}", pos, hint) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", SourcePos(file)) from None
    except RecursionError:
        msg = f"the YAML is nested more than {MAX_DEPTH} levels deep"
        raise SpecError(msg, SourcePos(file)) from None
    if root is None:
        return None
    if _expanded_size(root) > MAX_NODES:
        raise SpecError(
            f"the YAML expands to more than {MAX_NODES:,} values (an alias bomb?)",
            _pos(file, root),
        )
    return _convert(file, root, 0)
