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

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import INPUT
from cnncalc.io.imported import Imported, hwc
from cnncalc.io.onnx_ops import OPS, PER_POSITION, Fields, OnnxNode, Unsupported
from cnncalc.io.onnx_values import evaluate

_SMALL = 64  # constants read as values (a Clip's bounds, a Reshape's shape); larger: sizes
# ops that only compute shapes or pass their input through
_SHAPE_OPS = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "Constant", "ConstantOfShape"}
_PASS_THROUGH = {"Identity"}
_FUNCTIONAL = {"Add", "Sum", "Mul", "Div", "Concat", "Flatten", "Reshape", "ReduceMean"}
# named in their scope (`layer1.0.add`), not by it
_LAST_INT = 2**62  # a Slice's end this large: to the end


@dataclass
class Grouped:
    """A channel shuffle under way: `layer`'s channels viewed as g × C/g (transposed: C/g × g)."""

    layer: str
    groups: int
    transposed: bool = False


def _scope(node_name: str) -> tuple[str, str]:
    """`/layer1/layer1.0/conv1/Conv` → (`layer1.0.conv1`, `Conv`): the exporter writes a
    module inside a Sequential as `layer1.0` after `layer1`, so such a segment replaces the
    one before it."""
    parts: list[str] = []
    segments = [s for s in node_name.split("/") if s]
    for segment in segments[:-1]:
        if parts and segment.startswith(parts[-1] + "."):
            parts[-1] = segment
        else:
            parts.append(segment)
    return ".".join(parts), segments[-1] if segments else ""


def _containers(scopes: list[str]) -> set[str]:
    """The scopes that hold other scopes (modules with children)."""
    out: set[str] = set()
    for scope in scopes:
        parts = scope.split(".")
        out.update(".".join(parts[:end]) for end in range(1, len(parts)))
    return out


def layer_name(node_name: str, op_type: str, containers: set[str]) -> str:
    """A module's op is named by its module (`layer1.0.conv1`); a functional op, or any op
    of a module with children, by its scope and op (`layer1.0.add`, `layer1.0.add_1`)."""
    scope, op = _scope(node_name)
    op = (op or op_type).lower()
    if scope and op_type not in _FUNCTIONAL and scope not in containers:
        return scope
    return f"{scope}.{op}" if scope else op


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
        model = onnx.load(str(path), load_external_data=False)
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
    dims = [d.dim_value or 1 for d in inputs[0].type.tensor_type.shape.dim]
    try:
        input_shape = hwc(dims)
    except ValueError as exc:
        raise SpecError(f"input {inputs[0].name}: {exc}", SourcePos(str(path))) from None
    imported = Imported(path.stem, str(path), input_shape)
    walk = Walk(onnx, numpy_helper, model, imported, allow_unsupported)
    walk.produced[inputs[0].name] = INPUT
    walk.run()
    imported.check_supported(allow_unsupported)
    return imported


class Walk:
    """The state of one walk over the graph: what each tensor stands for."""

    def __init__(
        self, onnx: Any, numpy_helper: Any, model: Any, imported: Imported, allow: bool
    ) -> None:
        self.onnx, self.numpy_helper, self.model = onnx, numpy_helper, model
        self.imported, self.allow = imported, allow
        self.constants: dict[str, Any] = {i.name: i for i in model.graph.initializer}
        self.produced: dict[str, str] = {}  # tensor → the layer that makes it
        self.last: set[str] = set()  # tensors with their channels last (after a Transpose)
        self.grouped: dict[str, Grouped] = {}
        self.values: dict[str, Any] = {}  # shape computations evaluated (Shape → Gather → …)
        self.derived: set[str] = set()  # tensors computed from shapes and constants only
        self.missing: set[str] = set()  # unsupported layers not imported, and what follows
        self.containers = _containers([_scope(n.name)[0] for n in model.graph.node])
        self.inferred: dict[str, list[int]] | None = None

    def value(self, name: str) -> Any:
        """A constant as an array; a large initializer only as its shape and dtype (a
        broadcast view of one zero), without reading its data."""
        if name in self.values:
            return self.values[name]
        held = self.constants.get(name)
        if held is None or not hasattr(held, "dims"):
            return held
        if math.prod(held.dims) <= _SMALL:
            return self.numpy_helper.to_array(held)
        dtype = self.onnx.helper.tensor_dtype_to_np_dtype(held.data_type)
        return np.broadcast_to(np.zeros((), dtype), tuple(held.dims))

    def first_value(self, name: str) -> float:
        held = self.constants[name]
        array = self.numpy_helper.to_array(held) if hasattr(held, "dims") else held
        return float(f"{float(np.asarray(array).flat[0]):.7g}")

    def nchw(self, tensor: str) -> tuple[int, ...]:
        """A tensor's shape as the framework has it (N first, channels second or last)."""
        shape = self.imported.shapes[self.produced[tensor]]
        if len(shape) == 1:
            return (1, shape[0])
        if tensor in self.last:
            return (1, *shape)
        return (1, shape[-1], *shape[:-1])

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
        if not data and first in self.grouped:
            self._shuffle(proto, attrs, self.grouped[first])
            return
        if not data and proto.op_type in _PASS_THROUGH and first in self.constants:
            self.constants[proto.output[0]] = self.constants[first]  # a shared initializer
            return
        if not data or proto.op_type in _SHAPE_OPS:
            if proto.op_type == "Shape" and data:
                shape = np.array(self.nchw(data[0]), dtype=np.int64)
                self.values[proto.output[0]] = shape[attrs.get("start", 0) : attrs.get("end")]
            else:
                known = [self.value(i) if i else None for i in proto.input]
                result = evaluate(proto.op_type, attrs, known)
                if result is not None:
                    self.values[proto.output[0]] = result
            self.derived.update(proto.output)
            return
        if proto.op_type in _PASS_THROUGH:
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
        weights = [self.value(i) if i else None for i in constant_inputs]
        from_file = [hasattr(self.constants.get(i), "dims") for i in constant_inputs]
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

    def _same(self, tensor: str, source: str) -> None:
        self.produced[tensor] = self.produced[source]
        if source in self.last:
            self.last.add(tensor)

    def _add(
        self,
        tensor: str,
        name: str,
        kind: str,
        fields: Fields,
        sources: list[str],
        weights: int | None,
    ) -> None:
        if self.missing.intersection(sources):  # only look for other unsupported ops
            self.produced[tensor] = name
            self.missing.add(name)
            return
        self.produced[tensor] = self.imported.add(name, kind, fields, sources, weights)

    def _unsupported(self, proto: Any, name: str, sources: list[str], weights: int) -> None:
        blocked = bool(self.missing.intersection(sources))
        if self.allow and self.inferred is None:
            self.inferred = _inferred_shapes(self.onnx, self.model)
        shape = self.inferred.get(proto.output[0]) if self.inferred else None
        made = self.imported.add_unsupported(
            self.allow and not blocked,
            proto.op_type,
            name,
            sources,
            hwc(shape) if shape else None,
            weights,
        )
        self.produced[proto.output[0]] = made or name
        if made is None:
            self.missing.add(name)

    # --- patterns that span several nodes ------------------------------------------------

    def _pattern(self, proto: Any, attrs: dict[str, Any], data: list[str], name: str) -> bool:
        """Handle `proto` as a step of a pattern; False when it is an ordinary op."""
        op, source = proto.op_type, data[0]
        rank = len(self.nchw(source))
        if op == "Transpose":
            return self._transpose(proto, attrs.get("perm", []), source, rank)
        if op == "Reshape" and len(data) == 1 and source not in self.last:
            target = self.value(proto.input[1]) if len(proto.input) > 1 else None
            return target is not None and self._group(proto, source, [int(d) for d in target])
        if op == "Split" and source not in self.last:
            return self._split(proto, attrs, source, name, rank)
        if op == "Slice" and source not in self.last:
            return self._slice(proto, source, name, rank)
        if len(data) == 2 and op == "Mul":
            return self._silu(proto, data)
        constants = [i for i in proto.input if i not in self.produced]
        if len(data) == 1 and len(constants) == 1 and op in ("Add", "Mul", "Div"):
            return self._with_constant(proto, source, constants[0], name)
        return False

    def _transpose(self, proto: Any, perm: list[int], source: str, rank: int) -> bool:
        order = tuple(int(p) for p in perm)
        if source not in self.last and order == (0, *range(2, rank), 1) and rank > 2:
            self.produced[proto.output[0]] = self.produced[source]
            self.last.add(proto.output[0])
            return True
        if source in self.last and order == (0, rank - 1, *range(1, rank - 1)):
            self.produced[proto.output[0]] = self.produced[source]
            return True
        return False

    def _group(self, proto: Any, source: str, target: list[int]) -> bool:
        """The first Reshape of a channel shuffle: (N, C, …) → (N, g, C/g, …)."""
        before = self.nchw(source)
        if len(target) != len(before) + 1 or len(before) <= 2 or target[1] <= 1:
            return False
        if target[1] * target[2] != before[1] or tuple(target[3:]) != before[2:]:
            return False
        self.grouped[proto.output[0]] = Grouped(self.produced[source], target[1])
        return True

    def _shuffle(self, proto: Any, attrs: dict[str, Any], grouped: Grouped) -> None:
        perm = [int(p) for p in attrs.get("perm", [])]
        if proto.op_type == "Transpose" and perm[:3] == [0, 2, 1] and not grouped.transposed:
            self.grouped[proto.output[0]] = Grouped(grouped.layer, grouped.groups, True)
            return
        scope = _scope(proto.name or proto.output[0])[0]
        if proto.op_type == "Reshape" and grouped.transposed:
            named = f"{scope}.channel_shuffle".lstrip(".")
            fields = {"groups": grouped.groups}
            self._add(proto.output[0], named, "channel_shuffle", fields, [grouped.layer], 0)
            return
        name = layer_name(proto.name or proto.output[0], proto.op_type, self.containers)
        self._unsupported(proto, name, [grouped.layer], 0)

    def _split(self, proto: Any, attrs: dict[str, Any], source: str, name: str, rank: int) -> bool:
        channels = self.nchw(source)[1]
        node = OnnxNode("Split", attrs, [source], [], [], rank)
        if not node.is_channels(attrs.get("axis", 0)):
            return False
        given = attrs.get("split")
        if given is None and len(proto.input) > 1 and proto.input[1]:
            given = self.value(proto.input[1])
        count = len(proto.output)
        if given is None:
            slices: list[Fields] = [{"parts": count, "part": i} for i in range(count)]
        else:
            sizes = [int(s) for s in given]
            bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
            slices = [
                {"start": bounds[i], "stop": bounds[i + 1], "total": channels} for i in range(count)
            ]
        for index, output in enumerate(proto.output):
            self._add(output, f"{name}.{index}", "slice", slices[index], [self.produced[source]], 0)
        return True

    def _slice(self, proto: Any, source: str, name: str, rank: int) -> bool:
        starts, ends, axes, steps = (
            self.value(i) if i else None for i in [*proto.input[1:5], "", "", ""][:4]
        )
        if starts is None or ends is None or len(starts) != 1:
            return False
        axis = int(axes[0]) % rank if axes is not None else 0
        if axis != 1 or (steps is not None and int(steps[0]) != 1):
            return False
        channels = self.nchw(source)[1]
        start = max(int(starts[0]) + (channels if int(starts[0]) < 0 else 0), 0)
        end = int(ends[0])
        stop = None if end >= channels else end + (channels if end < 0 else 0)
        fields = {"start": start, "stop": stop}
        self._add(proto.output[0], name, "slice", fields, [self.produced[source]], 0)
        return True

    def _silu(self, proto: Any, data: list[str]) -> bool:
        """Mul(x, Sigmoid(x)), as torch exports SiLU: the Sigmoid layer becomes `silu`."""
        layers = self.imported.layers
        if not layers:
            return False
        gate = layers[-1]
        for x, other in (data, data[::-1]):
            same_layout = (x in self.last) == (other in self.last)
            gated = gate.kind == "sigmoid" and gate.inputs == [self.produced[x]]
            if self.produced[other] == gate.name and gated and same_layout:
                gate.kind = "silu"
                self._same(proto.output[0], other)
                return True
        return False

    def _with_constant(self, proto: Any, source: str, constant: str, name: str) -> bool:
        """A bias Add after a MatMul (its dense gets the bias), a Mul or Div by a number
        (`scale`) or a Mul by one factor per channel (`layer_scale`)."""
        array = self.value(constant)
        if array is None:
            return False
        layer = self.imported.layers[-1] if self.imported.layers else None
        op, size = proto.op_type, int(array.size)
        produced = self.produced[source]
        if op == "Add" and layer is not None and layer.name == produced:
            if layer.kind == "dense" and not layer.fields["bias"] and size == layer.fields["units"]:
                layer.fields["bias"] = True
                layer.weights = (layer.weights or 0) + size
                self._same(proto.output[0], source)
                return True
            return False
        if op in ("Mul", "Div") and size == 1:
            factor = self.first_value(constant)
            if op == "Div" and factor == 0:
                return False
            fields = {"factor": factor if op == "Mul" else 1.0 / factor}
            self._add(proto.output[0], name, "scale", fields, [produced], 0)
            if source in self.last:
                self.last.add(proto.output[0])
            return True
        nchw = self.nchw(source)
        channel_axis = len(nchw) - 1 if source in self.last or len(nchw) == 2 else 1
        lined_up = (1,) * (len(nchw) - array.ndim) + tuple(array.shape)
        per_channel = len(lined_up) == len(nchw) and lined_up[channel_axis] == size
        if op == "Mul" and per_channel and size == nchw[channel_axis]:
            named = f"{_scope(proto.name or proto.output[0])[0]}.layer_scale".lstrip(".")
            fields = {"init": self.first_value(constant)}
            self._add(proto.output[0], named, "layer_scale", fields, [produced], size)
            if source in self.last:
                self.last.add(proto.output[0])
            return True
        return False


def _inferred_shapes(onnx: Any, model: Any) -> dict[str, list[int]]:
    """Every tensor's shape from ONNX's shape inference (for opaque layers)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference refuses some graphs; their opaque shapes stay unknown
        return {}
    out = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = [d.dim_value or 1 for d in info.type.tensor_type.shape.dim]
        if 2 <= len(dims) <= 5:
            out[info.name] = dims
    return out
