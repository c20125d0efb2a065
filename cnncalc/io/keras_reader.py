"""Keras → imported layers: the walk over a saved config's layers (see `keras_config` for how
each class maps to a kind). A model used as a layer of another is walked in place; the layers
a kind cannot express are collected, and become `opaque` with `--allow-unsupported`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import INPUT
from cnncalc.io.imported import Imported
from cnncalc.io.keras_config import (
    COMPOSITES,
    LAYERS,
    OPAQUE_COUNTS,
    OPAQUE_SHAPES,
    Unsupported,
    activation_kind,
    with_number,
)
from cnncalc.io.keras_inputs import (
    first_input_shape,
    layer_names,
    named_inputs,
    read_config,
    sources,
)
from cnncalc.layers import Shape


def read_keras(path: Path, allow_unsupported: bool, input_shape: Shape | None = None) -> Imported:
    pos = SourcePos(str(path))
    config = read_config(path)
    model = config["config"]
    layers = model.get("layers", [])
    sequential = config.get("class_name") == "Sequential"
    several = named_inputs(model, layers, pos) if not sequential else []
    shape = several[0][1] if several else input_shape or first_input_shape(layers, pos)
    imported = Imported(model.get("name") or path.stem, str(path), shape)
    inputs = imported.name_inputs(several) or [INPUT]
    try:
        outputs = _read_model(imported, config, inputs, allow_unsupported, pos, 0)
    except RecursionError:  # a hostile config: lists nested ~1,000 deep in a layer's call
        raise SpecError("the Keras model config is nested too deeply", pos) from None
    imported.check_supported(allow_unsupported)
    imported.set_outputs([] if sequential else outputs)
    return imported


MAX_NESTED_MODELS = 32  # models inside models inside ...: Keras applications nest one level


def _read_model(
    imported: Imported,
    config: dict[str, Any],
    inputs: list[str],
    allow_unsupported: bool,
    pos: SourcePos,
    depth: int,
) -> list[str]:
    """Add a (Sequential or functional) model's layers, fed by the layers `inputs`; the layers
    standing for its outputs ("" where one is not imported). A model used as a layer of
    another is read the same way, in place: its layers join the outer model's."""
    if depth > MAX_NESTED_MODELS:
        raise SpecError(f"the Keras models are nested more than {MAX_NESTED_MODELS} deep", pos)
    model = config["config"]
    sequential = config.get("class_name") == "Sequential"
    declared = [] if sequential else layer_names(model.get("input_layers"))
    output: dict[str, str] = {}  # Keras name → the layer standing for its output
    previous, seen_inputs = inputs[0], 0
    readers = Counter(n for layer in model.get("layers", []) for n in _inbound(layer, sequential))
    for layer in model.get("layers", []):
        cls = layer.get("class_name", "")
        c = layer.get("config", {})
        name = c.get("name") or layer.get("name") or cls.lower()
        if cls == "InputLayer":  # the model's n-th input, in `input_layers` order
            at = declared.index(name) if name in declared else seen_inputs
            output.setdefault(name, inputs[min(at, len(inputs) - 1)])
            seen_inputs += 1
            continue
        names = _inbound(layer, sequential)
        if any(n not in output for n in names):  # fed by an unsupported layer: the import
            if cls not in KNOWN:  # fails, listing that one and every other without a kind
                imported.unsupported.append((cls, name))
            continue
        feeding = [output[n] for n in names] or [previous]
        made: str | None
        if cls in MODELS and isinstance(c.get("layers"), list):
            made = _read_model(imported, layer, feeding, allow_unsupported, pos, depth + 1)[0]
        elif len(names) == 1 and (fields := with_number(cls, layer)) is not None:
            made = imported.add(name, "scale", fields, feeding)
        elif cls == "Reshape" and (sequential or readers[names[0]] == 1):
            made = _pool_kept(imported, c, name, feeding[0])
            made = made or _add_layer(imported, cls, c, name, feeding, allow_unsupported)
        else:
            made = _add_layer(imported, cls, c, name, feeding, allow_unsupported)
        if made:
            output[name] = previous = made
    if sequential:
        return [previous]
    return [output.get(n, "") for n in layer_names(model.get("output_layers"))] or [previous]


MODELS = ("Sequential", "Functional", "Model")  # a model used as a layer


def _inbound(layer: dict[str, Any], sequential: bool) -> list[str]:
    """The Keras names feeding a layer of a functional model ([] in a Sequential one)."""
    return [] if sequential else sources(layer.get("inbound_nodes"))


def _pool_kept(imported: Imported, c: dict[str, Any], name: str, source: str) -> str | None:
    """Keras' squeeze-excitation pools to C, then reshapes to 1×…×1×C: when `source` is such
    a pool (the layer just added, read by this Reshape alone), the two are one global pool
    with `keepdims`, named after the Reshape (whose shape it has); else None."""
    last = imported.layers[-1] if imported.layers else None
    if last is None or last.name != source or last.kind not in GLOBAL_POOLS:
        return None
    pooled = imported.shapes[last.inputs[0]]
    target = tuple(c.get("target_shape") or ())
    if last.fields.get("keepdims", True) or target != (*(1,) * (len(pooled) - 1), pooled[-1]):
        return None
    imported.drop_last()
    return imported.add(name, last.kind, {}, last.inputs)


GLOBAL_POOLS = ("global_avgpool", "global_maxpool")


# classes a kind expresses in some uses (ops with a number)
MAYBE = ("Subtract", "Divide", "TrueDivide")
KNOWN = frozenset((*LAYERS, *COMPOSITES, *MODELS, *MAYBE))  # what a kind may express


def _has_kind(cls: str, inputs: int) -> bool:
    """Whether a kind expresses this class (a merge only of two layers or more, not
    `x + 3.0`)."""
    return cls in LAYERS and (inputs >= 2 or cls not in ("Add", "Multiply", "Concatenate"))


def _add_layer(
    imported: Imported,
    cls: str,
    c: dict[str, Any],
    name: str,
    sources: list[str],
    allow_unsupported: bool,
) -> str | None:
    """Add one Keras layer (and its activation); the name standing for its output."""
    shape = imported.shapes[sources[0]]
    try:
        if cls in COMPOSITES and len(sources) == (2 if cls == "CustomScaleLayer" else 1):
            steps = COMPOSITES[cls](c, shape)
        elif _has_kind(cls, len(sources)):
            steps = [("", *LAYERS[cls](c, shape), list(range(len(sources))))]
        else:
            raise Unsupported(cls)
        activation = activation_kind(c.get("activation")) if cls != "Activation" else None
    except Unsupported:
        measure = OPAQUE_SHAPES.get(cls)
        count = OPAQUE_COUNTS.get(cls)
        params, buffers = count({**c, "class": cls}, shape) if count else (0, 0)
        return imported.add_unsupported(
            allow_unsupported,
            cls,
            name,
            sources,
            measure(c, shape) if measure else None,
            params,
            buffers,
        )
    if not steps[-1][1]:  # Activation('linear')
        return sources[0]
    tensors = list(sources)
    for suffix, kind, fields, picks in steps:
        tensors.append(imported.add(name + suffix, kind, fields, [tensors[i] for i in picks]))
    made = tensors[-1]
    if activation is not None:
        made = imported.add(f"{name}.act", activation, {}, [made])
    return made
