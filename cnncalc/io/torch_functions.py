"""torch functions and tensor methods → layer kinds, one converter per operation name.

`torch.relu`, `F.relu` and `x.relu()` are all the operation `relu`: `operation_name` names a
traced call, and `FUNCTIONS` maps each name to a converter. A converter sees the call's
arguments with the input first (`Applied.arg`), its constants (a learned factor read with
`get_attr`, a plain number) and where it is applied, and returns the kind and its fields.
The reshaping calls that only make sense in a pattern (permute, chunk, the views of a channel
shuffle) are the walker's (`torch_fx`), not here.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.io.torch_modules import (
    At,
    Fields,
    Unsupported,
    adaptive_fields,
    over_channels,
    pad_fields,
    padding,
    sizes,
    upsample_fields,
)


@dataclass
class Applied:
    """One traced function or method call."""

    name: str
    args: tuple[Any, ...]  # as traced: the input first (fx nodes for tensors)
    kwargs: dict[str, Any]
    at: At
    tensors: int  # how many arguments are activations
    constants: list[Any] = field(default_factory=list)  # learned tensors among the arguments
    measured: tuple[int, ...] = ()  # the output's shape, with N

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        return self.args[index] if len(self.args) > index else self.kwargs.get(name, default)

    def number(self) -> float | None:
        """The plain number among the first two arguments (`x * 0.5`), if any."""
        for value in self.args[:2]:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        return None


Converter = Callable[[Applied], tuple[str, Fields]]


def _merge(kind: str, scaled: str | None = None) -> Converter:
    """add / multiply of two activations; multiply by a learned tensor (layer scale); add
    or multiply by a number (scale: its offset or factor)."""

    def convert(c: Applied) -> tuple[str, Fields]:
        if c.tensors == 2 and len(c.args) == 2:
            return kind, {}
        if scaled and c.tensors == 1 and len(c.constants) == 1:
            return _layer_scale(c)
        number = c.number()
        if c.tensors == 1 and number is not None and (scaled or c.arg(2, "alpha", 1) == 1):
            return "scale", {"factor": number} if scaled else {"offset": number}
        raise Unsupported(f"{kind} with a constant")

    return convert


def _layer_scale(c: Applied) -> tuple[str, Fields]:
    """x times a learned factor per channel: shaped (C,) on channels-last, (C, 1, 1) on
    channels-first, as broadcasting lines it up with the channel axis."""
    (factor,) = c.constants
    rank = len(c.measured)
    channel_axis = rank - 1 if c.at.channels_last or rank == 2 else 1
    lined_up = (1,) * (rank - factor.dim()) + tuple(int(d) for d in factor.shape)
    if (
        len(lined_up) != rank
        or lined_up[channel_axis] != factor.numel()
        or (lined_up[channel_axis] != c.measured[channel_axis])
    ):
        raise Unsupported("a multiply by a learned tensor other than one factor per channel")
    return "layer_scale", {"init": float(f"{float(factor.detach().flatten()[0]):.7g}")}


def _subtract(c: Applied) -> tuple[str, Fields]:
    """`x - n` (offset −n) or `n - x` (factor −1, offset n)."""
    number = c.number()
    if c.tensors != 1 or number is None or c.arg(2, "alpha", 1) != 1:
        raise Unsupported("a subtraction other than of a number")
    if c.args[1] == number:
        return "scale", {"offset": -number}
    return "scale", {"factor": -1.0, "offset": number}


def _divide(c: Applied) -> tuple[str, Fields]:
    number = c.number()
    if c.tensors != 1 or number is None or c.args[1] != number or number == 0:
        raise Unsupported("a division other than by a number")
    return "scale", {"factor": 1.0 / number}


def _cat(c: Applied) -> tuple[str, Fields]:
    if not c.at.is_channels(c.arg(1, "dim", 0)):
        raise Unsupported("cat along a dim other than the channels")
    return "concat", {}


def _flatten(c: Applied) -> tuple[str, Fields]:
    if c.arg(1, "start_dim", 0) != 1 or c.arg(2, "end_dim", -1) != -1 or c.at.channels_last:
        raise Unsupported("flatten of other dims than all after N")
    return "flatten", {}


def _mean(c: Applied) -> tuple[str, Fields]:
    dims = c.arg(1, "dim")
    if dims is None or c.at.channels_last:
        raise Unsupported("a mean over everything, or over channels-last axes")
    dims = [dims] if isinstance(dims, int) else list(dims)
    rank = c.at.rank
    axes: list[Any] = []
    for dim in sorted(d % rank for d in dims):
        if dim == 0:
            raise Unsupported("a mean over the batch")
        axes.append("channels" if dim == 1 else dim - 2)
    if rank > 2 and axes == list(range(rank - 2)):
        axes = ["spatial"]
    return "mean", {"axes": tuple(axes), "keepdims": bool(c.arg(2, "keepdim", False))}


def _layer_norm(c: Applied) -> tuple[str, Fields]:
    shape = c.arg(1, "normalized_shape")
    if len(shape) != 1 or not (c.at.channels_last or c.at.rank == 2):
        raise Unsupported("layer_norm over more than the channels")
    weight, bias = c.arg(2, "weight"), c.arg(3, "bias")
    return "layernorm", {
        "eps": c.arg(4, "eps", 1e-5),
        "elementwise_affine": weight is not None,
        "bias": weight is not None and bias is not None,
    }


def _group_norm(c: Applied) -> tuple[str, Fields]:
    weight, bias = c.arg(2, "weight"), c.arg(3, "bias")
    if (weight is None) != (bias is None):
        raise Unsupported("group_norm with only one of weight and bias")
    return "groupnorm", {
        "groups": c.arg(1, "num_groups"),
        "eps": c.arg(4, "eps", 1e-5),
        "affine": weight is not None,
    }


def _normalize(c: Applied) -> tuple[str, Fields]:
    if c.arg(1, "p", 2.0) != 2 or not c.at.is_channels(c.arg(2, "dim", 1)):
        raise Unsupported("normalize other than L2 over the channels")
    return "l2norm", {"eps": c.arg(3, "eps", 1e-12)}


def _with(kind: str, **arguments: tuple[int, str, Any]) -> Converter:
    """A kind whose fields are arguments: field → (position, keyword, default)."""
    return lambda c: (kind, {f: c.arg(*where) for f, where in arguments.items()})


def _dimmed(kind: str, default: Any) -> Converter:
    return lambda c: over_channels(kind, c.arg(1, "dim", default), c.at)


def _pool(kind: str) -> Converter:
    """F.max_pool2d / F.avg_pool2d and their 1-D and 3-D forms, with torch's arguments."""

    def convert(c: Applied) -> tuple[str, Fields]:
        rank = c.at.spatial
        kernel = c.arg(1, "kernel_size")
        fields: Fields = {
            "kernel": sizes(kernel, rank),
            "stride": sizes(c.arg(2, "stride") or kernel, rank),
            "padding": padding(c.arg(3, "padding", 0), rank),
        }
        if kind == "maxpool":
            if c.arg(6, "return_indices", False):
                raise Unsupported("max pooling that returns indices")
            fields["dilation"] = sizes(c.arg(4, "dilation", 1), rank)
            fields["ceil_mode"] = bool(c.arg(5, "ceil_mode", False))
        else:
            if c.arg(6, "divisor_override") is not None:
                raise Unsupported("divisor_override")
            fields["ceil_mode"] = bool(c.arg(4, "ceil_mode", False))
            fields["count_include_pad"] = bool(c.arg(5, "count_include_pad", True))
        return kind, fields

    return convert


def _adaptive(kind: str) -> Converter:
    return lambda c: (kind, adaptive_fields(c.arg(1, "output_size"), c.at.spatial))


def _interpolate(c: Applied) -> tuple[str, Fields]:
    """F.interpolate; a size (maybe a traced `x.shape[-2:]` of another tensor) as the measured
    output's, since the import knows every shape."""
    if c.arg(6, "antialias", False):
        raise Unsupported("antialiased interpolation")
    size = None if c.arg(1, "size") is None else c.measured[2:]
    mode, corners = c.arg(3, "mode", "nearest"), c.arg(4, "align_corners")
    return "upsample", upsample_fields(mode, size, c.arg(2, "scale_factor"), corners, c.at)


def _pad(c: Applied) -> tuple[str, Fields]:
    return "pad", pad_fields(c.arg(1, "pad"), c.arg(2, "mode", "constant"), c.arg(3, "value"), c.at)


FUNCTIONS: dict[str, Converter] = {
    "add": _merge("add"),
    "mul": _merge("multiply", scaled="layer_scale"),
    "sub": _subtract,
    "truediv": _divide,
    "cat": _cat,
    "flatten": _flatten,
    "mean": _mean,
    "layer_norm": _layer_norm,
    "group_norm": _group_norm,
    "normalize": _normalize,
    "relu": _with("relu"),
    "relu6": _with("relu6"),
    "sigmoid": _with("sigmoid"),
    "tanh": _with("tanh"),
    "silu": _with("silu"),
    "hardswish": _with("hardswish"),
    "hardsigmoid": _with("hardsigmoid"),
    "mish": _with("mish"),
    "selu": _with("selu"),
    "gelu": _with("gelu", approximate=(1, "approximate", "none")),
    "elu": _with("elu", alpha=(1, "alpha", 1.0)),
    "celu": _with("celu", alpha=(1, "alpha", 1.0)),
    "leaky_relu": _with("leaky_relu", negative_slope=(1, "negative_slope", 0.01)),
    "softplus": _with("softplus", beta=(1, "beta", 1.0), threshold=(2, "threshold", 20.0)),
    "hardtanh": _with("hardtanh", min=(1, "min_val", -1.0), max=(2, "max_val", 1.0)),
    "softmax": _dimmed("softmax", None),
    "log_softmax": _dimmed("log_softmax", None),
    "glu": _dimmed("glu", -1),
    "dropout": _with("dropout", rate=(1, "p", 0.5)),
    "stochastic_depth": _with("stochastic_depth", rate=(1, "p", 0.0), mode=(2, "mode", "row")),
    "channel_shuffle": _with("channel_shuffle", groups=(1, "groups", 1)),
    "interpolate": _interpolate,
    "upsample": _interpolate,
    "pad": _pad,
    "pixel_shuffle": _with("pixel_shuffle", factor=(1, "upscale_factor", None)),
    "pixel_unshuffle": _with("pixel_unshuffle", factor=(1, "downscale_factor", None)),
    **{f"max_pool{r}d": _pool("maxpool") for r in (1, 2, 3)},
    **{f"avg_pool{r}d": _pool("avgpool") for r in (1, 2, 3)},
    **{
        f"adaptive_{pool}_pool{r}d": _adaptive(f"adaptive_{pool}pool")
        for pool in ("avg", "max")
        for r in (1, 2, 3)
    },
}
"""The layer kind of each function and method, by operation name."""

RESHAPES = {"view", "reshape", "flatten"}  # also a channel shuffle's views
NON_TENSOR = {"size", "dim", "numel"}
PASS_THROUGH = {"contiguous", "clone", "detach"}
_BY_NAME = {"stochastic_depth", "channel_shuffle"}  # torchvision's fx-wrapped functions
_ALIASES = {
    "iadd": "add",
    "imul": "mul",
    "concat": "cat",
    "concatenate": "cat",
    **{f"{name}_": name for name in ("add", "mul", "relu", "sigmoid", "tanh", "hardtanh")},
}  # in-place methods (x.add_(y)) do what their functions do


@functools.cache
def _function_names(torch: Any) -> dict[Any, str]:
    F = torch.nn.functional
    names = {
        operator.add: "add",
        operator.iadd: "add",
        operator.mul: "mul",
        operator.imul: "mul",
        operator.truediv: "truediv",
        operator.sub: "sub",
        operator.isub: "sub",
        operator.getitem: "getitem",
    }
    for owner in (torch, F):
        for name in [*FUNCTIONS, "chunk", "split", "permute", "transpose", "reshape", "concat"]:
            target = getattr(owner, name, None)
            if callable(target):
                names.setdefault(target, _ALIASES.get(name, name))
    return names


def operation_name(torch: Any, node: Any) -> str | None:
    """`relu` for torch.relu, F.relu and x.relu(); None for a function without a name here."""
    if node.op == "call_method":
        return _ALIASES.get(str(node.target), str(node.target))
    name = _function_names(torch).get(node.target)
    if name is None and getattr(node.target, "__name__", None) in _BY_NAME:
        name = str(node.target.__name__)
    return name
