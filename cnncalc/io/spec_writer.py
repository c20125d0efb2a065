"""Imported layers → a spec a person would write: one line per layer, defaults left out.

A layer's fields are written as a person writes them (`kernel: 3`, not `[3, 3]`; `padding: 1`,
not `[1, 1, 1, 1]`), a field at its default is left out, and `from:` only where a layer does
not take the one above it. `spec_document` makes the document (a dict); `to_yaml` prints it
with each layer, block call and repeat as one flow mapping on its own line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import yaml

from cnncalc.graph import INPUT
from cnncalc.io.imported import Imported, Layer
from cnncalc.layers import KINDS

Entry = dict[str, Any]  # one item of a `layers:` list: {kind: {field: value}}


def written_value(value: Any) -> Any:
    """How a field value reads in a spec: equal values per axis as one number, symmetric
    padding (before, after per axis) as one value per axis, tuples as lists."""
    if not isinstance(value, tuple):
        return value
    numbers = all(isinstance(v, int) for v in value)
    if numbers and value and all(v == value[0] for v in value):
        return value[0]
    symmetric = all(value[a] == value[a + 1] for a in range(0, len(value) - 1, 2))
    if numbers and len(value) in (4, 6) and symmetric:
        return list(value[::2])
    return list(value)


def written_fields(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of a `kind` layer worth writing: those not at their declared default."""
    out: dict[str, Any] = {}
    for info in KINDS[kind].fields():
        if info.name not in fields:
            continue
        value = fields[info.name]
        if info.default_from is not None and value == fields.get(info.default_from):
            continue
        if not info.required and written_value(value) == info.default:
            continue
        out[info.name] = written_value(value)
    return out


def layer_fields(layer: Layer) -> dict[str, Any]:
    """A layer's name, its fields worth writing, and `functional: true` if it is."""
    fields = {"name": layer.name, **written_fields(layer.kind, layer.fields)}
    if layer.functional:
        fields["functional"] = True
    if layer.unused:
        fields["unused"] = True
    return fields


def entry(kind: str, fields: dict[str, Any], inputs: Sequence[str] | None) -> Entry:
    """One `layers:` item; `inputs` None: the layer takes the one above it."""
    body = {"name": fields.pop("name")} if "name" in fields else {}
    body.update(fields)
    if inputs is not None:
        body["from"] = inputs[0] if len(inputs) == 1 else list(inputs)
    return {kind: body}


def layer_entries(layers: Sequence[Layer], first_input: str = INPUT) -> list[Entry]:
    """The flat `layers:` list: every layer by its own name."""
    out = []
    previous = first_input
    for layer in layers:
        fields = layer_fields(layer)
        takes_previous = layer.inputs == [previous]
        out.append(entry(layer.kind, fields, None if takes_previous else layer.inputs))
        previous = layer.name
    return out


def first_input(imported: Imported) -> str:
    """What the first layer takes without `from:`: the input, unless there are several."""
    return INPUT if imported.input_names == [INPUT] else ""


def spec_document(imported: Imported, layers: list[Entry], blocks: dict[str, Any]) -> Entry:
    doc: Entry = {"name": imported.name}
    if imported.input_names != [INPUT]:
        doc["inputs"] = {name: list(shape) for name, shape in imported.inputs.items()}
    else:
        doc["input"] = list(imported.input_shape)
    if blocks:
        doc["blocks"] = blocks
    doc["layers"] = layers
    if imported.outputs:
        doc["outputs"] = list(imported.outputs)
    return doc


def _flow(value: Any) -> str:
    """`value` in YAML flow style, as `yaml.safe_dump` writes it (which takes ~1 ms a layer:
    most of an import's time): mappings, lists, numbers and plain names here, anything else
    by PyYAML."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _PLAIN.fullmatch(value) and _reads_as_text(value):
        return value
    return _dumped(value)


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")  # a name PyYAML writes without quotes …
_RESOLVER = yaml.resolver.Resolver()


def _reads_as_text(value: str) -> bool:
    """… unless it would read back as a bool or null (`yes`, `off`, `null`)."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == "tag:yaml.org,2002:str"


@functools.lru_cache(maxsize=4096)
def _dumped(value: Any) -> str:
    text: str = yaml.safe_dump(
        value, default_flow_style=True, width=1 << 30, sort_keys=False, allow_unicode=True
    )
    return text.strip().removesuffix("...").strip()


def _items(entries: list[Entry], indent: str) -> list[str]:
    return [f"{indent}- {_flow(item)[1:-1]}" for item in entries]


def to_yaml(doc: Entry, header: str = "") -> str:
    """The document as YAML: top-level keys in block style, every layer on one line."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append(f"name: {_flow(doc['name'])}")
    if "inputs" in doc:
        lines.append("inputs:")
        lines += [f"  {_flow(name)}: {_flow(shape)}" for name, shape in doc["inputs"].items()]
    else:
        lines.append(f"input: {_flow(doc['input'])}")
    if "blocks" in doc:
        lines.append("blocks:")
        for name, block in doc["blocks"].items():
            lines.append(f"  {name}:")
            if block.get("args"):
                lines.append(f"    args: {_flow(block['args'])}")
            lines.append("    layers:")
            lines += _items(block["layers"], "      ")
    lines.append("layers:")
    lines += _items(doc["layers"], "  ")
    if "outputs" in doc:
        lines.append(f"outputs: {_flow(doc['outputs'])}")
    return "\n".join(lines) + "\n"
