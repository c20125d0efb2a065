"""One table: each layer kind → its PyTorch module and its Keras layer(s).

`cnncalc.reference.torch_model` builds live modules from it (the cross-check) and the code
writers `pytorch_code` and `keras_code` print it as source, so the tested model and the
exported one cannot disagree on how a kind maps. Nothing here imports a framework: a `Call` is
a constructor's name and arguments, printed with `source()` or run with `build()`.

Adding a kind is one `Bridge` entry in `BRIDGES`; a kind without one is refused by name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cnncalc.graph import Node
from cnncalc.layers import Shape
from cnncalc.layers.base import Sizes, per_axis, window_output


class Unsupported(Exception):
    """A layer the framework has no equivalent for (the message says why)."""


@dataclass(frozen=True)
class Raw:
    """Source text passed through as is (`self.training`, a Keras lambda)."""

    text: str


@dataclass(frozen=True)
class Call:
    """`func(*args, **kwargs)`: `nn.Conv2d`, `F.relu`, `layers.Conv2D` and its arguments."""

    func: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def source(self, *leading: str) -> str:
        """The call as Python source, with `leading` source arguments first (the input)."""
        parts = [*leading, *(literal(a) for a in self.args)]
        parts += [f"{key}={literal(value)}" for key, value in self.kwargs]
        return f"{self.func}({', '.join(parts)})"

    def build(self, namespace: Mapping[str, Any]) -> Any:
        """Run the call, with `nn`, `F`, ... looked up in `namespace`."""
        owner, _, attr = self.func.rpartition(".")
        func = getattr(namespace[owner], attr) if owner else namespace[attr]
        args = [_built(a, namespace) for a in self.args]
        return func(*args, **{key: _built(v, namespace) for key, v in self.kwargs})


def call(func: str, *args: Any, **kwargs: Any) -> Call:
    return Call(func, args, tuple(kwargs.items()))


def literal(value: Any) -> str:
    """`value` as Python source (strings double-quoted, as ruff format writes them)."""
    if isinstance(value, Call):
        return value.source()
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, tuple | list):
        inner = ", ".join(literal(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _built(value: Any, namespace: Mapping[str, Any]) -> Any:
    if isinstance(value, Call):
        return value.build(namespace)
    if isinstance(value, Raw):
        raise Unsupported(f"{value.text} runs only in generated code")
    return value


# --- geometry both frameworks need -------------------------------------------------------

Pads = Sizes  # (before, after) per spatial axis: (top, bottom, left, right) in 2-D


def window_pads(op: Any, shape: Shape) -> Pads:
    """The (before, after) padding per axis of a conv or pooling window on its input, `same`
    resolved."""
    kernel, stride, dilation = op.axes(len(shape) - 1)
    _, pads = window_output(shape[:-1], kernel, stride, dilation, op.padding)
    return pads


def _square(sizes: Sizes) -> int | Sizes:
    """`3` for (3, 3): the frameworks take either, and the short one reads better."""
    return sizes[0] if len(set(sizes)) == 1 else sizes


def _symmetric(pads: Pads) -> bool:
    return all(pads[a] == pads[a + 1] for a in range(0, len(pads), 2))


def _nd(name: str, shape: Shape, suffix: str = "d") -> str:
    """`name` for the input's rank: _nd("nn.Conv", (56, 56, 64)) is nn.Conv2d."""
    return f"{name}{max(len(shape) - 1, 1)}{suffix}"


def torch_pads(pads: Pads) -> Sizes:
    """(before, after) per axis as F.pad and ZeroPad2d take them: the last axis first."""
    return tuple(p for a in reversed(range(0, len(pads), 2)) for p in pads[a : a + 2])


def _options(defaults: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """The keyword arguments that differ from the framework's defaults."""
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}


# --- PyTorch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchLayer:
    """A layer in PyTorch: its module, and what the forward does around it."""

    module: Call
    pad: Pads | None = None  # (before, after) per axis padded in front (F.pad / ZeroPad2d)
    pad_value: float = 0.0
    crop: Pads | None = None  # (before, after) per axis cut from the output (conv_transpose)


def _torch_window(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    kind = node.kind
    kernel, stride, dilation = op.axes(len(shape) - 1)
    pads = window_pads(op, shape)
    # torch pads natively only symmetrically, and pools at most ⌊kernel/2⌋ (with ceil_mode
    # and count_include_pad reading their own padding): a pool's `same` is explicit padding
    native = (op.padding != "same" or kind == "conv") and _symmetric(pads)
    if kind != "conv" and any(2 * p > kernel[a // 2] for a, p in enumerate(pads)):
        native = False
    padding = _square(pads[::2]) if native else 0
    common = {"stride": _square(stride), "padding": padding}
    if kind == "conv":
        options = _options(
            {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True},
            **common,
            dilation=_square(dilation),
            groups=op.groups,
            bias=op.bias,
        )
        module = call(_nd("nn.Conv", shape), shape[-1], op.filters, _square(kernel), **options)
    elif kind == "maxpool":
        options = _options(
            {"padding": 0, "dilation": 1, "ceil_mode": False},
            **common,
            dilation=_square(dilation),
            ceil_mode=op.ceil_mode,
        )
        module = call(_nd("nn.MaxPool", shape), _square(kernel), **options)
    else:
        options = _options(
            {"padding": 0, "ceil_mode": False, "count_include_pad": True},
            **common,
            ceil_mode=op.ceil_mode,
            count_include_pad=op.count_include_pad,
        )
        module = call(_nd("nn.AvgPool", shape), _square(kernel), **options)
    if native or not any(pads):
        return TorchLayer(module)
    if kind != "conv" and op.ceil_mode:
        raise Unsupported("ceil_mode pooling with `same`, asymmetric or wide padding")
    if kind == "avgpool" and not op.count_include_pad:
        raise Unsupported("count_include_pad=false with `same`, asymmetric or wide padding")
    return TorchLayer(module, pads, -math.inf if kind == "maxpool" else 0.0)


def _torch_transpose(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    rank = len(shape) - 1
    kernel, stride, dilation = op.axes(rank)
    crop = op.resolved_padding(shape[:-1])
    native = _symmetric(crop)
    options = _options(
        {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1},
        stride=_square(stride),
        padding=_square(crop[::2]) if native else 0,
        output_padding=_square(per_axis(op.output_padding, rank, "output_padding")),
        groups=op.groups,
        bias=op.bias,
        dilation=_square(dilation),
    )
    name = _nd("nn.ConvTranspose", shape)
    module = call(name, shape[-1], op.filters, _square(kernel), **options)
    return TorchLayer(module, crop=None if native else crop)


def _torch_batchnorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    if op.affine and not (op.scale and op.center):  # Keras' γ or β alone
        return TorchLayer(call("PartialBatchNorm", shape[-1], op.eps, op.scale, op.center))
    options = _options(
        {"eps": 1e-5, "momentum": 0.1, "affine": True},
        eps=op.eps,
        momentum=op.momentum,
        affine=op.affine,
    )
    return TorchLayer(call(_nd("nn.BatchNorm", shape), shape[-1], **options))


def _torch(
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


# --- Keras ------------------------------------------------------------------------------

KerasLayers = tuple[Call, ...]  # applied in order; the last is the spec's layer


def _pairs(pads: Pads) -> Any:
    """((before, after), ...) per axis as Keras' padding/cropping layers take them."""
    pairs = tuple((pads[a], pads[a + 1]) for a in range(0, len(pads), 2))
    return pairs[0] if len(pairs) == 1 else pairs


def _keras_pad(pads: Pads) -> Call:
    return call(f"layers.ZeroPadding{len(pads) // 2}D", _pairs(pads))


def _keras_conv(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    kernel, stride, dilation = op.axes(len(shape) - 1)
    if _square(dilation) != 1 and _square(stride) != 1:
        raise Unsupported("Keras has no strided convolution with dilation")
    pads = window_pads(op, shape)
    same = op.padding == "same"
    options = _options(
        {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1, "use_bias": True},
        strides=_square(stride),
        padding="same" if same else "valid",
        dilation_rate=_square(dilation),
        groups=op.groups,
        use_bias=op.bias,
    )
    conv = call(_nd("layers.Conv", shape, "D"), op.filters, _square(kernel), **options)
    return (conv,) if same or not any(pads) else (_keras_pad(pads), conv)


def _keras_transpose(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    rank = len(shape) - 1
    kernel, stride, dilation = op.axes(rank)
    output_padding = per_axis(op.output_padding, rank, "output_padding")
    if op.groups != 1:
        raise Unsupported("Keras' transposed convolution has no groups")
    if _square(dilation) != 1 and _square(stride) != 1:
        raise Unsupported("Keras has no strided transposed convolution with dilation")
    if any(p >= s for p, s in zip(output_padding, stride, strict=True)):
        raise Unsupported("Keras needs output_padding smaller than the stride")
    crop = op.resolved_padding(shape[:-1])
    options = _options(
        {"strides": 1, "dilation_rate": 1, "use_bias": True},
        strides=_square(stride),
        padding="valid",
        output_padding=_square(output_padding),  # explicit: Keras' default differs
        dilation_rate=_square(dilation),
        use_bias=op.bias,
    )
    name = _nd("layers.Conv", shape, "DTranspose")
    layer = call(name, op.filters, _square(kernel), **options)
    if not any(crop):
        return (layer,)
    return (layer, call(_nd("layers.Cropping", shape, "D"), _pairs(crop)))


def _keras_pool(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    maximum = node.kind == "maxpool"
    sizes = shape[:-1]
    kernel, stride, dilation = op.axes(len(sizes))
    if op.ceil_mode and not maximum:
        raise Unsupported("Keras average pooling has no ceil_mode")
    if _square(dilation) != 1:
        raise Unsupported("Keras pooling has no dilation")
    pads = window_pads(op, shape)
    if op.ceil_mode:  # the last window's overhang as −∞ padding: the same maximum
        out, _ = window_output(sizes, kernel, stride, dilation, op.padding, ceil_mode=True)
        grown = list(pads)
        for a, (n, s, k) in enumerate(zip(out, stride, kernel, strict=True)):
            grown[2 * a + 1] = max(pads[2 * a + 1], (n - 1) * s + k - sizes[a] - pads[2 * a])
        pads = tuple(grown)
    name = _nd("layers.MaxPooling" if maximum else "layers.AveragePooling", shape, "D")
    strides = {"strides": _square(stride)} if stride != kernel else {}
    # Keras' `same` pools over the input only: max ignores the padding, average excludes it
    keras_same = op.padding == "same" and not op.ceil_mode
    if not any(pads) or (keras_same and (maximum or not op.count_include_pad)):
        padding = {"padding": "same"} if any(pads) else {}
        return (call(name, _square(kernel), **strides, **padding),)
    if maximum:
        pairs = ", ".join(f"[{pads[a]}, {pads[a + 1]}]" for a in range(0, len(pads), 2))
        pad = Raw(f'lambda t: ops.pad(t, [[0, 0], {pairs}, [0, 0]], constant_values=float("-inf"))')
        return (call("layers.Lambda", pad), call(name, _square(kernel), **strides))
    if not op.count_include_pad:
        raise Unsupported("count_include_pad=false with explicit padding")
    return (_keras_pad(pads), call(name, _square(kernel), **strides))


def _keras_adaptive(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    maximum = node.kind == "adaptive_maxpool"
    sizes = shape[:-1]
    output = per_axis(op.output, len(sizes), "output")
    if _square(output) == 1:
        name = "layers.GlobalMaxPooling" if maximum else "layers.GlobalAveragePooling"
        return (call(_nd(name, shape, "D"), keepdims=True),)
    if any(size % out for size, out in zip(sizes, output, strict=True)):
        raise Unsupported(
            f"Keras has no adaptive pooling; {'×'.join(map(str, sizes))} does not divide into "
            f"{'×'.join(map(str, output))} equal windows"
        )
    window = tuple(size // out for size, out in zip(sizes, output, strict=True))
    name = _nd("layers.MaxPooling" if maximum else "layers.AveragePooling", shape, "D")
    return (call(name, _square(window)),)


def _keras_dense(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    dense = call("layers.Dense", op.units, **_options({"use_bias": True}, use_bias=op.bias))
    flatten = len(shape) > 1 and not op.per_position  # Keras' Dense maps the last axis
    return (call("layers.Flatten"), dense) if flatten else (dense,)


def _torch_dense(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = _options({"bias": True}, bias=op.bias)
    if op.per_position:
        return TorchLayer(call("ChannelsLastLinear", shape[-1], op.units, **options))
    return TorchLayer(call("nn.Linear", math.prod(shape), op.units, **options))


def _torch_layernorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = _options(
        {"eps": 1e-5, "elementwise_affine": True, "bias": True},
        eps=op.eps,
        elementwise_affine=op.elementwise_affine,
        bias=op.bias,
    )
    return TorchLayer(call("ChannelsLastLayerNorm", shape[-1], **options))


def _keras_layernorm(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    options = _options(
        {"center": True, "scale": True},
        epsilon=op.eps,
        center=op.elementwise_affine and op.bias,
        scale=op.elementwise_affine,
    )
    return (call("layers.LayerNormalization", **options),)


def _keras_groupnorm(node: Node, shape: Shape) -> KerasLayers:
    """Keras' GroupNormalization; instance norm is its one-channel-per-group case."""
    op: Any = node.op
    if node.kind == "instancenorm" and op.track_running_stats:
        raise Unsupported("Keras has no instance norm with running statistics")
    groups = op.groups if node.kind == "groupnorm" else shape[-1]
    return (
        call(
            "layers.GroupNormalization",
            groups=groups,
            epsilon=op.eps,
            **_options({"center": True, "scale": True}, center=op.affine, scale=op.affine),
        ),
    )


def _torch_groupnorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = _options({"eps": 1e-5, "affine": True}, eps=op.eps, affine=op.affine)
    return TorchLayer(call("nn.GroupNorm", op.groups, shape[-1], **options))


def _torch_instancenorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = _options(
        {"eps": 1e-5, "momentum": 0.1, "affine": False, "track_running_stats": False},
        eps=op.eps,
        momentum=op.momentum,
        affine=op.affine,
        track_running_stats=op.track_running_stats,
    )
    return TorchLayer(call(_nd("nn.InstanceNorm", shape), shape[-1], **options))


def _slice_bounds(node: Node, shape: Shape) -> tuple[int, int]:
    op: Any = node.op
    stop = shape[-1] if op.stop is None else op.stop
    width = (stop - op.start) // op.parts
    first = op.start + op.part * width
    return first, first + width


def _mean_dims(node: Node, shape: Shape, channels_first: bool) -> tuple[int, ...]:
    """The dims (sample axis 0) a mean's axes name, written for the channels-last shape."""
    rank = len(shape)
    last: list[int] = []
    for axis in node.op.axes:  # type: ignore[attr-defined]
        if axis == "spatial":
            last += range(rank - 1)
        else:
            last.append(rank - 1 if axis == "channels" else axis % rank)
    if not channels_first:
        return tuple(sorted({a + 1 for a in last}))
    return tuple(sorted({1 if a == rank - 1 else a + 2 for a in last}))


def _keras_batchnorm(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    options = _options(
        {"epsilon": 1e-3, "momentum": 0.99, "center": True, "scale": True},
        epsilon=op.eps,
        momentum=round(1 - op.momentum, 12),  # Keras keeps 1 − PyTorch's momentum
        center=op.affine and op.center,
        scale=op.affine and op.scale,
    )
    return (call("layers.BatchNormalization", **options),)


def _keras_prelu(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    axes = list(range(1, len(shape) + (0 if op.per_channel else 1)))
    shared = {"shared_axes": axes} if axes else {}
    init = Raw("keras.initializers.Constant(0.25)")  # PyTorch's initial slope
    return (call("layers.PReLU", alpha_initializer=init, **shared),)


def _keras_gelu(node: Node, shape: Shape) -> KerasLayers:
    if node.op.approximate == "tanh":  # type: ignore[attr-defined]
        return (call("layers.Activation", Raw("lambda t: ops.gelu(t, approximate=True)")),)
    return (call("layers.Activation", Raw("lambda t: ops.gelu(t, approximate=False)")),)


def _keras_shuffle(node: Node, shape: Shape) -> KerasLayers:
    groups: int = node.op.groups  # type: ignore[attr-defined]
    spatial, c = list(shape[:-1]), shape[-1]
    grouped = (-1, *spatial, groups, c // groups)
    last = len(grouped) - 1
    text = (
        f"lambda t: ops.reshape(ops.swapaxes(ops.reshape(t, {grouped!r}), {last - 1}, {last}), "
        f"{(-1, *spatial, c)!r})"
    )
    return (call("layers.Lambda", Raw(text)),)


def _keras_softplus(node: Node, shape: Shape) -> KerasLayers:
    if node.op.beta != 1.0:  # type: ignore[attr-defined]
        raise Unsupported("Keras' softplus has no beta")
    return (call("layers.Activation", "softplus"),)


def _keras(func: str, *args: Any, **kwargs: Any) -> Callable[[Node, Shape], KerasLayers]:
    layer = call(func, *args, **kwargs)
    return lambda node, shape: (layer,)


def _keras_global(which: str) -> Callable[[Node, Shape], KerasLayers]:
    name = f"layers.Global{which}Pooling"
    return lambda node, shape: (call(_nd(name, shape, "D"), keepdims=True),)


def _keras_field(func: str, keyword: str, field: str) -> Callable[[Node, Shape], KerasLayers]:
    return lambda node, shape: (call(func, **{keyword: getattr(node.op, field)}),)


def _refuse(reason: str) -> Callable[[Node, Shape], Any]:
    def refuse(node: Node, shape: Shape) -> Any:
        raise Unsupported(reason)

    return refuse


# --- the table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bridge:
    """How one kind maps to each framework; None: the forward does it (merges, flatten)."""

    torch: Callable[[Node, Shape], TorchLayer] | None
    keras: Callable[[Node, Shape], KerasLayers]


def _global(func: str) -> Callable[[Node, Shape], TorchLayer]:
    return lambda node, shape: TorchLayer(call(_nd(func, shape), 1))


def _adaptive(func: str) -> Callable[[Node, Shape], TorchLayer]:
    def make(node: Node, shape: Shape) -> TorchLayer:
        output = per_axis(node.op.output, len(shape) - 1, "output")  # type: ignore[attr-defined]
        return TorchLayer(call(_nd(func, shape), _square(output)))

    return make


BRIDGES: dict[str, Bridge] = {
    "conv": Bridge(_torch_window, _keras_conv),
    "conv_transpose": Bridge(_torch_transpose, _keras_transpose),
    "maxpool": Bridge(_torch_window, _keras_pool),
    "avgpool": Bridge(_torch_window, _keras_pool),
    "global_avgpool": Bridge(_global("nn.AdaptiveAvgPool"), _keras_global("Average")),
    "global_maxpool": Bridge(_global("nn.AdaptiveMaxPool"), _keras_global("Max")),
    "adaptive_avgpool": Bridge(_adaptive("nn.AdaptiveAvgPool"), _keras_adaptive),
    "adaptive_maxpool": Bridge(_adaptive("nn.AdaptiveMaxPool"), _keras_adaptive),
    "dense": Bridge(_torch_dense, _keras_dense),
    "flatten": Bridge(None, _keras("layers.Flatten")),
    "dropout": Bridge(
        lambda node, shape: TorchLayer(call("nn.Dropout", p=node.op.rate)),  # type: ignore[attr-defined]
        _keras_field("layers.Dropout", "rate", "rate"),
    ),
    "batchnorm": Bridge(_torch_batchnorm, _keras_batchnorm),
    "lrn": Bridge(
        _torch("nn.LocalResponseNorm", size="size", alpha="alpha", beta="beta", k="k"),
        _refuse("Keras has no local response normalization layer"),
    ),
    "relu": Bridge(_torch("nn.ReLU"), _keras("layers.ReLU")),
    "relu6": Bridge(_torch("nn.ReLU6"), _keras("layers.ReLU", max_value=6.0)),
    "leaky_relu": Bridge(
        _torch("nn.LeakyReLU", negative_slope="negative_slope"),
        _keras_field("layers.LeakyReLU", "negative_slope", "negative_slope"),
    ),
    "elu": Bridge(_torch("nn.ELU", alpha="alpha"), _keras_field("layers.ELU", "alpha", "alpha")),
    "gelu": Bridge(_torch("nn.GELU", approximate="approximate"), _keras_gelu),
    "sigmoid": Bridge(_torch("nn.Sigmoid"), _keras("layers.Activation", "sigmoid")),
    "tanh": Bridge(_torch("nn.Tanh"), _keras("layers.Activation", "tanh")),
    "silu": Bridge(_torch("nn.SiLU"), _keras("layers.Activation", "silu")),
    "hardswish": Bridge(_torch("nn.Hardswish"), _keras("layers.Activation", "hard_swish")),
    "hardsigmoid": Bridge(_torch("nn.Hardsigmoid"), _keras("layers.Activation", "hard_sigmoid")),
    "softmax": Bridge(_torch("nn.Softmax", {"dim": 1}), _keras("layers.Softmax", axis=-1)),
    "prelu": Bridge(
        lambda node, shape: TorchLayer(
            call(
                "nn.PReLU",
                shape[-1] if node.op.per_channel else 1,  # type: ignore[attr-defined]
            )
        ),
        _keras_prelu,
    ),
    "layernorm": Bridge(_torch_layernorm, _keras_layernorm),
    "groupnorm": Bridge(_torch_groupnorm, _keras_groupnorm),
    "instancenorm": Bridge(_torch_instancenorm, _keras_groupnorm),
    "l2norm": Bridge(
        _torch("L2Norm", eps="eps"), lambda node, shape: (call("layers.UnitNormalization"),)
    ),
    "channel_shuffle": Bridge(_torch("ChannelShuffle", groups="groups"), _keras_shuffle),
    "slice": Bridge(
        lambda node, shape: TorchLayer(call("ChannelSlice", *_slice_bounds(node, shape))),
        lambda node, shape: (
            call(
                "layers.Lambda",
                Raw("lambda t: t[..., {} : {}]".format(*_slice_bounds(node, shape))),
            ),
        ),
    ),
    "identity": Bridge(_torch("nn.Identity"), _keras("layers.Identity")),
    "stochastic_depth": Bridge(_torch("nn.Identity"), _keras("layers.Identity")),  # inference
    "layer_scale": Bridge(
        lambda node, shape: TorchLayer(call("LayerScale", shape[-1], node.op.init)),  # type: ignore[attr-defined]
        _refuse("Keras has no layer scale layer"),
    ),
    "scale": Bridge(
        _torch("ScaleBy", factor="factor"),
        lambda node, shape: (
            call("layers.Lambda", Raw(f"lambda t: t * {node.op.factor!r}")),  # type: ignore[attr-defined]
        ),
    ),
    "mean": Bridge(
        lambda node, shape: TorchLayer(
            call("Mean", _mean_dims(node, shape, True), node.op.keepdims)  # type: ignore[attr-defined]
        ),
        lambda node, shape: (
            call(
                "layers.Lambda",
                Raw(
                    f"lambda t: ops.mean(t, axis={_mean_dims(node, shape, False)!r}, "
                    f"keepdims={node.op.keepdims!r})"  # type: ignore[attr-defined]
                ),
            ),
        ),
    ),
    "mish": Bridge(_torch("nn.Mish"), _keras("layers.Activation", "mish")),
    "hardtanh": Bridge(
        _torch("nn.Hardtanh", min_val="min", max_val="max"),
        lambda node, shape: (
            call(
                "layers.Activation",
                Raw(f"lambda t: ops.clip(t, {node.op.min!r}, {node.op.max!r})"),  # type: ignore[attr-defined]
            ),
        ),
    ),
    "selu": Bridge(_torch("nn.SELU"), _keras("layers.Activation", "selu")),
    "celu": Bridge(
        _torch("nn.CELU", alpha="alpha"),
        lambda node, shape: (
            call("layers.Activation", Raw(f"lambda t: ops.celu(t, alpha={node.op.alpha!r})")),  # type: ignore[attr-defined]
        ),
    ),
    "softplus": Bridge(_torch("nn.Softplus", beta="beta", threshold="threshold"), _keras_softplus),
    "log_softmax": Bridge(
        _torch("nn.LogSoftmax", {"dim": 1}), _keras("layers.Activation", "log_softmax")
    ),
    "glu": Bridge(_torch("nn.GLU", {"dim": 1}), _keras("layers.Activation", "glu")),
    "add": Bridge(None, _keras("layers.Add")),
    "multiply": Bridge(None, _keras("layers.Multiply")),
    "concat": Bridge(None, _keras("layers.Concatenate", axis=-1)),
    # an op cnncalc only knows by its measured counts (`cnncalc import --allow-unsupported`)
    "opaque": Bridge(
        _refuse("an opaque layer has no known computation"),
        _refuse("an opaque layer has no known computation"),
    ),
}


def bridge(node: Node) -> Bridge:
    """The table's entry for `node`'s kind; Unsupported when the kind has none."""
    entry = BRIDGES.get(node.kind)
    if entry is None:
        raise Unsupported(f"no framework mapping for the kind {node.kind} yet")
    return entry
