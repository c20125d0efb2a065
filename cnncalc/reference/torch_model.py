"""The equivalent `torch.nn` model of a network, for cross-checks and benchmarks.

torch is not a dependency of cnncalc: this module imports it only when called (the test
suite's cross-check and `bench/verify_speed.py` do). Layers use torch's own modules with their
native padding wherever torch has it; `same` or asymmetric padding becomes an explicit
`ZeroPad2d`/`ConstantPad2d` in front (negative: a crop behind a conv_transpose). The graph runs
NCHW; a flatten or a dense layer on an H×W×C input reads it in H, W, C order, as the IR (and
the NumPy reference) does.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from cnncalc.graph import Network, Node
from cnncalc.reference.forward import LayerWeights
from cnncalc.reference.ops import Array, transpose_crop, window_pads


class Unsupported(Exception):
    """A layer that torch has no module for (the reason says which)."""


def _torch() -> Any:
    return importlib.import_module("torch")


def _pad_module(nn: Any, pads: tuple[int, int, int, int], value: float = 0.0) -> Any:
    t, b, left, r = pads
    if value == 0.0:
        return nn.ZeroPad2d((left, r, t, b))
    return nn.ConstantPad2d((left, r, t, b), value)


def _window_module(nn: Any, node: Node, shape: tuple[int, ...]) -> Any:
    op: Any = node.op
    kind = node.kind
    c = shape[-1]
    dilation = tuple(op.dilation) if kind in ("conv", "maxpool") else (1, 1)
    pads = window_pads(op.padding, (shape[0], shape[1]), op.kernel, op.stride, dilation)
    # torch pads natively only symmetrically, and pools at most ⌊kernel/2⌋ (not the dilated
    # span); `same` is TensorFlow's, so it is always an explicit padding layer
    symmetric = op.padding != "same" and pads[0] == pads[1] and pads[2] == pads[3]
    if kind != "conv" and any(2 * p > op.kernel[a // 2] for a, p in enumerate(pads)):
        symmetric = False
    native = (pads[0], pads[2]) if symmetric else (0, 0)
    if kind == "conv":
        layer = nn.Conv2d(
            c, op.filters, tuple(op.kernel), tuple(op.stride), native, dilation, op.groups, op.bias
        )
    elif kind == "maxpool":
        layer = nn.MaxPool2d(
            tuple(op.kernel), tuple(op.stride), native, dilation, ceil_mode=op.ceil_mode
        )
    else:
        layer = nn.AvgPool2d(
            tuple(op.kernel),
            tuple(op.stride),
            native,
            ceil_mode=op.ceil_mode,
            count_include_pad=op.count_include_pad,
        )
    if symmetric:
        return layer
    if kind != "conv" and op.ceil_mode:
        raise Unsupported("ceil_mode pooling with `same`, asymmetric or wide padding")
    if kind == "avgpool" and not op.count_include_pad:
        raise Unsupported("count_include_pad=false with `same`, asymmetric or wide padding")
    return nn.Sequential(_pad_module(nn, pads, -np.inf if kind == "maxpool" else 0.0), layer)


def _module(nn: Any, node: Node, shapes: list[tuple[int, ...]]) -> Any:
    """The torch module of one layer, or None for merges, flatten and flat-to-dense glue."""
    op: Any = node.op
    kind = node.kind
    shape = shapes[0]
    c = shape[-1]
    if kind in ("conv", "maxpool", "avgpool"):
        return _window_module(nn, node, shape)
    if kind == "conv_transpose":
        t, b, left, r = transpose_crop(op, (shape[0], shape[1]))
        if t == b and left == r:
            return nn.ConvTranspose2d(
                c,
                op.filters,
                tuple(op.kernel),
                tuple(op.stride),
                (t, left),
                tuple(op.output_padding),
                op.groups,
                op.bias,
                tuple(op.dilation),
            )
        full = nn.ConvTranspose2d(
            c,
            op.filters,
            tuple(op.kernel),
            tuple(op.stride),
            0,
            tuple(op.output_padding),
            op.groups,
            op.bias,
            tuple(op.dilation),
        )
        return nn.Sequential(full, nn.ZeroPad2d((-left, -r, -t, -b)))
    if kind == "global_avgpool":
        return nn.AdaptiveAvgPool2d(1)
    if kind == "global_maxpool":
        return nn.AdaptiveMaxPool2d(1)
    if kind == "adaptive_avgpool":
        return nn.AdaptiveAvgPool2d(tuple(op.output))
    if kind == "adaptive_maxpool":
        return nn.AdaptiveMaxPool2d(tuple(op.output))
    if kind == "dense":
        return nn.Linear(int(np.prod(shape)), op.units, op.bias)
    if kind == "dropout":
        return nn.Dropout(op.rate)
    if kind == "batchnorm":
        norm = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        return norm(c, op.eps, op.momentum, op.affine)
    if kind == "lrn":
        return nn.LocalResponseNorm(op.size, op.alpha, op.beta, op.k)
    simple = {
        "relu": lambda: nn.ReLU(),
        "relu6": lambda: nn.ReLU6(),
        "leaky_relu": lambda: nn.LeakyReLU(op.negative_slope),
        "elu": lambda: nn.ELU(op.alpha),
        "gelu": lambda: nn.GELU(approximate=op.approximate),
        "sigmoid": lambda: nn.Sigmoid(),
        "tanh": lambda: nn.Tanh(),
        "silu": lambda: nn.SiLU(),
        "hardswish": lambda: nn.Hardswish(),
        "hardsigmoid": lambda: nn.Hardsigmoid(),
        "softmax": lambda: nn.Softmax(dim=1),
        "prelu": lambda: nn.PReLU(c if op.per_channel else 1, 0.25),
    }
    if kind in simple:
        return simple[kind]()
    if kind in ("add", "multiply", "concat", "flatten"):
        return None
    raise Unsupported(f"no torch module for {kind}")


def _core(module: Any) -> Any:
    """The conv/linear/norm inside a padding Sequential."""
    nn = _torch().nn
    if isinstance(module, nn.Sequential):
        for inner in module:
            if not isinstance(inner, nn.ZeroPad2d | nn.ConstantPad2d):
                return inner
    return module


class TorchModel:
    """A network as torch modules plus the graph that connects them (eval mode, NCHW)."""

    def __init__(self, net: Network, weights: Mapping[str, LayerWeights] | None = None):
        torch = _torch()
        self.torch = torch
        self.net = net
        self.layers = torch.nn.ModuleDict()
        self.keys: dict[str, str] = {}  # layer name → ModuleDict key (no dots allowed)
        for index, node in enumerate(net):
            module = _module(torch.nn, node, net.input_shapes(node))
            if module is None:
                continue
            key = f"l{index}"
            self.keys[node.name] = key
            self.layers[key] = module
            if weights is not None and node.name in weights:
                self._load(node, module, weights[node.name])
        self.layers.eval()

    def _load(self, node: Node, module: Any, weights: LayerWeights) -> None:
        core = _core(module)
        with self.torch.no_grad():
            for name, value in weights.all().items():
                if node.kind == "conv" and name == "weight":
                    value = value.transpose(3, 2, 0, 1)  # HWIO → PyTorch's OIHW
                getattr(core, name).copy_(self.torch.from_numpy(np.ascontiguousarray(value)))

    def module(self, name: str) -> Any:
        """The conv/linear/norm... module of a layer (inside any padding), or None."""
        key = self.keys.get(name)
        return _core(self.layers[key]) if key is not None else None

    def param_count(self) -> int:
        return sum(int(p.numel()) for p in self.layers.parameters())

    def layer_params(self, name: str) -> tuple[int, int]:
        """(parameters, buffers) of one layer; buffers as the README counts them (BatchNorm's
        running mean and variance, not the num_batches_tracked counter)."""
        key = self.keys.get(name)
        if key is None:
            return 0, 0
        module = self.layers[key]
        params = sum(int(p.numel()) for p in module.parameters())
        buffers = sum(
            int(b.numel())
            for n, b in module.named_buffers()
            if not n.endswith("num_batches_tracked")
        )
        return params, buffers

    def forward(self, x: Any, keep: bool = True) -> dict[str, Any]:
        """Run on an NCHW tensor (or an NHWC NumPy array) for the only input, or on each
        input's by name; every layer's output by name (`keep`), or the network's outputs."""
        torch = self.torch
        given = dict(x) if isinstance(x, Mapping) else {self.net.input_names[0]: x}
        values: dict[str, Any] = {
            name: torch.from_numpy(_to_nchw(v)) if isinstance(v, np.ndarray) else v
            for name, v in given.items()
        }
        with torch.no_grad():
            for node in self.net:
                inputs = [values[i] for i in node.inputs]
                values[node.name] = self._apply(node, inputs)
        if not keep:
            return {name: values[name] for name in self.net.outputs}
        for name in given:
            del values[name]
        return values

    __call__ = forward

    def _apply(self, node: Node, inputs: list[Any]) -> Any:
        torch = self.torch
        kind = node.kind
        if kind == "add":
            out = inputs[0]
            for x in inputs[1:]:
                out = out + x
            return out
        if kind == "multiply":
            out = inputs[0]
            for x in inputs[1:]:
                out = out * x
            return out
        if kind == "concat":
            return torch.cat(inputs, dim=1)
        x = inputs[0]
        if kind in ("flatten", "dense") and x.dim() == 4:
            x = x.permute(0, 2, 3, 1).flatten(1)  # H, W, C order, as the IR
        if kind == "flatten":
            return x
        return self.layers[self.keys[node.name]](x)

    def macs(self, x: Any) -> dict[str, int]:
        """Weight multiply-accumulates per layer, measured with forward hooks on the conv,
        conv_transpose and linear modules (per sample): every output element of a conv or
        linear costs one MAC per weight of its filter; a conv_transpose scatters every input
        element over a filter."""
        torch = self.torch
        nn = torch.nn
        counted: dict[str, int] = {}
        handles = []
        for name in self.keys:
            core = self.module(name)

            def hook(mod: Any, args: Any, out: Any, name: str = name) -> None:
                batch = out.shape[0]
                per = int(mod.weight[0].numel())
                if isinstance(mod, nn.ConvTranspose2d):
                    counted[name] = int(args[0].numel()) // batch * per
                else:
                    counted[name] = int(out.numel()) // batch * per

            if isinstance(core, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                handles.append(core.register_forward_hook(hook))
        try:
            self.forward(x, keep=False)
        finally:
            for handle in handles:
                handle.remove()
        return counted


def _to_nchw(x: Array) -> Array:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def to_nhwc(t: Any) -> Array:
    """A torch output as the reference lays it out (NHWC, or N×L)."""
    a = t.detach().numpy()
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a  # type: ignore[no-any-return]


def build_torch_model(
    net: Network, weights: Mapping[str, LayerWeights] | None = None
) -> TorchModel:
    """The torch model of `net`, with `weights` (from the reference forward) copied in."""
    return TorchModel(net, weights)
