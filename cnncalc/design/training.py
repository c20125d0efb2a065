"""Training FLOPs: the forward pass plus the backward's input and weight gradients per layer.

Counted as `torch.utils.flop_counter.FlopCounterMode` counts them, so the totals can be
checked against it: 2 FLOPs per multiply-accumulate of the weighted layers (conv,
conv_transpose, dense; bias, normalization, activations and pooling count 0). The input
gradient of a weighted layer is a transposed product of the same size (2·MACs); its weight
gradient too, except that FlopCounterMode counts a grouped convolution's weight gradient as if
it were ungrouped (2·MACs·groups) — followed here so the totals agree, and said in the README.

Autograd skips what no parameter needs: a frozen layer (`trainable: false`) computes no weight
gradient, and a layer whose inputs depend on no trainable parameter (everything before the
first trainable layer; the network input has no gradient) computes no input gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import SpecError
from cnncalc.graph import Network
from cnncalc.passes.flops import Site, rule_for, site


@dataclass(frozen=True)
class TrainingRule:
    """One kind's FLOPs in FlopCounterMode's terms: forward, input gradient, weight gradient."""

    forward: Callable[[Site], int]
    input_grad: Callable[[Site], int]
    weight_grad: Callable[[Site], int]


def _none(site: Site) -> int:
    return 0


def _two_per_mac(site: Site) -> int:
    return 2 * site.macs


def _grouped_weight_grad(site: Site) -> int:
    """FlopCounterMode's conv weight gradient: as if the convolution were ungrouped."""
    groups: int = getattr(site.node.op, "groups", 1)
    return 2 * site.macs * groups


_WEIGHTED = TrainingRule(_two_per_mac, _two_per_mac, _two_per_mac)
_CONVOLUTION = TrainingRule(_two_per_mac, _two_per_mac, _grouped_weight_grad)
_UNCOUNTED = TrainingRule(_none, _none, _none)  # elementwise, pooling, merges: 0 in torch


def _unknown(site: Site) -> int:
    raise SpecError(
        f"layer {site.node.name}: the training FLOPs of an opaque layer are unknown",
        site.node.pos,
        "drop --training, or write the layer with kinds cnncalc knows",
    )


_OPAQUE = TrainingRule(_unknown, _unknown, _unknown)  # known only by its measured counts

TRAINING_RULES: dict[str, TrainingRule] = {
    "conv": _CONVOLUTION,
    "conv_transpose": _CONVOLUTION,
    "dense": _WEIGHTED,
    "opaque": _OPAQUE,
    **{
        kind: _UNCOUNTED
        for kind in (
            "batchnorm",
            "lrn",
            "maxpool",
            "avgpool",
            "global_maxpool",
            "global_avgpool",
            "adaptive_maxpool",
            "adaptive_avgpool",
            "relu",
            "relu6",
            "leaky_relu",
            "prelu",
            "elu",
            "gelu",
            "sigmoid",
            "tanh",
            "silu",
            "hardswish",
            "hardsigmoid",
            "softmax",
            "add",
            "multiply",
            "concat",
            "flatten",
            "dropout",
            # normalization, channel and elementwise kinds: no matmul or conv (dense
            # per_position is a matmul: `dense` above, its MACs at every position)
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
            "standardize",
            "mean",
            "mish",
            "hardtanh",
            "selu",
            "celu",
            "softplus",
            "log_softmax",
            "glu",
            "upsample",
            "pixel_shuffle",
            "pixel_unshuffle",
            "pad",
            "crop",
        )
    },
}


@dataclass(frozen=True)
class TrainingFlops:
    """One layer's (or the network's) training FLOPs."""

    forward: int
    input_grad: int
    weight_grad: int

    @property
    def backward(self) -> int:
        return self.input_grad + self.weight_grad

    @property
    def total(self) -> int:
        return self.forward + self.backward

    def __add__(self, other: TrainingFlops) -> TrainingFlops:
        return TrainingFlops(
            self.forward + other.forward,
            self.input_grad + other.input_grad,
            self.weight_grad + other.weight_grad,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "forward_flops": self.forward,
            "input_grad_flops": self.input_grad,
            "weight_grad_flops": self.weight_grad,
            "backward_flops": self.backward,
            "training_flops": self.total,
        }


@dataclass(frozen=True)
class Training:
    """Training FLOPs per layer and in total (per sample: batch 1)."""

    layers: dict[str, TrainingFlops]

    @property
    def totals(self) -> TrainingFlops:
        return sum(self.layers.values(), TrainingFlops(0, 0, 0))


def training_flops(net: Network) -> Training:
    """Forward and backward FLOPs of one training step on one sample."""
    # does this tensor depend on a trainable parameter? (the inputs do not)
    needs_grad = dict.fromkeys(net.input_names, False)
    layers = {}
    for node in net:
        rule = rule_for(
            TRAINING_RULES, node, "no training-FLOPs rule", "drop --training for this network"
        )
        at = site(net, node)
        trains = node.trainable and int(node.op.params(at.inputs)) > 0
        upstream = any(needs_grad[name] for name in node.inputs)
        layers[node.name] = TrainingFlops(
            rule.forward(at),
            rule.input_grad(at) if upstream else 0,
            rule.weight_grad(at) if trains else 0,
        )
        needs_grad[node.name] = upstream or trains
    return Training(layers)
