"""The equivalent `torch.nn` model of a network, for cross-checks and benchmarks.

torch is not a dependency of cnncalc: this module imports it only when called (the test
suite's cross-check and `bench/verify_speed.py` do). Each layer is the module that
`cnncalc.io.frameworks` maps its kind to (the table `cnncalc export` prints too), with torch's
native padding wherever torch has it; `same` or asymmetric padding becomes an explicit
`ZeroPad2d`/`ConstantPad2d` in front (negative: a crop behind a conv_transpose). Modules
follow the input's rank (Conv1d, Conv2d, Conv3d, ...). The graph runs NCHW (N, C, spatial);
a flatten or a dense layer on an H×W×C input reads it in H, W, C order, as the IR (and the
NumPy reference) does.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from cnncalc.graph import Network, Node
from cnncalc.io.calls import Pads, Unsupported, torch_pads
from cnncalc.io.frameworks import bridge
from cnncalc.io.torch_helpers import helper_classes
from cnncalc.reference.forward import LayerWeights
from cnncalc.reference.windows import Array


def _torch() -> Any:
    return importlib.import_module("torch")


def _module(nn: Any, node: Node, shapes: list[tuple[int, ...]]) -> Any:
    """The torch module of one layer (from the shared table), or None for merges and flatten;
    padding in front or a crop behind makes it a Sequential with a ZeroPad2d/ConstantPad2d
    (1d/3d for other ranks)."""
    entry = bridge(node).torch
    if entry is None:
        return None
    layer = entry(node, shapes[0])
    module = layer.module.build({"nn": nn, **helper_classes(_torch())})
    if layer.pad is not None:
        return nn.Sequential(_pad_module(nn, layer.pad, layer.pad_value), module)
    if layer.crop is not None:
        return nn.Sequential(module, _pad_module(nn, tuple(-p for p in layer.crop)))
    return module


def _pad_module(nn: Any, pads: Pads, value: float = 0.0) -> Any:
    rank = len(pads) // 2
    if value == 0.0:
        return getattr(nn, f"ZeroPad{rank}d")(torch_pads(pads))
    return getattr(nn, f"ConstantPad{rank}d")(torch_pads(pads), value)


def _core(module: Any) -> Any:
    """The conv/linear/norm inside a padding Sequential."""
    nn = _torch().nn
    if isinstance(module, nn.Sequential):
        for inner in module:
            if not isinstance(inner, nn.modules.padding._ConstantPadNd):
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
                if node.kind == "conv" and name == "weight":  # HWIO → PyTorch's OIHW
                    value = value.transpose(value.ndim - 1, value.ndim - 2, *range(value.ndim - 2))
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

    def forward(self, x: Any, keep: bool = True, grad: bool = False) -> dict[str, Any]:
        """Run on an NCHW tensor (or an NHWC NumPy array) for the only input, or on each
        input's by name; every layer's output by name (`keep`), or the network's outputs.
        `grad`: record the autograd graph (for a backward pass)."""
        torch = self.torch
        given = dict(x) if isinstance(x, Mapping) else {self.net.input_names[0]: x}
        values: dict[str, Any] = {
            name: torch.from_numpy(_to_nchw(v)) if isinstance(v, np.ndarray) else v
            for name, v in given.items()
        }
        with torch.set_grad_enabled(grad):
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
        flattens = kind == "flatten" or (kind == "dense" and not node.op.per_position)  # type: ignore[attr-defined]
        if flattens and x.dim() > 2:
            x = x.movedim(1, -1).flatten(1)  # H, W, C order, as the IR
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
                if isinstance(mod, nn.modules.conv._ConvTransposeNd):
                    counted[name] = int(args[0].numel()) // batch * per
                else:
                    counted[name] = int(out.numel()) // batch * per

            if isinstance(core, nn.modules.conv._ConvNd | nn.Linear):
                handles.append(core.register_forward_hook(hook))
        try:
            self.forward(x, keep=False)
        finally:
            for handle in handles:
                handle.remove()
        return counted


def _to_nchw(x: Array) -> Array:
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if x.ndim > 2 else x


def to_nhwc(t: Any) -> Array:
    """A torch output as the reference lays it out (channels last, or N×L)."""
    a = t.detach().numpy()
    return np.moveaxis(a, 1, -1) if a.ndim > 2 else a


def build_torch_model(
    net: Network, weights: Mapping[str, LayerWeights] | None = None
) -> TorchModel:
    """The torch model of `net`, with `weights` (from the reference forward) copied in."""
    return TorchModel(net, weights)


__all__ = ["TorchModel", "Unsupported", "build_torch_model", "to_nhwc"]
