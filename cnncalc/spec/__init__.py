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
from cnncalc.fields import describe
from cnncalc.graph import INPUT, Network, build_network
from cnncalc.spec.blocks import parse_blocks
from cnncalc.spec.expand import REPEAT_FIELDS, TOP_KEYS, Expander
from cnncalc.spec.inputs import (
    InputOverride,
    WrittenShape,
    parse_input_option,
    parse_input_options,
    parse_inputs,
    parse_outputs,
    single_input,
)
from cnncalc.spec.layer import COMMON_FIELDS, suggest
from cnncalc.spec.names import MAX_LAYERS, SEVERAL_INPUTS, Scope
from cnncalc.spec.reading import decode_spec, read_text
from cnncalc.yamlnodes import YMap
from cnncalc.yamltree import parse_yaml


def from_yaml(
    text: str, file: str, default_name: str, input_shape: InputOverride | None = None
) -> Network:
    return from_document(parse_yaml(text, file), file, default_name, input_shape)


def from_document(
    doc: Any, file: str, default_name: str, input_shape: InputOverride | None = None
) -> Network:
    """The network of a parsed spec (`parse_yaml`'s result), for callers that read other
    keys of the same document (`check` reads `expect:`). `input_shape` overrides the input's
    shape: one shape, or input name → shape (`--input image=224x224x3`)."""
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
    if "input" in doc and "inputs" in doc:
        raise SpecError(
            "the spec has both `input:` and `inputs:`",
            doc.key_pos["inputs"],
            "keep `input: [H, W, C]` for one input, or name each in `inputs: {image: [...]}`",
        )
    for required in ("input", "layers"):
        present = required in doc or (required == "input" and ("inputs" in doc or input_shape))
        if not present:
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
    inputs, input_pos = parse_inputs(doc, layout, input_shape)
    expander = Expander(parse_blocks(doc.get("blocks"), doc.pos_of("blocks")), file, input_pos)
    scope = Scope("", {}, next(iter(inputs)) if len(inputs) == 1 else SEVERAL_INPUTS, True)
    expander.expand_list(doc["layers"], scope, doc.pos_of("layers"))
    if not expander.nodes:
        skipped = len(expander.defined) > len(inputs)  # all were skipped by `when:`
        raise SpecError(
            "the spec has no layers" + (" (`when:` skips them all)" if skipped else ""),
            doc.pos_of("layers"),
            "list them: `layers: [{conv: {filters: 8, kernel: 3}}, relu]`",
        )
    outputs = parse_outputs(doc, expander, scope)
    return build_network(name, inputs, expander.nodes, outputs, input_pos, expander.field_pos)


def from_shorthand(text: str, input_shape: InputOverride | None) -> Network:
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
    return build_network("shorthand", single_input(input_shape, pos), expander.nodes)


__all__ = [
    "COMMON_FIELDS",
    "MAX_LAYERS",
    "REPEAT_FIELDS",
    "TOP_KEYS",
    "InputOverride",
    "WrittenShape",
    "decode_spec",
    "from_document",
    "from_shorthand",
    "from_yaml",
    "parse_input_option",
    "parse_input_options",
    "read_text",
]
