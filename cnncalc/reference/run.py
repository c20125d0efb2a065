"""`cnncalc run`: a network's output values for a concrete input and weights.

The values come from the NumPy reference forward pass (`forward.run_forward`, the ops of
`verify`), computed in float32 like the frameworks; convolutions are cross-correlations, as
PyTorch and TensorFlow compute them (the kernel is not flipped). Layers whose weights are not
given get `verify`'s seeded random ones, and the result says which.

Weights are given in PyTorch's layouts: a conv kernel (filters, in_channels/groups, kh, kw),
conv_transpose (in_channels, filters/groups, kh, kw), dense (units, inputs) with the inputs in
H·W·C order (the flatten of an H×W×C tensor, as Keras does; PyTorch's is C·H·W).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import Network, Node
from cnncalc.layers import Shape, fmt_shape
from cnncalc.loader import load
from cnncalc.reference.forward import (
    LayerWeights,
    layer_rng,
    make_weights,
    random_inputs,
    run_forward,
)
from cnncalc.reference.value_files import read_values
from cnncalc.reference.verify import forward_bytes
from cnncalc.reference.windows import (
    DTYPE,
    Array,
    avgpool_divisors,
    pad_spatial,
    patches,
    per_axis,
    pool_input,
    pool_window,
    window_pads,
)
from cnncalc.spec import InputOverride
from cnncalc.units import human_bytes

MAX_BYTES = 2 << 30  # the forward's peak: activations, weights and their temporaries
# tensors whose file layout differs from the reference's: the axes that turn it into the file's
FILE_AXES = {("conv", "weight"): (3, 2, 0, 1)}  # HWIO → (filters, in/groups, kh, kw)
LAYOUTS = {
    ("conv", "weight"): "(filters, in_channels/groups, kh, kw)",
    ("conv_transpose", "weight"): "(in_channels, filters/groups, kh, kw)",
    ("dense", "weight"): "(units, inputs)",
}
EXPLAINED = ("conv", "dense", "maxpool", "avgpool")
_INDEX = re.compile(r"^(?P<key>.+?)\[(?P<index>[\d,\s]*)\]$")


# --- the command-line arguments --------------------------------------------------------


@dataclass(frozen=True)
class WeightArg:
    """One `--weights LAYER[.TENSOR][[i,...]]=FILE`: the values of a tensor, or of the
    slice `[i, ...]` of it (one filter, one filter's input channel, one row)."""

    text: str
    layer: str
    tensor: str
    index: tuple[int, ...]
    path: str


def _argument_error(text: str, message: str, hint: str) -> SpecError:
    return SpecError(f"--weights {text[:80]}: {message}", None, hint)


def parse_weight_arg(text: str, net: Network) -> WeightArg:
    key, sep, path = text.partition("=")
    usage = "write --weights LAYER=FILE, LAYER.bias=FILE or LAYER[f]=FILE (filter f)"
    if not sep or not key or not path:
        raise _argument_error(text, "expected LAYER=FILE", usage)
    index: tuple[int, ...] = ()
    match = _INDEX.match(key)
    if match:
        key = match["key"]
        try:
            index = tuple(int(i) for i in match["index"].split(","))
        except ValueError:
            raise _argument_error(text, "the index is not whole numbers", usage) from None
    names = {node.name for node in net}
    if key in names:
        return WeightArg(text, key, "weight", index, path)
    layer, _, tensor = key.rpartition(".")
    if layer in names:
        return WeightArg(text, layer, tensor, index, path)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {close[0]}?" if close else "`cnncalc params` lists the layer names"
    raise _argument_error(text, f"the network has no layer {key!r}", hint)


def read_input(paths: list[str]) -> Array:
    """`--x` files as one H×W×C array (no batch): one .npy (H×W×C, H×W, or flat N), or 2-D
    matrices stacked as channels in the order given."""
    arrays = [read_values(p) for p in paths]
    if len(arrays) == 1 and arrays[0].ndim != 2:
        x = arrays[0]
        if x.ndim == 4 and x.shape[0] == 1:
            x = x[0]
        if x.ndim not in (1, 3):
            raise SpecError(
                f"the input is {fmt_shape(x.shape)}; expected H×W×C, H×W or a flat N",
                SourcePos(paths[0]),
                "save the input as an H×W×C array (channels last)",
            )
        return x
    for path, a in zip(paths, arrays, strict=True):
        if a.ndim != 2 or a.shape != arrays[0].shape:
            raise SpecError(
                f"this channel is {fmt_shape(a.shape)}, the first is {fmt_shape(arrays[0].shape)}",
                SourcePos(path),
                "every --x channel is a matrix of the same size",
            )
    return np.stack(arrays, axis=-1)


# --- the weights -------------------------------------------------------------------------


def _file_view(kind: str, tensor: str, values: Array) -> Array:
    axes = FILE_AXES.get((kind, tensor))
    return values if axes is None else values.transpose(axes)


def _from_file_view(kind: str, tensor: str, values: Array) -> Array:
    axes = FILE_AXES.get((kind, tensor))
    return values if axes is None else values.transpose(np.argsort(axes))


def _fit(values: Array, target: tuple[int, ...]) -> Array | None:
    """`values` shaped for a slice of shape `target`: equal to its last axes (a kernel for
    every filter and channel), or a one-row or one-column CSV for a vector; else None."""
    if values.ndim <= len(target) and values.shape == target[len(target) - values.ndim :]:
        return np.broadcast_to(values, target)
    one_line = values.ndim == 2 and 1 in values.shape
    if len(target) <= 1 and one_line and values.size == int(np.prod(target)):
        return values.reshape(target)
    return None


def _shape_error(arg: WeightArg, kind: str, slot: str, target: Shape, got: Shape) -> SpecError:
    layout = LAYOUTS.get((kind, arg.tensor), "")
    hint = f"give an array of shape {fmt_shape(target) or 'scalar'}"
    if (kind, arg.tensor) == ("conv", "weight"):
        hint = (
            f"a CSV is one {fmt_shape(target[-2:])} kernel, used for every filter and input "
            f"channel; choose a filter with {arg.layer}[f]=FILE, a filter's channel with "
            f"{arg.layer}[f,c]=FILE, or give the whole {layout} as an .npy"
        )
    return SpecError(
        f"{slot} is {fmt_shape(target) or 'a scalar'} {layout}".rstrip()
        + f", the file holds {fmt_shape(got)}",
        SourcePos(arg.path),
        hint,
    )


def _given_tensors(node: Node, template: LayerWeights, args: list[WeightArg]) -> dict[str, Array]:
    """The tensors of `node` its --weights fill, in the reference's layout; every element
    of a tensor that is given must be given (later arguments override earlier ones)."""
    tensors = template.all()
    filled: dict[str, Array] = {}
    for arg in args:
        if arg.tensor not in tensors:
            has = ", ".join(tensors) or "none"
            raise _argument_error(
                arg.text,
                f"layer {node.name} ({node.kind}) has no tensor {arg.tensor!r}",
                f"its tensors: {has}",
            )
        if arg.tensor not in filled:
            shape = _file_view(node.kind, arg.tensor, tensors[arg.tensor]).shape
            filled[arg.tensor] = np.full(shape, np.nan, dtype=DTYPE)
        whole = filled[arg.tensor]
        if len(arg.index) > whole.ndim or any(
            not 0 <= i < n for i, n in zip(arg.index, whole.shape, strict=False)
        ):
            raise _argument_error(
                arg.text,
                f"index [{', '.join(map(str, arg.index))}] is outside {arg.layer}.{arg.tensor}, "
                f"which is {fmt_shape(whole.shape)} {LAYOUTS.get((node.kind, arg.tensor), '')}",
                "indices count from 0",
            )
        values = read_values(arg.path)
        target = whole[arg.index].shape
        fitted = _fit(values, target)
        if fitted is None:
            slot = f"{arg.layer}.{arg.tensor}" + (f"{list(arg.index)}" if arg.index else "")
            raise _shape_error(arg, node.kind, slot, target, values.shape)
        whole[arg.index] = fitted
    for tensor, whole in filled.items():
        missing = np.argwhere(np.isnan(whole))
        if len(missing):
            first = tuple(int(i) for i in missing[0])
            raise _argument_error(
                f"{node.name}.{tensor}",
                f"element {list(first)} has no value (other slices of it are given)",
                f"give every filter: {node.name}[0]=FILE, {node.name}[1]=FILE, …",
            )
        filled[tensor] = _from_file_view(node.kind, tensor, whole)
    return filled


def _assemble_weights(
    net: Network, args: list[WeightArg], seed: int
) -> tuple[dict[str, LayerWeights], list[str], list[str]]:
    """The weights of every layer that has any: given ones where --weights names them, a
    zero bias beside a given weight, `verify`'s seeded random ones elsewhere. Returns them
    with the layers that got random tensors and those whose bias was set to zero."""
    by_layer: dict[str, list[WeightArg]] = {}
    for arg in args:
        by_layer.setdefault(arg.layer, []).append(arg)
    weights: dict[str, LayerWeights] = {}
    random: list[str] = []
    zero_bias: list[str] = []
    for index, node in enumerate(net):
        shapes = [(1, *net.shapes[name]) for name in node.inputs]
        template = make_weights(node, shapes, layer_rng(seed, index))
        given = _given_tensors(node, template, by_layer.get(node.name, []))
        if given and "weight" in given and "bias" in template.params and "bias" not in given:
            given["bias"] = np.zeros_like(template.params["bias"])
            zero_bias.append(node.name)
        if set(given) != set(template.all()):
            random.append(node.name)
        for part in (template.params, template.buffers):
            part.update((k, v) for k, v in given.items() if k in part)
        weights[node.name] = template
    return weights, random, zero_bias


# --- running ------------------------------------------------------------------------------


def _prefix(net: Network, layer: str | None) -> Network:
    """The network up to `layer` (the spec order is topological, so any prefix runs)."""
    if layer is None:
        return net
    names = [node.name for node in net]
    if layer not in names:
        close = difflib.get_close_matches(layer, names, n=1)
        raise SpecError(
            f"--layer: the network has no layer {layer!r}",
            None,
            f"did you mean {close[0]}?" if close else "`cnncalc params` lists the layer names",
        )
    nodes = net.nodes[: names.index(layer) + 1]
    return replace(net, nodes=nodes, output_names=())


def _guard(net: Network) -> None:
    need = forward_bytes(net, 1)
    if need > MAX_BYTES:
        raise SpecError(
            f"running {net.name} keeps about {human_bytes(need)} of values, more than "
            f"{human_bytes(MAX_BYTES)}",
            None,
            "use a smaller input, or --layer to stop at an earlier layer",
        )


def _plain(value: Any) -> int | float | None:
    """A float32 as JSON: an exact integer as an int, else its shortest float32 decimal."""
    if not np.isfinite(value):
        return None
    if float(value).is_integer():
        return int(value)
    return float(str(np.float32(value)))


@dataclass
class RunResult:
    """The values that came out of one layer (the last, or `--layer`)."""

    network: str
    layer: Node
    output: Array  # without the batch axis: H×W×C or N
    inputs: list[Array]  # the layer's inputs, batch axis first (for explain_cell)
    weights: dict[str, Array]  # the layer's tensors, in the reference's layout
    input_shape: Shape
    seed: int
    random_input: bool
    random_weights: list[str] = field(default_factory=list)
    zero_bias: list[str] = field(default_factory=list)

    def values(self) -> Any:
        return np.vectorize(_plain, otypes=[object])(self.output).tolist()

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.values(),
            "layer": self.layer.name,
            "kind": self.layer.kind,
            "output_shape": list(self.output.shape),
            "input_shape": list(self.input_shape),
            "random_weights": self.random_weights,
            "zero_bias": self.zero_bias,
            "random_input": self.random_input,
            "seed": self.seed,
        }


def run_network(
    net: Network,
    x: Array | None = None,
    weights: list[str] | None = None,
    layer: str | None = None,
    seed: int = 0,
) -> RunResult:
    """Run `net` on `x` (H×W×C, or a seeded random input) with the `--weights` arguments
    `weights` (`LAYER[.TENSOR][[i,...]]=FILE`); the output of `layer` (default: the last)."""
    args = [parse_weight_arg(text, net) for text in weights or []]
    part = _prefix(net, layer)
    _guard(part)
    made, random, zero_bias = _assemble_weights(part, args, seed)
    if x is not None and len(net.input_names) > 1:
        raise SpecError(
            f"--x gives one input, but {net.name} has {len(net.input_names)} "
            f"({', '.join(net.input_names)})",
            SourcePos("--x"),
            "leave out --x to run on seeded random inputs",
        )
    given = {net.input_names[0]: x[None].astype(DTYPE)} if x is not None else None
    batch = random_inputs(net, 1, seed) if given is None else given
    result = run_forward(part, 1, seed, keep_outputs=True, weights=made, x=batch)
    node = part.output
    live = {**result.outputs, **result.inputs}
    return RunResult(
        network=net.name,
        layer=node,
        output=result.outputs[node.name][0],
        inputs=[live[name] for name in node.inputs],
        weights=made[node.name].all(),
        input_shape=net.input_shape,
        seed=seed,
        random_input=x is None,
        random_weights=random,
        zero_bias=zero_bias,
    )


def run(
    source: str | Path,
    x_files: list[str] | None = None,
    weights: list[str] | None = None,
    *,
    layer: str | None = None,
    seed: int = 0,
    input_shape: InputOverride | None = None,
) -> RunResult:
    """`cnncalc run`: load `source` (its input shape taken from the `--x` files, when given)
    and run it; see `run_network`."""
    x = read_input(x_files) if x_files else None
    if x is not None:
        if input_shape is not None and (
            isinstance(input_shape, Mapping) or tuple(input_shape) != x.shape
        ):
            given = (
                "--input NAME=…"
                if isinstance(input_shape, Mapping)
                else f"--input {fmt_shape(input_shape)}"
            )
            raise SpecError(
                f"{given} differs from the --x values, {fmt_shape(x.shape)}",
                None,
                "leave out --input: the --x values give the input's shape",
            )
        try:  # the spec's own inputs: --x gives the only one's values
            net = load(source, input_shape)
        except SpecError:  # e.g. a shorthand, whose shape --x gives
            net = None
        if net is not None and len(net.input_names) > 1:
            return run_network(net, x, weights, layer, seed)  # refuses --x, naming the inputs
        input_shape = tuple(int(d) for d in x.shape)
    return run_network(load(source, input_shape), x, weights, layer, seed)


# --- explaining one output cell -----------------------------------------------------------


@dataclass(frozen=True)
class CellSum:
    """O[index] = Σ x·w (+ bias): the products, in channel, row, column order."""

    index: tuple[int, ...]
    inputs: list[float]
    weights: list[float]
    bias: float | None
    value: float


@dataclass(frozen=True)
class CellPool:
    """O[index] = max(…) or (Σ …)/divisor over one window of one channel."""

    index: tuple[int, ...]
    op: str  # "max" or "mean"
    inputs: list[float]
    divisor: int | None
    value: float


def parse_cell(text: str) -> tuple[int, ...]:
    try:
        cell = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise SpecError(
            f"--explain {text[:40]}: expected i,j (an output row and column)",
            None,
            "e.g. --explain 0,1; i,j,c for one channel; n for a flat output",
        ) from None
    return cell


def _check_cell(result: RunResult, cell: tuple[int, ...]) -> tuple[int, ...]:
    """The output cell(s) asked for: i,j (every channel), i,j,c or n (a flat output)."""
    shape = result.output.shape
    node = result.layer
    if node.kind not in EXPLAINED:
        raise SpecError(
            f"--explain: layer {node.name} is a {node.kind}; it explains " + ", ".join(EXPLAINED),
            None,
            "choose such a layer with --layer NAME",
        )
    rank_ok = len(cell) == len(shape) or (len(shape) > 1 and len(cell) == len(shape) - 1)
    if not rank_ok or any(not 0 <= i < n for i, n in zip(cell, shape, strict=False)):
        written = ",".join(map(str, cell))
        position = ",".join("ijkl"[: len(shape) - 1]) if len(shape) < 5 else "…"
        form = "n" if len(shape) == 1 else f"{position} or {position},c"
        raise SpecError(
            f"--explain {written}: {node.name}'s output is {fmt_shape(shape)}",
            None,
            f"give {form}, counting from 0",
        )
    return cell


def _at(out: Array, at: tuple[int, ...], channel: int) -> float:
    """The output value at spatial position `at`, channel `channel`."""
    index = (*at, channel)
    return float(out[index])


def explain_cell(result: RunResult, cell: tuple[int, ...]) -> list[CellSum | CellPool]:
    """The arithmetic behind one output cell of `result.layer` (per channel unless `cell`
    names one), read from the reference's own window geometry (`ops.patches`)."""
    cell = _check_cell(result, cell)
    op: Any = result.layer.op
    kind = result.layer.kind
    x = result.inputs[0]
    out = result.output
    if kind == "dense":
        w = result.weights
        (n,) = cell
        bias = float(w["bias"][n]) if "bias" in w else None
        flat = x.reshape(-1)
        return [CellSum(cell, flat.tolist(), w["weight"][n].tolist(), bias, float(out[n]))]
    rank = x.ndim - 2
    at = cell[:rank]
    channels = [cell[rank]] if len(cell) == rank + 1 else list(range(out.shape[-1]))
    if kind == "conv":
        stride, dilation = per_axis(op.stride, rank), per_axis(op.dilation, rank)
        kernel_size = per_axis(op.kernel, rank)
        pads = window_pads(op.padding, x.shape[1:-1], kernel_size, stride, dilation)
        first_image = (0, *at)
        window = patches(pad_spatial(x, pads), kernel_size, stride, dilation)[first_image]
        weight = result.weights["weight"]  # *k, C/groups, F
        per_group, per_filter_group = weight.shape[-2], weight.shape[-1] // op.groups
        sums: list[CellSum | CellPool] = []
        for f in channels:
            first = f // per_filter_group * per_group
            seen = np.moveaxis(window[..., first : first + per_group], -1, 0).reshape(-1)
            kernel = np.moveaxis(weight[..., f], -1, 0).reshape(-1)
            bias = float(result.weights["bias"][f]) if "bias" in result.weights else None
            sums.append(CellSum((*at, f), seen.tolist(), kernel.tolist(), bias, _at(out, at, f)))
        return sums
    fill = -np.inf if kind == "maxpool" else 0.0
    xp, pads = pool_input(op, x, fill)
    first_image = (0, *at)
    kernel_size, stride, dilation = pool_window(op, rank)
    window = patches(xp, kernel_size, stride, dilation)[first_image]
    one = (0, *at, 0)
    divisor = None if kind == "maxpool" else int(avgpool_divisors(op, x, xp, pads)[one])
    name = "max" if kind == "maxpool" else "mean"
    return [
        CellPool((*at, c), name, window[..., c].reshape(-1).tolist(), divisor, _at(out, at, c))
        for c in channels
    ]
