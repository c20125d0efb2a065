"""A network as one self-contained PyTorch source file: an `nn.Module` built from the shared
table (`frameworks`), with the spec's layer names as its attribute paths.

`layer1.0.conv1` becomes `self.layer1["0"].conv1` (nested `nn.ModuleDict`s), so
`state_dict()` keys are the spec's names (`layer1.0.conv1.weight`, as torchvision's). A name
segment that nn.Module cannot hold (empty, private, or one of its attributes such as `forward`)
gets a trailing `_`, with the spec's name in a comment. The forward follows the DAG, one line
per layer, each with its output shape; `same`/asymmetric padding is an `F.pad` in front, a
conv_transpose crop a slice behind. A flatten reads C, H, W (PyTorch's order; cnncalc's
tensors are H, W, C): a dense layer after it has the same parameters, in another order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from cnncalc import __version__
from cnncalc.gcpause import gc_paused
from cnncalc.graph import Network, Node
from cnncalc.io.calls import literal, torch_pads
from cnncalc.io.frameworks import bridge
from cnncalc.io.naming import class_name, dead_ends, each_layer, variable_names
from cnncalc.io.torch_helpers import helpers_source
from cnncalc.io.torch_layers import TorchLayer, torch_functional
from cnncalc.layers import Shape

# what an nn.Module or nn.ModuleDict already has (torch 2.13): no child may take these names
MODULE_ATTRIBUTES = frozenset(
    "T_destination add_module apply bfloat16 buffers call_super_init children clear compile "  # noqa: SIM905
    "cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state "
    "get_parameter get_submodule half ipu items keys load_state_dict modules mtia "
    "named_buffers named_children named_modules named_parameters parameters pop "
    "register_backward_hook register_buffer register_forward_hook register_forward_pre_hook "
    "register_full_backward_hook register_full_backward_pre_hook "
    "register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module "
    "register_parameter register_state_dict_post_hook register_state_dict_pre_hook "
    "requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train "
    "training type update values xpu zero_grad".split()
)
Path = tuple[str, ...]


def _segment(text: str) -> str:
    if not text or text.startswith("_") or text in MODULE_ATTRIBUTES:
        return f"m{text}_" if text.startswith("_") else f"{text or 'layer'}_"
    return text


def attribute_paths(names: Iterable[str]) -> dict[str, Path]:
    """Each layer name → its path of child names in the model (`layer1.0.conv1` → layer1, 0,
    conv1). A layer never sits inside another layer's module: when a name would (`a` and
    `a.b`), or repeats one, the later one becomes a single segment (`a_b`)."""
    paths: dict[str, Path] = {}
    leaves: set[Path] = set()
    containers: set[Path] = set()
    for name in names:
        path = tuple(_segment(s) for s in name.split("."))

        def clashes(p: Path) -> bool:
            prefixes = {p[:i] for i in range(1, len(p))}
            return p in leaves or p in containers or bool(prefixes & leaves)

        if clashes(path):
            flat = _segment("_".join(path))
            path = (flat,)
            while clashes(path):
                path = (path[0] + "_",)
        leaves.add(path)
        containers.update(path[:i] for i in range(1, len(path)))
        paths[name] = path
    return paths


def access(path: Path) -> str:
    """`self.layer1["0"].conv1`: attributes where Python allows, subscripts elsewhere."""
    if not path[0].isidentifier():
        text = f"getattr(self, {json.dumps(path[0])})"
    else:
        text = f"self.{path[0]}"
    for segment in path[1:]:
        ident = segment.isidentifier() and segment.isascii() and not segment[0].isdigit()
        text += f".{segment}" if ident else f"[{json.dumps(segment)}]"
    return text


def _declare(path: Path, value: str) -> str:
    if len(path) == 1 and not path[0].isidentifier():
        return f"self.add_module({json.dumps(path[0])}, {value})"
    parent, last = access(path[:-1]) if len(path) > 1 else "self", path[-1]
    if last.isidentifier() and last.isascii():
        return f"{parent}.{last} = {value}"
    return f"{parent}[{json.dumps(last)}] = {value}"


def torch_shape(shape: Shape) -> str:
    """`(N, 64, 112, 112)`: an IR shape (H, W, C) as PyTorch's (N, C, H, W) (any rank)."""
    dims = (shape[-1], *shape[:-1]) if len(shape) > 1 else shape
    return "(N, " + ", ".join(str(d) for d in dims) + ")"


def _layers(net: Network) -> dict[str, TorchLayer | None]:
    def convert(node: Node) -> TorchLayer | None:
        entry = bridge(node).torch
        return entry(node, net.input_shapes(node)[0]) if entry is not None else None

    return each_layer(net, "PyTorch", convert)


def _modules(net: Network, layers: dict[str, TorchLayer | None]) -> dict[str, TorchLayer]:
    """The layers that are modules (not merges, flatten or `functional: true` F.* calls)."""
    return {
        node.name: layer
        for node in net
        if (layer := layers[node.name]) is not None
        and not (node.functional and torch_functional(layer.module))
    }


def module_paths(net: Network) -> dict[str, Path]:
    """Each layer that is a module → its path in the exported model (`named_modules()`)."""
    return attribute_paths(_modules(net, _layers(net)))


@gc_paused  # linear in layers (see cnncalc/gcpause.py)
def write(net: Network, check: bool = False, command: str = "") -> str:
    """The source file; `check` adds a `__main__` that asserts cnncalc's counts and shape."""
    layers = _layers(net)
    modules = _modules(net, layers)
    paths = attribute_paths(modules)
    names = _variables(net)
    init: list[str] = []
    declared: set[Path] = set()
    frozen = {node.name for node in net if not node.trainable}
    for name, layer in modules.items():
        path = paths[name]
        for i in range(1, len(path)):
            if path[:i] not in declared:
                declared.add(path[:i])
                init.append(_declare(path[:i], "nn.ModuleDict()"))
        comment = f"  # {json.dumps(name)} in the spec" if ".".join(path) != name else ""
        init.append(_declare(path, layer.module.source()) + comment)
        if name in frozen:
            init.append(f"{access(path)}.requires_grad_(False)")
    forward = [_forward_line(net, node, layers[node.name], paths, names) for node in net]
    helpers = helpers_source(layer.module.func for layer in modules.values())
    body = "\n".join(
        [
            _header(net, command),
            "",
            "import torch",
            *(["import torch.nn.functional as F"] if "F." in helpers + "".join(forward) else []),
            "from torch import nn",
            *([helpers] if helpers else []),
            "",
            "",
            f"class {class_name(net.name)}(nn.Module):",
            "    def __init__(self) -> None:",
            "        super().__init__()",
            *(f"        {line}" for line in init),
            "",
            *_forward_def(net, names),
            *(f"        {line}" for line in forward),
            f"        return {', '.join(names[name] for name in net.outputs)}",
            "",
        ]
    )
    return body + (_check(net) if check else "")


def _variables(net: Network) -> dict[str, str]:
    """Each input's and layer's variable in `forward`: the only input is `x`, several are
    named after themselves; a layer after its name."""
    taken = ["self", "torch", "nn", "F"]
    if len(net.input_names) == 1:
        names = variable_names((n.name for n in net), ["x", *taken], dead_ends(net))
        return names | {net.input_names[0]: "x"}
    inputs = variable_names(net.input_names, taken)
    return inputs | variable_names((n.name for n in net), [*taken, *inputs.values()])


def _forward_def(net: Network, names: dict[str, str]) -> list[str]:
    args = ", ".join(f"{names[name]}: torch.Tensor" for name in net.input_names)
    several = len(net.outputs) > 1
    returns = f"tuple[{', '.join(['torch.Tensor'] * len(net.outputs))}]" if several else ""
    return [f"    def forward(self, {args}) -> {returns or 'torch.Tensor'}:"]


def _header(net: Network, command: str) -> str:
    how = f" (`{command}`)" if command else ""
    if len(net.input_names) == 1:
        given = f"Input: a float tensor of shape {torch_shape(net.input_shape)}."
    else:
        shapes = ", ".join(f"{n} {torch_shape(s)}" for n, s in net.inputs.items())
        given = f"Inputs, in this order: {shapes}."
    if len(net.outputs) > 1:
        given += f" Outputs, in this order: {', '.join(net.outputs)}."
    return (
        f'"""{net.name}: exported by cnncalc {__version__}{how}.\n\n'
        f"{given} The state_dict keys are the spec's layer\n"
        "names; a flatten reads C, H, W (PyTorch's order, where cnncalc's tensors are H, W, C).\n"
        '"""'
    )


def _forward_line(
    net: Network,
    node: Node,
    layer: TorchLayer | None,
    paths: dict[str, Path],
    names: dict[str, str],
) -> str:
    inputs = [names[i] for i in node.inputs]
    shape = net.input_shapes(node)[0]
    if node.kind == "add":
        value = " + ".join(inputs)
    elif node.kind == "multiply":
        value = " * ".join(inputs)
    elif node.kind == "concat":
        value = f"torch.cat([{', '.join(inputs)}], dim=1)"
    elif node.kind == "flatten" or layer is None:
        value = f"torch.flatten({inputs[0]}, 1)"
    else:
        arg = inputs[0]
        if node.kind == "dense" and len(shape) > 1 and not node.op.per_position:  # type: ignore[attr-defined]
            arg = f"torch.flatten({arg}, 1)"
        if layer.pad is not None:
            fill = f', value=float("{layer.pad_value}")' if layer.pad_value != 0.0 else ""
            arg = f"F.pad({arg}, {literal(torch_pads(layer.pad))}{fill})"
        functional = torch_functional(layer.module) if node.functional else None
        if functional is not None:
            value = functional.source(arg)
        else:
            value = f"{access(paths[node.name])}({arg})"
        if layer.crop is not None:
            out = net.shapes[node.name]
            kept = (f"{b} : {b + n}" for b, n in zip(layer.crop[::2], out[:-1], strict=True))
            value += f"[:, :, {', '.join(kept)}]"
    return f"{names[node.name]} = {value}  # {torch_shape(net.shapes[node.name])}"


def _check(net: Network) -> str:
    from cnncalc.report import analyze

    totals = analyze(net).totals
    several = len(net.outputs) > 1
    dims = tuple(output_numbers(net, name) for name in net.outputs) if several else None
    zeros = ", ".join(
        "torch.zeros" + torch_shape(shape).replace("N", "1") for shape in net.inputs.values()
    )
    expected = (
        f'{{"params": {totals.params}, "trainable_params": {totals.trainable_params}, '
        f'"buffers": {totals.buffers}, "output_shape": {dims or output_numbers(net)!r}}}'
    )
    shape_of_y = "tuple(tuple(t.shape[1:]) for t in y)" if several else "tuple(y.shape[1:])"
    return f"""

if __name__ == "__main__":
    model = {class_name(net.name)}().eval()
    with torch.no_grad():
        y = model({zeros})
    found = {{
        "params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(
            b.numel()
            for name, b in model.named_buffers()
            if not name.endswith("num_batches_tracked")
        ),
        "output_shape": {shape_of_y},
    }}
    expected = {expected}
    if found != expected:
        raise SystemExit(f"cnncalc expects {{expected}}, PyTorch has {{found}}")
    print(f"ok: {{found}}")
"""


def output_numbers(net: Network, name: str | None = None) -> tuple[int, ...]:
    """An output's shape (the first output's by default) without the batch, as PyTorch
    gives it (channels first)."""
    out = net.shapes[name or net.output.name]
    return (out[-1], *out[:-1]) if len(out) > 1 else out
