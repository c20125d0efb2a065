"""torch.nn modules → layer kinds, one converter per class name, at any spatial rank.

A converter gets the module and where it is applied (`At`: the input's rank and whether its
channels are last, after a permute) and returns the kind and its fields; `Unsupported` when
the kind cannot express this use. `torch_fx` walks the traced graph and calls these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fields = dict[str, Any]


class Unsupported(Exception):
    """This module or function (or this use of it) has no layer kind."""


@dataclass(frozen=True)
class At:
    """Where an op is applied: its input's rank (with N) and its channel axis."""

    rank: int
    channels_last: bool = False

    @property
    def spatial(self) -> int:
        return max(self.rank - 2, 1)

    def is_channels(self, dim: Any) -> bool:
        """Whether torch's `dim` names the channels of this input."""
        if not isinstance(dim, int):
            return False
        dim %= self.rank
        return bool(dim == (self.rank - 1 if self.channels_last or self.rank == 2 else 1))


ModuleConverter = Callable[[Any, At], tuple[str, Fields]]


def sizes(value: Any, rank: int) -> tuple[int, ...]:
    """A torch size argument (an int, or one per axis) as one value per spatial axis."""
    if isinstance(value, int):
        return (value,) * rank
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * rank
    if len(values) != rank:
        raise Unsupported(f"{len(values)} sizes for {rank} spatial axes")
    return values


def padding(value: Any, rank: int) -> Any:
    """torch's symmetric padding as cnncalc's (before, after) per axis."""
    if value == "same":
        return "same"
    if value == "valid":
        return (0,) * (2 * rank)
    return tuple(p for p in sizes(value, rank) for _ in range(2))


def _rank_of(m: Any, at: At) -> int:
    """The spatial rank a module is built for (`Conv3d`: 3), else its input's."""
    name = type(m).__name__
    return int(name[-2]) if name[-1] == "d" and name[-2] in "123" else at.spatial


def _conv(m: Any, at: At) -> tuple[str, Fields]:
    if m.padding_mode != "zeros":
        raise Unsupported(f"padding_mode {m.padding_mode}")
    rank = _rank_of(m, at)
    fields: Fields = {
        "filters": m.out_channels,
        "kernel": sizes(m.kernel_size, rank),
        "stride": sizes(m.stride, rank),
        "dilation": sizes(m.dilation, rank),
        "groups": m.groups,
        "bias": m.bias is not None,
        "padding": padding(m.padding, rank),
    }
    if not m.transposed:
        return "conv", fields
    return "conv_transpose", {**fields, "output_padding": sizes(m.output_padding, rank)}


def _batchnorm(m: Any, at: At) -> tuple[str, Fields]:
    if not m.track_running_stats or m.momentum is None:
        raise Unsupported("BatchNorm without running statistics or with a cumulative average")
    return "batchnorm", {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}


def _instancenorm(m: Any, at: At) -> tuple[str, Fields]:
    if m.track_running_stats and m.momentum is None:
        raise Unsupported("InstanceNorm with a cumulative average")
    return "instancenorm", {
        "eps": m.eps,
        "momentum": m.momentum,
        "affine": m.affine,
        "track_running_stats": m.track_running_stats,
    }


def _layernorm(m: Any, at: At) -> tuple[str, Fields]:
    if len(m.normalized_shape) != 1 or not (at.channels_last or at.rank == 2):
        raise Unsupported("LayerNorm over more than the channels")
    affine = m.elementwise_affine
    return "layernorm", {
        "eps": m.eps,
        "elementwise_affine": affine,
        "bias": affine and getattr(m, "bias", None) is not None,
    }


def _linear(m: Any, at: At) -> tuple[str, Fields]:
    if at.rank > 2 and not at.channels_last:
        raise Unsupported("Linear over the last spatial axis")
    fields: Fields = {"units": m.out_features, "bias": m.bias is not None}
    return "dense", {**fields, "per_position": True} if at.rank > 2 else fields


def _pool(kind: str) -> ModuleConverter:
    def convert(m: Any, at: At) -> tuple[str, Fields]:
        if at.channels_last:
            raise Unsupported("pooling over channels-last axes")
        rank = _rank_of(m, at)
        fields: Fields = {
            "kernel": sizes(m.kernel_size, rank),
            "stride": sizes(m.stride or m.kernel_size, rank),
            "padding": padding(m.padding, rank),
            "ceil_mode": m.ceil_mode,
        }
        if kind == "maxpool":
            fields["dilation"] = sizes(m.dilation, rank)
        else:
            if getattr(m, "divisor_override", None) is not None:
                raise Unsupported("divisor_override")
            fields["count_include_pad"] = m.count_include_pad
        return kind, fields

    return convert


def adaptive_fields(size: Any, rank: int) -> Fields:
    if size is None or (not isinstance(size, int) and None in size):
        raise Unsupported("an output size of None")
    return {"output": sizes(size, rank)}


def _adaptive(kind: str) -> ModuleConverter:
    def convert(m: Any, at: At) -> tuple[str, Fields]:
        return kind, adaptive_fields(m.output_size, _rank_of(m, at))

    return convert


def _flatten(m: Any, at: At) -> tuple[str, Fields]:
    if (m.start_dim, m.end_dim) != (1, -1) or at.channels_last:
        raise Unsupported(f"Flatten over dims {m.start_dim}..{m.end_dim}")
    return "flatten", {}


def over_channels(kind: str, dim: Any, at: At) -> tuple[str, Fields]:
    """softmax, log_softmax and glu act over the channels only."""
    if not at.is_channels(dim):
        raise Unsupported(f"{kind} over dim {dim}")
    return kind, {}


UPSAMPLE_MODES = {"nearest", "linear", "bilinear", "trilinear", "bicubic"}


def upsample_fields(
    mode: str, size: tuple[int, ...] | None, scale: Any, align_corners: Any, at: At
) -> Fields:
    """nn.Upsample's and F.interpolate's arguments as `upsample` fields."""
    if mode not in UPSAMPLE_MODES:
        raise Unsupported(f"interpolation mode {mode}")
    if at.channels_last or at.rank < 3:
        raise Unsupported("interpolation of other than N×C×spatial")
    fields: Fields = {"mode": mode, "align_corners": bool(align_corners)}
    if size is not None:
        return {**fields, "size": size}
    if scale is None:
        raise Unsupported("interpolation without size or scale_factor")
    scales = [scale] * at.spatial if isinstance(scale, int | float) else list(scale)
    values = tuple(int(s) if float(s).is_integer() else float(s) for s in scales)
    return {**fields, "scale": values[0] if len(set(values)) == 1 else values}


def _upsample(m: Any, at: At) -> tuple[str, Fields]:
    size = None if m.size is None else sizes(m.size, at.spatial)
    return "upsample", upsample_fields(m.mode, size, m.scale_factor, m.align_corners, at)


PAD_MODES = {"constant", "reflect", "replicate", "circular"}


def pad_fields(pads: Any, mode: str, value: Any, at: At) -> Fields:
    """F.pad's pads (last axis first, a (before, after) pair each, maybe fewer axes than the
    input has) as `pad` fields."""
    if mode not in PAD_MODES or at.channels_last or at.rank < 3:
        raise Unsupported(f"padding mode {mode} (or on other than N×C×spatial)")
    pads = [int(p) for p in pads]
    if len(pads) % 2 or len(pads) > 2 * at.spatial:
        extra = pads[2 * at.spatial :]
        if len(pads) % 2 or any(extra):
            raise Unsupported("padding of the channels or the batch")
        pads = pads[: 2 * at.spatial]
    pads += [0] * (2 * at.spatial - len(pads))
    if any(p < 0 for p in pads):
        raise Unsupported("negative padding (a crop)")
    ordered = tuple(p for a in reversed(range(0, len(pads), 2)) for p in pads[a : a + 2])
    value = float(value or 0.0)
    return {"padding": ordered, "mode": mode, "value": value}


def _pad(mode: str) -> ModuleConverter:
    def convert(m: Any, at: At) -> tuple[str, Fields]:
        return "pad", pad_fields(m.padding, mode, getattr(m, "value", 0.0), at)

    return convert


def _plain(kind: str, **attributes: str) -> ModuleConverter:
    """A kind whose fields are module attributes: field name → attribute name."""
    return lambda m, at: (kind, {field: getattr(m, attr) for field, attr in attributes.items()})


MODULES: dict[str, ModuleConverter] = {
    **{f"Conv{r}d": _conv for r in (1, 2, 3)},
    **{f"ConvTranspose{r}d": _conv for r in (1, 2, 3)},
    **{f"BatchNorm{r}d": _batchnorm for r in (1, 2, 3)},
    **{f"InstanceNorm{r}d": _instancenorm for r in (1, 2, 3)},
    **{f"MaxPool{r}d": _pool("maxpool") for r in (1, 2, 3)},
    **{f"AvgPool{r}d": _pool("avgpool") for r in (1, 2, 3)},
    **{f"AdaptiveAvgPool{r}d": _adaptive("adaptive_avgpool") for r in (1, 2, 3)},
    **{f"AdaptiveMaxPool{r}d": _adaptive("adaptive_maxpool") for r in (1, 2, 3)},
    **{f"Dropout{r}d": _plain("dropout", rate="p") for r in (1, 2, 3)},
    "Linear": _linear,
    "LayerNorm": _layernorm,
    "GroupNorm": _plain("groupnorm", groups="num_groups", eps="eps", affine="affine"),
    "LocalResponseNorm": _plain("lrn", size="size", alpha="alpha", beta="beta", k="k"),
    "ReLU": _plain("relu"),
    "ReLU6": _plain("relu6"),
    "LeakyReLU": _plain("leaky_relu", negative_slope="negative_slope"),
    "ELU": _plain("elu", alpha="alpha"),
    "GELU": _plain("gelu", approximate="approximate"),
    "Sigmoid": _plain("sigmoid"),
    "Tanh": _plain("tanh"),
    "SiLU": _plain("silu"),
    "Hardswish": _plain("hardswish"),
    "Hardsigmoid": _plain("hardsigmoid"),
    "Mish": _plain("mish"),
    "Hardtanh": _plain("hardtanh", min="min_val", max="max_val"),
    "SELU": _plain("selu"),
    "CELU": _plain("celu", alpha="alpha"),
    "Softplus": _plain("softplus", beta="beta", threshold="threshold"),
    "Softmax": lambda m, at: over_channels("softmax", m.dim, at),
    "Softmax2d": lambda m, at: over_channels("softmax", -3, at),
    "LogSoftmax": lambda m, at: over_channels("log_softmax", m.dim, at),
    "GLU": lambda m, at: over_channels("glu", m.dim, at),
    "PReLU": lambda m, at: ("prelu", {"per_channel": m.num_parameters > 1}),
    "Flatten": _flatten,
    "Dropout": _plain("dropout", rate="p"),
    "ChannelShuffle": _plain("channel_shuffle", groups="groups"),
    "StochasticDepth": _plain("stochastic_depth", rate="p", mode="mode"),
    "Upsample": _upsample,
    "UpsamplingNearest2d": _upsample,
    "UpsamplingBilinear2d": _upsample,
    "PixelShuffle": _plain("pixel_shuffle", factor="upscale_factor"),
    "PixelUnshuffle": _plain("pixel_unshuffle", factor="downscale_factor"),
    **{f"ZeroPad{r}d": _pad("constant") for r in (1, 2, 3)},
    **{f"ConstantPad{r}d": _pad("constant") for r in (1, 2, 3)},
    **{f"ReflectionPad{r}d": _pad("reflect") for r in (1, 2, 3)},
    **{f"ReplicationPad{r}d": _pad("replicate") for r in (1, 2, 3)},
    **{f"CircularPad{r}d": _pad("circular") for r in (1, 2, 3)},
}
"""The layer kind of each torch.nn module, by class name; nn.Identity passes its input on."""


def module_class(module: Any) -> str | None:
    """The name `MODULES` knows `module` by: its class's, or that of the torch.nn class it
    extends without changing its forward (torchvision's Conv3DSimple is an nn.Conv3d)."""
    for cls in type(module).__mro__:
        if cls.__name__ in MODULES and cls.__module__.startswith("torch.nn"):
            if type(module).forward is not getattr(cls, "forward", None):
                return None
            return cls.__name__
    return None


PER_POSITION = {
    "relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "silu", "hardswish",
    "hardsigmoid", "mish", "hardtanh", "selu", "celu", "softplus", "softmax", "log_softmax",
    "glu", "dropout", "layernorm", "dense", "scale", "layer_scale", "identity",
    "stochastic_depth", "add", "multiply", "l2norm",
}  # fmt: skip
"""Kinds that act on each position's channels alone, so they run on a channels-last tensor
(between ConvNeXt's permutes) as they do on a channels-first one."""
