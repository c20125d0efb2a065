"""PyTorch → imported layers, by tracing with `torch.fx` (`pip install "cnncalc[torch]"`).

The source is `module:function` or `module:Class` (called with keyword arguments), or a saved
full model (`torch.save(model)`, a .pt/.pth file). Each traced module maps to a layer kind
through `torch_modules.MODULES` (by class name) and each function or method through
`torch_functions.FUNCTIONS`, one entry each; `torch_graph` walks the graph.
Module names become layer names (`layer3.2.conv1`; a module called again `layer3.2.relu_1`),
functions are named in the module whose forward calls them (`layer3.2.add`). The traced
model is run once on zeros, and every layer's shape must equal what torch measured.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Mapping
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.io.imported import Imported
from cnncalc.io.torch_graph import Walk
from cnncalc.io.torch_modules import module_class
from cnncalc.layers import Shape

DEFAULT_INPUT: Shape = (224, 224, 3)


def _trace(torch: Any, model: Any) -> Any:
    """fx's trace, also keeping whole the subclasses of torch.nn modules that keep their
    forward (torchvision's Conv3DSimple), as fx keeps nn.Conv3d itself."""

    class Tracer(torch.fx.Tracer):  # type: ignore[misc]
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return bool(super().is_leaf_module(m, qualname)) or module_class(m) is not None

    return torch.fx.GraphModule(model, Tracer().trace(model))


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


def read_torch(
    source: str,
    allow_unsupported: bool,
    input_shape: Shape | Mapping[str, Shape] | None,
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
    try:
        traced = _trace(torch, model)
    except Exception as exc:  # fx's TraceError
        raise _untraceable(source, exc) from None
    placeholders = [n for n in traced.graph.nodes if n.op == "placeholder" and not n.args]
    shapes = _input_shapes([str(n.target) for n in placeholders], input_shape)
    try:  # ShapeProp prints a traceback before it re-raises: the error below says it all
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            _recording(ShapeProp)(traced).propagate(
                *(torch.zeros(1, shape[-1], *shape[:-1]) for _, shape in shapes)
            )
    except Exception as exc:  # a shape error in the user's model: its own words, not fx's
        raise _untraceable(
            source, exc.__cause__ or exc, "the model refuses these input shapes"
        ) from None
    name = source.rsplit(":", 1)[-1].rsplit("/", 1)[-1].split(".")[0] or "model"
    imported = Imported(name, source, shapes[0][1] if shapes else DEFAULT_INPUT)
    walk = Walk(torch, traced, imported, allow_unsupported)
    for node, named in zip(placeholders, imported.name_inputs(shapes), strict=True):
        walk.inputs[node.target] = named
    walk.run()
    _name_outputs(imported, walk.outputs)
    for prefix, module in model.named_modules():
        if prefix:
            imported.class_names[prefix] = type(module).__name__
    imported.check_supported(allow_unsupported)
    return imported


def _recording(shape_prop: Any) -> Any:
    """fx's ShapeProp, also keeping each integer a node computes (`x.shape[-1] // 2`) as its
    `value`, so an index or size computed from shapes reads as the number it was."""

    class Recording(shape_prop):  # type: ignore[misc]
        def run_node(self, n: Any) -> Any:
            result = super().run_node(n)
            if isinstance(result, int) or (
                isinstance(result, tuple) and all(isinstance(v, int) for v in result)
            ):
                n.meta["value"] = result
            return result

    return Recording


def _untraceable(source: str, exc: BaseException, reason: str | None = None) -> SpecError:
    hint = (
        "torch.fx needs a forward without data-dependent control flow; or export the "
        "model to ONNX and import that"
    )
    return SpecError(
        f"cannot trace {source}: {type(exc).__name__}: {str(exc)[:300]}",
        SourcePos(source),
        f"{reason}: give the shapes it takes with --input" if reason else hint,
    )


def _input_shapes(
    names: list[str], given: Shape | Mapping[str, Shape] | None
) -> list[tuple[str, Shape]]:
    """Each forward argument's shape: `--input HxWxC` for a model of one, `--input
    NAME=HxWxC` per argument for several (224×224×3 where not given)."""
    if given is None or isinstance(given, Mapping):
        named = dict(given or {})
        if len(names) == 1 and set(named) == {"input"}:
            named = {names[0]: named["input"]}
        unknown = sorted(set(named) - set(names))
        if unknown:
            raise SpecError(
                f"the model's forward takes no argument {unknown[0]!r}",
                SourcePos("--input"),
                f"its arguments: {', '.join(names)}",
            )
        shapes = [(name, named.get(name, DEFAULT_INPUT)) for name in names]
    elif len(names) > 1:
        raise SpecError(
            f"the model takes {len(names)} inputs: give each its shape",
            SourcePos("--input"),
            " ".join(f"--input {name}=HxWxC" for name in names),
        )
    else:
        shapes = [(name, given) for name in names]
    for _, shape in shapes:
        if not 1 <= len(shape) <= 4:
            raise SpecError(
                "--input for a torch model is LxC, HxWxC or DxHxWxC (channels last), or F",
                SourcePos("--input"),
            )
    return shapes


def _name_outputs(imported: Imported, outputs: list[tuple[str | None, str]]) -> None:
    """The model's outputs; a dict's key renames the layer it returns, where the name is
    free (segmentation's {"out": …, "aux": …})."""
    layers = []
    for key, layer in outputs:
        if key and key.isidentifier() and len(outputs) > 1:
            layer = imported.rename(layer, key)
        layers.append(layer)
    imported.set_outputs(layers)


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
