"""The inputs and outputs a Keras config declares: each InputLayer's shape, and a functional
model's `input_layers` / `output_layers`."""

from __future__ import annotations

from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.layers import Shape


def first_input_shape(layers: list[dict[str, Any]], pos: SourcePos) -> Shape:
    for layer in layers:
        shape = declared_shape(layer, pos)
        if shape is not None:
            return shape
    raise SpecError("the Keras config names no input shape", pos, "give one with --input HxWxC")


def declared_shape(layer: dict[str, Any], pos: SourcePos) -> Shape | None:
    config = layer.get("config", {})
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if shape is None:
        shape = (layer.get("build_config") or {}).get("input_shape")
    if shape is None:
        return None
    dims = shape[1:]
    if 1 <= len(dims) <= 4 and all(isinstance(d, int) and d > 0 for d in dims):
        return tuple(dims)
    raise SpecError(
        f"the model's input shape {shape} has unknown sizes",
        pos,
        "give one with --input HxWxC (or LxC, DxHxWxC)",
    )


def layer_names(value: Any) -> list[str]:
    """`input_layers` / `output_layers`: [name, node, tensor] or a list of them."""
    if not value:
        return []
    if isinstance(value[0], str):
        return [value[0]]
    return [str(item[0]) for item in value if item]


def named_inputs(
    model: dict[str, Any], layers: list[dict[str, Any]], pos: SourcePos
) -> list[tuple[str, Shape]]:
    """Each InputLayer of a functional model of several inputs (in `input_layers` order)
    with its shape; [] for a model of one."""
    found: dict[str, dict[str, Any]] = {
        str(layer.get("config", {}).get("name") or layer.get("name")): layer
        for layer in layers
        if layer.get("class_name") == "InputLayer"
    }
    names = [n for n in layer_names(model.get("input_layers")) if n in found] or list(found)
    if len(names) < 2:
        return []
    shapes = []
    for name in names:
        shape = declared_shape(found[name], pos)
        if shape is None:
            raise SpecError(f"the Keras config gives input {name} no shape", pos)
        shapes.append((name, shape))
    return shapes
