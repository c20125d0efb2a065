"""Each kind's Keras layer(s), as `Call`s (the table in `frameworks` picks them per kind)."""

from __future__ import annotations

from collections.abc import Callable
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
    window_pads,
)
from cnncalc.layers import Shape
from cnncalc.layers.base import per_axis, resolve_padding, window_output

# --- Keras ------------------------------------------------------------------------------

KerasLayers = tuple[Call, ...]  # applied in order; the last is the spec's layer


def _pairs(pads: Pads) -> Any:
    """((before, after), ...) per axis as Keras' padding/cropping layers take them."""
    pairs = tuple((pads[a], pads[a + 1]) for a in range(0, len(pads), 2))
    return pairs[0] if len(pairs) == 1 else pairs


def _keras_pad(pads: Pads) -> Call:
    return call(f"layers.ZeroPadding{len(pads) // 2}D", _pairs(pads))


def keras_conv(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    kernel, stride, dilation = op.axes(len(shape) - 1)
    if square(dilation) != 1 and square(stride) != 1:
        raise Unsupported("Keras has no strided convolution with dilation")
    pads = window_pads(op, shape)
    same = op.padding == "same"
    options = non_defaults(
        {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1, "use_bias": True},
        strides=square(stride),
        padding="same" if same else "valid",
        dilation_rate=square(dilation),
        groups=op.groups,
        use_bias=op.bias,
    )
    conv = call(nd("layers.Conv", shape, "D"), op.filters, square(kernel), **options)
    return (conv,) if same or not any(pads) else (_keras_pad(pads), conv)


def keras_transpose(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    rank = len(shape) - 1
    kernel, stride, dilation = op.axes(rank)
    output_padding = per_axis(op.output_padding, rank, "output_padding")
    if op.groups != 1:
        raise Unsupported("Keras' transposed convolution has no groups")
    if square(dilation) != 1 and square(stride) != 1:
        raise Unsupported("Keras has no strided transposed convolution with dilation")
    if any(p >= s for p, s in zip(output_padding, stride, strict=True)):
        raise Unsupported("Keras needs output_padding smaller than the stride")
    crop = op.resolved_padding(shape[:-1])
    options = non_defaults(
        {"strides": 1, "dilation_rate": 1, "use_bias": True},
        strides=square(stride),
        padding="valid",
        output_padding=square(output_padding),  # explicit: Keras' default differs
        dilation_rate=square(dilation),
        use_bias=op.bias,
    )
    name = nd("layers.Conv", shape, "DTranspose")
    layer = call(name, op.filters, square(kernel), **options)
    if not any(crop):
        return (layer,)
    return (layer, call(nd("layers.Cropping", shape, "D"), _pairs(crop)))


def keras_pool(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    maximum = node.kind == "maxpool"
    sizes = shape[:-1]
    kernel, stride, dilation = op.axes(len(sizes))
    if op.ceil_mode and not maximum:
        raise Unsupported("Keras average pooling has no ceil_mode")
    if square(dilation) != 1:
        raise Unsupported("Keras pooling has no dilation")
    pads = window_pads(op, shape)
    if op.ceil_mode:  # the last window's overhang as −∞ padding: the same maximum
        out, _ = window_output(sizes, kernel, stride, dilation, op.padding, ceil_mode=True)
        grown = list(pads)
        for a, (n, s, k) in enumerate(zip(out, stride, kernel, strict=True)):
            grown[2 * a + 1] = max(pads[2 * a + 1], (n - 1) * s + k - sizes[a] - pads[2 * a])
        pads = tuple(grown)
    name = nd("layers.MaxPooling" if maximum else "layers.AveragePooling", shape, "D")
    strides = {"strides": square(stride)} if stride != kernel else {}
    # Keras' `same` pools over the input only: max ignores the padding, average excludes it
    keras_same = op.padding == "same" and not op.ceil_mode
    if not any(pads) or (keras_same and (maximum or not op.count_include_pad)):
        padding = {"padding": "same"} if any(pads) else {}
        return (call(name, square(kernel), **strides, **padding),)
    if maximum:
        pairs = ", ".join(f"[{pads[a]}, {pads[a + 1]}]" for a in range(0, len(pads), 2))
        pad = Raw(f'lambda t: ops.pad(t, [[0, 0], {pairs}, [0, 0]], constant_values=float("-inf"))')
        return (call("layers.Lambda", pad), call(name, square(kernel), **strides))
    if not op.count_include_pad:
        raise Unsupported("count_include_pad=false with explicit padding")
    return (_keras_pad(pads), call(name, square(kernel), **strides))


def keras_adaptive(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    maximum = node.kind == "adaptive_maxpool"
    sizes = shape[:-1]
    output = per_axis(op.output, len(sizes), "output")
    if square(output) == 1:
        name = "layers.GlobalMaxPooling" if maximum else "layers.GlobalAveragePooling"
        return (call(nd(name, shape, "D"), keepdims=True),)
    if any(size % out for size, out in zip(sizes, output, strict=True)):
        raise Unsupported(
            f"Keras has no adaptive pooling; {'×'.join(map(str, sizes))} does not divide into "
            f"{'×'.join(map(str, output))} equal windows"
        )
    window = tuple(size // out for size, out in zip(sizes, output, strict=True))
    name = nd("layers.MaxPooling" if maximum else "layers.AveragePooling", shape, "D")
    return (call(name, square(window)),)


def keras_dense(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    dense = call("layers.Dense", op.units, **non_defaults({"use_bias": True}, use_bias=op.bias))
    flatten = len(shape) > 1 and not op.per_position  # Keras' Dense maps the last axis
    return (call("layers.Flatten"), dense) if flatten else (dense,)


def keras_layernorm(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    options = non_defaults(
        {"center": True, "scale": True},
        epsilon=op.eps,
        center=op.elementwise_affine and op.bias,
        scale=op.elementwise_affine,
    )
    return (call("layers.LayerNormalization", **options),)


def keras_groupnorm(node: Node, shape: Shape) -> KerasLayers:
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
            **non_defaults({"center": True, "scale": True}, center=op.affine, scale=op.affine),
        ),
    )


def keras_batchnorm(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    options = non_defaults(
        {"epsilon": 1e-3, "momentum": 0.99, "center": True, "scale": True},
        epsilon=op.eps,
        momentum=round(1 - op.momentum, 12),  # Keras keeps 1 − PyTorch's momentum
        center=op.affine and op.center,
        scale=op.affine and op.scale,
    )
    return (call("layers.BatchNormalization", **options),)


def keras_prelu(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    axes = list(range(1, len(shape) + (0 if op.per_channel else 1)))
    shared = {"shared_axes": axes} if axes else {}
    init = Raw("keras.initializers.Constant(0.25)")  # PyTorch's initial slope
    return (call("layers.PReLU", alpha_initializer=init, **shared),)


def keras_gelu(node: Node, shape: Shape) -> KerasLayers:
    if node.op.approximate == "tanh":  # type: ignore[attr-defined]
        return (call("layers.Activation", Raw("lambda t: ops.gelu(t, approximate=True)")),)
    return (call("layers.Activation", Raw("lambda t: ops.gelu(t, approximate=False)")),)


def keras_shuffle(node: Node, shape: Shape) -> KerasLayers:
    groups: int = node.op.groups  # type: ignore[attr-defined]
    spatial, c = list(shape[:-1]), shape[-1]
    grouped = (-1, *spatial, groups, c // groups)
    last = len(grouped) - 1
    text = (
        f"lambda t: ops.reshape(ops.swapaxes(ops.reshape(t, {grouped!r}), {last - 1}, {last}), "
        f"{(-1, *spatial, c)!r})"
    )
    return (call("layers.Lambda", Raw(text)),)


def keras_softplus(node: Node, shape: Shape) -> KerasLayers:
    if node.op.beta != 1.0:  # type: ignore[attr-defined]
        raise Unsupported("Keras' softplus has no beta")
    return (call("layers.Activation", "softplus"),)


def keras_layer(func: str, *args: Any, **kwargs: Any) -> Callable[[Node, Shape], KerasLayers]:
    layer = call(func, *args, **kwargs)
    return lambda node, shape: (layer,)


def keras_global(which: str) -> Callable[[Node, Shape], KerasLayers]:
    name = f"layers.Global{which}Pooling"
    return lambda node, shape: (
        call(nd(name, shape, "D"), keepdims=node.op.keepdims),  # type: ignore[attr-defined]
    )


def keras_field(func: str, keyword: str, field: str) -> Callable[[Node, Shape], KerasLayers]:
    return lambda node, shape: (call(func, **{keyword: getattr(node.op, field)}),)


def keras_upsample(node: Node, shape: Shape) -> KerasLayers:
    """UpSampling1D/2D/3D for integer scales (nearest; bilinear in 2-D), Resizing for a
    bilinear 2-D size; Keras has no equivalent of the rest."""
    op: Any = node.op
    rank = len(shape) - 1
    scales = op.scales(rank)
    if op.align_corners:
        raise Unsupported("Keras' resizing has no align_corners")
    whole = scales is not None and all(float(s).is_integer() for s in scales)
    if whole and (op.mode == "nearest" or op.mode == "bilinear"):
        size = square(tuple(int(s) for s in scales))
        options = {"interpolation": "bilinear"} if op.mode == "bilinear" else {}
        return (call(f"layers.UpSampling{rank}D", size, **options),)
    if op.mode == "bilinear":
        out = node.op.output_shape([shape])[:-1]
        return (call("layers.Resizing", *out, interpolation="bilinear"),)
    raise Unsupported(
        f"Keras' {op.mode} resizing picks other source pixels than PyTorch's "
        "(half-pixel centres, bicubic a = −0.5)"
    )


def keras_pixel_shuffle(node: Node, shape: Shape) -> KerasLayers:
    """PyTorch's channel order (c·r² + i·r + j), not depth_to_space's."""
    r = node.op.factor  # type: ignore[attr-defined]
    h, w, c = shape
    inner: tuple[int, ...]
    if node.kind == "pixel_shuffle":
        inner, order = (-1, h, w, c // (r * r), r, r), (0, 1, 4, 2, 5, 3)
        out: tuple[int, ...] = (-1, h * r, w * r, c // (r * r))
    else:
        inner, order = (-1, h // r, r, w // r, r, c), (0, 1, 3, 5, 2, 4)
        out = (-1, h // r, w // r, c * r * r)
    text = f"lambda t: ops.reshape(ops.transpose(ops.reshape(t, {inner!r}), {order!r}), {out!r})"
    return (call("layers.Lambda", Raw(text)),)


KERAS_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def keras_pad(node: Node, shape: Shape) -> KerasLayers:
    op: Any = node.op
    pads = resolve_padding(op.padding, len(shape) - 1)
    if op.mode == "constant" and op.value == 0:
        return (_keras_pad(pads),)
    widths = ((0, 0), *((pads[a], pads[a + 1]) for a in range(0, len(pads), 2)), (0, 0))
    extra = f", constant_values={op.value!r}" if op.mode == "constant" else ""
    mode = KERAS_PAD_MODES.get(op.mode, "constant")
    text = f"lambda t: ops.pad(t, {widths!r}, mode={mode!r}{extra})"
    return (call("layers.Lambda", Raw(text)),)


def keras_crop(node: Node, shape: Shape) -> KerasLayers:
    cuts = resolve_padding(node.op.cropping, len(shape) - 1, "cropping")  # type: ignore[attr-defined]
    return (call(f"layers.Cropping{len(shape) - 1}D", _pairs(cuts)),)


def keras_scale(node: Node, shape: Shape) -> KerasLayers:
    """x·factor (+ offset): a Lambda (Keras' Rescaling is image preprocessing)."""
    op: Any = node.op
    offset = f" + {op.offset!r}" if op.offset else ""
    return (call("layers.Lambda", Raw(f"lambda t: t * {op.factor!r}{offset}")),)


def keras_standardize(node: Node, shape: Shape) -> KerasLayers:
    """Normalization: adapted, it holds mean, variance and count (left at 0, 1 and 0 until
    `adapt`); else the constants the spec does not give, 0 and 1."""
    if node.op.adapted:  # type: ignore[attr-defined]
        return (call("layers.Normalization"),)
    return (call("layers.Normalization", mean=0.0, variance=1.0),)
