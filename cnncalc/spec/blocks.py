"""The `blocks:` section: parameterized groups of layers, read before the layers use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.layers.base import kind_named
from cnncalc.spec.layer import suggest
from cnncalc.spec.split import SPLIT_KINDS
from cnncalc.yamlnodes import YList, YMap


@dataclass
class Block:
    name: str
    args: dict[str, Any]  # defaults; a value of None means required
    arg_pos: dict[str, SourcePos]
    layers: YList
    output: str | None
    pos: SourcePos


def parse_blocks(raw: Any, pos: SourcePos) -> dict[str, Block]:
    if raw is None:
        return {}
    if not isinstance(raw, YMap):
        raise SpecError(f"`blocks` must be a mapping of block names, got {describe(raw)}", pos)
    blocks: dict[str, Block] = {}
    for name, body in raw.items():
        body_pos = raw.pos_of(name)
        if (isinstance(name, str) and kind_named(name) is not None) or name in (
            "repeat",
            *SPLIT_KINDS,
        ):
            raise SpecError(
                f"block name {name!r} is a layer kind", raw.key_pos[name], "choose another name"
            )
        if not isinstance(body, YMap) or "layers" not in body:
            raise SpecError(
                f"block {name!r} needs `layers:` (and optional `args:`, `output:`)", body_pos
            )
        for key in body:
            if key not in ("args", "layers", "output", "description"):
                raise SpecError(
                    f"block {name!r} has no key {key!r}",
                    body.key_pos[key],
                    suggest(key, ["args", "layers", "output", "description"]),
                )
        args = body.get("args") or YMap(body_pos)
        if not isinstance(args, YMap):
            raise SpecError("`args` must map argument names to defaults", body.pos_of("args"))
        output = body.get("output")
        if output is not None and not isinstance(output, str):
            raise SpecError("`output` names a layer of the block", body.pos_of("output"))
        blocks[name] = Block(
            name, dict(args), dict(args.value_pos), body["layers"], output, body.pos_of("layers")
        )
    return blocks
