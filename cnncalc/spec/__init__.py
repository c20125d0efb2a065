"""Spec → IR: reads a YAML spec (or a shorthand line) and builds a `Network`.

Besides the layer kinds, a spec may define parameterized `blocks` and call them once (`- name:
{args}`) or many times (`- repeat: {block: name, times: n}`). Calls expand here, so the IR
never sees a block: instance `layer2.0` of a block holds layers `layer2.0.conv1`, ...

The package: `expand` (blocks, repeat, when, names), `reading` (files and bytes); here, the
top level of a spec and the shorthand line.
"""

from __future__ import annotations

from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import MAX_RANK, describe
from cnncalc.graph import INPUT, Network, build_network
from cnncalc.layers import Shape
from cnncalc.spec.blocks import parse_blocks
from cnncalc.spec.expand import MAX_LAYERS, REPEAT_FIELDS, TOP_KEYS, Expander, Scope
from cnncalc.spec.layer import COMMON_FIELDS, suggest
from cnncalc.spec.reading import decode_spec, read_text
from cnncalc.yamlnodes import YMap
from cnncalc.yamltree import parse_yaml


def channels_last(dims: tuple[int, ...], layout: Any) -> Shape:
    """A shape written in `layout` ([C, H, W] with chw: channels first) as (spatial..., C)."""
    if layout == "chw" and len(dims) > 1:
        return (*dims[1:], dims[0])
    return tuple(dims)


def _parse_input(raw: Any, layout: Any, pos: SourcePos) -> Shape:
    order = "[C, H, W]" if layout == "chw" else "[H, W, C]"
    example = "[3, 224, 224]" if layout == "chw" else "[224, 224, 3]"
    ranks = "[C, L] or [C, D, H, W]" if layout == "chw" else "[L, C] or [D, H, W, C]"
    hint = f"write `input: {order}`, e.g. {example}, {ranks} for 1-D or 3-D, or [N] if flat"
    if isinstance(raw, str):
        try:
            dims = parse_input_option(raw)
        except SpecError:
            pass
        else:
            hint = f"write it as a list: `input: [{', '.join(map(str, dims))}]`"
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_RANK + 1:
        raise SpecError(f"`input` must be {order} or [N], got {describe(raw)}", pos, hint)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in raw):
        raise SpecError(
            f"`input` dimensions must be positive integers, got {describe(raw)}", pos, hint
        )
    return channels_last(tuple(raw), layout)


class WrittenShape(tuple[int, ...]):
    """An input shape as written on the command line (`--input 3x224x224`): in the order of
    the spec's `layout`, HxWxC unless the spec says `layout: chw`."""

    def in_layout(self, layout: str | None) -> Shape:
        return channels_last(tuple(self), layout)


def parse_input_option(text: str) -> WrittenShape:
    """`--input 224x224x3` (`16000x1`, `16x112x112x3`, or `64` for a flat input) → a shape,
    in the spec's layout."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not 1 <= len(dims) <= MAX_RANK + 1 or any(d <= 0 for d in dims):
        raise SpecError(
            f"--input must be HxWxC (e.g. 224x224x3), LxC, DxHxWxC or N, got {text!r}",
            SourcePos("--input"),
        )
    return WrittenShape(dims)


def from_yaml(text: str, file: str, default_name: str, input_shape: Shape | None = None) -> Network:
    return from_document(parse_yaml(text, file), file, default_name, input_shape)


def from_document(
    doc: Any, file: str, default_name: str, input_shape: Shape | None = None
) -> Network:
    """The network of a parsed spec (`parse_yaml`'s result), for callers that read other
    keys of the same document (`check` reads `expect:`)."""
    top = SourcePos(file, 1, 1)
    if doc is None:
        raise SpecError("the spec is empty", top, "a spec needs `input:` and `layers:`")
    if not isinstance(doc, YMap):
        raise SpecError(
            f"a spec is a mapping with `input:` and `layers:`, got {describe(doc)}", top
        )
    for key in doc:
        if key not in TOP_KEYS:
            raise SpecError(
                f"unknown top-level key {key!r}",
                doc.key_pos[key],
                suggest(key, TOP_KEYS) or f"top-level keys: {', '.join(TOP_KEYS)}",
            )
    for required in ("input", "layers"):
        if required not in doc and not (required == "input" and input_shape):
            raise SpecError(
                f"the spec has no `{required}:`",
                doc.pos,
                "a spec needs `input: [H, W, C]` and `layers: [...]`",
            )
    name = doc.get("name", default_name)
    if not isinstance(name, str):
        raise SpecError(f"`name` must be text, got {describe(name)}", doc.pos_of("name"))
    layout = doc.get("layout")
    if layout not in (None, "hwc", "chw"):
        raise SpecError(
            f"`layout` must be hwc or chw, got {describe(layout)}",
            doc.pos_of("layout"),
            "hwc: `input` is [H, W, C] (the default); chw: `input` is [C, H, W]",
        )
    if isinstance(input_shape, WrittenShape):
        input_shape = input_shape.in_layout(layout)
    shape = input_shape or _parse_input(doc["input"], layout, doc.pos_of("input"))
    expander = Expander(parse_blocks(doc.get("blocks"), doc.pos_of("blocks")), file)
    scope = Scope("", {}, INPUT, True)
    expander.expand_list(doc["layers"], scope, doc.pos_of("layers"))
    if not expander.nodes:
        skipped = len(expander.defined) > 1  # beyond `input`: all were skipped by `when:`
        raise SpecError(
            "the spec has no layers" + (" (`when:` skips them all)" if skipped else ""),
            doc.pos_of("layers"),
            "list them: `layers: [{conv: {filters: 8, kernel: 3}}, relu]`",
        )
    return build_network(name, shape, expander.nodes)


def from_shorthand(text: str, input_shape: Shape | None) -> Network:
    pos = SourcePos("<shorthand>")
    if input_shape is None:
        raise SpecError(
            "a shorthand network needs --input HxWxC",
            pos,
            f"e.g. cnncalc params {text!r} --input 64x64x1",
        )
    expander = Expander({}, pos.file)
    scope = Scope("", {}, INPUT, True)
    column = 1
    items = text.split(",")
    for index, item in enumerate(items):
        stripped = item.strip()
        item_pos = SourcePos(pos.file, 1, column + len(item) - len(item.lstrip()))
        if not stripped:
            if len(items) == 1:
                problem = "the shorthand is empty"
            elif index == len(items) - 1:
                problem = "trailing comma at the end of the shorthand"
            elif index == 0:
                problem = "the shorthand starts with a comma"
            else:
                problem = "empty layer between two commas in the shorthand"
            raise SpecError(
                problem, item_pos, "separate layers with single commas: Conv3-8,Pool2,FC10"
            )
        expander.expand_entry(stripped, scope, item_pos)
        column += len(item) + 1
    return build_network("shorthand", tuple(input_shape), expander.nodes)


__all__ = [
    "COMMON_FIELDS",
    "MAX_LAYERS",
    "REPEAT_FIELDS",
    "TOP_KEYS",
    "WrittenShape",
    "decode_spec",
    "from_document",
    "from_shorthand",
    "from_yaml",
    "parse_input_option",
    "read_text",
]
