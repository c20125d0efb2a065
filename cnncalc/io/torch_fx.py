"""PyTorch → imported layers, by tracing with `torch.fx` (`pip install "cnncalc[torch]"`).

The source is `module:function` or `module:Class` (called with keyword arguments), or a saved
full model (`torch.save(model)`, a .pt/.pth file). Each traced module maps to a layer kind
through `MODULES` (by class name) and each function through `FUNCTIONS`, one entry each.
Module names become layer names (`layer3.2.conv1`; a module called again `layer3.2.relu_1`),
functions are named in the module whose forward calls them (`layer3.2.add`). The traced
model is run once on zeros, and every layer's shape must equal what torch measured.
"""

from __future__ import annotations

import importlib
import operator
import sys
from collections.abc import Callable
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import INPUT
from cnncalc.io.imported import Imported, hwc
from cnncalc.layers import Shape, fmt_shape

Fields = dict[str, Any]
DEFAULT_INPUT: Shape = (224, 224, 3)


class Unsupported(Exception):
    """This module or function (or this use of it) has no layer kind."""


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _padding(value: Any) -> Any:
    if value == "same":
        return "same"
    if value == "valid":
        return (0, 0, 0, 0)
    h, w = _pair(value)
    return (h, h, w, w)


def _conv(m: Any) -> tuple[str, Fields]:
    if m.padding_mode != "zeros":
        raise Unsupported(f"padding_mode {m.padding_mode}")
    fields: Fields = {
        "filters": m.out_channels,
        "kernel": _pair(m.kernel_size),
        "stride": _pair(m.stride),
        "dilation": _pair(m.dilation),
        "groups": m.groups,
        "bias": m.bias is not None,
        "padding": _padding(m.padding),
    }
    if type(m).__name__ == "Conv2d":
        return "conv", fields
    return "conv_transpose", {**fields, "output_padding": _pair(m.output_padding)}


def _batchnorm(m: Any) -> tuple[str, Fields]:
    if not m.track_running_stats or m.momentum is None:
        raise Unsupported("BatchNorm without running statistics or with a cumulative average")
    return "batchnorm", {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}


def _pool(kind: str) -> Callable[[Any], tuple[str, Fields]]:
    def convert(m: Any) -> tuple[str, Fields]:
        fields: Fields = {
            "kernel": _pair(m.kernel_size),
            "stride": _pair(m.stride or m.kernel_size),
            "padding": _padding(m.padding),
            "ceil_mode": m.ceil_mode,
        }
        if kind == "maxpool":
            fields["dilation"] = _pair(m.dilation)
        else:
            if m.divisor_override is not None:
                raise Unsupported("divisor_override")
            fields["count_include_pad"] = m.count_include_pad
        return kind, fields

    return convert


def _adaptive(kind: str) -> Callable[[Any], tuple[str, Fields]]:
    def convert(m: Any) -> tuple[str, Fields]:
        size = m.output_size
        if size is None or (not isinstance(size, int) and None in size):
            raise Unsupported("an output size of None")
        return kind, {"output": _pair(size)}

    return convert


def _flatten(m: Any) -> tuple[str, Fields]:
    if (m.start_dim, m.end_dim) != (1, -1):
        raise Unsupported(f"Flatten over dims {m.start_dim}..{m.end_dim}")
    return "flatten", {}


def _softmax(m: Any) -> tuple[str, Fields]:
    if m.dim not in (1, -1):
        raise Unsupported(f"Softmax over dim {m.dim}")
    return "softmax", {}


def _plain(kind: str, **attributes: str) -> Callable[[Any], tuple[str, Fields]]:
    """A kind whose fields are module attributes: field name → attribute name."""
    return lambda m: (kind, {field: getattr(m, attr) for field, attr in attributes.items()})


MODULES: dict[str, Callable[[Any], tuple[str, Fields]]] = {
    "Conv2d": _conv,
    "ConvTranspose2d": _conv,
    "Linear": lambda m: ("dense", {"units": m.out_features, "bias": m.bias is not None}),
    "BatchNorm2d": _batchnorm,
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
    "Softmax": _softmax,
    "PReLU": lambda m: ("prelu", {"per_channel": m.num_parameters > 1}),
    "MaxPool2d": _pool("maxpool"),
    "AvgPool2d": _pool("avgpool"),
    "AdaptiveAvgPool2d": _adaptive("adaptive_avgpool"),
    "AdaptiveMaxPool2d": _adaptive("adaptive_maxpool"),
    "Flatten": _flatten,
    "Dropout": _plain("dropout", rate="p"),
}
"""The layer kind of each torch.nn module, by class name; nn.Identity passes its input on."""


def _argument(
    args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any
) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _merge_function(
    kind: str,
) -> Callable[[tuple[Any, ...], dict[str, Any], int], tuple[str, Fields]]:
    def convert(args: tuple[Any, ...], kwargs: dict[str, Any], tensors: int) -> tuple[str, Fields]:
        if tensors < 2 or len(args) != 2:
            raise Unsupported(f"{kind} with a constant")
        return kind, {}

    return convert


def _cat(args: tuple[Any, ...], kwargs: dict[str, Any], tensors: int) -> tuple[str, Fields]:
    if _argument(args, kwargs, 1, "dim", 0) not in (1, -3):
        raise Unsupported("cat along a dim other than the channels")
    return "concat", {}


def _flatten_function(
    args: tuple[Any, ...], kwargs: dict[str, Any], tensors: int
) -> tuple[str, Fields]:
    if _argument(args, kwargs, 1, "start_dim", 0) != 1:
        raise Unsupported("flatten from a dim other than 1")
    return "flatten", {}


def _adaptive_function(
    kind: str,
) -> Callable[[tuple[Any, ...], dict[str, Any], int], tuple[str, Fields]]:
    return lambda args, kwargs, tensors: (
        kind,
        {"output": _pair(_argument(args, kwargs, 1, "output_size", None))},
    )


def _activation_function(
    kind: str,
) -> Callable[[tuple[Any, ...], dict[str, Any], int], tuple[str, Fields]]:
    return lambda args, kwargs, tensors: (kind, {})


def _function_table() -> dict[
    Any, Callable[[tuple[Any, ...], dict[str, Any], int], tuple[str, Fields]]
]:
    import torch
    import torch.nn.functional as F

    return {
        operator.add: _merge_function("add"),
        torch.add: _merge_function("add"),
        operator.mul: _merge_function("multiply"),
        torch.mul: _merge_function("multiply"),
        torch.cat: _cat,
        torch.flatten: _flatten_function,
        F.adaptive_avg_pool2d: _adaptive_function("adaptive_avgpool"),
        F.adaptive_max_pool2d: _adaptive_function("adaptive_maxpool"),
        F.relu: _activation_function("relu"),
        torch.relu: _activation_function("relu"),
        F.relu6: _activation_function("relu6"),
        torch.sigmoid: _activation_function("sigmoid"),
        F.sigmoid: _activation_function("sigmoid"),
        torch.tanh: _activation_function("tanh"),
        F.silu: _activation_function("silu"),
        F.hardswish: _activation_function("hardswish"),
        F.hardsigmoid: _activation_function("hardsigmoid"),
        F.dropout: lambda args, kwargs, tensors: (
            "dropout",
            {"rate": _argument(args, kwargs, 1, "p", 0.5)},
        ),
    }


FUNCTIONS = _function_table  # built on first use: importing torch is slow
_METHODS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}  # x.relu() …
_RESHAPES = {"view", "reshape", "flatten"}  # N×C×H×W → N×F: a flatten
_NON_TENSOR = {"size", "dim"}


def _load_model(source: str, kwargs: dict[str, Any]) -> Any:
    import torch

    pos = SourcePos(source)
    if source.lower().endswith((".pt", ".pth")):
        try:
            model = torch.load(source, weights_only=False, map_location="cpu")
        except Exception as exc:  # a missing file, a state dict's pickle, a zip error
            raise SpecError(
                f"cannot load {source}: {type(exc).__name__}: {str(exc)[:200]}",
                pos,
                "save the full model (`torch.save(model, path)`), not only its state_dict",
            ) from None
    else:
        module_name, _, attribute = source.partition(":")
        if not module_name or not attribute:
            raise SpecError(
                f"{source!r} is not module:function", pos, "e.g. torchvision.models:resnet50"
            )
        if "" not in sys.path:
            sys.path.insert(0, "")  # the user's own modules, as `python -m` finds them
        try:
            target: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as exc:
            raise SpecError(f"cannot find {source}: {exc}", pos) from None
        try:
            model = target(**kwargs)
        except Exception as exc:  # the user's constructor failed
            raise SpecError(
                f"{source}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}) failed: "
                f"{type(exc).__name__}: {str(exc)[:200]}",
                pos,
            ) from None
    if not isinstance(model, torch.nn.Module):
        raise SpecError(f"{source} gave a {type(model).__name__}, not a torch.nn.Module", pos)
    return model.eval()


def _scope(node: Any) -> str:
    """The module whose forward made this node (`layer1.0`), '' at the top."""
    stack = node.meta.get("nn_module_stack") or {}
    return str(list(stack)[-1]).split("@")[0] if stack else ""


def _module_name(node: Any) -> str:
    """`layer1.0.relu`, or `layer1.0.relu_1` for its second call (fx's `@1`)."""
    stack = node.meta.get("nn_module_stack") or {}
    key = str(list(stack)[-1]) if stack else str(node.target)
    base, _, call = key.partition("@")
    return f"{base}_{call}" if call else base


def _layer_name(node: Any) -> str:
    if node.op == "call_module":
        return _module_name(node)
    label = node.target if node.op == "call_method" else getattr(node.target, "__name__", "op")
    return f"{_scope(node)}.{label}".lstrip(".")


def _convert(
    node: Any, traced: Any, functions: dict[Any, Any], tensors: int, measured: tuple[int, ...]
) -> tuple[str, Fields]:
    """The layer kind and fields of one traced node; Unsupported if it has none."""
    if node.op == "call_module":
        cls = type(traced.get_submodule(node.target)).__name__
        if cls not in MODULES:
            raise Unsupported(cls)
        return MODULES[cls](traced.get_submodule(node.target))
    if node.op == "call_function":
        if node.target not in functions:
            raise Unsupported(getattr(node.target, "__name__", str(node.target)))
        kind, fields = functions[node.target](node.args, node.kwargs, tensors)
        return kind, fields
    if node.op == "call_method" and node.target in _METHODS:
        return _METHODS[node.target], {}
    if node.op == "call_method" and node.target in _RESHAPES and len(measured) == 2:
        return "flatten", {}
    raise Unsupported(f"Tensor.{node.target}" if node.op == "call_method" else str(node.op))


def _op_label(node: Any, module: Any) -> str:
    """How an unsupported node is listed: its module's class, function or method."""
    if module is not None:
        return type(module).__name__
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    return str(getattr(node.target, "__name__", node.target))


def _tensor_shape(node: Any) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    shape = getattr(meta, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else None


def _weights(module: Any) -> int:
    """Parameters and buffers, without BatchNorm's one-element num_batches_tracked."""
    tensors = [
        *module.parameters(),
        *(b for n, b in module.named_buffers() if n != "num_batches_tracked"),
    ]
    return sum(int(t.numel()) for t in tensors)


def read_torch(
    source: str,
    allow_unsupported: bool,
    input_shape: Shape | None,
    kwargs: dict[str, Any] | None = None,
) -> Imported:
    try:
        import torch
        import torch.fx
        from torch.fx.passes.shape_prop import ShapeProp
    except ImportError:
        raise SpecError(
            "importing a PyTorch model needs torch",
            SourcePos(source),
            'pip install "cnncalc[torch]"',
        ) from None
    model = _load_model(source, kwargs or {})
    shape = input_shape or DEFAULT_INPUT
    if len(shape) != 3:
        raise SpecError("--input for a torch model is HxWxC", SourcePos("--input"))
    try:
        traced = torch.fx.symbolic_trace(model)
        with torch.no_grad():
            ShapeProp(traced).propagate(torch.zeros(1, shape[2], shape[0], shape[1]))
    except Exception as exc:  # fx's TraceError, a shape error in the user's model
        raise SpecError(
            f"cannot trace {source}: {type(exc).__name__}: {str(exc)[:300]}",
            SourcePos(source),
            "torch.fx needs a forward without data-dependent control flow; or export the "
            "model to ONNX and import that",
        ) from None
    name = source.rsplit(":", 1)[-1].rsplit("/", 1)[-1].split(".")[0] or "model"
    imported = Imported(name, source, shape)
    functions = FUNCTIONS()
    produced: dict[Any, str] = {}
    missing: set[str] = set()  # unsupported and not imported, and what depends on them
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            produced[node] = INPUT
            continue
        if node.op == "output":
            break
        tensors = [a for a in node.all_input_nodes if a in produced]
        measured = _tensor_shape(node)
        if (node.op == "call_method" and node.target in _NON_TENSOR) or measured is None:
            continue  # x.size(0) and the like: shape arithmetic
        sources = [produced[a] for a in tensors]
        if (
            node.op == "call_module"
            and type(traced.get_submodule(node.target)).__name__ == "Identity"
        ):
            produced[node] = sources[0]
            continue
        layer_name = _layer_name(node)
        try:
            if not sources:
                raise Unsupported("on constants")
            kind, fields = _convert(node, traced, functions, len(tensors), measured)
        except Unsupported:
            module = traced.get_submodule(node.target) if node.op == "call_module" else None
            made = imported.add_unsupported(
                allow_unsupported and not missing.intersection(sources),
                _op_label(node, module),
                layer_name,
                sources,
                _hwc_or_none(measured),
                _weights(module) if module is not None else 0,
            )
            produced[node] = made or layer_name
            if made is None:
                missing.add(layer_name)
            continue
        if missing.intersection(sources):  # after an op not imported: only look for others
            produced[node] = layer_name
            missing.add(layer_name)
            continue
        if node.op == "call_module":
            weights = _weights(traced.get_submodule(node.target))
            made = imported.add(layer_name, kind, fields, sources, weights)
        else:
            made = imported.add(layer_name, kind, fields, sources, None, functional=True)
        produced[node] = made
        _check_shape(imported, made, measured)
    for prefix, module in model.named_modules():
        if prefix:
            imported.class_names[prefix] = type(module).__name__
    imported.check_supported(allow_unsupported)
    return imported


def _hwc_or_none(shape: tuple[int, ...] | None) -> Shape | None:
    try:
        return hwc(shape) if shape is not None else None
    except ValueError:
        return None


def _check_shape(imported: Imported, name: str, measured: tuple[int, ...] | None) -> None:
    expected = _hwc_or_none(measured)
    if expected is not None and imported.shapes[name] != expected:
        raise SpecError(
            f"layer {name}: cnncalc computes {fmt_shape(imported.shapes[name])}, torch "
            f"measured {fmt_shape(expected)}",
            SourcePos(imported.source),
            "this is a bug in cnncalc's importer: please report it with the model",
        )


def parse_kwargs(pairs: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs, each VALUE read as a YAML scalar (10, 0.5, true, text)."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SpecError(f"--arg takes KEY=VALUE, got {pair!r}", SourcePos("--arg"))
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            out[key] = value
    return out
