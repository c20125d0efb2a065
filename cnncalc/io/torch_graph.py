"""The walk over a traced torch.fx graph: each node → a layer, a pass-through, or a step of a
pattern that only as a whole is a layer.

Three patterns span several nodes, so each tensor carries its layout:
- ConvNeXt's `permute(0, 2, 3, 1)` → LayerNorm / Linear / GELU … → `permute(0, 3, 1, 2)`: the
  tensor in between is the same activation with its channels last; the ops on it that act per
  position (`PER_POSITION`) are the usual kinds (a Linear: `dense` with `per_position`);
- ShuffleNet's `view(n, g, c/g, h, w)` → `transpose(1, 2)` → `view(n, c, h, w)`: a
  `channel_shuffle` with g groups;
- `chunk` / `split` on the channels, then `[i]`: the `slice` of each part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import INPUT
from cnncalc.io.imported import Imported, hwc
from cnncalc.io.torch_functions import (
    FUNCTIONS,
    NON_TENSOR,
    PASS_THROUGH,
    RESHAPES,
    Applied,
    operation_name,
)
from cnncalc.io.torch_modules import (
    MODULES,
    PER_POSITION,
    At,
    Fields,
    Unsupported,
    module_class,
)
from cnncalc.layers import fmt_shape


@dataclass
class Grouped:
    """A channel shuffle under way: `layer`'s channels viewed as g × C/g (transposed: C/g × g)."""

    layer: str
    groups: int
    transposed: bool = False


@dataclass
class Parts:
    """The parts of a chunk or split, until `[i]` picks one: each part's slice fields."""

    layer: str
    name: str
    slices: list[Fields]


def fetch(traced: Any, target: str) -> Any:
    value = traced
    for part in target.split("."):
        value = getattr(value, part)
    return value


def tensor_shape(node: Any) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    shape = getattr(meta, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else None


def module_weights(module: Any) -> int:
    """Parameters and buffers, without BatchNorm's one-element num_batches_tracked."""
    tensors = [
        *module.parameters(),
        *(b for n, b in module.named_buffers() if n != "num_batches_tracked"),
    ]
    return sum(int(t.numel()) for t in tensors)


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


def layer_name(node: Any) -> str:
    if node.op == "call_module":
        return _module_name(node)
    label = node.target if node.op == "call_method" else getattr(node.target, "__name__", "op")
    return f"{_scope(node)}.{label}".lstrip(".")


def _op_label(node: Any, module: Any) -> str:
    """How an unsupported node is listed: its module's class, function or method."""
    if module is not None:
        return type(module).__name__
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    return str(getattr(node.target, "__name__", node.target))


def _hwc_or_none(shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    try:
        return hwc(shape) if shape is not None else None
    except ValueError:
        return None


def _channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], shape[-1], *shape[1:-1])


def _permutation(node: Any, rank: int) -> tuple[int, ...]:
    """The dims order a permute or transpose gives."""
    args = node.args[1:] or tuple(node.kwargs.values())
    if str(getattr(node.target, "__name__", node.target)) == "transpose":
        a, b = (int(d) % rank for d in args[:2])
        order = list(range(rank))
        order[a], order[b] = order[b], order[a]
        return tuple(order)
    dims = args[0] if len(args) == 1 and not isinstance(args[0], int) else args
    return tuple(int(d) % rank for d in dims)


def _chunks(name: str, node: Any, channels: int) -> list[Fields]:
    """The slice fields of each part of a chunk or split along the channels."""
    if name == "chunk":
        count = int(node.args[1] if len(node.args) > 1 else node.kwargs["chunks"])
        if channels % count == 0:
            return [{"parts": count, "part": i} for i in range(count)]
        width = -(-channels // count)
        sizes = [min(width, channels - start) for start in range(0, channels, width)]
    else:
        given = node.args[1] if len(node.args) > 1 else node.kwargs["split_size_or_sections"]
        if isinstance(given, int):
            sizes = [min(given, channels - start) for start in range(0, channels, given)]
        else:
            sizes = [int(s) for s in given]
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    return [
        {"start": bounds[i], "stop": bounds[i + 1], "total": channels} for i in range(len(sizes))
    ]


def _argument_nodes(node: Any) -> list[Any]:
    """The fx nodes among a node's arguments in order, repeats kept (`torch.cat([x, x])`
    reads x twice; fx's `all_input_nodes` lists it once)."""
    found: list[Any] = []

    def visit(value: Any) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif hasattr(value, "op") and hasattr(value, "all_input_nodes"):
            found.append(value)

    visit(node.args)
    visit(node.kwargs)
    return found


def _channel_range(index: Any) -> tuple[int, int | None] | None:
    """x[:, a:b] (or x[:, a:b, ...]) as (a, b); None for any other index."""
    if not isinstance(index, tuple) or len(index) < 2 or index[0] != slice(None):
        return None
    picked = index[1]
    rest = index[2:]
    if not isinstance(picked, slice) or picked.step not in (None, 1):
        return None
    if any(r not in (Ellipsis, slice(None)) for r in rest):
        return None
    return (picked.start or 0, picked.stop)


def _concrete(value: Any) -> Any:
    """An index with each fx node computed from shapes replaced by the number it was."""
    if isinstance(value, tuple):
        return tuple(_concrete(v) for v in value)
    if isinstance(value, slice):
        return slice(_concrete(value.start), _concrete(value.stop), _concrete(value.step))
    if hasattr(value, "meta") and "value" in value.meta:
        return value.meta["value"]
    return value


def _spatial_cuts(index: Any, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """x[:, :, a:b, c:d] (or x[..., a:b, c:d]) on an N×C×spatial tensor as the (before, after)
    cut per spatial axis; None for any other index, or one that cuts nothing."""
    if not isinstance(index, tuple) or len(shape) < 3:
        return None
    if index and index[0] is Ellipsis:
        index = (slice(None),) * (len(shape) - len(index) + 1) + index[1:]
    if len(index) > len(shape) or any(i != slice(None) for i in index[:2]):
        return None
    picks = list(index[2:]) + [slice(None)] * (len(shape) - len(index))
    cuts: list[int] = []
    for pick, size in zip(picks, shape[2:], strict=True):
        if not isinstance(pick, slice) or pick.step not in (None, 1):
            return None
        if not all(isinstance(b, int | None) for b in (pick.start, pick.stop)):
            return None
        start, stop, _ = pick.indices(size)
        if stop <= start:
            return None
        cuts += [start, size - stop]
    return tuple(cuts) if any(cuts) else None


class Walk:
    """The state of one walk: what each fx node stands for."""

    def __init__(self, torch: Any, traced: Any, imported: Imported, allow: bool) -> None:
        self.torch, self.traced, self.imported, self.allow = torch, traced, imported, allow
        self.produced: dict[Any, str] = {}  # node → the layer standing for its tensor
        self.last: set[Any] = set()  # nodes whose tensor has its channels last
        self.grouped: dict[Any, Grouped] = {}
        self.parts: dict[Any, Parts] = {}
        self.constants: dict[Any, Any] = {}  # get_attr nodes → their tensors
        self.missing: set[str] = set()  # unsupported and not imported, and what follows them
        self.inputs: dict[str, str] = {}  # placeholder → its input's name (default `input`)
        self.outputs: list[tuple[str | None, str]] = []  # (dict key, layer) the model gives

    def run(self) -> None:
        for node in self.traced.graph.nodes:
            if node.op == "placeholder":
                self.produced[node] = self.inputs.get(node.target, INPUT)
            elif node.op == "output":
                self._outputs(node.args[0] if node.args else None, None)
                break
            elif node.op == "get_attr":
                self.constants[node] = fetch(self.traced, node.target)
            else:
                self._node(node)

    def _outputs(self, value: Any, key: str | None) -> None:
        """The layers a returned tensor, tuple, list or dict (its keys kept) stands for."""
        if isinstance(value, dict):
            for item_key, item in value.items():
                self._outputs(item, str(item_key))
        elif isinstance(value, list | tuple):
            for item in value:
                self._outputs(item, None)
        elif value in self.produced:
            self.outputs.append((key, self.produced[value]))

    def _node(self, node: Any) -> None:
        if node.op == "call_method" and node.target in NON_TENSOR:
            return  # x.size(0) and the like: shape arithmetic
        name = operation_name(self.torch, node) if node.op != "call_module" else None
        inputs = _argument_nodes(node)
        first = inputs[0] if inputs else None
        if first in self.grouped or first in self.parts:
            self._pattern(node, name, first)
            return
        measured = tensor_shape(node)
        if name in ("chunk", "split") and first in self.produced and node.meta.get("tensor_meta"):
            self._split(node, name, first)
            return
        if measured is None:
            return
        tensors = [a for a in inputs if a in self.produced]
        sources = [self.produced[a] for a in tensors]
        if not tensors and all(a in self.constants for a in inputs):
            return  # computed from parameters alone (Swin's position bias table): no layer
        lone_cat = name == "cat" and len(tensors) == 1  # torch.cat([x], 1): DenseNet's first
        if tensors and (name in PASS_THROUGH or lone_cat or self._is_identity(node)):
            self._same(node, tensors[0])
            return
        if tensors and self._rearranged(node, name, first, measured):
            return
        self._layer(node, name, tensors, sources, measured)

    def _rearranged(
        self, node: Any, name: str | None, first: Any, measured: tuple[int, ...]
    ) -> bool:
        """A permute, view or index that is a step of a pattern (or a slice) — handled."""
        if first not in self.produced:
            return False
        if name in ("permute", "transpose"):
            return self._permute(node, first)
        if name in RESHAPES:
            return self._view(node, first)
        if name != "getitem":
            return False
        return self._channel_slice(node, first, measured) or self._crop(node, first, measured)

    def _is_identity(self, node: Any) -> bool:
        if node.op != "call_module":
            return False
        return type(self.traced.get_submodule(node.target)).__name__ == "Identity"

    def _same(self, node: Any, source: Any) -> None:
        self.produced[node] = self.produced[source]
        if source in self.last:
            self.last.add(node)

    def _permute(self, node: Any, source: Any) -> bool:
        shape = tensor_shape(source) or ()
        rank = len(shape)
        order = _permutation(node, rank)
        to_last = (0, *range(2, rank), 1)
        to_first = (0, rank - 1, *range(1, rank - 1))
        if source not in self.last and order == to_last and rank > 2:
            self.produced[node] = self.produced[source]
            self.last.add(node)
            return True
        if source in self.last and order == to_first:
            self.produced[node] = self.produced[source]
            return True
        return False

    def _view(self, node: Any, source: Any) -> bool:
        """The first view of a channel shuffle: (N, C, …) → (N, g, C/g, …)."""
        before, after = tensor_shape(source), tensor_shape(node)
        if before is None or after is None or source in self.last:
            return False
        if len(after) != len(before) + 1 or len(before) <= 2 or after[3:] != before[2:]:
            return False
        if after[1] * after[2] != before[1] or after[1] == 1:
            return False
        self.grouped[node] = Grouped(self.produced[source], after[1])
        return True

    def _pattern(self, node: Any, name: str | None, first: Any) -> None:
        """A step after a view into groups, or a pick of one part of a chunk."""
        if first in self.parts and name == "getitem" and isinstance(node.args[1], int):
            parts = self.parts[first]
            fields = parts.slices[node.args[1]]
            named = f"{parts.name}.{node.args[1]}"
            self._add(node, named, "slice", fields, [parts.layer], tensor_shape(node))
            return
        grouped = self.grouped.get(first)
        if grouped is not None:
            if name in PASS_THROUGH:
                self.grouped[node] = grouped
                return
            rank = len(tensor_shape(first) or ())
            if name in ("permute", "transpose") and _permutation(node, rank)[1:3] == (2, 1):
                self.grouped[node] = Grouped(grouped.layer, grouped.groups, True)
                return
            after = tensor_shape(node)
            if name in RESHAPES and grouped.transposed and after is not None:
                named = f"{_scope(node)}.channel_shuffle".lstrip(".")
                fields = {"groups": grouped.groups}
                self._add(node, named, "channel_shuffle", fields, [grouped.layer], after)
                return
        self._unsupported(node, None, [self.produced.get(first, layer_name(first))], None)

    def _split(self, node: Any, name: str, source: Any) -> None:
        shape = tensor_shape(source) or ()
        dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)
        at = At(len(shape), source in self.last)
        if not shape or not at.is_channels(dim) or source in self.last:
            self._unsupported(node, None, [self.produced[source]], None)
            return
        channels = shape[1]
        self.parts[node] = Parts(
            self.produced[source], layer_name(node), _chunks(name, node, channels)
        )

    def _crop(self, node: Any, source: Any, measured: tuple[int, ...]) -> bool:
        shape = tensor_shape(source)
        index = _concrete(node.args[1])
        cuts = _spatial_cuts(index, shape) if shape and source not in self.last else None
        if cuts is None:
            return False
        fields = {"cropping": cuts}
        self._add(node, layer_name(node), "crop", fields, [self.produced[source]], measured)
        return True

    def _channel_slice(self, node: Any, source: Any, measured: tuple[int, ...]) -> bool:
        bounds = _channel_range(node.args[1])
        if bounds is None or source in self.last or source not in self.produced:
            return False
        start, stop = bounds
        self._add(
            node,
            layer_name(node),
            "slice",
            {"start": start, "stop": stop},
            [self.produced[source]],
            measured,
        )
        return True

    def _layer(
        self,
        node: Any,
        name: str | None,
        tensors: list[Any],
        sources: list[str],
        measured: tuple[int, ...],
    ) -> None:
        module = self.traced.get_submodule(node.target) if node.op == "call_module" else None
        lasts = {t in self.last for t in tensors}
        at = At(len(tensor_shape(tensors[0]) or ()) if tensors else 0, lasts == {True})
        constants = [self.constants[a] for a in node.all_input_nodes if a in self.constants]
        try:
            if not sources:
                raise Unsupported("on constants")
            if len(lasts) > 1:
                raise Unsupported("a merge of channels-first and channels-last tensors")
            if module is not None:
                cls = module_class(module)
                if cls is None:
                    raise Unsupported(type(module).__name__)
                kind, fields = MODULES[cls](module, at)
            else:
                if name not in FUNCTIONS:
                    raise Unsupported(str(name))
                applied = Applied(
                    name, node.args, dict(node.kwargs), at, len(tensors), constants, measured
                )
                kind, fields = FUNCTIONS[name](applied)
            if at.channels_last and kind not in PER_POSITION:
                raise Unsupported(f"{kind} on a channels-last tensor")
        except Unsupported:
            params = module_weights(module) if module is not None else 0
            self._unsupported(node, module, sources, measured, params)
            return
        named, functional = layer_name(node), module is None
        weights = module_weights(module) if module is not None else None
        if module is None and constants:
            weights = sum(int(c.numel()) for c in constants)
            owner = next(a.target for a in node.all_input_nodes if a in self.constants)
            named = owner if kind == "layer_scale" else owner.rpartition(".")[0] or named
            functional = kind != "layer_scale"
        if kind == "stochastic_depth" and module is None:
            named, functional = _scope(node) or named, False
        last = at.channels_last
        self._add(node, named, kind, fields, sources, measured, weights, functional, last)
        if at.channels_last:
            self.last.add(node)

    def _add(
        self,
        node: Any,
        name: str,
        kind: str,
        fields: Fields,
        sources: list[str],
        measured: tuple[int, ...] | None,
        weights: int | None = None,
        functional: bool = False,
        channels_last: bool = False,
    ) -> None:
        if self.missing.intersection(sources):  # after an op not imported: only look on
            self.produced[node] = name
            self.missing.add(name)
            return
        made = self.imported.add(name, kind, fields, sources, weights, functional)
        self.produced[node] = made
        if channels_last and measured is not None:
            measured = _channels_first(measured)
        _check_shape(self.imported, made, measured)

    def _unsupported(
        self,
        node: Any,
        module: Any,
        sources: list[str],
        measured: tuple[int, ...] | None,
        params: int = 0,
    ) -> None:
        name = layer_name(node)
        made = self.imported.add_unsupported(
            self.allow and not self.missing.intersection(sources),
            _op_label(node, module),
            name,
            sources,
            _hwc_or_none(measured),
            params,
        )
        self.produced[node] = made or name
        if made is None:
            self.missing.add(name)


def _check_shape(imported: Imported, name: str, measured: tuple[int, ...] | None) -> None:
    expected = _hwc_or_none(measured)
    if expected is not None and imported.shapes[name] != expected:
        raise SpecError(
            f"layer {name}: cnncalc computes {fmt_shape(imported.shapes[name])}, torch "
            f"measured {fmt_shape(expected)}",
            SourcePos(imported.source),
            "this is a bug in cnncalc's importer: please report it with the model",
        )
