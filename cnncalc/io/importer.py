"""`import_model`: a model file (or a PyTorch model) → a readable spec and its network.

The reader gives flat layers; cnncalc's own passes count them, and each layer's count must
equal the source's tensors for it. Then the blocks are recovered, and the structured spec is
kept only if it loads to exactly the network the flat one describes (names, kinds, fields,
wiring, shapes); otherwise the flat spec is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import INPUT, Network, Node, build_network
from cnncalc.io.imported import Imported
from cnncalc.io.spec_writer import (
    first_input,
    layer_entries,
    spec_document,
    to_yaml,
    written_value,
)
from cnncalc.io.structure import recover
from cnncalc.layers import KINDS, Op, Shape
from cnncalc.passes.params import count_params
from cnncalc.spec import from_yaml

Source = Literal["onnx", "torch", "keras"]


@dataclass
class ImportResult:
    text: str  # the spec
    network: Network
    imported: Imported
    structured: bool  # blocks were recovered (and checked)


def source_kind(source: str) -> Source:
    """What a source is, by its file name: .onnx, .keras/.json, else a PyTorch model."""
    lowered = source.lower()
    if lowered.endswith(".onnx"):
        return "onnx"
    if lowered.endswith((".keras", ".json")):
        return "keras"
    if lowered.endswith((".pt", ".pth")) or ":" in source:
        return "torch"
    raise SpecError(
        f"cannot tell what {source!r} is",
        SourcePos(source),
        "import a .onnx, .keras or .json file, or `--from torch module:function`",
    )


def read_source(
    source: str,
    kind: Source,
    allow_unsupported: bool,
    input_shape: Shape | Mapping[str, Shape] | None,
    torch_kwargs: dict[str, Any] | None = None,
) -> Imported:
    if isinstance(input_shape, Mapping) and kind != "torch":
        raise SpecError(
            "--input NAME=SHAPE names a torch model's forward argument",
            SourcePos("--input"),
            "write `--input HxWxC`",
        )
    if kind == "onnx":
        from cnncalc.io.onnx_reader import read_onnx

        return read_onnx(_existing(source), allow_unsupported)
    if kind == "keras":
        from cnncalc.io.keras_reader import read_keras

        shape = None if isinstance(input_shape, Mapping) else input_shape
        return read_keras(_existing(source), allow_unsupported, shape)
    from cnncalc.io.torch_fx import read_torch

    return read_torch(source, allow_unsupported, input_shape, torch_kwargs)


def _existing(source: str) -> Path:
    path = Path(source)
    if not path.is_file():
        raise SpecError(f"no such file: {source}", SourcePos(source))
    return path


def same_network(a: Network, b: Network) -> bool:
    """Node by node: names, kinds, fields (as a spec reads them: `stride: [1, 1, 1]` is
    `stride: 1`), inputs, flags and output shapes; the inputs and outputs."""
    if len(a) != len(b) or a.inputs != b.inputs or a.outputs != b.outputs:
        return False
    return all(
        (x.name, _meaning(x.op), x.inputs, x.trainable, x.functional, a.shapes[x.name])
        == (y.name, _meaning(y.op), y.inputs, y.trainable, y.functional, b.shapes[y.name])
        for x, y in zip(a, b, strict=True)
    )


def _meaning(op: Op) -> tuple[Any, ...]:
    return (type(op), *(_as_read(getattr(op, f.name)) for f in dataclasses.fields(op)))  # type: ignore[arg-type]


def _as_read(value: Any) -> Any:
    """A field value as loading the written spec gives it (a square kernel as one int, ...),
    so the flat network and the structured spec's compare equal."""
    written = written_value(value)
    return tuple(written) if isinstance(written, list) else written


def _network(imported: Imported) -> Network:
    """The network of the flat layers, built directly (the flat spec describes the same)."""
    pos = SourcePos(imported.source)
    nodes = [
        Node(
            layer.name,
            KINDS[layer.kind](**{k: _as_read(v) for k, v in layer.fields.items()}),
            tuple(layer.inputs),
            True,
            pos,
            layer.functional,
            unused=layer.unused,
        )
        for layer in imported.layers
    ]
    inputs = imported.input_shape if imported.input_names == [INPUT] else imported.inputs
    return build_network(imported.name, inputs, nodes, tuple(imported.outputs))


def build(imported: Imported, structure: bool = True) -> ImportResult:
    """The spec text and network of imported layers, checked against the source's tensors."""
    imported.mark_unreached()
    header = f"imported by cnncalc from {Path(imported.source).name}"
    entries = layer_entries(imported.layers, first_input(imported))
    flat_text = to_yaml(spec_document(imported, entries, {}), header)
    flat = _network(imported)
    counts = count_params(flat)
    imported.check_weights({n: (c.params, c.buffers) for n, c in counts.items()})
    if structure:
        layers, blocks = recover(imported.layers, imported.class_names, first_input(imported))
        if blocks:
            text = to_yaml(spec_document(imported, layers, blocks), header)
            try:
                structured = from_yaml(text, imported.source, imported.name)
            except SpecError:
                structured = None
            if structured is not None and same_network(flat, structured):
                return ImportResult(text, structured, imported, True)
    return ImportResult(flat_text, flat, imported, False)


def import_model(
    source: str,
    kind: Source | None = None,
    allow_unsupported: bool = False,
    input_shape: Shape | Mapping[str, Shape] | None = None,
    structure: bool = True,
    torch_kwargs: dict[str, Any] | None = None,
) -> ImportResult:
    """Read `source` (a file, or `module:function` for torch, called with `torch_kwargs`)
    into a checked spec."""
    kind = kind or source_kind(source)
    try:
        imported = read_source(source, kind, allow_unsupported, input_shape, torch_kwargs)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise SpecError(  # a file that parses but does not hold what a model file holds
            f"cannot read {source}: unexpected content ({type(exc).__name__}: {str(exc)[:200]})",
            SourcePos(source),
            "is it a model saved by the framework itself (torch.onnx.export, model.save)?",
        ) from None
    return build(imported, structure)
