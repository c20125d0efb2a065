"""Run a network forward in NumPy on seeded random weights and a random input.

Weights are allocated per layer from the shapes of the arrays that actually reach it (never
from the IR's shapes), so their element counts are an independent count of the parameters.
Each layer draws from its own generator, seeded by (seed, layer index): the same seed gives
the same weights whatever else runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnncalc.graph import Network, Node
from cnncalc.layers import Shape
from cnncalc.reference.ops import OPS
from cnncalc.reference.windows import DTYPE, Array, per_axis

ProgressFn = Callable[[int, Node], None]


@dataclass
class LayerWeights:
    """A layer's learnable tensors and its buffers (BatchNorm running statistics)."""

    params: dict[str, Array] = field(default_factory=dict)
    buffers: dict[str, Array] = field(default_factory=dict)

    @property
    def param_count(self) -> int:
        return sum(int(a.size) for a in self.params.values())

    @property
    def buffer_count(self) -> int:
        return sum(int(a.size) for a in self.buffers.values())

    def all(self) -> dict[str, Array]:
        return {**self.params, **self.buffers}


def _normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> Array:
    values = rng.standard_normal(shape, dtype=DTYPE)
    values *= DTYPE(std)  # in place: a weight tensor is never held twice
    return values


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> Array:
    return rng.uniform(low, high, shape).astype(DTYPE)


def make_weights(
    node: Node, input_shapes: list[tuple[int, ...]], rng: np.random.Generator
) -> LayerWeights:
    """Allocate one layer's tensors for inputs of these (batched) shapes: a conv kernel as
    kh×kw×C/groups×F (HWIO, TensorFlow's layout for NHWC; one k per spatial axis), the rest
    in PyTorch's layouts; He-scaled normals for weights, small biases, BatchNorm statistics
    near (0, 1)."""
    op: Any = node.op
    kind = node.kind
    first = input_shapes[0]
    channels = first[-1]
    out = LayerWeights()
    if kind in ("conv", "conv_transpose"):
        kernel = per_axis(op.kernel, len(first) - 2)
        groups = op.groups
        fan_in = channels // groups * math.prod(kernel)
        if kind == "conv":  # …IO (HWIO in 2-D): the im2col matrix as it lies (see ops.conv_nd)
            shape = (*kernel, channels // groups, op.filters)
        else:  # PyTorch's (C, F/groups, *k)
            shape = (channels, op.filters // groups, *kernel)
        out.params["weight"] = _normal(rng, shape, (2.0 / fan_in) ** 0.5)
        if op.bias:
            out.params["bias"] = _normal(rng, (op.filters,), 0.1)
    elif kind == "dense":
        features = channels if op.per_position else int(np.prod(first[1:]))
        out.params["weight"] = _normal(rng, (op.units, features), (1.0 / features) ** 0.5)
        if op.bias:
            out.params["bias"] = _normal(rng, (op.units,), 0.1)
    elif kind in ("batchnorm", "layernorm", "groupnorm", "instancenorm"):
        if _scale_and_shift(op)[0]:
            out.params["weight"] = _uniform(rng, (channels,), 0.5, 1.5)
        if _scale_and_shift(op)[1]:
            out.params["bias"] = _normal(rng, (channels,), 0.1)
        if kind == "batchnorm" or (kind == "instancenorm" and op.track_running_stats):
            out.buffers["running_mean"] = _normal(rng, (channels,), 0.1)
            out.buffers["running_var"] = _uniform(rng, (channels,), 0.5, 1.5)
    elif kind == "prelu":
        out.params["weight"] = _uniform(rng, (channels if op.per_channel else 1,), 0.0, 0.5)
    elif kind == "layer_scale":  # drawn near 1 rather than at `init` (1e-6), to be seen
        out.params["weight"] = _uniform(rng, (channels,), 0.5, 1.5)
    elif kind == "standardize" and op.adapted:  # Keras' adapt() state: mean, variance, count
        out.buffers["mean"] = _normal(rng, (channels,), 0.1)
        out.buffers["variance"] = _uniform(rng, (channels,), 0.5, 1.5)
        out.buffers["count"] = np.ones((1,), dtype=DTYPE)
    return out


def _scale_and_shift(op: Any) -> tuple[bool, bool]:
    """Whether a norm learns its per-channel scale γ and shift β."""
    if op.kind == "layernorm":
        return op.elementwise_affine, op.elementwise_affine and op.bias
    if op.kind == "batchnorm":
        return op.affine and op.scale, op.affine and op.center
    return op.affine, op.affine


@dataclass
class ForwardResult:
    shapes: dict[str, Shape]  # every layer's output shape without the batch (H, W, C) or (N,)
    weights: dict[str, LayerWeights]
    outputs: dict[str, Array]  # every layer's output when kept, else only the network's
    inputs: dict[str, Array]  # each input's values, by name

    @property
    def input(self) -> Array:
        """The first input's values (for most networks, the only input's)."""
        return next(iter(self.inputs.values()))


class ForwardError(Exception):
    """A layer the NumPy forward could not run; `partial` holds what ran before it."""

    def __init__(self, layer: str, message: str, partial: ForwardResult):
        super().__init__(f"layer {layer}: {message}")
        self.layer = layer
        self.message = message
        self.partial = partial


def layer_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def random_inputs(net: Network, batch: int, seed: int) -> dict[str, Array]:
    """A standard normal batch for each input; input i draws from (seed, layers + i)."""
    return {
        name: layer_rng(seed, len(net) + i).standard_normal((batch, *shape), dtype=DTYPE)
        for i, (name, shape) in enumerate(net.inputs.items())
    }


def random_input(net: Network, batch: int, seed: int) -> Array:
    """The first input's random batch (see `random_inputs`)."""
    return layer_rng(seed, len(net)).standard_normal((batch, *net.input_shape), dtype=DTYPE)


def run_forward(
    net: Network,
    batch: int = 1,
    seed: int = 0,
    *,
    keep_outputs: bool = False,
    weights: Mapping[str, LayerWeights] | None = None,
    x: Array | Mapping[str, Array] | None = None,
    on_layer: ProgressFn | None = None,
) -> ForwardResult:
    """Run `net` on a random N×H×W×C input for each of its inputs (or `x`: the only input's
    values, or each input's by name), allocating each layer's weights (or using `weights`).
    Tensors are freed after their last consumer unless `keep_outputs`; the network's outputs
    are kept."""
    if x is None:
        given = random_inputs(net, batch, seed)
    elif isinstance(x, Mapping):
        given = dict(x)
    else:
        given = {net.input_names[0]: x}
    last_use: dict[str, int] = {}
    for index, node in enumerate(net):
        for name in node.inputs:
            last_use[name] = index
    for name in (*net.outputs, *given):
        last_use.pop(name, None)  # never freed
    live: dict[str, Array] = dict(given)
    made: dict[str, LayerWeights] = {}
    shapes: dict[str, Shape] = {}
    # values only have to be finite where they are compared (the torch cross-check)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for index, node in enumerate(net):
            if on_layer is not None:
                on_layer(index, node)
            inputs = [live[name] for name in node.inputs]
            if weights is not None and node.name in weights:
                layer = weights[node.name]
            else:
                layer = make_weights(node, [a.shape for a in inputs], layer_rng(seed, index))
            made[node.name] = layer
            try:
                out = OPS[node.kind](node.op, inputs, layer.all())
                if out.dtype != DTYPE:
                    raise TypeError(f"{node.kind} returned {out.dtype}, not float32")
            except Exception as exc:  # the analytic passes took it; NumPy cannot run it
                partial = ForwardResult(shapes, made, {}, given)
                raise ForwardError(node.name, f"{type(exc).__name__}: {exc}", partial) from exc
            live[node.name] = out
            shapes[node.name] = tuple(int(d) for d in out.shape[1:])
            if not keep_outputs:
                for name in set(node.inputs):
                    if last_use.get(name) == index:
                        del live[name]
    if keep_outputs:
        outputs = {n: a for n, a in live.items() if n not in given}
    else:
        outputs = {n: live[n] for n in net.outputs}
    return ForwardResult(shapes, made, outputs, given)
