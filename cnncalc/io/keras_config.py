"""Keras → imported layers, from the saved config alone (no TensorFlow, no Keras needed).

A `.keras` file is a zip whose `config.json` describes the model; `model.to_json()` writes
the same description. Each Keras class maps to a layer kind through `LAYERS`, one entry
each; layer names are kept. A layer's `activation:` becomes a layer of its own, `<name>.act`.
The config holds no weights, so the counts are cnncalc's alone (`model.count_params()` is
cnncalc's params + buffers: Keras counts BatchNorm's moving statistics as weights).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from cnncalc.io.keras_inputs import tensor_and_number
from cnncalc.layers import Shape

Fields = dict[str, Any]
Converter = Callable[[dict[str, Any], Shape], tuple[str, Fields]]


class Unsupported(Exception):
    """This layer (or this use of it) has no layer kind."""


def _rank(c: dict[str, Any], shape: Shape) -> int:
    """The spatial rank the layer acts on: its input's (L×C: 1, H×W×C: 2, D×H×W×C: 3)."""
    return max(len(shape) - 1, 1)


def _sizes(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    values = tuple(int(v) for v in value)
    if len(values) != rank:
        raise Unsupported(f"{len(values)} sizes for {rank} spatial axes")
    return values


def _padding(value: str, rank: int) -> Any:
    if value == "causal":
        raise Unsupported("causal padding")
    return "same" if value == "same" else (0,) * (2 * rank)


def _channels_last(c: dict[str, Any]) -> None:
    if c.get("data_format", "channels_last") not in (None, "channels_last"):
        raise Unsupported("data_format channels_first")


def _conv(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    _channels_last(c)
    rank = _rank(c, shape)
    return "conv", {
        "filters": c["filters"],
        "kernel": _sizes(c["kernel_size"], rank),
        "stride": _sizes(c.get("strides", 1), rank),
        "dilation": _sizes(c.get("dilation_rate", 1), rank),
        "groups": c.get("groups", 1),
        "bias": c.get("use_bias", True),
        "padding": _padding(c.get("padding", "valid"), rank),
    }


def _depthwise(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    channels = shape[-1]
    return "conv", {
        **_conv({**c, "filters": channels * c.get("depth_multiplier", 1)}, shape)[1],
        "groups": channels,
    }


def _conv_transpose(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    fields = _conv(c, shape)[1]
    fields["output_padding"] = _sizes(c.get("output_padding") or 0, _rank(c, shape))
    return "conv_transpose", fields


def _batchnorm(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    if c.get("axis", -1) not in (-1, len(shape), [len(shape)], [-1]):
        raise Unsupported("BatchNormalization over another axis than the channels")
    momentum = float(f"{1.0 - c.get('momentum', 0.99):.7g}")  # Keras keeps 1 − PyTorch's
    scale, center = c.get("scale", True), c.get("center", True)
    return "batchnorm", {
        "eps": c.get("epsilon", 1e-3),
        "momentum": momentum,
        "affine": scale or center,
        "scale": scale or not center,
        "center": center or not scale,
    }


def _over_channels(c: dict[str, Any], shape: Shape, what: str) -> None:
    axis = c.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, len(shape)):
        raise Unsupported(f"{what} over another axis than the channels")


def _layernorm(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    _over_channels(c, shape, "LayerNormalization")
    scale, center = c.get("scale", True), c.get("center", True)
    if c.get("rms_scaling") or (center and not scale):
        raise Unsupported("LayerNormalization with RMS scaling, or an offset without a scale")
    return "layernorm", {"eps": c.get("epsilon", 1e-3), "elementwise_affine": scale, "bias": center}


def _groupnorm(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    _over_channels(c, shape, "GroupNormalization")
    if c.get("scale", True) != c.get("center", True):
        raise Unsupported("GroupNormalization with only one of center and scale")
    return "groupnorm", {
        "groups": c.get("groups", 32),
        "eps": c.get("epsilon", 1e-3),
        "affine": c.get("scale", True),
    }


def _unit_norm(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    _over_channels(c, shape, "UnitNormalization")
    return "l2norm", {}


def _dense(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    """Keras' Dense acts on the last axis: at every position of a spatial input (after a
    global pooling, cnncalc's 1×1×C, the plain dense gives Keras' flat output)."""
    fields: Fields = {"units": c["units"], "bias": c.get("use_bias", True)}
    return "dense", {**fields, "per_position": True} if math.prod(shape[:-1]) > 1 else fields


def _rescaling(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    factor, offset = c.get("scale", 1.0), c.get("offset", 0.0)
    if not isinstance(factor, int | float) or not isinstance(offset, int | float):
        raise Unsupported("Rescaling with a factor or an offset per channel")
    return "scale", {"factor": float(factor), "offset": float(offset)}


def with_number(cls: str, layer: dict[str, Any]) -> Fields | None:
    """The `scale` fields of an op layer on one tensor and a number (`x + 3.0`, `x * 0.5`,
    `x - 1`, `1 - x`, `x / 6`), or None."""
    if cls not in ("Add", "Multiply", "Subtract", "Divide", "TrueDivide"):
        return None
    found = tensor_and_number(layer.get("inbound_nodes"))
    if found is None:
        return None
    at, number = found
    if cls == "Add":
        return {"offset": number}
    if cls == "Multiply":
        return {"factor": number}
    if cls == "Subtract":
        return {"offset": -number} if at == 0 else {"factor": -1.0, "offset": number}
    if cls in ("Divide", "TrueDivide") and at == 0 and number != 0:
        return {"factor": 1.0 / number}
    return None


def _pool(kind: str) -> Converter:
    def convert(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
        _channels_last(c)
        rank = _rank(c, shape)
        fields: Fields = {
            "kernel": _sizes(c.get("pool_size", 2), rank),
            "stride": _sizes(c.get("strides") or c.get("pool_size", 2), rank),
            "padding": _padding(c.get("padding", "valid"), rank),
        }
        if kind == "avgpool":  # Keras averages over the real pixels only
            fields["count_include_pad"] = False
        return kind, fields

    return convert


def _relu(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    if c.get("threshold", 0):
        raise Unsupported("ReLU with a threshold")
    if c.get("negative_slope", 0):
        return "leaky_relu", {"negative_slope": c["negative_slope"]}
    if c.get("max_value") is None:
        return "relu", {}
    if c["max_value"] == 6:
        return "relu6", {}
    raise Unsupported(f"ReLU capped at {c['max_value']}")


ACTIVATIONS = {
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "swish": "silu",
    "silu": "silu",
    "hard_swish": "hardswish",
    "hard_silu": "hardswish",
    "hard_sigmoid": "hardsigmoid",
    "gelu": "gelu",
    "elu": "elu",
    "leaky_relu": "leaky_relu",
    "mish": "mish",
    "selu": "selu",
    "softplus": "softplus",
    "log_softmax": "log_softmax",
    "celu": "celu",
    "glu": "glu",
    "hard_tanh": "hardtanh",
}
"""Keras activation names → kinds (`linear` is no layer)."""


def activation_kind(name: Any) -> str | None:
    if name in (None, "linear"):
        return None
    if name not in ACTIVATIONS:
        raise Unsupported(f"activation {name}")
    return ACTIVATIONS[name]


def _activation(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    kind = activation_kind(c.get("activation"))
    return (kind, {}) if kind else ("", {})


def _concat(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    if c.get("axis", -1) not in (-1, len(shape)):
        raise Unsupported(f"Concatenate along axis {c.get('axis')}")
    return "concat", {}


def _global(kind: str) -> Converter:
    def convert(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
        _channels_last(c)
        return kind, {} if c.get("keepdims") else {"keepdims": False}

    return convert


def _sides(value: Any, rank: int) -> tuple[int, ...]:
    """ZeroPadding's and Cropping's `padding`/`cropping`: n, one n per axis, or a (before,
    after) pair per axis — as (before, after) per axis."""
    if isinstance(value, int):
        return (value,) * (2 * rank)
    items = list(value)
    if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return (int(items[0]), int(items[1]))
    if len(items) != rank:
        raise Unsupported(f"{len(items)} sizes for {rank} spatial axes")
    return tuple(int(p) for v in items for p in ((v, v) if isinstance(v, int) else v))


def _border(kind: str, key: str) -> Converter:
    def convert(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
        _channels_last(c)
        field = "padding" if kind == "pad" else "cropping"
        return kind, {field: _sides(c.get(key, 1), _rank(c, shape))}

    return convert


_INTERPOLATIONS = {"nearest": "nearest", "bicubic": "bicubic", "bilinear": "bilinear"}


def _upsampling(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    _channels_last(c)
    rank = _rank(c, shape)
    mode = c.get("interpolation", "nearest")
    if mode not in _INTERPOLATIONS or (mode != "nearest" and rank != 2):
        raise Unsupported(f"UpSampling with {mode} interpolation")
    scale = _sizes(c.get("size", 2), rank)
    return "upsample", {"scale": scale[0] if len(set(scale)) == 1 else scale, "mode": mode}


def _resizing(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    _channels_last(c)
    mode = c.get("interpolation", "bilinear")
    if mode not in _INTERPOLATIONS or c.get("crop_to_aspect_ratio") or c.get("pad_to_aspect_ratio"):
        raise Unsupported(f"Resizing with {mode} interpolation, or keeping the aspect ratio")
    if len(shape) != 3:
        raise Unsupported("Resizing of other than H×W×C")
    return "upsample", {"size": (int(c["height"]), int(c["width"])), "mode": mode}


def _layer_scale(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    """keras.applications' ConvNeXt LayerScale: a learned γ per channel."""
    if c.get("projection_dim", shape[-1]) != shape[-1]:
        raise Unsupported("LayerScale whose projection_dim is not the channels")
    return "layer_scale", {"init": c.get("init_values", 1e-6)}


def _normalization(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    """Preprocessing's Normalization over the channels: its statistics given in the config
    (constants), or learned by adapt() (weights)."""
    if c.get("axis", -1) not in (-1, len(shape), [len(shape)], [-1]) or c.get("invert"):
        raise Unsupported("Normalization over another axis than the channels, or inverted")
    return "standardize", {"adapted": c.get("mean") is None or c.get("variance") is None}


def _reshape(c: dict[str, Any], shape: Shape) -> tuple[str, Fields]:
    """A Reshape to one axis of every element is a flatten (H, W, C order in both)."""
    if tuple(c.get("target_shape") or ()) in ((math.prod(shape),), (-1,)):
        return "flatten", {}
    raise Unsupported("Reshape other than to a flat vector")


# A class that is several layers: each step's suffix to the Keras name (the last step's is
# ""), its kind and fields, and its inputs as indices into [*the layer's inputs, *the steps'].
Steps = list[tuple[str, str, Fields, list[int]]]


def _separable(c: dict[str, Any], shape: Shape) -> Steps:
    """SeparableConv1D/2D: a depthwise conv (C·multiplier filters, no bias), then a 1×1."""
    _, depthwise = _depthwise({**c, "use_bias": False}, shape)
    pointwise = {"filters": c["filters"], "kernel": 1, "bias": c.get("use_bias", True)}
    return [(".depthwise", "conv", depthwise, [0]), ("", "conv", pointwise, [1])]


def _custom_scale(c: dict[str, Any], shape: Shape) -> Steps:
    """keras.applications' InceptionResNetV2 residual: x + r·scale."""
    return [(".scale", "scale", {"factor": float(c["scale"])}, [1]), ("", "add", {}, [0, 2])]


COMPOSITES: dict[str, Callable[[dict[str, Any], Shape], Steps]] = {
    "SeparableConv1D": _separable,
    "SeparableConv2D": _separable,
    "CustomScaleLayer": _custom_scale,
}


def _plain(kind: str, **fields: str) -> Converter:
    """A kind whose fields are config keys: field → key."""
    return lambda c, shape: (kind, {f: c[key] for f, key in fields.items() if key in c})


LAYERS: dict[str, Converter] = {
    **{f"Conv{r}D": _conv for r in (1, 2, 3)},
    **{f"Convolution{r}D": _conv for r in (1, 2, 3)},
    **{f"DepthwiseConv{r}D": _depthwise for r in (1, 2)},
    **{f"Conv{r}DTranspose": _conv_transpose for r in (1, 2, 3)},
    **{f"MaxPooling{r}D": _pool("maxpool") for r in (1, 2, 3)},
    **{f"AveragePooling{r}D": _pool("avgpool") for r in (1, 2, 3)},
    **{f"GlobalAveragePooling{r}D": _global("global_avgpool") for r in (1, 2, 3)},
    **{f"GlobalMaxPooling{r}D": _global("global_maxpool") for r in (1, 2, 3)},
    **{f"SpatialDropout{r}D": _plain("dropout", rate="rate") for r in (1, 2, 3)},
    "Dense": _dense,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "GroupNormalization": _groupnorm,
    "UnitNormalization": _unit_norm,
    "Normalization": _normalization,
    "LayerScale": _layer_scale,
    "Rescaling": _rescaling,
    "Activation": _activation,
    "ReLU": _relu,
    "LeakyReLU": lambda c, shape: (
        "leaky_relu",
        {"negative_slope": c.get("negative_slope", c.get("alpha", 0.3))},
    ),
    "ELU": _plain("elu", alpha="alpha"),
    "Softmax": lambda c, shape: ("softmax", {}),
    "Flatten": lambda c, shape: ("flatten", {}),
    "Reshape": _reshape,
    "Dropout": _plain("dropout", rate="rate"),
    "Identity": lambda c, shape: ("identity", {}),
    "Add": lambda c, shape: ("add", {}),
    "Multiply": lambda c, shape: ("multiply", {}),
    "Concatenate": _concat,
    **{f"UpSampling{r}D": _upsampling for r in (1, 2, 3)},
    "Resizing": _resizing,
    **{f"ZeroPadding{r}D": _border("pad", "padding") for r in (1, 2, 3)},
    **{f"Cropping{r}D": _border("crop", "cropping") for r in (1, 2, 3)},
}
"""The layer kind of each Keras class; a class not listed is reported as unsupported."""


def _reshape_shape(c: dict[str, Any], shape: Shape) -> Shape:
    target = [int(d) for d in c["target_shape"]]
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = math.prod(shape) // known
    return tuple(target)


def _same(c: dict[str, Any], shape: Shape) -> Shape:
    return shape


def _normalization_counts(c: dict[str, Any], shape: Shape) -> tuple[int, int]:
    """(params, buffers) of BatchNormalization / LayerNormalization with center or scale."""
    learned = int(c.get("center", True)) + int(c.get("scale", True))
    statistics = 2 if c.get("class") == "BatchNormalization" else 0
    return learned * shape[-1], statistics * shape[-1]


# for classes without a kind: their output shape (and params, buffers), for the opaque layer
OPAQUE_SHAPES: dict[str, Callable[[dict[str, Any], Shape], Shape]] = {
    "Reshape": _reshape_shape,
    "Rescaling": _same,
    "Normalization": _same,
    "BatchNormalization": _same,
    "LayerNormalization": _same,
    "Add": _same,  # `x + 3.0`: a merge with a constant
    "Multiply": _same,
}


def _preprocessing_counts(c: dict[str, Any], shape: Shape) -> tuple[int, int]:
    """Normalization's mean, variance and count, as weights when `adapt` learns them; given
    in the config (ConvNeXt's ImageNet statistics), they are constants and not counted."""
    if c.get("mean") is not None and c.get("variance") is not None:
        return 0, 0
    return 0, 2 * shape[-1] + 1


OPAQUE_COUNTS: dict[str, Callable[[dict[str, Any], Shape], tuple[int, int]]] = {
    "BatchNormalization": _normalization_counts,
    "LayerNormalization": _normalization_counts,
    "Normalization": _preprocessing_counts,
}
