"""ONNX ops → layer kinds, one converter per op type (`OPS`), at any spatial rank.

A converter sees one node (`OnnxNode`: attributes, data inputs, constant inputs, its input's
rank and channel axis) and returns the kind and its fields, or raises `Unsupported`. The
reader (`onnx_reader`) walks the graph, follows the patterns that span several nodes, and
calls these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    channels_last: bool = False  # its input has its channels last (after a Transpose)

    def attr(self, name: str, default: Any) -> Any:
        return self.attrs.get(name, default)

    @property
    def spatial(self) -> int:
        return max(self.rank - 2, 1)

    def is_channels(self, axis: Any) -> bool:
        """Whether ONNX's `axis` names the channels of the input."""
        axis = int(axis) % self.rank
        return bool(axis == (self.rank - 1 if self.channels_last or self.rank == 2 else 1))

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


def _sizes(values: list[int], rank: int) -> tuple[int, ...]:
    if len(values) != rank:
        raise Unsupported(f"{len(values)} values for {rank} spatial axes")
    return tuple(int(v) for v in values)


def _pads(node: OnnxNode, rank: int) -> Any:
    auto = node.attr("auto_pad", "NOTSET")
    if auto == "SAME_UPPER":
        return "same"
    if auto == "VALID":
        return (0,) * (2 * rank)
    if auto != "NOTSET":
        raise Unsupported(f"auto_pad {auto}")
    pads = [int(p) for p in node.attr("pads", [0] * (2 * rank))]
    if len(pads) != 2 * rank:
        raise Unsupported(f"{len(pads)} pads for {rank} spatial axes")
    # ONNX lists every axis' start, then every axis' end; cnncalc (before, after) per axis
    return tuple(p for axis in range(rank) for p in (pads[axis], pads[rank + axis]))


def _conv(node: OnnxNode) -> tuple[str, Fields]:
    weight = node.weights[0]
    rank = weight.ndim - 2
    ones = [1] * rank
    groups = node.attr("group", 1)
    fields: Fields = {
        "kernel": _sizes(node.attr("kernel_shape", list(weight.shape[2:])), rank),
        "stride": _sizes(node.attr("strides", ones), rank),
        "dilation": _sizes(node.attr("dilations", ones), rank),
        "groups": groups,
        "bias": len(node.weights) > 1 and node.weights[1] is not None,
        "padding": _pads(node, rank),
    }
    if node.op_type == "Conv":
        return "conv", {"filters": int(weight.shape[0]), **fields}
    if "output_shape" in node.attrs:
        raise Unsupported("an explicit output_shape")
    return "conv_transpose", {
        "filters": int(weight.shape[1]) * groups,
        "output_padding": _sizes(node.attr("output_padding", [0] * rank), rank),
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
    fields: Fields = {"units": int(node.weights[0].shape[1]), "bias": False}
    if node.rank > 2 and not node.channels_last:
        raise Unsupported("a MatMul over the last spatial axis")
    return "dense", {**fields, "per_position": True} if node.rank > 2 else fields


def _batchnorm(node: OnnxNode) -> tuple[str, Fields]:
    momentum = _float(1.0 - _float(node.attr("momentum", 0.9)))  # ONNX keeps 1 − PyTorch's
    return "batchnorm", {"eps": _float(node.attr("epsilon", 1e-5)), "momentum": momentum}


def _normalization(node: OnnxNode) -> tuple[str, Fields]:
    eps = _float(node.attr("epsilon", 1e-5))
    if node.op_type == "InstanceNormalization":  # torch writes affine=False as constants
        return "instancenorm", {"eps": eps, "affine": all(node.initializers[:2])}
    if node.op_type == "GroupNormalization":
        return "groupnorm", {"groups": int(node.attr("num_groups", 1)), "eps": eps}
    if node.attr("axis", -1) % node.rank != node.rank - 1 or not node.is_channels(-1):
        raise Unsupported("LayerNormalization over more than the channels")
    return "layernorm", {"eps": eps, "bias": len(node.weights) > 1 and node.weights[1] is not None}


def _bounds(node: OnnxNode) -> tuple[float | None, float | None]:
    low, high = node.attr("min", None), node.attr("max", None)
    if node.weights:
        low = None if node.weights[0] is None else float(node.weights[0])
        high = None if len(node.weights) < 2 or node.weights[1] is None else float(node.weights[1])
    return low, high


def _clip(node: OnnxNode) -> tuple[str, Fields]:
    low, high = _bounds(node)
    if low == 0.0 and high == 6.0:
        return "relu6", {}
    if low == 0.0 and high is None:
        return "relu", {}
    if low is None or high is None:
        raise Unsupported("Clip with one bound other than ReLU's")
    return "hardtanh", {"min": _float(low), "max": _float(high)}


def _window(kind: str) -> Converter:
    def convert(node: OnnxNode) -> tuple[str, Fields]:
        rank = node.spatial
        fields: Fields = {
            "kernel": _sizes(node.attr("kernel_shape", []), rank),
            "stride": _sizes(node.attr("strides", [1] * rank), rank),
            "padding": _pads(node, rank),
            "ceil_mode": bool(node.attr("ceil_mode", 0)),
        }
        if kind == "maxpool":
            fields["dilation"] = _sizes(node.attr("dilations", [1] * rank), rank)
        else:
            fields["count_include_pad"] = bool(node.attr("count_include_pad", 0))
        return kind, fields

    return convert


def _over_channels(kind: str, default: int) -> Converter:
    def convert(node: OnnxNode) -> tuple[str, Fields]:
        if not node.is_channels(node.attr("axis", default)):
            raise Unsupported(f"{node.op_type} over axis {node.attr('axis', default)}")
        return kind, {}

    return convert


def _hardsigmoid(node: OnnxNode) -> tuple[str, Fields]:
    if (
        not math.isclose(node.attr("alpha", 0.2), 1 / 6, rel_tol=1e-6)
        or node.attr("beta", 0.5) != 0.5
    ):
        raise Unsupported("HardSigmoid other than relu6(x + 3)/6")
    return "hardsigmoid", {}


def _selu(node: OnnxNode) -> tuple[str, Fields]:
    if not math.isclose(node.attr("alpha", 1.67326), 1.6732632, rel_tol=1e-5) or not (
        math.isclose(node.attr("gamma", 1.0507), 1.0507010, rel_tol=1e-5)
    ):
        raise Unsupported("Selu with other constants than torch's")
    return "selu", {}


def _flatten(node: OnnxNode) -> tuple[str, Fields]:
    if node.attr("axis", 1) != 1 or node.channels_last:
        raise Unsupported(f"Flatten from axis {node.attr('axis', 1)}")
    return "flatten", {}


def _reshape(node: OnnxNode) -> tuple[str, Fields]:
    shape = node.weights[0] if node.weights else None
    if (shape is None or shape.size == 2) and not node.channels_last:
        return "flatten", {}  # N × everything: what `x.view(x.size(0), -1)` exports
    raise Unsupported(f"Reshape to {list(map(int, shape)) if shape is not None else '?'}")


def _merge(kind: str) -> Converter:
    def convert(node: OnnxNode) -> tuple[str, Fields]:
        if node.weights or len(node.data) < 2:
            raise Unsupported(f"{node.op_type} with a constant")
        return kind, {}

    return convert


def _concat(node: OnnxNode) -> tuple[str, Fields]:
    if not node.is_channels(node.attr("axis", 1)):
        raise Unsupported(f"Concat along axis {node.attr('axis', 1)}")
    return _merge("concat")(node)


def _reduce_mean(node: OnnxNode) -> tuple[str, Fields]:
    axes = node.attr("axes", None)
    if axes is None and node.weights and node.weights[0] is not None:
        axes = [int(a) for a in node.weights[0].flatten()]
    if axes is None or node.channels_last:
        raise Unsupported("ReduceMean over every axis, or over channels-last axes")
    rank = node.rank
    out: list[Any] = []
    for axis in sorted(int(a) % rank for a in axes):
        if axis == 0:
            raise Unsupported("ReduceMean over the batch")
        out.append("channels" if axis == 1 else axis - 2)
    if rank > 2 and out == list(range(rank - 2)):
        out = ["spatial"]
    return "mean", {"axes": tuple(out), "keepdims": bool(node.attr("keepdims", 1))}


def _prelu(node: OnnxNode) -> tuple[str, Fields]:
    return "prelu", {"per_channel": node.weights[0].size > 1}


_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _resize(node: OnnxNode) -> tuple[str, Fields]:
    """Resize (opset 11+: roi, scales, sizes inputs) and Upsample (scales); a size or a scale
    per spatial axis, the batch and channels kept."""
    mode, rank = node.attr("mode", "nearest"), node.spatial
    # not written: Upsample and opset 10's Resize, whose only linear and nearest modes are
    # what PyTorch's exporter writes for its bilinear and nearest
    coordinates = node.attr("coordinate_transformation_mode", None)
    if node.op_type == "Upsample" or len(node.weights) == 1:  # (X, scales): opset < 11
        scales, sizes = node.attr("scales", node.weights[0] if node.weights else None), None
    else:
        given = [*node.weights, None, None, None][:3]
        scales, sizes = given[1], given[2]
        if scales is not None and np.asarray(scales).size == 0:
            scales = None
        if node.attr("antialias", 0) or node.attr("keep_aspect_ratio_policy", "stretch") != (
            "stretch"
        ):
            raise Unsupported("Resize with antialias or a kept aspect ratio")
    if node.channels_last or node.rank < 3 or "axes" in node.attrs:
        raise Unsupported("Resize of other than N×C×spatial")
    fields: Fields = {}
    if mode == "nearest":  # PyTorch's: the source pixel ⌊out · in/out⌋
        if coordinates not in (None, "asymmetric") or node.attr("nearest_mode", "floor") != "floor":
            raise Unsupported(f"nearest Resize with {coordinates} coordinates (not PyTorch's)")
        fields["mode"] = "nearest"
    elif mode in ("linear", "cubic"):
        if coordinates not in (None, "align_corners", "half_pixel", "pytorch_half_pixel"):
            raise Unsupported(f"Resize {mode} with coordinate_transformation_mode {coordinates}")
        if mode == "cubic" and not math.isclose(node.attr("cubic_coeff_a", -0.75), -0.75):
            raise Unsupported("cubic Resize with another coefficient than PyTorch's")
        fields["mode"] = _LINEAR[rank] if mode == "linear" else "bicubic"
        fields["align_corners"] = coordinates == "align_corners"
    else:
        raise Unsupported(f"Resize mode {mode}")
    kept: list[int | float]
    if sizes is not None:
        kept = [int(v) for v in np.asarray(sizes).flatten()]
        key, batch = "size", (1.0, 1.0)
    elif scales is not None:
        numbers = [float(v) for v in np.asarray(scales).flatten()]
        key, batch = "scale", (numbers[0], numbers[1]) if len(numbers) > 1 else (0.0, 0.0)
        kept = [int(v) if v.is_integer() else v for v in numbers]
    else:
        raise Unsupported("Resize without constant scales or sizes")
    kept = kept[2:]
    if len(kept) != rank or batch != (1, 1):
        raise Unsupported("Resize of the batch or the channels")
    return "upsample", {**fields, key: kept[0] if len(set(kept)) == 1 else tuple(kept)}


def _depth_to_space(node: OnnxNode) -> tuple[str, Fields]:
    if node.op_type == "DepthToSpace" and node.attr("mode", "DCR") != "CRD":
        raise Unsupported("DepthToSpace in DCR order (cnncalc's pixel_shuffle is CRD, PyTorch's)")
    kind = "pixel_shuffle" if node.op_type == "DepthToSpace" else "pixel_unshuffle"
    return kind, {"factor": int(node.attr("blocksize", 1))}


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _pad(node: OnnxNode) -> tuple[str, Fields]:
    """Pad: every axis' begin, then every axis' end (or those of `axes`)."""
    mode = node.attr("mode", "constant")
    given = [*node.weights, None, None, None][:3]
    pads = node.attr("pads", None) if given[0] is None else given[0]
    if pads is None or mode not in _PAD_MODES or node.channels_last or node.rank < 3:
        raise Unsupported(f"Pad in mode {mode}, without constant pads, or of other than N×C×…")
    pads = [int(p) for p in np.asarray(pads).flatten()]
    axes = list(range(node.rank)) if given[2] is None else [int(a) for a in given[2].flatten()]
    half = len(pads) // 2
    per_axis = {a % node.rank: (pads[i], pads[half + i]) for i, a in enumerate(axes[:half])}
    if any(per_axis.get(a, (0, 0)) != (0, 0) for a in (0, 1)):
        raise Unsupported("Pad of the batch or the channels")
    if any(p < 0 for p in pads):
        raise Unsupported("negative pads (a crop)")
    value = 0.0 if given[1] is None or given[1].size == 0 else float(given[1].flatten()[0])
    padding = tuple(p for a in range(2, node.rank) for p in per_axis.get(a, (0, 0)))
    return "pad", {"padding": padding, "mode": _PAD_MODES[mode], "value": _float(value)}


def _plain(kind: str, **fields: Any) -> Converter:
    return lambda node: (kind, dict(fields))


OPS: dict[str, Converter] = {
    "Conv": _conv,
    "ConvTranspose": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _normalization,
    "GroupNormalization": _normalization,
    "InstanceNormalization": _normalization,
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
    "Celu": lambda n: ("celu", {"alpha": _float(n.attr("alpha", 1.0))}),
    "Selu": _selu,
    "Gelu": lambda n: ("gelu", {"approximate": n.attr("approximate", "none")}),
    "Sigmoid": _plain("sigmoid"),
    "Tanh": _plain("tanh"),
    "Mish": _plain("mish"),
    "Softplus": _plain("softplus"),
    "HardSwish": _plain("hardswish"),
    "HardSigmoid": _hardsigmoid,
    "Softmax": _over_channels("softmax", -1),
    "LogSoftmax": _over_channels("log_softmax", -1),
    "PRelu": _prelu,
    "MaxPool": _window("maxpool"),
    "AveragePool": _window("avgpool"),
    "GlobalAveragePool": _plain("global_avgpool"),
    "GlobalMaxPool": _plain("global_maxpool"),
    "ReduceMean": _reduce_mean,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dropout": lambda n: ("dropout", {"rate": _float(n.attr("ratio", 0.5))}),
    "Add": _merge("add"),
    "Sum": _merge("add"),
    "Mul": _merge("multiply"),
    "Concat": _concat,
    "Resize": _resize,
    "Upsample": _resize,
    "DepthToSpace": _depth_to_space,
    "SpaceToDepth": _depth_to_space,
    "Pad": _pad,
}
"""The layer kind of each ONNX op type; an op type not listed is reported as unsupported."""

PER_POSITION = {
    "relu", "relu6", "leaky_relu", "elu", "celu", "selu", "gelu", "sigmoid", "tanh", "mish",
    "softplus", "hardswish", "hardsigmoid", "hardtanh", "softmax", "log_softmax", "dropout",
    "layernorm", "dense", "add", "multiply",
}  # fmt: skip
"""Kinds that act on each position's channels alone, so they run on a channels-last tensor
(between ConvNeXt's Transposes) as on a channels-first one."""
