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
from cnncalc.layers.base import window_output


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

Pads = tuple[int, int, int, int]  # top, bottom, left, right


def window_pads(op: Any, shape: Shape, dilation: tuple[int, int] = (1, 1)) -> Pads:
    """The (t, b, l, r) padding of a conv or pooling window on its input, `same` resolved."""
    _, pads = window_output((shape[0], shape[1]), op.kernel, op.stride, dilation, op.padding)
    return pads


def _square(pair: tuple[int, int]) -> int | tuple[int, int]:
    """`3` for (3, 3): the frameworks take either, and the short one reads better."""
    return pair[0] if pair[0] == pair[1] else pair


def _options(defaults: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """The keyword arguments that differ from the framework's defaults."""
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}


# --- PyTorch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchLayer:
    """A layer in PyTorch: its module, and what the forward does around it."""

    module: Call
    pad: Pads | None = None  # (t, b, l, r) padded in front (F.pad / ZeroPad2d)
    pad_value: float = 0.0
    crop: Pads | None = None  # (t, b, l, r) cut from the output (conv_transpose)


def _torch_window(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    kind = node.kind
    dilation = tuple(op.dilation) if kind in ("conv", "maxpool") else (1, 1)
    pads = window_pads(op, shape, dilation)
    # torch pads natively only symmetrically, and pools at most ⌊kernel/2⌋ (with ceil_mode
    # and count_include_pad reading their own padding): a pool's `same` is explicit padding
    native = (op.padding != "same" or kind == "conv") and pads[0] == pads[1] and pads[2] == pads[3]
    if kind != "conv" and any(2 * p > op.kernel[a // 2] for a, p in enumerate(pads)):
        native = False
    padding = _square((pads[0], pads[2])) if native else 0
    common = {"stride": _square(op.stride), "padding": padding}
    if kind == "conv":
        options = _options(
            {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True},
            **common,
            dilation=_square(op.dilation),
            groups=op.groups,
            bias=op.bias,
        )
        module = call("nn.Conv2d", shape[-1], op.filters, _square(op.kernel), **options)
    elif kind == "maxpool":
        options = _options(
            {"padding": 0, "dilation": 1, "ceil_mode": False},
            **common,
            dilation=_square(op.dilation),
            ceil_mode=op.ceil_mode,
        )
        module = call("nn.MaxPool2d", _square(op.kernel), **options)
    else:
        options = _options(
            {"padding": 0, "ceil_mode": False, "count_include_pad": True},
            **common,
            ceil_mode=op.ceil_mode,
            count_include_pad=op.count_include_pad,
        )
        module = call("nn.AvgPool2d", _square(op.kernel), **options)
    if native or not any(pads):
        return TorchLayer(module)
    if kind != "conv" and op.ceil_mode:
        raise Unsupported("ceil_mode pooling with `same`, asymmetric or wide padding")
    if kind == "avgpool" and not op.count_include_pad:
        raise Unsupported("count_include_pad=false with `same`, asymmetric or wide padding")
    return TorchLayer(module, pads, -math.inf if kind == "maxpool" else 0.0)


def _torch_transpose(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    crop = op.resolved_padding(shape[:2])
    native = crop[0] == crop[1] and crop[2] == crop[3]
    options = _options(
        {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1},
        stride=_square(op.stride),
        padding=_square((crop[0], crop[2])) if native else 0,
        output_padding=_square(op.output_padding),
        groups=op.groups,
        bias=op.bias,
        dilation=_square(op.dilation),
    )
    module = call("nn.ConvTranspose2d", shape[-1], op.filters, _square(op.kernel), **options)
    return TorchLayer(module, crop=None if native else crop)


def _torch_batchnorm(node: Node, shape: Shape) -> TorchLayer:
    op: Any = node.op
    options = _options(
        {"eps": 1e-5, "momentum": 0.1, "affine": True},
        eps=op.eps,
        momentum=op.momentum,
        affine=op.affine,
    )
    return TorchLayer(
        call("nn.BatchNorm2d" if len(shape) == 3 else "nn.BatchNorm1d", shape[-1], **options)
    )


def _torch(
    func: str, fixed: Mapping[str, Any] | None = None, **fields: str
) -> Callable[[Node, Shape], TorchLayer]:
    """A module whose keyword arguments are the layer's fields (torch's name=the field's),
    plus `fixed` ones."""

    def make(node: Node, shape: Shape) -> TorchLayer:
        values = {key: getattr(node.op, name) for key, name in fields.items()}
        squared = {k: _square(v) if isinstance(v, tuple) else v for k, v in values.items()}
        return TorchLayer(call(func, **squared, **(fixed or {})))

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
    "nn.MaxPool2d": ("F.max_pool2d", {}),
    "nn.AvgPool2d": ("F.avg_pool2d", {}),
    "nn.AdaptiveAvgPool2d": ("F.adaptive_avg_pool2d", {}),
    "nn.AdaptiveMaxPool2d": ("F.adaptive_max_pool2d", {}),
    "nn.LocalResponseNorm": ("F.local_response_norm", {}),
}


def torch_functional(module: Call) -> Call | None:
    """The F.* call that does what `module` does, or None (it has weights)."""
    if module.func not in TORCH_FUNCTIONS:
        return None
    func, extra = TORCH_FUNCTIONS[module.func]
    return Call(func, module.args, module.kwargs + tuple(extra.items()))


# --- Keras ------------------------------------------------------------------------------

KerasLayers = tuple[Call, ...]  # applied in order; the last is the spec's layer


def _keras_pad(pads: Pads) -> Call:
    return call("layers.ZeroPadding2D", ((pads[0], pads[1]), (pads[2], pads[3])))


def _keras_conv(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    if op.dilation != (1, 1) and op.stride != (1, 1):
        raise Unsupported("Keras has no strided convolution with dilation")
    pads = window_pads(op, shape, op.dilation)
    same = op.padding == "same"
    options = _options(
        {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1, "use_bias": True},
        strides=_square(op.stride),
        padding="same" if same else "valid",
        dilation_rate=_square(op.dilation),
        groups=op.groups,
        use_bias=op.bias,
    )
    conv = call("layers.Conv2D", op.filters, _square(op.kernel), **options)
    return (conv,) if same or not any(pads) else (_keras_pad(pads), conv)


def _keras_transpose(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    if op.groups != 1:
        raise Unsupported("Keras' Conv2DTranspose has no groups")
    if op.dilation != (1, 1) and op.stride != (1, 1):
        raise Unsupported("Keras has no strided transposed convolution with dilation")
    if any(p >= s for p, s in zip(op.output_padding, op.stride, strict=True)):
        raise Unsupported("Keras needs output_padding smaller than the stride")
    crop = op.resolved_padding(shape[:2])
    options = _options(
        {"strides": 1, "dilation_rate": 1, "use_bias": True},
        strides=_square(op.stride),
        padding="valid",
        output_padding=_square(op.output_padding),  # explicit: Keras' default differs
        dilation_rate=_square(op.dilation),
        use_bias=op.bias,
    )
    layer = call("layers.Conv2DTranspose", op.filters, _square(op.kernel), **options)
    if not any(crop):
        return (layer,)
    return (layer, call("layers.Cropping2D", ((crop[0], crop[1]), (crop[2], crop[3]))))


def _keras_pool(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    maximum = node.kind == "maxpool"
    if op.ceil_mode and not maximum:
        raise Unsupported("Keras average pooling has no ceil_mode")
    if getattr(op, "dilation", (1, 1)) != (1, 1):
        raise Unsupported("Keras pooling has no dilation")
    pads = window_pads(op, shape)
    if op.ceil_mode:  # the last window's overhang as −∞ padding: the same maximum
        (out_h, out_w), _ = window_output(
            (shape[0], shape[1]), op.kernel, op.stride, (1, 1), op.padding, ceil_mode=True
        )
        reach = [
            (n - 1) * s + k for n, s, k in zip((out_h, out_w), op.stride, op.kernel, strict=True)
        ]
        t, b, left, r = pads
        pads = (t, max(b, reach[0] - shape[0] - t), left, max(r, reach[1] - shape[1] - left))
    name = "layers.MaxPooling2D" if maximum else "layers.AveragePooling2D"
    strides = {"strides": _square(op.stride)} if op.stride != op.kernel else {}
    # Keras' `same` pools over the input only: max ignores the padding, average excludes it
    keras_same = op.padding == "same" and not op.ceil_mode
    if not any(pads) or (keras_same and (maximum or not op.count_include_pad)):
        padding = {"padding": "same"} if any(pads) else {}
        return (call(name, _square(op.kernel), **strides, **padding),)
    if maximum:
        t, b, left, r = pads
        pad = Raw(
            f"lambda t: ops.pad(t, [[0, 0], [{t}, {b}], [{left}, {r}], [0, 0]], "
            'constant_values=float("-inf"))'
        )
        return (call("layers.Lambda", pad), call(name, _square(op.kernel), **strides))
    if not op.count_include_pad:
        raise Unsupported("count_include_pad=false with explicit padding")
    return (_keras_pad(pads), call(name, _square(op.kernel), **strides))


def _keras_adaptive(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    maximum = node.kind == "adaptive_maxpool"
    if op.output == (1, 1):
        name = "layers.GlobalMaxPooling2D" if maximum else "layers.GlobalAveragePooling2D"
        return (call(name, keepdims=True),)
    if shape[0] % op.output[0] or shape[1] % op.output[1]:
        raise Unsupported(
            f"Keras has no adaptive pooling; {shape[0]}×{shape[1]} does not divide into "
            f"{op.output[0]}×{op.output[1]} equal windows"
        )
    window = (shape[0] // op.output[0], shape[1] // op.output[1])
    name = "layers.MaxPooling2D" if maximum else "layers.AveragePooling2D"
    return (call(name, _square(window)),)


def _keras_dense(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    dense = call("layers.Dense", op.units, **_options({"use_bias": True}, use_bias=op.bias))
    return (call("layers.Flatten"), dense) if len(shape) == 3 else (dense,)


def _keras_batchnorm(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    options = _options(
        {"epsilon": 1e-3, "momentum": 0.99, "center": True, "scale": True},
        epsilon=op.eps,
        momentum=round(1 - op.momentum, 12),  # Keras keeps 1 − PyTorch's momentum
        center=op.affine,
        scale=op.affine,
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


def _keras(func: str, *args: Any, **kwargs: Any) -> Callable[[Node, Shape], KerasLayers]:
    layer = call(func, *args, **kwargs)
    return lambda node, shape: (layer,)


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
    return lambda node, shape: TorchLayer(call(func, 1))


BRIDGES: dict[str, Bridge] = {
    "conv": Bridge(_torch_window, _keras_conv),
    "conv_transpose": Bridge(_torch_transpose, _keras_transpose),
    "maxpool": Bridge(_torch_window, _keras_pool),
    "avgpool": Bridge(_torch_window, _keras_pool),
    "global_avgpool": Bridge(
        _global("nn.AdaptiveAvgPool2d"), _keras("layers.GlobalAveragePooling2D", keepdims=True)
    ),
    "global_maxpool": Bridge(
        _global("nn.AdaptiveMaxPool2d"), _keras("layers.GlobalMaxPooling2D", keepdims=True)
    ),
    "adaptive_avgpool": Bridge(
        _torch("nn.AdaptiveAvgPool2d", output_size="output"), _keras_adaptive
    ),
    "adaptive_maxpool": Bridge(
        _torch("nn.AdaptiveMaxPool2d", output_size="output"), _keras_adaptive
    ),
    "dense": Bridge(
        lambda node, shape: TorchLayer(
            call(
                "nn.Linear",
                math.prod(shape),
                node.op.units,  # type: ignore[attr-defined]
                **_options({"bias": True}, bias=node.op.bias),  # type: ignore[attr-defined]
            )
        ),
        _keras_dense,
    ),
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
