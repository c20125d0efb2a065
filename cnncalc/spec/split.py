"""`split` and `chunk`: one tensor's channels in named parts, `<name>.0`, `<name>.1`, ….

`- split: {name: s, sizes: [58, 58]}` (torch.split with sizes), `- split: {name: s, chunks:
2}` or `- chunk: {name: s, chunks: 2}` (equal parts) expand here to one `slice` node per
part, so the IR stays one output per node; later layers take `from: s.0`, `from: s.1`. The
split's own name is not a tensor: naming it, or following it without `from`, is an error
that lists the parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.graph import Node
from cnncalc.layers.channels import Slice
from cnncalc.spec.layer import COMMON_FIELDS, suggest
from cnncalc.yamlnodes import YMap

if TYPE_CHECKING:
    from cnncalc.spec.expand import Expander
    from cnncalc.spec.names import Names, Scope

SPLIT_KINDS = ("split", "chunk")
SPLIT_FIELDS = {"split": ("sizes", "chunks"), "chunk": ("chunks",)}
MAX_PARTS = 4096


def parts_hint(name: str, parts: int) -> str:
    listed = ", ".join(f"`{name}.{i}`" for i in range(min(parts, 3)))
    return f"name one of its parts in `from`: {listed}{', …' if parts > 3 else ''}"


def _sizes(value: Any, pos: SourcePos) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise SpecError(
            f"`sizes` lists the parts' channels, got {describe(value)}",
            pos,
            "write e.g. `sizes: [58, 58]` (positive integers adding up to the channels)",
        )
    if len(value) > MAX_PARTS:
        raise SpecError(f"a split has at most {MAX_PARTS:,} parts, got {len(value):,}", pos)
    return [int(v) for v in value]


def _chunks(value: Any, pos: SourcePos) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PARTS:
        raise SpecError(
            f"`chunks` is the number of equal parts, from 1 to {MAX_PARTS:,}, got "
            f"{describe(value)}",
            pos,
            "write e.g. `chunks: 2`",
        )
    return value


def expand_split(expander: Expander, kind: str, fields: YMap, scope: Scope, pos: SourcePos) -> None:
    """Add the `slice` nodes of one `split` or `chunk` entry."""
    own = SPLIT_FIELDS[kind]
    for key in fields:
        if key not in own and key not in COMMON_FIELDS:
            raise SpecError(
                f"{kind} has no field {key!r}",
                fields.key_pos.get(key, pos),
                suggest(key, [*own, *COMMON_FIELDS]) or f"{kind} fields: {', '.join(own)}",
            )
    given = [key for key in own if key in fields]
    if len(given) != 1:
        raise SpecError(
            f"{kind} needs {' or '.join(f'`{k}`' for k in own)}"
            + (", not both" if len(given) > 1 else ""),
            fields.key_pos.get(given[1], pos) if len(given) > 1 else pos,
            f"write e.g. `- {kind}: {{name: s, chunks: 2}}`, then `from: s.0`, `from: s.1`",
        )
    key = given[0]
    value = expander._value(fields, key, scope)
    default = expander._default_name(fields, kind, scope)
    full, included, trainable, inputs = expander._common(fields, scope, default)
    expander._claim(full, fields.packed_pos("name", pos))
    if key == "sizes":
        sizes = _sizes(value, fields.pos_of(key))
        total = sum(sizes)
        bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        ops = [Slice(start=bounds[i], stop=bounds[i + 1], total=total) for i in range(len(sizes))]
    else:
        count = _chunks(value, fields.pos_of(key))
        ops = [Slice(parts=count, part=i) for i in range(count)]
    expander.splits[full] = len(ops)
    for index, op in enumerate(ops):
        part = f"{full}.{index}"
        expander._claim(part, pos)
        if not included:
            expander.alias[part] = inputs[0]
            continue
        expander.add_node(Node(part, op, (inputs[0],), trainable, pos))
    if not included:
        expander.splits.pop(full)
        expander.alias[full] = inputs[0]
        scope.previous = inputs[0]
        return
    scope.previous = full


def refuse_split(expander: Names, name: str, pos: SourcePos, what: str) -> None:
    """An error when `name`, which `what` takes as a tensor, is a split (it has parts)."""
    parts = expander.splits.get(name)
    if parts is not None:
        raise SpecError(
            f"{what} the layer before it is {name!r}, a split into {parts} parts, not one tensor"
            if what.endswith(";")
            else f"{what} names {name!r}, a split into {parts} parts, not one tensor",
            pos,
            parts_hint(name, parts),
        )
