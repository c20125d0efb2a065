"""One table: each layer kind → its PyTorch module and its Keras layer(s).

`cnncalc.reference.torch_model` builds live modules from it (the cross-check) and the code
writers `pytorch_code` and `keras_code` print it as source, so the tested model and the
exported one cannot disagree on how a kind maps. Nothing here imports a framework: a `Call` is
a constructor's name and arguments, printed with `source()` or run with `build()`.

Adding a kind is one `Bridge` entry in `BRIDGES`; a kind without one is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnncalc.graph import Node
from cnncalc.io.calls import (
    Raw,
    Unsupported,
    call,
    mean_dims,
    refuse,
    slice_bounds,
)
from cnncalc.io.keras_layers import (
    KerasLayers,
    keras_adaptive,
    keras_batchnorm,
    keras_conv,
    keras_crop,
    keras_dense,
    keras_field,
    keras_gelu,
    keras_global,
    keras_groupnorm,
    keras_layer,
    keras_layernorm,
    keras_pad,
    keras_pixel_shuffle,
    keras_pool,
    keras_prelu,
    keras_scale,
    keras_shuffle,
    keras_softplus,
    keras_standardize,
    keras_transpose,
    keras_upsample,
)
from cnncalc.io.torch_layers import (
    TorchLayer,
    torch_adaptive,
    torch_batchnorm,
    torch_crop,
    torch_dense,
    torch_global,
    torch_groupnorm,
    torch_instancenorm,
    torch_layernorm,
    torch_module,
    torch_pad,
    torch_scale,
    torch_standardize,
    torch_transpose,
    torch_upsample,
    torch_window,
)
from cnncalc.layers import Shape

# --- the table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bridge:
    """How one kind maps to each framework; None: the forward does it (merges, flatten)."""

    torch: Callable[[Node, Shape], TorchLayer] | None
    keras: Callable[[Node, Shape], KerasLayers]


BRIDGES: dict[str, Bridge] = {
    "conv": Bridge(torch_window, keras_conv),
    "conv_transpose": Bridge(torch_transpose, keras_transpose),
    "maxpool": Bridge(torch_window, keras_pool),
    "avgpool": Bridge(torch_window, keras_pool),
    "global_avgpool": Bridge(torch_global("nn.AdaptiveAvgPool"), keras_global("Average")),
    "global_maxpool": Bridge(torch_global("nn.AdaptiveMaxPool"), keras_global("Max")),
    "adaptive_avgpool": Bridge(torch_adaptive("nn.AdaptiveAvgPool"), keras_adaptive),
    "adaptive_maxpool": Bridge(torch_adaptive("nn.AdaptiveMaxPool"), keras_adaptive),
    "dense": Bridge(torch_dense, keras_dense),
    "flatten": Bridge(None, keras_layer("layers.Flatten")),
    "dropout": Bridge(
        lambda node, shape: TorchLayer(call("nn.Dropout", p=node.op.rate)),  # type: ignore[attr-defined]
        keras_field("layers.Dropout", "rate", "rate"),
    ),
    "batchnorm": Bridge(torch_batchnorm, keras_batchnorm),
    "lrn": Bridge(
        torch_module("nn.LocalResponseNorm", size="size", alpha="alpha", beta="beta", k="k"),
        refuse("Keras has no local response normalization layer"),
    ),
    "relu": Bridge(torch_module("nn.ReLU"), keras_layer("layers.ReLU")),
    "relu6": Bridge(torch_module("nn.ReLU6"), keras_layer("layers.ReLU", max_value=6.0)),
    "leaky_relu": Bridge(
        torch_module("nn.LeakyReLU", negative_slope="negative_slope"),
        keras_field("layers.LeakyReLU", "negative_slope", "negative_slope"),
    ),
    "elu": Bridge(
        torch_module("nn.ELU", alpha="alpha"), keras_field("layers.ELU", "alpha", "alpha")
    ),
    "gelu": Bridge(torch_module("nn.GELU", approximate="approximate"), keras_gelu),
    "sigmoid": Bridge(torch_module("nn.Sigmoid"), keras_layer("layers.Activation", "sigmoid")),
    "tanh": Bridge(torch_module("nn.Tanh"), keras_layer("layers.Activation", "tanh")),
    "silu": Bridge(torch_module("nn.SiLU"), keras_layer("layers.Activation", "silu")),
    "hardswish": Bridge(
        torch_module("nn.Hardswish"), keras_layer("layers.Activation", "hard_swish")
    ),
    "hardsigmoid": Bridge(
        torch_module("nn.Hardsigmoid"), keras_layer("layers.Activation", "hard_sigmoid")
    ),
    "softmax": Bridge(
        torch_module("nn.Softmax", {"dim": 1}), keras_layer("layers.Softmax", axis=-1)
    ),
    "prelu": Bridge(
        lambda node, shape: TorchLayer(
            call(
                "nn.PReLU",
                shape[-1] if node.op.per_channel else 1,  # type: ignore[attr-defined]
            )
        ),
        keras_prelu,
    ),
    "layernorm": Bridge(torch_layernorm, keras_layernorm),
    "groupnorm": Bridge(torch_groupnorm, keras_groupnorm),
    "instancenorm": Bridge(torch_instancenorm, keras_groupnorm),
    "l2norm": Bridge(
        torch_module("L2Norm", eps="eps"), lambda node, shape: (call("layers.UnitNormalization"),)
    ),
    "channel_shuffle": Bridge(torch_module("ChannelShuffle", groups="groups"), keras_shuffle),
    "slice": Bridge(
        lambda node, shape: TorchLayer(call("ChannelSlice", *slice_bounds(node, shape))),
        lambda node, shape: (
            call(
                "layers.Lambda",
                Raw("lambda t: t[..., {} : {}]".format(*slice_bounds(node, shape))),
            ),
        ),
    ),
    "identity": Bridge(torch_module("nn.Identity"), keras_layer("layers.Identity")),
    "stochastic_depth": Bridge(
        torch_module("nn.Identity"), keras_layer("layers.Identity")
    ),  # inference
    "layer_scale": Bridge(
        lambda node, shape: TorchLayer(call("LayerScale", shape[-1], node.op.init)),  # type: ignore[attr-defined]
        refuse("Keras has no layer scale layer"),
    ),
    "standardize": Bridge(torch_standardize, keras_standardize),
    "scale": Bridge(torch_scale, keras_scale),
    "mean": Bridge(
        lambda node, shape: TorchLayer(
            call("Mean", mean_dims(node, shape, True), node.op.keepdims)  # type: ignore[attr-defined]
        ),
        lambda node, shape: (
            call(
                "layers.Lambda",
                Raw(
                    f"lambda t: ops.mean(t, axis={mean_dims(node, shape, False)!r}, "
                    f"keepdims={node.op.keepdims!r})"  # type: ignore[attr-defined]
                ),
            ),
        ),
    ),
    "mish": Bridge(torch_module("nn.Mish"), keras_layer("layers.Activation", "mish")),
    "hardtanh": Bridge(
        torch_module("nn.Hardtanh", min_val="min", max_val="max"),
        lambda node, shape: (
            call(
                "layers.Activation",
                Raw(f"lambda t: ops.clip(t, {node.op.min!r}, {node.op.max!r})"),  # type: ignore[attr-defined]
            ),
        ),
    ),
    "selu": Bridge(torch_module("nn.SELU"), keras_layer("layers.Activation", "selu")),
    "celu": Bridge(
        torch_module("nn.CELU", alpha="alpha"),
        lambda node, shape: (
            call("layers.Activation", Raw(f"lambda t: ops.celu(t, alpha={node.op.alpha!r})")),  # type: ignore[attr-defined]
        ),
    ),
    "softplus": Bridge(
        torch_module("nn.Softplus", beta="beta", threshold="threshold"), keras_softplus
    ),
    "log_softmax": Bridge(
        torch_module("nn.LogSoftmax", {"dim": 1}), keras_layer("layers.Activation", "log_softmax")
    ),
    "glu": Bridge(torch_module("nn.GLU", {"dim": 1}), keras_layer("layers.Activation", "glu")),
    "upsample": Bridge(torch_upsample, keras_upsample),
    "pixel_shuffle": Bridge(
        torch_module("nn.PixelShuffle", upscale_factor="factor"), keras_pixel_shuffle
    ),
    "pixel_unshuffle": Bridge(
        torch_module("nn.PixelUnshuffle", downscale_factor="factor"), keras_pixel_shuffle
    ),
    "pad": Bridge(torch_pad, keras_pad),
    "crop": Bridge(torch_crop, keras_crop),
    "add": Bridge(None, keras_layer("layers.Add")),
    "multiply": Bridge(None, keras_layer("layers.Multiply")),
    "concat": Bridge(None, keras_layer("layers.Concatenate", axis=-1)),
    # an op cnncalc only knows by its measured counts (`cnncalc import --allow-unsupported`)
    "opaque": Bridge(
        refuse("an opaque layer has no known computation"),
        refuse("an opaque layer has no known computation"),
    ),
}


def bridge(node: Node) -> Bridge:
    """The table's entry for `node`'s kind; Unsupported when the kind has none."""
    entry = BRIDGES.get(node.kind)
    if entry is None:
        raise Unsupported(f"no framework mapping for the kind {node.kind} yet")
    return entry
