"""Each kind's PyTorch module, as `Call`s (the table in `frameworks` picks one per kind)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cnncalc.graph import Node
from cnncalc.io.calls import (
    Call,
    Pads,
    Raw,
    Unsupported,
    call,
    nd,
    non_defaults,
    square,
    symmetric,
    torch_pads,
    window_pads,
)
from cnncalc.layers import Shape
from cnncalc.layers.base import per_axis, resolve_padding

# --- PyTorch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchLayer:
    """A layer in PyTorch: its module, and what the forward does around it."""

    module: Call
    pad: Pads | None = None  # (before, after) per axis padded in front (F.pad / ZeroPad2d)
    pad_value: float = 0.0
    crop: Pads | None = None  # (before, after) per axis cut from the output (conv_transpose)


def torch_window(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    kind = node.kind
    kernel, stride, dilation = op.axes(len(shape) - 1)
    pads = window_pads(op, shape)
    # torch pads natively only symmetrically, and pools at most ⌊kernel/2⌋ (with ceil_mode
    # and count_include_pad reading their own padding): a pool's `same` is explicit padding
    native = (op.padding != "same" or kind == "conv") and symmetric(pads)
    if kind != "conv" and any(2 * p > kernel[a // 2] for a, p in enumerate(pads)):
        native = False
    padding = square(pads[::2]) if native else 0
    common = {"stride": square(stride), "padding": padding}
    if kind == "conv":
        options = non_defaults(
            {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True},
            **common,
            dilation=square(dilation),
            groups=op.groups,
            bias=op.bias,
        )
        module = call(nd("nn.Conv", shape), shape[-1], op.filters, square(kernel), **options)
    elif kind == "maxpool":
        options = non_defaults(
            {"padding": 0, "dilation": 1, "ceil_mode": False},
            **common,
            dilation=square(dilation),
            ceil_mode=op.ceil_mode,
        )
        module = call(nd("nn.MaxPool", shape), square(kernel), **options)
    else:
        options = non_defaults(
            {"padding": 0, "ceil_mode": False, "count_include_pad": True},
            **common,
            ceil_mode=op.ceil_mode,
            count_include_pad=op.count_include_pad,
        )
        module = call(nd("nn.AvgPool", shape), square(kernel), **options)
    if native or not any(pads):
        return TorchLayer(module)
    if kind != "conv" and op.ceil_mode:
        raise Unsupported("ceil_mode pooling with `same`, asymmetric or wide padding")
    if kind == "avgpool" and not op.count_include_pad:
        raise Unsupported("count_include_pad=false with `same`, asymmetric or wide padding")
    return TorchLayer(module, pads, -math.inf if kind == "maxpool" else 0.0)


def torch_transpose(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    rank = len(shape) - 1
    kernel, stride, dilation = op.axes(rank)
    crop = op.resolved_padding(shape[:-1])
    native = symmetric(crop)
    options = non_defaults(
        {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1},
        stride=square(stride),
        padding=square(crop[::2]) if native else 0,
        output_padding=square(per_axis(op.output_padding, rank, "output_padding")),
        groups=op.groups,
        bias=op.bias,
        dilation=square(dilation),
    )
    name = nd("nn.ConvTranspose", shape)
    module = call(name, shape[-1], op.filters, square(kernel), **options)
    return TorchLayer(module, crop=None if native else crop)


def torch_batchnorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    if op.affine and not (op.scale and op.center):  # Keras' γ or β alone
        return TorchLayer(call("PartialBatchNorm", shape[-1], op.eps, op.scale, op.center))
    options = non_defaults(
        {"eps": 1e-5, "momentum": 0.1, "affine": True},
        eps=op.eps,
        momentum=op.momentum,
        affine=op.affine,
    )
    return TorchLayer(call(nd("nn.BatchNorm", shape), shape[-1], **options))


def torch_module(
    func: str, fixed: Mapping[str, Any] | None = None, **fields: str
) -> Callable[[Node, Shape], TorchLayer]:
    """A module whose keyword arguments are the layer's fields (torch's name=the field's),
    plus `fixed` ones."""

    def make(node: Node, shape: Shape) -> TorchLayer:
        values = {key: getattr(node.op, name) for key, name in fields.items()}
        return TorchLayer(call(func, **values, **(fixed or {})))

    return make


# F.* forms of the parameter-free modules, for `functional: true` layers (the input first)
TORCH_FUNCTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "nn.ReLU": ("F.relu", {}),
    "nn.ReLU6": ("F.relu6", {}),
    "nn.LeakyReLU": ("F.leaky_relu", {}),
    "nn.ELU": ("F.elu", {}),
    "nn.GELU": ("F.gelu", {}),
    "nn.Sigmoid": ("torch.sigmoid", {}),
    "nn.Tanh": ("torch.tanh", {}),
    "nn.SiLU": ("F.silu", {}),
    "nn.Hardswish": ("F.hardswish", {}),
    "nn.Hardsigmoid": ("F.hardsigmoid", {}),
    "nn.Softmax": ("F.softmax", {}),
    "nn.Dropout": ("F.dropout", {"training": Raw("self.training")}),
    "nn.LocalResponseNorm": ("F.local_response_norm", {}),
    "nn.Upsample": ("F.interpolate", {}),
    **{
        f"nn.{module}{rank}d": (f"F.{function}{rank}d", {})
        for rank in (1, 2, 3)
        for module, function in (
            ("MaxPool", "max_pool"),
            ("AvgPool", "avg_pool"),
            ("AdaptiveAvgPool", "adaptive_avg_pool"),
            ("AdaptiveMaxPool", "adaptive_max_pool"),
        )
    },
}


def torch_functional(module: Call) -> Call | None:
    """The F.* call that does what `module` does, or None (it has weights)."""
    if module.func not in TORCH_FUNCTIONS:
        return None
    func, extra = TORCH_FUNCTIONS[module.func]
    return Call(func, module.args, module.kwargs + tuple(extra.items()))


def torch_dense(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = non_defaults({"bias": True}, bias=op.bias)
    if op.per_position:
        return TorchLayer(call("ChannelsLastLinear", shape[-1], op.units, **options))
    return TorchLayer(call("nn.Linear", math.prod(shape), op.units, **options))


def torch_layernorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = non_defaults(
        {"eps": 1e-5, "elementwise_affine": True, "bias": True},
        eps=op.eps,
        elementwise_affine=op.elementwise_affine,
        bias=op.bias,
    )
    return TorchLayer(call("ChannelsLastLayerNorm", shape[-1], **options))


def torch_groupnorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = non_defaults({"eps": 1e-5, "affine": True}, eps=op.eps, affine=op.affine)
    return TorchLayer(call("nn.GroupNorm", op.groups, shape[-1], **options))


def torch_instancenorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = non_defaults(
        {"eps": 1e-5, "momentum": 0.1, "affine": False, "track_running_stats": False},
        eps=op.eps,
        momentum=op.momentum,
        affine=op.affine,
        track_running_stats=op.track_running_stats,
    )
    return TorchLayer(call(nd("nn.InstanceNorm", shape), shape[-1], **options))


def torch_global(func: str) -> Callable[[Node, Shape], TorchLayer]:
    """The adaptive pool to 1; without `keepdims`, flattened as Keras' global pooling is."""

    def make(node: Node, shape: Shape) -> TorchLayer:
        pool = call(nd(func, shape), 1)
        keep = node.op.keepdims  # type: ignore[attr-defined]
        return TorchLayer(pool if keep else call("nn.Sequential", pool, call("nn.Flatten")))

    return make


def torch_adaptive(func: str) -> Callable[[Node, Shape], TorchLayer]:
    def make(node: Node, shape: Shape) -> TorchLayer:
        output = per_axis(node.op.output, len(shape) - 1, "output")  # type: ignore[attr-defined]
        return TorchLayer(call(nd(func, shape), square(output)))

    return make


PAD_MODULES = {
    "constant": "nn.ConstantPad",
    "reflect": "nn.ReflectionPad",
    "replicate": "nn.ReplicationPad",
    "circular": "nn.CircularPad",
}


def torch_upsample(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options: dict[str, Any] = {"size": op.size} if op.size is not None else {}
    if op.scale is not None:
        options["scale_factor"] = op.scale
    options["mode"] = op.mode
    if op.mode != "nearest":
        options["align_corners"] = op.align_corners
    return TorchLayer(call("nn.Upsample", **options))


def torch_pad(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    pads = torch_pads(resolve_padding(op.padding, len(shape) - 1))
    if op.mode == "constant":
        return TorchLayer(call(nd("nn.ConstantPad", shape), pads, op.value))
    return TorchLayer(call(nd(PAD_MODULES[op.mode], shape), pads))


def torch_crop(node: Node, shape: Shape) -> TorchLayer:
    cuts = resolve_padding(node.op.cropping, len(shape) - 1, "cropping")  # type: ignore[attr-defined]
    return TorchLayer(call("Crop", cuts))


def torch_scale(node: Node, shape: Shape) -> TorchLayer:
    """`ScaleBy` (a helper module of the exported file), without an offset of 0."""
    op: Any = node.op
    return TorchLayer(
        call("ScaleBy", **non_defaults({"offset": 0.0}, factor=op.factor, offset=op.offset))
    )


def torch_standardize(node: Node, shape: Shape) -> TorchLayer:
    """`Standardize` (a helper module of the exported file), `adapted` when it is."""
    adapted = non_defaults({"adapted": False}, adapted=node.op.adapted)  # type: ignore[attr-defined]
    return TorchLayer(call("Standardize", shape[-1], **adapted))
