"""ONNX → imported layers, with the `onnx` package (`pip install "cnncalc[onnx]"`).

Each ONNX op maps to a layer kind through `OPS`, one converter per op type. Layer names come
from the exporter's scopes (`/layer1/layer1.0/conv1/Conv` → `layer1.0.conv1`; an op applied
in a module's forward, such as the residual `Add`, → `layer1.0.add`). Every layer keeps the
element count of the initializers it reads, which must equal cnncalc's params + buffers.

Export a PyTorch model with its BatchNorm layers kept (`training=TrainingMode.PRESERVE` or
`do_constant_folding=False`): in eval mode the exporter folds each BatchNorm into the conv
before it, and the file then has no BatchNorm to import.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import INPUT
from cnncalc.io.imported import Imported, hwc

Fields = dict[str, Any]


class Unsupported(Exception):
    """This node (or this use of its op) has no layer kind."""


@dataclass
class OnnxNode:
    """One node, with what a converter needs: attributes, data inputs, weights."""

    op_type: str
    attrs: dict[str, Any]
    data: list[str]  # the activation tensors it reads, in order
    weights: list[Any]  # the constant inputs, as NumPy arrays (None for an absent input)
    initializers: list[bool]  # which of them are the graph's initializers
    rank: int  # rank of its first data input (4: N×C×H×W, 2: N×F)

    def attr(self, name: str, default: Any) -> Any:
        return self.attrs.get(name, default)

    def weight_elements(self) -> int:
        """Elements of its float initializers (weights, biases, statistics), not of integer
        or scalar arguments (a Reshape's shape, a Clip's bounds) nor of Constant nodes (a
        Resize's scales)."""
        return sum(
            int(w.size)
            for w, initializer in zip(self.weights, self.initializers, strict=True)
            if initializer and w is not None and w.ndim >= 1 and w.dtype.kind == "f"
        )


Converter = Callable[[OnnxNode], tuple[str, Fields]]


def _float(value: Any) -> float:
    """A float attribute as written before ONNX stored it in float32 (1e-05, not 9.99e-06)."""
    return float(f"{float(value):.7g}")


def _pads(node: OnnxNode) -> Any:
    auto = node.attr("auto_pad", "NOTSET")
    if auto == "SAME_UPPER":
        return "same"
    if auto == "VALID":
        return (0, 0, 0, 0)
    if auto != "NOTSET":
        raise Unsupported(f"auto_pad {auto}")
    t, left, b, r = node.attr("pads", [0, 0, 0, 0])
    return (t, b, left, r)


def _pair(values: list[int]) -> tuple[int, int]:
    if len(values) != 2:
        raise Unsupported(f"{len(values)} spatial axes")
    return (int(values[0]), int(values[1]))


def _conv(node: OnnxNode) -> tuple[str, Fields]:
    weight = node.weights[0]
    kernel = _pair(node.attr("kernel_shape", list(weight.shape[2:])))
    groups = node.attr("group", 1)
    fields: Fields = {
        "kernel": kernel,
        "stride": _pair(node.attr("strides", [1, 1])),
        "dilation": _pair(node.attr("dilations", [1, 1])),
        "groups": groups,
        "bias": len(node.weights) > 1 and node.weights[1] is not None,
        "padding": _pads(node),
    }
    if node.op_type == "Conv":
        return "conv", {"filters": int(weight.shape[0]), **fields}
    if "output_shape" in node.attrs:
        raise Unsupported("an explicit output_shape")
    output_padding = _pair(node.attr("output_padding", [0, 0]))
    return "conv_transpose", {
        "filters": int(weight.shape[1]) * groups,
        "output_padding": output_padding,
        **fields,
    }


def _gemm(node: OnnxNode) -> tuple[str, Fields]:
    if node.attr("transA", 0):
        raise Unsupported("transA")
    weight = node.weights[0]
    units = weight.shape[0] if node.attr("transB", 0) else weight.shape[1]
    return "dense", {"units": int(units), "bias": len(node.weights) > 1}


def _matmul(node: OnnxNode) -> tuple[str, Fields]:
    if len(node.weights) != 1 or node.weights[0].ndim != 2:
        raise Unsupported("a MatMul of two activations")
    return "dense", {"units": int(node.weights[0].shape[1]), "bias": False}


def _batchnorm(node: OnnxNode) -> tuple[str, Fields]:
    momentum = _float(1.0 - _float(node.attr("momentum", 0.9)))  # ONNX keeps 1 − PyTorch's
    return "batchnorm", {"eps": _float(node.attr("epsilon", 1e-5)), "momentum": momentum}


def _clip(node: OnnxNode) -> tuple[str, Fields]:
    low = node.attr("min", None)
    high = node.attr("max", None)
    if len(node.weights) >= 2:
        low = None if node.weights[0] is None else float(node.weights[0])
        high = None if node.weights[1] is None else float(node.weights[1])
    if low == 0.0 and high == 6.0:
        return "relu6", {}
    raise Unsupported(f"Clip to [{low}, {high}] (only [0, 6], ReLU6, has a kind)")


def _window(kind: str) -> Converter:
    def convert(node: OnnxNode) -> tuple[str, Fields]:
        kernel = _pair(node.attr("kernel_shape", []))
        fields: Fields = {
            "kernel": kernel,
            "stride": _pair(node.attr("strides", [1, 1])),
            "padding": _pads(node),
            "ceil_mode": bool(node.attr("ceil_mode", 0)),
        }
        if kind == "maxpool":
            fields["dilation"] = _pair(node.attr("dilations", [1, 1]))
        else:
            fields["count_include_pad"] = bool(node.attr("count_include_pad", 0))
        return kind, fields

    return convert


def _softmax(node: OnnxNode) -> tuple[str, Fields]:
    axis = node.attr("axis", -1)
    if (axis in (-1, node.rank - 1) and node.rank == 2) or (axis == 1 and node.rank == 4):
        return "softmax", {}
    raise Unsupported(f"softmax over axis {axis}")


def _hardsigmoid(node: OnnxNode) -> tuple[str, Fields]:
    if not math.isclose(node.attr("alpha", 0.2), 1 / 6) or node.attr("beta", 0.5) != 0.5:
        raise Unsupported("HardSigmoid other than relu6(x + 3)/6")
    return "hardsigmoid", {}


def _flatten(node: OnnxNode) -> tuple[str, Fields]:
    if node.attr("axis", 1) != 1:
        raise Unsupported(f"Flatten from axis {node.attr('axis', 1)}")
    return "flatten", {}


def _reshape(node: OnnxNode) -> tuple[str, Fields]:
    shape = node.weights[0] if node.weights else None
    if shape is None or shape.size == 2:
        return "flatten", {}  # N × everything: what `x.view(x.size(0), -1)` exports
    raise Unsupported(f"Reshape to {list(map(int, shape))}")


def _merge(kind: str) -> Converter:
    def convert(node: OnnxNode) -> tuple[str, Fields]:
        if node.weights or len(node.data) < 2:
            raise Unsupported(f"{node.op_type} with a constant")
        return kind, {}

    return convert


def _concat(node: OnnxNode) -> tuple[str, Fields]:
    if node.attr("axis", 1) not in (1, -3 if node.rank == 4 else -1):
        raise Unsupported(f"Concat along axis {node.attr('axis', 1)}")
    return _merge("concat")(node)


def _prelu(node: OnnxNode) -> tuple[str, Fields]:
    return "prelu", {"per_channel": node.weights[0].size > 1}


def _plain(kind: str, **fields: Any) -> Converter:
    return lambda node: (kind, dict(fields))


OPS: dict[str, Converter] = {
    "Conv": _conv,
    "ConvTranspose": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "LRN": lambda n: (
        "lrn",
        {
            "size": n.attr("size", 5),
            "alpha": _float(n.attr("alpha", 1e-4)),
            "beta": _float(n.attr("beta", 0.75)),
            "k": _float(n.attr("bias", 1.0)),
        },
    ),
    "Relu": _plain("relu"),
    "Clip": _clip,
    "LeakyRelu": lambda n: ("leaky_relu", {"negative_slope": _float(n.attr("alpha", 0.01))}),
    "Elu": lambda n: ("elu", {"alpha": _float(n.attr("alpha", 1.0))}),
    "Gelu": lambda n: ("gelu", {"approximate": n.attr("approximate", "none")}),
    "Sigmoid": _plain("sigmoid"),
    "Tanh": _plain("tanh"),
    "HardSwish": _plain("hardswish"),
    "HardSigmoid": _hardsigmoid,
    "Softmax": _softmax,
    "PRelu": _prelu,
    "MaxPool": _window("maxpool"),
    "AveragePool": _window("avgpool"),
    "GlobalAveragePool": _plain("global_avgpool"),
    "GlobalMaxPool": _plain("global_maxpool"),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dropout": lambda n: ("dropout", {"rate": _float(n.attr("ratio", 0.5))}),
    "Add": _merge("add"),
    "Sum": _merge("add"),
    "Mul": _merge("multiply"),
    "Concat": _concat,
}
"""The layer kind of each ONNX op type; an op type not listed is reported as unsupported."""

_SMALL = 64  # constants read as values (a Clip's bounds, a Reshape's shape); larger: sizes
# ops that only compute shapes or pass their input through
_SHAPE_OPS = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "Constant", "ConstantOfShape"}
_PASS_THROUGH = {"Identity"}
_FUNCTIONAL = {"Add", "Sum", "Mul", "Concat", "Flatten", "Reshape"}  # named in their scope


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
        model = onnx.load(str(path))
    except Exception as exc:  # a protobuf DecodeError, a truncated file
        raise SpecError(
            f"cannot read ONNX: {type(exc).__name__}: {str(exc)[:200]}",
            SourcePos(str(path)),
            "is this a .onnx file? export one with torch.onnx.export",
        ) from None
    graph = model.graph
    constants: dict[str, Any] = {init.name: init for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    if not inputs:
        raise SpecError("the ONNX graph has no input", SourcePos(str(path)))
    dims = [d.dim_value or 1 for d in inputs[0].type.tensor_type.shape.dim]
    try:
        input_shape = hwc(dims)
    except ValueError as exc:
        raise SpecError(f"input {inputs[0].name}: {exc}", SourcePos(str(path))) from None
    imported = Imported(path.stem, str(path), input_shape)
    produced: dict[str, str] = {inputs[0].name: INPUT}  # tensor → the layer that makes it
    derived: set[str] = set()  # tensors computed from shapes and constants only
    missing: set[str] = set()  # unsupported layers not imported, and what depends on them
    containers = _containers([_scope(n.name)[0] for n in graph.node])
    inferred: dict[str, list[int]] | None = None

    def value(name: str) -> Any:
        """A constant as an array; a large initializer only as its shape and dtype (a
        broadcast view of one zero), without reading its data."""
        held = constants.get(name)
        if held is None or not hasattr(held, "dims"):
            return held
        if math.prod(held.dims) <= _SMALL:
            return numpy_helper.to_array(held)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(held.data_type)
        return np.broadcast_to(np.zeros((), dtype), tuple(held.dims))

    for proto in graph.node:
        data = [i for i in proto.input if i in produced]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        if proto.op_type == "Constant":
            constants[proto.output[0]] = numpy_helper.to_array(attrs["value"])
            continue
        if not data and proto.op_type in _PASS_THROUGH and proto.input[0] in constants:
            constants[proto.output[0]] = constants[proto.input[0]]  # a shared initializer
            continue
        if not data or proto.op_type in _SHAPE_OPS:
            derived.update(proto.output)
            continue
        if proto.op_type in _PASS_THROUGH:
            produced[proto.output[0]] = produced[data[0]]
            continue
        constant_inputs = [i for i in proto.input if i not in produced and i not in derived]
        weights = [value(i) if i else None for i in constant_inputs]
        from_file = [hasattr(constants.get(i), "dims") for i in constant_inputs]
        sources = [produced[i] for i in data]
        blocked = bool(missing.intersection(sources))  # after an op that was not imported
        rank = 4 if len(imported.shapes.get(sources[0], (1, 1, 1))) == 3 else 2
        node = OnnxNode(proto.op_type, attrs, data, weights, from_file, rank)
        name = layer_name(proto.name or proto.output[0], proto.op_type, containers)
        convert = OPS.get(proto.op_type)
        try:
            if convert is None:
                raise Unsupported(proto.op_type)
            kind, fields = convert(node)
        except Unsupported:
            if allow_unsupported and inferred is None:
                inferred = _inferred_shapes(onnx, model)
            shape = inferred.get(proto.output[0]) if inferred else None
            made = imported.add_unsupported(
                allow_unsupported and not blocked,
                proto.op_type,
                name,
                sources,
                hwc(shape) if shape else None,
                node.weight_elements(),
            )
            produced[proto.output[0]] = made or name
            if made is None:
                missing.add(name)
            continue
        if blocked:  # only look for other unsupported ops
            produced[proto.output[0]] = name
            missing.add(name)
            continue
        produced[proto.output[0]] = imported.add(
            name, kind, fields, sources, node.weight_elements()
        )
    imported.check_supported(allow_unsupported)
    return imported


def _inferred_shapes(onnx: Any, model: Any) -> dict[str, list[int]]:
    """Every tensor's shape from ONNX's shape inference (for opaque layers)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference refuses some graphs; their opaque shapes stay unknown
        return {}
    out = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = [d.dim_value or 1 for d in info.type.tensor_type.shape.dim]
        if len(dims) in (2, 4):
            out[info.name] = dims
    return out
