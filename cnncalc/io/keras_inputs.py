"""A Keras config as read: the file, each InputLayer's shape, a functional model's
`input_layers` / `output_layers`, and which layers feed each layer."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
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


def read_config(path: Path) -> dict[str, Any]:
    pos = SourcePos(str(path))
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json").decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        config = json.loads(text)
    except (OSError, KeyError, UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise SpecError(
            f"cannot read a Keras model config: {exc}",
            pos,
            "give a .keras file (model.save) or the JSON of model.to_json()",
        ) from None
    except RecursionError:
        raise SpecError("the Keras model config is nested too deeply", pos) from None
    if not isinstance(config, dict) or "config" not in config:
        raise SpecError("not a Keras model config", pos, "model.to_json() writes one")
    return config


def sources(inbound: Any) -> list[str]:
    """The layers feeding a layer's first call: Keras 3 `__keras_tensor__` histories, or
    Keras 2 `[[name, node, tensor, kwargs], ...]` lists."""
    if not inbound:
        return []
    first = inbound[0]
    if isinstance(first, dict):
        return [history[0] for history in _histories(first.get("args", []))]
    return [str(entry[0]) for entry in first]


def _histories(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"]
        else:
            for item in value.values():
                yield from _histories(item)
    elif isinstance(value, list):
        for item in value:
            yield from _histories(item)


def tensor_and_number(inbound: Any) -> tuple[int, float] | None:
    """Of an op on one tensor and one number (Keras 3 writes `x + 3.0` as an `Add` op layer
    whose call has the two as its args): the tensor's place (0 or 1) and the number."""
    first = inbound[0] if isinstance(inbound, list) and inbound else None
    args = first.get("args") if isinstance(first, dict) else None
    if not isinstance(args, list) or len(args) != 2:
        return None
    for at, (tensor, number) in enumerate((args, args[::-1])):
        is_tensor = isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__"
        if is_tensor and type(number) in (int, float):
            return at, float(number)
    return None
