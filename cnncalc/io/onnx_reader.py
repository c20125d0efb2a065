"""ONNX → imported layers, with the `onnx` package (`pip install "cnncalc[onnx]"`).

Each ONNX op maps to a layer kind through `onnx_ops.OPS`, one converter per op type. A few
patterns span several nodes: ConvNeXt's Transpose → LayerNormalization / MatMul + Add (a
`dense` per position with its bias) / Gelu → Transpose, ShuffleNet's Reshape → Transpose →
Reshape (`channel_shuffle`), Sigmoid → Mul (SiLU), Split / Slice on the channels (computed
from the input's Shape: the small shape computations are evaluated), Mul by a constant
(`scale`, or `layer_scale` per channel). Layer names come
from the exporter's scopes (`/layer1/layer1.0/conv1/Conv` → `layer1.0.conv1`; an op applied
in a module's forward, such as the residual `Add`, → `layer1.0.add`). Every layer keeps the
element count of the initializers it reads, which must equal cnncalc's params + buffers.

Export a PyTorch model with its BatchNorm layers kept (`training=TrainingMode.PRESERVE` or
`do_constant_folding=False`): in eval mode the exporter folds each BatchNorm into the conv
before it, and the file then has no BatchNorm to import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnncalc.errors import SourcePos, SpecError
from cnncalc.io.imported import Imported, hwc
from cnncalc.io.onnx_names import layer_name
from cnncalc.io.onnx_ops import OPS, PER_POSITION, OnnxNode, Unsupported
from cnncalc.io.onnx_patterns import Patterns
from cnncalc.io.onnx_skim import skim
from cnncalc.io.onnx_values import evaluate

# ops that only compute shapes or pass their input through
_PASS_THROUGH = {"Identity"}
_READS_VALUES = {"Resize", "Upsample", "Pad"}  # their inputs after the data, by position


def read_onnx(path: Path, allow_unsupported: bool) -> Imported:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SpecError(
            "reading ONNX needs the onnx package",
            SourcePos(str(path)),
            'pip install "cnncalc[onnx]"',
        ) from None
    try:
        model = skim(str(path), onnx) or onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # a protobuf DecodeError, a truncated file
        raise SpecError(
            f"cannot read ONNX: {type(exc).__name__}: {str(exc)[:200]}",
            SourcePos(str(path)),
            "is this a .onnx file? export one with torch.onnx.export",
        ) from None
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if not inputs:
        raise SpecError("the ONNX graph has no input", SourcePos(str(path)))
    shapes = []
    for graph_input in inputs:
        dims = [d.dim_value or 1 for d in graph_input.type.tensor_type.shape.dim]
        try:
            shapes.append((graph_input.name, hwc(dims)))
        except ValueError as exc:
            raise SpecError(f"input {graph_input.name}: {exc}", SourcePos(str(path))) from None
    imported = Imported(path.stem, str(path), shapes[0][1])
    walk = Walk(onnx, numpy_helper, model, imported, allow_unsupported)
    for graph_input, name in zip(inputs, imported.name_inputs(shapes), strict=True):
        walk.produced[graph_input.name] = name
    walk.run()
    outputs = [walk.produced.get(o.name, "") for o in graph.output]
    if len(outputs) > 1:  # named by the exporter (`output_names=["out", "aux"]`) where free
        renamed = [o.name.isidentifier() for o in graph.output]
        outputs = [
            imported.rename(layer, o.name) if named else layer
            for layer, o, named in zip(outputs, graph.output, renamed, strict=True)
        ]
    imported.set_outputs(outputs)
    imported.check_supported(allow_unsupported)
    return imported


class Walk(Patterns):
    """Each node in turn: a shape computation, a step of a pattern, or a layer."""

    def run(self) -> None:
        for proto in self.model.graph.node:
            attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in proto.attribute}
            attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
            if proto.op_type == "Constant":
                self.constants[proto.output[0]] = self.numpy_helper.to_array(attrs["value"])
                continue
            self._node(proto, attrs)

    def _node(self, proto: Any, attrs: dict[str, Any]) -> None:
        data = [i for i in proto.input if i in self.produced]
        first = proto.input[0] if proto.input else ""
        if not data and self._pending(proto, attrs, first):
            return
        if not data and proto.op_type in _PASS_THROUGH and first in self.constants:
            self.constants[proto.output[0]] = self.constants[first]  # a shared initializer
            return
        if data and proto.op_type == "Cast":
            self._same(proto.output[0], data[0])
            return
        if not data or proto.op_type == "Shape":
            if proto.op_type == "Shape" and data:
                if self.produced[data[0]] not in self.imported.shapes:  # after a missing op
                    self.derived.update(proto.output)
                    return
                shape = np.array(self.nchw(data[0]), dtype=np.int64)
                self.values[proto.output[0]] = shape[attrs.get("start", 0) : attrs.get("end")]
            else:
                known = [self.value(i) if i else None for i in proto.input]
                result = evaluate(proto.op_type, attrs, known)
                if result is not None:
                    self.values[proto.output[0]] = result
            self.derived.update(proto.output)
            return
        lone_concat = proto.op_type == "Concat" and len(proto.input) == 1  # DenseNet's first
        if proto.op_type in _PASS_THROUGH or lone_concat:
            self._same(proto.output[0], data[0])
            return
        name = layer_name(proto.name or proto.output[0], proto.op_type, self.containers)
        if any(self.produced[i] not in self.imported.shapes for i in data):
            # after an op not imported: only look for other unsupported ops
            if proto.op_type in OPS:
                self.produced[proto.output[0]] = name
                self.missing.add(name)
            else:
                self._unsupported(proto, name, [self.produced[i] for i in data], 0)
            return
        if self._pattern(proto, attrs, data, name):
            return
        constant_inputs = [
            i for i in proto.input if i not in self.produced and i not in self.derived
        ]
        if proto.op_type == "Reshape" and proto.input[1] in self.values:
            constant_inputs = [proto.input[1]]  # its target computed from the input's Shape
        if proto.op_type in _READS_VALUES:  # sizes or pads computed from the input's Shape
            constant_inputs = [
                i if i in self.values or i not in self.derived else "" for i in proto.input[1:]
            ]
        weights = [self.value(i) if i else None for i in constant_inputs]
        from_file = [hasattr(self.constants.get(i), "dims") for i in constant_inputs]
        if proto.op_type in _READS_VALUES:  # arguments (scales, pads), never weights
            from_file = [False] * len(constant_inputs)
        sources = [self.produced[i] for i in data]
        lasts = {i in self.last for i in data}
        rank = len(self.nchw(data[0]))
        node = OnnxNode(proto.op_type, attrs, data, weights, from_file, rank, lasts == {True})
        try:
            convert = OPS.get(proto.op_type)
            if convert is None or len(lasts) > 1:
                raise Unsupported(proto.op_type)
            kind, fields = convert(node)
            if node.channels_last and kind not in PER_POSITION:
                raise Unsupported(f"{kind} on a channels-last tensor")
        except Unsupported:
            self._unsupported(proto, name, sources, node.weight_elements())
            return
        self._add(proto.output[0], name, kind, fields, sources, node.weight_elements())
        if node.channels_last:
            self.last.add(proto.output[0])
