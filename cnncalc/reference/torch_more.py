"""torch modules for the kinds of `cnncalc.layers.normalize`, `channels`, `misc` and
`activation_more`, and for per-position dense and Keras' partial batchnorm, for the
cross-check. The graph runs channels-first (N, C, …); a module that works on the last axis
(LayerNorm, Linear) is wrapped to see the channels last, as ConvNeXt's permutes do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from cnncalc.graph import Node

MORE_KINDS = (
    "layernorm",
    "groupnorm",
    "instancenorm",
    "l2norm",
    "channel_shuffle",
    "slice",
    "identity",
    "stochastic_depth",
    "layer_scale",
    "scale",
    "mean",
    "mish",
    "hardtanh",
    "selu",
    "celu",
    "softplus",
    "log_softmax",
    "glu",
)


@functools.cache
def _classes(torch: Any) -> SimpleNamespace:
    nn = torch.nn

    class Function(nn.Module):  # type: ignore[misc,name-defined]
        """A parameter-free function of the tensor (slices, shuffles, means)."""

        def __init__(self, fn: Callable[[Any], Any]) -> None:
            super().__init__()
            self.fn = fn

        def forward(self, x: Any) -> Any:
            return self.fn(x)

    class ChannelsLast(nn.Module):  # type: ignore[misc,name-defined]
        """`inner` applied with the channels last: N, C, … → N, …, C and back."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            if x.dim() <= 2:
                return self.inner(x)
            last = self.inner(x.movedim(1, -1))
            return last.movedim(-1, 1)

    class PerChannel(nn.Module):  # type: ignore[misc,name-defined]
        """x·γ, a learned γ per channel (LayerScale)."""

        def __init__(self, channels: int, init: float) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.full((channels,), init))

        def forward(self, x: Any) -> Any:
            return x * self.weight.view(1, -1, *([1] * (x.dim() - 2)))

    class PartialBatchNorm(nn.Module):  # type: ignore[misc,name-defined]
        """Keras' BatchNormalization without γ (scale: false) or β (center: false)."""

        def __init__(self, channels: int, eps: float, scale: bool, center: bool) -> None:
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(channels)) if scale else None
            self.bias = nn.Parameter(torch.zeros(channels)) if center else None
            self.register_buffer("running_mean", torch.zeros(channels))
            self.register_buffer("running_var", torch.ones(channels))

        def forward(self, x: Any) -> Any:
            return nn.functional.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )

    return SimpleNamespace(
        Function=Function,
        ChannelsLast=ChannelsLast,
        PerChannel=PerChannel,
        PartialBatchNorm=PartialBatchNorm,
    )


def _mean_dims(op: Any, rank: int) -> tuple[int, ...]:
    """The channels-first dims of a mean's axes (written for the channels-last shape)."""
    dims: set[int] = set()
    for axis in op.axes:
        if axis == "spatial":
            dims.update(range(2, rank + 1))
        elif axis == "channels":
            dims.add(1)
        else:
            last = axis % rank  # in (spatial…, C)
            dims.add(1 if last == rank - 1 else last + 2)
    return tuple(sorted(dims))


def _shuffle(x: Any, groups: int) -> Any:
    n, c = x.shape[:2]
    return x.reshape(n, groups, c // groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)


def more_module(torch: Any, node: Node, shape: tuple[int, ...]) -> Any:
    """The torch module of one layer of these kinds (on an input of `shape`, channels last
    as the IR writes it)."""
    nn = torch.nn
    made = _classes(torch)
    op: Any = node.op
    kind = node.kind
    c = shape[-1]
    spatial = len(shape) - 1
    if kind == "dense":
        return made.ChannelsLast(nn.Linear(c, op.units, op.bias))
    if kind == "batchnorm":
        return made.PartialBatchNorm(c, op.eps, op.scale, op.center)
    if kind == "layernorm":
        norm = nn.LayerNorm(c, op.eps, op.elementwise_affine, bias=op.bias)
        return made.ChannelsLast(norm)
    if kind == "groupnorm":
        return nn.GroupNorm(op.groups, c, op.eps, op.affine)
    if kind == "instancenorm":
        norm = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[spatial - 1]
        return norm(c, op.eps, op.momentum, op.affine, op.track_running_stats)
    if kind == "layer_scale":
        return made.PerChannel(c, op.init)
    if kind in ("identity", "stochastic_depth"):
        return nn.Identity()
    functions: dict[str, Callable[[Any], Any]] = {
        "l2norm": lambda x: nn.functional.normalize(x, 2.0, 1, op.eps),
        "channel_shuffle": lambda x: _shuffle(x, op.groups),
        "scale": lambda x: x * op.factor,
        "mean": lambda x: x.mean(_mean_dims(op, len(shape)), keepdim=op.keepdims),
    }
    if kind == "slice":
        stop = c if op.stop is None else op.stop
        width = (stop - op.start) // op.parts
        first = op.start + op.part * width
        functions["slice"] = lambda x: x[:, first : first + width]
    if kind in functions:
        return made.Function(functions[kind])
    simple: dict[str, Callable[[], Any]] = {
        "mish": lambda: nn.Mish(),
        "hardtanh": lambda: nn.Hardtanh(op.min, op.max),
        "selu": lambda: nn.SELU(),
        "celu": lambda: nn.CELU(op.alpha),
        "softplus": lambda: nn.Softplus(op.beta, op.threshold),
        "log_softmax": lambda: nn.LogSoftmax(dim=1),
        "glu": lambda: nn.GLU(dim=1),
    }
    return simple[kind]()


def is_more(node: Node) -> bool:
    """Whether `more_module` builds this layer."""
    op: Any = node.op
    if node.kind == "dense":
        return bool(op.per_position)
    if node.kind == "batchnorm":
        return bool(op.affine and not (op.scale and op.center))
    return node.kind in MORE_KINDS
