"""What `verify` allocates, as an upper bound per stage, for the `--max-memory` guard.

The forward (`forward.run_forward`) keeps the input and every layer's weights, frees each
activation after its last consumer, and while a layer runs holds its inputs, its output and
the layer's temporaries: padding copies, one block of im2col rows (`ops.conv_nd`), a
conv_transpose's spread input, pooling's intermediate rows, adaptive bins' gathered cells, a
row-wise function's block (float64 in gelu), and the weights' own temporaries as they are
drawn. The receptive-field measurement (`receptive.measure_fields`) does the same with box
maps of 2·rank + 1 float32 per unit (five in 2-D) and no batch, and keeps each layer's
measured runs. Python's own objects (reports, networks, results) are allowed PER_LAYER bytes
a layer.

Every figure is an upper bound of what the code below allocates, so that a run under
`--max-memory` stays under it (tests measure the peak with tracemalloc).
"""

from __future__ import annotations

import math
from typing import Any

from cnncalc.graph import Network, Node
from cnncalc.reference.ops import ROW_WISE
from cnncalc.reference.ops_more import WHOLE_TEMPORARIES
from cnncalc.reference.ops_resample import RESAMPLE_TEMPORARIES
from cnncalc.reference.receptive import channels
from cnncalc.reference.windows import (
    ROW_BLOCK_BYTES,
    im2col_rows,
    per_axis,
    pool_pads,
    span,
    transpose_as_conv_pads,
    window_pads,
)

FLOAT = 4  # bytes of a float32
ROW_TEMPORARIES = 24  # a row-wise block's temporaries, in float32 copies of the block
UNIFORM_DRAWS = (
    "batchnorm",
    "prelu",
    "layernorm",
    "groupnorm",
    "instancenorm",
    "layer_scale",
    "standardize",
)  # per-channel values drawn in float64, then cast
MEASURE_TEMPORARIES = 2  # `receptive.measure`'s bounds and masks, in box maps (1.4 measured)
KEPT_PER_UNIT = 4 * 32  # a measured run: four tuples of Python floats per unit along it
PER_LAYER = 32 << 10  # Python objects per layer: reports, networks, results
BASE = 1 << 20  # Python objects whatever the network


def _hw(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial sizes of a tensor ((1,) for a flat one)."""
    return shape[:-1] if len(shape) > 1 else (1,)


def _padded(sizes: tuple[int, ...], pads: tuple[int, ...]) -> int:
    """Cells of a map padded by `pads` (`ops.pad_spatial` pads before it crops, and a crop
    is a view); 0 when unpadded."""
    if not any(p > 0 for p in pads):
        return 0
    return math.prod(s + max(pads[2 * a], 0) + max(pads[2 * a + 1], 0) for a, s in enumerate(sizes))


def _reduced(out: tuple[int, ...], padded: tuple[int, ...]) -> int:
    """Cells of the intermediate maps of a window reduced one axis after the other
    (`ops.window_reduce`): the output along the axes done, the padded input along the rest."""
    return sum(math.prod(out[: a + 1]) * math.prod(padded[a + 1 :]) for a in range(len(out) - 1))


def _grown(sizes: tuple[int, ...], pads: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(s + max(pads[2 * a], 0) + max(pads[2 * a + 1], 0) for a, s in enumerate(sizes))


def _window(node: Node, net: Network, depth: int, reduced: bool = True) -> int:
    """Temporaries of a conv, conv_transpose or pool on maps of `depth` values per cell,
    in values: padding copies, a spread input and, if the window is `reduced` tap by tap
    (pooling, box maps; not im2col), the maps reduced along H before W."""
    op: Any = node.op
    sizes = _hw(net.shapes[node.inputs[0]])
    rank = len(sizes)
    out = _hw(net.shapes[node.name])
    cells: int
    if node.kind in ("maxpool", "avgpool"):
        pads = pool_pads(op, sizes)
        padded = _grown(sizes, pads)
        cells = _padded(sizes, pads) + _reduced(out, padded)
        if node.kind == "avgpool":  # the divisor's maps, and the sums before dividing
            cells += 2 * math.prod(padded) + math.prod(out)
        return cells * depth
    stride = per_axis(op.stride, rank)
    if node.kind == "conv_transpose":
        spread = tuple((s - 1) * t + 1 for s, t in zip(sizes, stride, strict=True))
        pads = transpose_as_conv_pads(op, sizes)
        cells = (math.prod(spread) if any(t != 1 for t in stride) else 0) + _padded(spread, pads)
        return int(cells + (_reduced(out, _grown(spread, pads)) if reduced else 0)) * depth
    pads = window_pads(op.padding, sizes, op.kernel, stride, op.dilation)
    return (_padded(sizes, pads) + (_reduced(out, _grown(sizes, pads)) if reduced else 0)) * depth


def _adaptive(node: Node, net: Network, depth: int) -> int:
    """Gathered cells of adaptive pooling (each bin padded to the widest), in values: per
    axis the gathered cells and their sums (the last sums are the output)."""
    op: Any = node.op
    sizes = _hw(net.shapes[node.inputs[0]])
    rank = len(sizes)
    out = per_axis(op.output, rank)
    cells = 0
    for a in range(rank):
        widest = -(-sizes[a] // out[a]) + 1
        rest = math.prod(sizes[a + 1 :])
        cells += math.prod(out[:a]) * out[a] * widest * rest
        if a < rank - 1:
            cells += math.prod(out[: a + 1]) * rest
    return 2 * cells * depth


def _conv_blocks(node: Node, net: Network) -> int:
    """Bytes of one im2col block and, for groups, its product (`ops.conv_nd`: one image at a
    time, so whatever the batch)."""
    op: Any = node.op
    groups = int(op.groups)
    channels = net.shapes[node.inputs[0]][-1]
    *out, filters = net.shapes[node.name]
    depth = math.prod(per_axis(op.kernel, len(out))) * channels // groups
    row = math.prod(out[1:])
    rows = min(im2col_rows(row * depth * groups), out[0]) * row
    block = rows * depth * groups * FLOAT
    if groups > 1:
        block += rows * filters * FLOAT
    return block


def forward_temporaries(node: Node, net: Network, batch: int, weight_bytes: int) -> int:
    """Bytes a layer allocates while it runs, besides its output (its weights' own
    temporaries come before, see `forward_bytes`)."""
    kind = node.kind
    shape = net.shapes[node.inputs[0]]
    channels = shape[-1]
    temp = 0
    if kind in ("conv", "conv_transpose"):
        temp += weight_bytes + _conv_blocks(node, net)  # the kernel rearranged
        temp += _window(node, net, channels, reduced=False) * batch * FLOAT
    elif kind in ("maxpool", "avgpool"):
        temp += _window(node, net, channels) * batch * FLOAT
    elif kind in ("adaptive_avgpool", "adaptive_maxpool"):
        temp += _adaptive(node, net, channels) * batch * FLOAT
    elif kind in ROW_WISE:
        elements = batch * math.prod(shape)
        op: Any = node.op
        row = channels + (int(op.size) if kind == "lrn" else 0)
        block = min(elements, max(ROW_BLOCK_BYTES // FLOAT, row))
        temp += ROW_TEMPORARIES * block * FLOAT
    elif kind in WHOLE_TEMPORARIES:
        temp += WHOLE_TEMPORARIES[kind] * batch * math.prod(shape) * FLOAT
    elif kind in RESAMPLE_TEMPORARIES:
        largest = max(math.prod(shape), math.prod(net.shapes[node.name]))
        temp += RESAMPLE_TEMPORARIES[kind] * batch * largest * FLOAT
    elif kind == "multiply" and len(node.inputs) > 2:
        temp += batch * math.prod(net.shapes[node.name]) * FLOAT
    return temp


def _peak(
    net: Network,
    sizes: dict[str, int],
    temporaries: dict[str, int],
    kept: dict[str, int],
    keep_input: bool,
    before: dict[str, int] | None = None,
) -> int:
    """The largest live set: tensors alive (each freed after its last consumer; outputs and,
    if `keep_input`, the input kept), what stays from each layer on (`kept`), plus what a
    layer allocates `before` it runs (its weights as they are drawn), then while it runs
    (its output and temporaries)."""
    last_use: dict[str, int] = {}
    for index, node in enumerate(net):
        for name in node.inputs:
            last_use[name] = index
    for name in net.outputs:  # the forward keeps them, even those later layers read
        last_use.pop(name, None)
    live = sum(sizes[name] for name in net.input_names)
    stays = 0
    peak = live
    for index, node in enumerate(net):
        peak = max(peak, live + stays + (before or {}).get(node.name, 0))
        stays += kept.get(node.name, 0)
        peak = max(peak, live + stays + sizes[node.name] + temporaries[node.name])
        live += sizes[node.name]
        for name in set(node.inputs):
            if last_use.get(name) == index and (name not in net.input_names or not keep_input):
                live -= sizes[name]
    return peak


def forward_bytes(net: Network, batch: int, weights: dict[str, int]) -> int:
    """An upper bound of the forward's peak at `batch`; `weights` holds each layer's weight
    and buffer bytes."""
    sizes = {name: batch * math.prod(shape) * FLOAT for name, shape in net.shapes.items()}
    temps = {node.name: forward_temporaries(node, net, batch, weights[node.name]) for node in net}
    drawing = {  # the weights as they are drawn (normals in place), plus a float64 vector
        node.name: weights[node.name]
        + (2 * net.shapes[node.inputs[0]][-1] * FLOAT if node.kind in UNIFORM_DRAWS else 0)
        for node in net
    }
    peak = _peak(net, sizes, temps, weights, keep_input=True, before=drawing)
    return peak + BASE + PER_LAYER * len(net)


def box_bytes(net: Network) -> int:
    """An upper bound of `measure_fields(net)`'s peak (0 for a flat input: nothing runs)."""
    if len(net.input_shape) < 2:
        return 0
    rank = len(net.input_shape) - 1
    depth = channels(rank)
    unit = depth * FLOAT
    sizes = {name: math.prod(_hw(shape)) * unit for name, shape in net.shapes.items()}
    temps: dict[str, int] = {}
    kept: dict[str, int] = {}
    for node in net:
        out = _hw(net.shapes[node.name])
        temp = 0  # while the layer's map is made; then measured (below)
        if node.kind in ("conv", "conv_transpose", "maxpool", "avgpool"):
            temp += _window(node, net, depth) * FLOAT
            if node.kind == "conv_transpose":  # the input first extended by virtual units
                op: Any = node.op
                k, d, t = (per_axis(v, rank) for v in (op.kernel, op.dilation, op.stride))
                ext = [-(-span(k[a], d[a]) // t[a]) + 1 for a in range(rank)]
                sizes_in = _hw(net.shapes[node.inputs[0]])
                grown = [s + 2 * e for s, e in zip(sizes_in, ext, strict=True)]
                spread = math.prod((g - 1) * t[a] + 1 for a, g in enumerate(grown))
                temp += (math.prod(grown) + 2 * spread) * unit
        elif node.kind in ("adaptive_avgpool", "adaptive_maxpool"):
            temp += _adaptive(node, net, depth) * FLOAT
        elif len(node.inputs) > 1:
            temp += math.prod(out) * unit
        temps[node.name] = max(temp, MEASURE_TEMPORARIES * math.prod(out) * unit)
        kept[node.name] = KEPT_PER_UNIT * sum(out)  # each axis' measured run
    return _peak(net, sizes, temps, kept, keep_input=False) + BASE + PER_LAYER * len(net)
