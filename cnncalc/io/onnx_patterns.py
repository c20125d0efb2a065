"""The state of a walk over an ONNX graph, and the patterns that span several nodes.

ConvNeXt's Transpose → LayerNormalization / MatMul + Add (a `dense` per position with its
bias) / Gelu → Transpose; ShuffleNet's Reshape → Transpose → Reshape (`channel_shuffle`);
GroupNorm's Reshape → InstanceNormalization → Reshape → Mul → Add; F.normalize's ReduceL2 →
Clip → Expand → Div (`l2norm`); x·Sigmoid(x) (SiLU) and x·tanh(softplus(x)) (Mish); Split /
Slice on the channels; Mul or Div by a constant (`scale`, or `layer_scale` per channel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnncalc.io.imported import Imported, hwc
from cnncalc.io.onnx_names import containers, layer_name, scope
from cnncalc.io.onnx_ops import Fields, OnnxNode

_SMALL = 64  # constants read as values (a Clip's bounds, a Reshape's shape); larger: sizes


@dataclass
class Grouped:
    """A channel shuffle under way: `layer`'s channels viewed as g × C/g (transposed: C/g × g)."""

    layer: str
    groups: int
    transposed: bool = False


class Patterns:
    """The state of one walk over the graph (what each tensor stands for) and the steps of
    the patterns; `onnx_reader.Walk` dispatches each node."""

    def __init__(
        self, onnx: Any, numpy_helper: Any, model: Any, imported: Imported, allow: bool
    ) -> None:
        self.onnx, self.numpy_helper, self.model = onnx, numpy_helper, model
        self.imported, self.allow = imported, allow
        self.constants: dict[str, Any] = {i.name: i for i in model.graph.initializer}
        self.produced: dict[str, str] = {}  # tensor → the layer that makes it
        self.last: set[str] = set()  # tensors with their channels last (after a Transpose)
        self.grouped: dict[str, Grouped] = {}
        self.blocks: dict[str, tuple[str, str, int, bool]] = {}  # layer, kind, r, transposed
        self.group_norms: dict[str, tuple[str, int, float | None]] = {}  # layer, groups, eps
        self.norms: dict[str, tuple[str, float]] = {}  # ReduceL2 → Clip: layer, eps
        self.values: dict[str, Any] = {}  # shape computations evaluated (Shape → Gather → …)
        self.derived: set[str] = set()  # tensors computed from shapes and constants only
        self.missing: set[str] = set()  # unsupported layers not imported, and what follows
        self.containers = containers([scope(n.name)[0] for n in model.graph.node])
        self.inferred: dict[str, list[int]] | None = None

    def value(self, name: str) -> Any:
        """A constant as an array; a large initializer only as its shape and dtype (a
        broadcast view of one zero), without reading its data."""
        if name in self.values:
            return self.values[name]
        held = self.constants.get(name)
        if held is None or not hasattr(held, "dims"):
            return held
        if math.prod(held.dims) <= _SMALL:
            return self.numpy_helper.to_array(held)
        dtype = self.onnx.helper.tensor_dtype_to_np_dtype(held.data_type)
        return np.broadcast_to(np.zeros((), dtype), tuple(held.dims))

    def first_value(self, name: str) -> float | None:
        """A constant's first element; None when the file's values were not read."""
        held = self.constants[name]
        try:
            array = self.numpy_helper.to_array(held) if hasattr(held, "dims") else held
            return float(f"{float(np.asarray(array).flat[0]):.7g}")
        except (ValueError, IndexError):
            return None

    def nchw(self, tensor: str) -> tuple[int, ...]:
        """A tensor's shape as the framework has it (N first, channels second or last)."""
        shape = self.imported.shapes[self.produced[tensor]]
        if len(shape) == 1:
            return (1, shape[0])
        if tensor in self.last:
            return (1, *shape)
        return (1, shape[-1], *shape[:-1])

    def _same(self, tensor: str, source: str) -> None:
        self.produced[tensor] = self.produced[source]
        if source in self.last:
            self.last.add(tensor)

    def _add(
        self,
        tensor: str,
        name: str,
        kind: str,
        fields: Fields,
        sources: list[str],
        weights: int | None,
    ) -> None:
        if self.missing.intersection(sources):  # only look for other unsupported ops
            self.produced[tensor] = name
            self.missing.add(name)
            return
        self.produced[tensor] = self.imported.add(name, kind, fields, sources, weights)

    def _unsupported(self, proto: Any, name: str, sources: list[str], weights: int) -> None:
        blocked = bool(self.missing.intersection(sources))
        if self.allow and self.inferred is None:
            self.inferred = _inferred_shapes(self.onnx, self.model)
        shape = self.inferred.get(proto.output[0]) if self.inferred else None
        made = self.imported.add_unsupported(
            self.allow and not blocked,
            proto.op_type,
            name,
            sources,
            hwc(shape) if shape else None,
            weights,
        )
        self.produced[proto.output[0]] = made or name
        if made is None:
            self.missing.add(name)

    # --- patterns that span several nodes ------------------------------------------------

    def _pattern(self, proto: Any, attrs: dict[str, Any], data: list[str], name: str) -> bool:
        """Handle `proto` as a step of a pattern; False when it is an ordinary op."""
        op, source = proto.op_type, data[0]
        rank = len(self.nchw(source))
        if op == "Transpose":
            return self._transpose(proto, attrs.get("perm", []), source, rank)
        if op == "Reshape" and len(data) == 1 and source not in self.last:
            target = self.value(proto.input[1]) if len(proto.input) > 1 else None
            if target is None:
                return False
            target = [int(d) for d in target]
            return (
                self._group(proto, source, target)
                or self._norm_groups(proto, source, target)
                or self._blocks(proto, source, target)
            )
        if op == "ReduceL2" and source not in self.last:
            axes = attrs.get("axes")
            if axes is None and len(proto.input) > 1:
                axes = self.value(proto.input[1])
            if axes is None or [int(a) % rank for a in axes] != [1] or not attrs.get("keepdims", 1):
                return False
            self.norms[proto.output[0]] = (self.produced[source], 0.0)
            return True
        if op == "Div" and len(proto.input) == 2 and proto.input[1] in self.norms:
            layer, eps = self.norms[proto.input[1]]
            if layer != self.produced[source]:
                return False
            self._add(proto.output[0], name, "l2norm", {"eps": eps}, [layer], 0)
            return True
        if op == "Split" and source not in self.last:
            return self._split(proto, attrs, source, name, rank)
        if op == "Slice" and source not in self.last:
            return self._slice(proto, source, name, rank)
        if len(data) == 2 and op == "Mul":
            return self._silu(proto, data) or self._mish(proto, data)
        constants = [i for i in proto.input if i not in self.produced]
        if len(data) == 1 and len(constants) == 1 and op in ("Add", "Mul", "Div"):
            return self._with_constant(proto, source, constants[0], name)
        return False

    def _pending(self, proto: Any, attrs: dict[str, Any], first: str) -> bool:
        """A node on a tensor that is part of a pattern under way (no layer yet)."""
        if first in self.grouped:
            self._shuffle(proto, attrs, self.grouped[first])
            return True
        if first in self.group_norms:
            layer, groups, eps = self.group_norms[first]
            if proto.op_type == "InstanceNormalization" and eps is None:
                eps = float(f"{float(attrs.get('epsilon', 1e-5)):.7g}")
                self.group_norms[proto.output[0]] = (layer, groups, eps)
                return True
            if proto.op_type == "Reshape" and eps is not None:
                named = scope(proto.name or proto.output[0])[0] or "groupnorm"
                fields = {"groups": groups, "eps": eps, "affine": False}
                self._add(proto.output[0], named, "groupnorm", fields, [layer], 0)
                return True
        if first in self.norms:
            layer, eps = self.norms[first]
            if proto.op_type == "Clip":
                low = self.value(proto.input[1]) if len(proto.input) > 1 else attrs.get("min")
                eps = float(f"{float(np.asarray(low).flat[0]):.7g}") if low is not None else eps
            if proto.op_type in ("Clip", "Expand"):
                self.norms[proto.output[0]] = (layer, eps)
                return True
        if first in self.blocks:
            layer, kind, factor, transposed = self.blocks[first]
            perm = [int(p) for p in attrs.get("perm", [])]
            wanted = [0, 1, 3, 5, 2, 4] if kind == "pixel_unshuffle" else [0, 1, 4, 2, 5, 3]
            if proto.op_type == "Transpose" and perm == wanted and not transposed:
                self.blocks[proto.output[0]] = (layer, kind, factor, True)
                return True
            if proto.op_type == "Reshape" and transposed:
                named = f"{scope(proto.name or proto.output[0])[0]}.{kind}".lstrip(".")
                self._add(proto.output[0], named, kind, {"factor": factor}, [layer], 0)
                return True
            name = layer_name(proto.name or proto.output[0], proto.op_type, self.containers)
            self._unsupported(proto, name, [layer], 0)
            return True
        pending = self.group_norms.get(first) or self.norms.get(first)
        if pending is None:
            return False
        # the pattern broke off: this op is reported, never dropped
        name = layer_name(proto.name or proto.output[0], proto.op_type, self.containers)
        self._unsupported(proto, name, [pending[0]], 0)
        return True

    def _norm_groups(self, proto: Any, source: str, target: list[int]) -> bool:
        """GroupNorm's first Reshape: (N, C, …) → (N, G, everything else)."""
        channels = self.nchw(source)[1]
        if len(target) != 3 or target[0] not in (0, 1) or target[1] <= 0:
            return False
        if channels % target[1] or target[2] not in (-1, math.prod(self.nchw(source)) // target[1]):
            return False
        self.group_norms[proto.output[0]] = (self.produced[source], target[1], None)
        return True

    def _blocks(self, proto: Any, source: str, target: list[int]) -> bool:
        """The first Reshape of torch's pixel_unshuffle, (N, C, H, W) → (N, C, H/r, r, W/r, r),
        or of a pixel_shuffle, → (N, C/r², r, r, H, W)."""
        before = self.nchw(source)
        if len(before) != 4 or len(target) != 6 or target[0] not in (0, 1, before[0]):
            return False
        _, c, h, w = before
        r = target[3]
        if r > 1 and target[1:] == [c, h // r, r, w // r, r] and h % r == 0 and w % r == 0:
            self.blocks[proto.output[0]] = (self.produced[source], "pixel_unshuffle", r, False)
            return True
        r = target[2]
        if r > 1 and target[1:] == [c // (r * r), r, r, h, w] and c % (r * r) == 0:
            self.blocks[proto.output[0]] = (self.produced[source], "pixel_shuffle", r, False)
            return True
        return False

    def _mish(self, proto: Any, data: list[str]) -> bool:
        """Mul(x, Tanh(Softplus(x))), as torch exports Mish."""
        layers = self.imported.layers
        if len(layers) < 2 or layers[-1].kind != "tanh" or layers[-2].kind != "softplus":
            return False
        tanh, softplus = layers[-1], layers[-2]
        for x, other in (data, data[::-1]):
            chained = tanh.inputs == [softplus.name] and softplus.inputs == [self.produced[x]]
            if self.produced[other] == tanh.name and chained and softplus.fields == {}:
                self.imported.drop_last()
                self.imported.drop_last()
                self._add(proto.output[0], softplus.name, "mish", {}, softplus.inputs, None)
                return True
        return False

    def _transpose(self, proto: Any, perm: list[int], source: str, rank: int) -> bool:
        order = tuple(int(p) for p in perm)
        if source not in self.last and order == (0, *range(2, rank), 1) and rank > 2:
            self.produced[proto.output[0]] = self.produced[source]
            self.last.add(proto.output[0])
            return True
        if source in self.last and order == (0, rank - 1, *range(1, rank - 1)):
            self.produced[proto.output[0]] = self.produced[source]
            return True
        return False

    def _group(self, proto: Any, source: str, target: list[int]) -> bool:
        """The first Reshape of a channel shuffle: (N, C, …) → (N, g, C/g, …)."""
        before = self.nchw(source)
        if len(target) != len(before) + 1 or len(before) <= 2 or target[1] <= 1:
            return False
        if target[1] * target[2] != before[1] or tuple(target[3:]) != before[2:]:
            return False
        self.grouped[proto.output[0]] = Grouped(self.produced[source], target[1])
        return True

    def _shuffle(self, proto: Any, attrs: dict[str, Any], grouped: Grouped) -> None:
        perm = [int(p) for p in attrs.get("perm", [])]
        if proto.op_type == "Transpose" and perm[:3] == [0, 2, 1] and not grouped.transposed:
            self.grouped[proto.output[0]] = Grouped(grouped.layer, grouped.groups, True)
            return
        where = scope(proto.name or proto.output[0])[0]
        if proto.op_type == "Reshape" and grouped.transposed:
            named = f"{where}.channel_shuffle".lstrip(".")
            fields = {"groups": grouped.groups}
            self._add(proto.output[0], named, "channel_shuffle", fields, [grouped.layer], 0)
            return
        name = layer_name(proto.name or proto.output[0], proto.op_type, self.containers)
        self._unsupported(proto, name, [grouped.layer], 0)

    def _split(self, proto: Any, attrs: dict[str, Any], source: str, name: str, rank: int) -> bool:
        channels = self.nchw(source)[1]
        node = OnnxNode("Split", attrs, [source], [], [], rank)
        if not node.is_channels(attrs.get("axis", 0)):
            return False
        given = attrs.get("split")
        if given is None and len(proto.input) > 1 and proto.input[1]:
            given = self.value(proto.input[1])
        count = len(proto.output)
        if given is None:
            slices: list[Fields] = [{"parts": count, "part": i} for i in range(count)]
        else:
            sizes = [int(s) for s in given]
            bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
            slices = [
                {"start": bounds[i], "stop": bounds[i + 1], "total": channels} for i in range(count)
            ]
        for index, output in enumerate(proto.output):
            self._add(output, f"{name}.{index}", "slice", slices[index], [self.produced[source]], 0)
        return True

    def _slice(self, proto: Any, source: str, name: str, rank: int) -> bool:
        starts, ends, axes, steps = (
            self.value(i) if i else None for i in [*proto.input[1:5], "", "", ""][:4]
        )
        if starts is None or ends is None:
            return False
        if axes is not None and all(int(a) % rank >= 2 for a in axes):
            return self._crop(proto, source, name, (starts, ends, axes, steps))
        if len(starts) != 1:
            return False
        axis = int(axes[0]) % rank if axes is not None else 0
        if axis != 1 or (steps is not None and int(steps[0]) != 1):
            return False
        channels = self.nchw(source)[1]
        start = max(int(starts[0]) + (channels if int(starts[0]) < 0 else 0), 0)
        end = int(ends[0])
        stop = None if end >= channels else end + (channels if end < 0 else 0)
        fields = {"start": start, "stop": stop}
        self._add(proto.output[0], name, "slice", fields, [self.produced[source]], 0)
        return True

    def _crop(self, proto: Any, source: str, name: str, bounds: tuple[Any, ...]) -> bool:
        """A Slice of spatial axes, step 1: `crop`."""
        starts, ends, axes, steps = bounds
        shape = self.nchw(source)
        cuts = [0] * (2 * (len(shape) - 2))
        for index, axis in enumerate(int(a) % len(shape) for a in axes):
            if steps is not None and int(steps[index]) != 1:
                return False
            start, stop, _ = slice(int(starts[index]), int(ends[index])).indices(shape[axis])
            if stop <= start:
                return False
            cuts[2 * (axis - 2)] = start
            cuts[2 * (axis - 2) + 1] = shape[axis] - stop
        fields = {"cropping": tuple(cuts)}
        self._add(proto.output[0], name, "crop", fields, [self.produced[source]], 0)
        return True

    def _silu(self, proto: Any, data: list[str]) -> bool:
        """Mul(x, Sigmoid(x)), as torch exports SiLU: the Sigmoid layer becomes `silu`."""
        layers = self.imported.layers
        if not layers:
            return False
        gate = layers[-1]
        for x, other in (data, data[::-1]):
            same_layout = (x in self.last) == (other in self.last)
            gated = gate.kind == "sigmoid" and gate.inputs == [self.produced[x]]
            if self.produced[other] == gate.name and gated and same_layout:
                gate.kind = "silu"
                self._same(proto.output[0], other)
                return True
        return False

    def _with_constant(self, proto: Any, source: str, constant: str, name: str) -> bool:
        """A bias Add after a MatMul (its dense gets the bias), a Mul or Div by a number
        (`scale`) or a Mul by one factor per channel (`layer_scale`)."""
        array = self.value(constant)
        if array is None:
            return False
        layer = self.imported.layers[-1] if self.imported.layers else None
        op, size = proto.op_type, int(array.size)
        produced = self.produced[source]
        follows_norm = layer is not None and layer.name == produced and layer.kind == "groupnorm"
        if follows_norm and self._norm_affine(op, layer, size, self.nchw(source)[1]):
            self._same(proto.output[0], source)
            return True
        if op == "Div" and size == 1 and self._softplus_beta(proto, produced, constant):
            return True
        if op == "Add" and layer is not None and layer.name == produced:
            if layer.kind == "dense" and not layer.fields["bias"] and size == layer.fields["units"]:
                layer.fields["bias"] = True
                layer.weights = (layer.weights or 0) + size
                self._same(proto.output[0], source)
                return True
            return False
        if op in ("Mul", "Div") and size == 1:
            factor = self.first_value(constant)
            if factor is None or (op == "Div" and factor == 0):
                return False
            fields = {"factor": factor if op == "Mul" else 1.0 / factor}
            self._add(proto.output[0], name, "scale", fields, [produced], 0)
            if source in self.last:
                self.last.add(proto.output[0])
            return True
        nchw = self.nchw(source)
        channel_axis = len(nchw) - 1 if source in self.last or len(nchw) == 2 else 1
        lined_up = (1,) * (len(nchw) - array.ndim) + tuple(array.shape)
        per_channel = len(lined_up) == len(nchw) and lined_up[channel_axis] == size
        if op == "Mul" and per_channel and size == nchw[channel_axis]:
            named = f"{scope(proto.name or proto.output[0])[0]}.layer_scale".lstrip(".")
            init = self.first_value(constant)
            fields = {} if init is None else {"init": init}
            self._add(proto.output[0], named, "layer_scale", fields, [produced], size)
            if source in self.last:
                self.last.add(proto.output[0])
            return True
        return False

    def _norm_affine(self, op: str, layer: Any, size: int, channels: int) -> bool:
        """GroupNorm's Mul by γ then Add of β (C each) after its normalization."""
        if size != channels:
            return False
        if op == "Mul" and not layer.fields["affine"]:
            layer.fields["affine"] = True
            layer.weights = size
            return True
        if op == "Add" and layer.fields["affine"] and layer.weights == size:
            layer.weights = 2 * size
            return True
        return False

    def _softplus_beta(self, proto: Any, produced: str, constant: str) -> bool:
        """softplus(β·x)/β, as torch exports Softplus(beta=β): Mul, Softplus, Div."""
        layers = self.imported.layers
        if len(layers) < 2 or layers[-1].name != produced or layers[-1].kind != "softplus":
            return False
        scaled, softplus = layers[-2], layers[-1]
        beta = self.first_value(constant)
        if beta is None or (
            scaled.kind != "scale"
            or softplus.inputs != [scaled.name]
            or scaled.fields != {"factor": beta}
        ):
            return False
        self.imported.drop_last()
        self.imported.drop_last()
        self._add(proto.output[0], softplus.name, "softplus", {"beta": beta}, scaled.inputs, 0)
        return True


def _inferred_shapes(onnx: Any, model: Any) -> dict[str, list[int]]:
    """Every tensor's shape from ONNX's shape inference (for opaque layers)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference refuses some graphs; their opaque shapes stay unknown
        return {}
    out = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = [d.dim_value or 1 for d in info.type.tensor_type.shape.dim]
        if 2 <= len(dims) <= 5:
            out[info.name] = dims
    return out
