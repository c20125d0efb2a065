"""Multiply counts: weight MACs per layer, and FLOPs under a named counting convention.

`macs` is the weights' multiply-accumulates (conv, conv_transpose, dense), the convention of
torchvision's published GFLOPS column. A convention maps every layer kind to a rule; the
tools' rules were measured on fvcore 0.1.5, ptflops 0.7.5 and torchinfo 1.8.0 (see README).
A kind missing from a convention is an error, never a silent 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import TypeVar

from cnncalc.errors import SpecError
from cnncalc.graph import Network, Node, per_layer_and_flag
from cnncalc.layers import Shape
from cnncalc.layers.base import prod
from cnncalc.layers.pool import adaptive_bins_total


@dataclass(frozen=True, slots=True)
class Site:
    """What a counting rule may look at for one layer."""

    node: Node
    inputs: list[Shape]
    output: Shape
    macs: int

    @property
    def in_elements(self) -> int:
        return int(prod(self.inputs[0]))

    @property
    def out_elements(self) -> int:
        return int(prod(self.output))

    @property
    def out_spatial(self) -> int:
        return int(prod(self.output[:-1])) if len(self.output) > 1 else 1

    @property
    def bias_adds(self) -> int:
        """One add per output element for layers with a bias."""
        return self.out_elements if getattr(self.node.op, "bias", False) else 0


Rule = Callable[[Site], int]


@dataclass(frozen=True)
class Convention:
    name: str
    description: str
    rules: dict[str, Rule]


def _zero(site: Site) -> int:
    return 0


def _per_element(n: int) -> Rule:
    return lambda site: n * site.out_elements


def _window_per_output(extra: int) -> Rule:
    """Pooling: (k_h·k_w − 1) comparisons or adds per output element, plus `extra` (a divide)."""

    def rule(site: Site) -> int:
        window = site.node.op.window(site.inputs)
        sizes, out = site.inputs[0][:-1], site.output[:-1]
        if window is None or not hasattr(site.node.op, "kernel"):
            # global or adaptive: Σ over PyTorch's bins of (bh·bw − 1 + extra)
            area = math.prod(adaptive_bins_total(s, o) for s, o in zip(sizes, out, strict=True))
            return (area + math.prod(out) * (extra - 1)) * site.output[-1]
        return (math.prod(window.kernel) - 1 + extra) * site.out_elements

    return rule


def _merge(site: Site) -> int:
    return (len(site.inputs) - 1) * site.out_elements


def _lrn_flops(site: Site) -> int:
    size = getattr(site.node.op, "size", 1)
    return (2 * size + 3) * site.out_elements  # squares and window sum, ·α + k, pow, divide


def _batchnorm_scale(single: int, affine: int) -> Rule:
    """Per input element: `affine` with a learned γ, else `single` (the tools look for γ)."""

    def rule(site: Site) -> int:
        op = site.node.op
        has_scale = getattr(op, "affine", True) and getattr(op, "scale", True)
        return (affine if has_scale else single) * site.in_elements

    return rule


def _norm_statistics(affine_field: str, tracked: int | None = None) -> Rule:
    """A per-sample norm (layernorm, groupnorm, instancenorm): 5 per element with a learned
    scale, 4 without (fvcore's estimate); `tracked`: per element when running statistics
    are used instead (they fold into x·a + b, as batchnorm's)."""

    def rule(site: Site) -> int:
        op = site.node.op
        if tracked is not None and getattr(op, "track_running_stats", False):
            return tracked * site.in_elements
        return (5 if getattr(op, affine_field) else 4) * site.in_elements

    return rule


def _by_input(n: int) -> Rule:
    return lambda site: n * site.in_elements


def _ptflops_norm(affine_field: str | None) -> Rule:
    """ptflops' norm hook: N, 2·N when the module has a true `affine` attribute (LayerNorm
    has none: its attribute is `elementwise_affine`); nothing when applied as F.* (a
    subclass such as ConvNeXt's LayerNorm2d is not hooked either: mark it functional)."""

    def rule(site: Site) -> int:
        if site.node.functional:
            return 0
        affine = affine_field is not None and getattr(site.node.op, affine_field)
        return (2 if affine else 1) * site.in_elements

    return rule


def _tensor_op(site: Site) -> int:
    """`x * γ` is not counted by ptflops; `torch.mul(x, γ)` (functional) is, per element."""
    return site.out_elements if site.node.functional else 0


def _interpolation(site: Site) -> int:
    """2·taps − 1 per output element (a weighted sum of 2^rank linear or 4^2 bicubic taps);
    nearest copies."""
    op = site.node.op
    mode: str = op.mode  # type: ignore[attr-defined]
    taps = {"nearest": 1, "bicubic": 16}.get(mode, 2 ** (len(site.output) - 1))
    return (2 * taps - 1) * site.out_elements if taps > 1 else 0


def _fvcore_upsample(site: Site) -> int:
    """fvcore handles aten::upsample_nearest2d (1 per output element) and
    upsample_bilinear2d (4); the other modes and ranks are unsupported ops: 0."""
    per = {"nearest": 1, "bilinear": 4}.get(site.node.op.mode, 0)  # type: ignore[attr-defined]
    return per * site.out_elements if len(site.output) == 3 else 0


def _ptflops_interpolate(site: Site) -> int:
    """ptflops' F.interpolate hook: N·C·(the size's product; an int size to the rank), or
    input elements · scale^rank (a per-axis scale: its product as an int); the nn.Upsample
    hook adds the output elements, unless applied as F.interpolate (measured on 0.7.5)."""
    op = site.node.op
    rank = len(site.output) - 1
    if op.size is not None:  # type: ignore[attr-defined]
        size = op.size  # type: ignore[attr-defined]
        area = size**rank if isinstance(size, int) else math.prod(size)
        counted: float = area * site.output[-1]
    else:
        scale = op.scale  # type: ignore[attr-defined]
        factor = int(math.prod(scale)) if isinstance(scale, tuple) else scale**rank
        counted = site.in_elements * factor
    return int(counted if site.node.functional else counted + site.out_elements)


FLOPS = Convention(
    "flops",
    "floating-point operations at inference: 2 per MAC plus bias adds, normalization, "
    "activations, pooling and merges",
    {
        "conv": lambda s: 2 * s.macs + s.bias_adds,
        "conv_transpose": lambda s: 2 * s.macs + s.bias_adds,
        "dense": lambda s: 2 * s.macs + s.bias_adds,
        "batchnorm": _per_element(2),  # folded to x·a + b at inference
        "lrn": _lrn_flops,
        "maxpool": _window_per_output(0),
        "avgpool": _window_per_output(1),
        "global_maxpool": _window_per_output(0),
        "global_avgpool": _window_per_output(1),
        "adaptive_maxpool": _window_per_output(0),
        "adaptive_avgpool": _window_per_output(1),
        "relu": _per_element(1),
        "relu6": _per_element(2),
        "leaky_relu": _per_element(2),
        "prelu": _per_element(2),
        "elu": _per_element(4),
        "gelu": lambda s: (
            (9 if getattr(s.node.op, "approximate", "none") == "tanh" else 5) * s.out_elements
        ),
        "sigmoid": _per_element(4),
        "tanh": _per_element(6),
        "silu": _per_element(5),
        "hardswish": _per_element(5),
        "hardsigmoid": _per_element(4),
        "softmax": _per_element(3),
        "add": _merge,
        "multiply": _merge,
        "concat": _zero,
        "flatten": _zero,
        "dropout": _zero,
        "opaque": lambda s: 2 * s.macs,  # its measured weight MACs; nothing else is known
        "layernorm": _norm_statistics("elementwise_affine"),
        "groupnorm": _norm_statistics("affine"),
        "instancenorm": _norm_statistics("affine", tracked=2),
        "l2norm": _per_element(3),  # square, sum, divide
        "channel_shuffle": _zero,
        "slice": _zero,
        "identity": _zero,
        "stochastic_depth": _zero,
        "layer_scale": _per_element(1),
        "standardize": _per_element(2),  # subtract the mean, divide by the deviation
        "scale": _per_element(1),
        "mean": _by_input(1),  # the adds and one divide per output
        "mish": _per_element(10),  # softplus 3, tanh 6, multiply
        "hardtanh": _per_element(2),
        "selu": _per_element(5),
        "celu": _per_element(5),
        "softplus": _per_element(4),
        "log_softmax": _per_element(4),
        "glu": _per_element(5),  # sigmoid and multiply per output element
        "upsample": _interpolation,
        "pixel_shuffle": _zero,
        "pixel_unshuffle": _zero,
        "pad": _zero,
        "crop": _zero,
    },
)

MACS = Convention(
    "macs",
    "multiply-accumulates of conv, conv_transpose and dense weights (torchvision's GFLOPS)",
    {kind: (lambda s: s.macs) for kind in FLOPS.rules},
)

FVCORE = Convention(
    "fvcore",
    "fvcore FlopCountAnalysis: weight MACs without bias, batchnorm 2 per element (1 without "
    "affine), adaptive/global average pooling 1 per input element; all else 0",
    {
        **{kind: _zero for kind in FLOPS.rules},
        "conv": lambda s: s.macs,
        "conv_transpose": lambda s: s.macs,
        "dense": lambda s: s.macs,
        "batchnorm": _batchnorm_scale(1, 2),
        "layernorm": _norm_statistics("elementwise_affine"),
        "groupnorm": _norm_statistics("affine"),
        "instancenorm": _norm_statistics("affine"),
        "adaptive_avgpool": lambda s: s.in_elements,
        "global_avgpool": lambda s: s.in_elements,
        "opaque": lambda s: s.macs,
        "upsample": _fvcore_upsample,
    },
)


def _module_or_functional(module: int, functional: int, by: str = "out") -> Rule:
    """ptflops counts a module's hook *and* the F.* function it calls: often twice."""

    def rule(site: Site) -> int:
        factor = functional if site.node.functional else module
        return factor * (site.out_elements if by == "out" else site.in_elements)

    return rule


def _lrn_ptflops(site: Site) -> int:
    """x·x, α·, +k (patched tensor ops) and avg_pool3d over C + size − 1 padded channels."""
    *sizes, c = site.inputs[0]
    size = getattr(site.node.op, "size", 1)
    return 3 * site.in_elements + (c + size - 1) * math.prod(sizes)


_PTFLOPS_WEIGHTS: dict[str, Rule] = {
    "conv": lambda s: s.macs + (s.output[-1] * s.out_spatial if s.node.op.bias else 0),  # type: ignore[attr-defined]
    "conv_transpose": lambda s: s.macs + (s.out_elements if s.node.op.bias else 0),  # type: ignore[attr-defined]
    "dense": lambda s: s.macs + s.bias_adds,
}

PTFLOPS = Convention(
    "ptflops",
    "ptflops get_model_complexity_info, pytorch backend: weight MACs with bias, batchnorm 2 "
    "per element, module activations and pools counted twice (hook + F.*) unless "
    "`functional: true`",
    {
        **_PTFLOPS_WEIGHTS,
        "batchnorm": _batchnorm_scale(1, 2),
        "relu": _module_or_functional(2, 1),
        "elu": _module_or_functional(2, 1),
        "gelu": _module_or_functional(2, 1),
        "prelu": _module_or_functional(2, 1),
        "relu6": _per_element(1),
        "leaky_relu": _module_or_functional(1, 0),
        "silu": _per_element(1),
        "softmax": _per_element(1),
        "sigmoid": _zero,
        "tanh": _zero,
        "hardswish": _zero,
        "hardsigmoid": _zero,
        "maxpool": _module_or_functional(2, 1, by="in"),
        "avgpool": _module_or_functional(2, 1, by="in"),
        "global_maxpool": _module_or_functional(2, 1, by="in"),
        "global_avgpool": _module_or_functional(2, 1, by="in"),
        "adaptive_maxpool": _module_or_functional(2, 1, by="in"),
        "adaptive_avgpool": _module_or_functional(2, 1, by="in"),
        "lrn": _lrn_ptflops,
        "add": lambda s: s.out_elements * (len(s.inputs) - 1) if s.node.functional else 0,
        "multiply": lambda s: s.out_elements * (len(s.inputs) - 1) if s.node.functional else 0,
        "concat": _zero,
        "flatten": _zero,
        "dropout": _zero,
        "opaque": lambda s: s.macs,
        "layernorm": _ptflops_norm(None),
        "groupnorm": _ptflops_norm("affine"),
        "instancenorm": _ptflops_norm("affine"),
        "layer_scale": _tensor_op,
        "scale": _tensor_op,
        "upsample": _ptflops_interpolate,
        **{
            kind: _zero
            for kind in (
                "l2norm",
                "channel_shuffle",
                "slice",
                "identity",
                "stochastic_depth",
                "standardize",
                "mean",
                "mish",
                "hardtanh",
                "selu",
                "celu",
                "softplus",
                "log_softmax",
                "glu",
                "pixel_shuffle",
                "pixel_unshuffle",
                "pad",
                "crop",
            )
        },
    },
)

PTFLOPS_ATEN = Convention(
    "ptflops-aten",
    "ptflops get_model_complexity_info, aten backend: weight MACs with bias; all else 0",
    {**{kind: _zero for kind in FLOPS.rules}, **_PTFLOPS_WEIGHTS, "opaque": lambda s: s.macs},
)


def _torchinfo(site: Site) -> int:
    params = site.node.op.params(site.inputs)
    if site.node.kind in ("conv", "conv_transpose"):
        return params * site.out_spatial  # its conv rule uses the output size, also transposed
    return params  # every other leaf module: parameters × batch


TORCHINFO = Convention(
    "torchinfo",
    "torchinfo summary() Mult-Adds: conv (weights + bias)·H_out·W_out, other layers their "
    "parameter count; parameter-free layers 0",
    # LayerScale's γ is neither a `weight` nor a `bias`, the names torchinfo counts
    {**{kind: _torchinfo for kind in FLOPS.rules}, "layer_scale": _zero},
)

CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (MACS, FLOPS, FVCORE, PTFLOPS, PTFLOPS_ATEN, TORCHINFO)
}


@dataclass(frozen=True, slots=True)
class MultiplyCount:
    macs: int
    flops: int  # under the chosen convention


def count_flops(net: Network, convention: str = "macs") -> dict[str, MultiplyCount]:
    counts = flops_per_layer(net, convention)
    return dict(zip(map(attrgetter("name"), net.nodes), counts, strict=True))


R = TypeVar("R")  # a rule: how one convention counts a kind


def rule_for(rules: Mapping[str, R], node: Node, missing: str, hint: str) -> R:
    """The rule of `node`'s kind; an error at the layer (`missing`: what there is none of)."""
    rule = rules.get(node.kind)
    if rule is None:
        raise SpecError(f"layer {node.name}: {missing} for {node.kind}", node.pos, hint)
    return rule


def flops_per_layer(net: Network, convention: str = "macs") -> list[MultiplyCount]:
    """Each layer's counts under `convention`, in the network's order."""
    if convention not in CONVENTIONS:
        raise SpecError(
            f"unknown convention {convention!r}", None, f"choose one of {', '.join(CONVENTIONS)}"
        )
    rules = CONVENTIONS[convention].rules

    def count(node: Node) -> MultiplyCount:
        missing = f"the {convention} convention has no rule"
        rule = rule_for(rules, node, missing, "choose another --convention")
        at = site(net, node)
        return MultiplyCount(at.macs, int(rule(at)))

    # a rule sees the op, `functional` and the shapes: layers that compute alike (see
    # Network.classes) count alike, and a long network repeats a few
    return per_layer_and_flag(net, count, attrgetter("functional"))


def site(net: Network, node: Node) -> Site:
    """What the counting rules see of `node` in `net`: its shapes and its weight MACs."""
    inputs = net.input_shapes(node)
    output = net.shapes[node.name]
    return Site(node, inputs, output, int(node.op.macs(inputs, output)))
