"""`verify`: run the NumPy reference and compare it with the analytic passes, layer by layer.

Three checks per layer:

- **shape**: the output array's shape against the shape pass;
- **params**: the elements of the weight tensors the reference allocated (from the arrays that
  reached the layer) against the params pass — parameters and buffers;
- **rf**: the measured receptive field (`cnncalc.reference.receptive`) against the RF pass.
  It is measured where interior units see no padding: if the spec's input leaves no run of
  such units, the check runs on a larger input (the same layers, an input of H + m·S rows so
  every layer rounds and pads alike), compared with the analytic pass on that same input.
  What is compared depends on what the analytic number means (see `RF_NOTES`).

The result is plain data (`verify_result`); `cnncalc.render.verify` shows it and the CLI
maps it to exit codes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnncalc.check.values import parse_bytes as parse_size
from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import Network
from cnncalc.layers import Shape
from cnncalc.loader import load
from cnncalc.passes.receptive_field import ReceptiveField
from cnncalc.reference import workspace
from cnncalc.reference.forward import ForwardError, run_forward
from cnncalc.reference.receptive import MeasuredField, enlarged, measure_fields
from cnncalc.reference.verify_result import (
    RF_NOTES,
    Check,
    FieldValue,
    LayerCheck,
    Num,
    VerifyResult,
)
from cnncalc.reference.windows import per_axis
from cnncalc.report import analyze
from cnncalc.spec import InputOverride
from cnncalc.units import human_bytes

Progress = Callable[[str, int, int], None]  # (stage, done, total)
GIB = 1 << 30


# --- the memory guard ----------------------------------------------------------------------


def forward_bytes(net: Network, batch: int) -> int:
    """An upper bound of the forward's peak at `batch` (see `cnncalc.reference.workspace`)."""
    weights = {
        row.node.name: 4 * (row.counts.params + row.counts.buffers) for row in analyze(net).layers
    }
    return workspace.forward_bytes(net, batch, weights)


MAX_LAYERS = 2_000  # the NumPy forward and the measured field cost ~1 ms a layer and more


def _guard(net: Network, batch: int, max_memory: int, rf: bool) -> int:
    """The estimated peak (the forward's, or the receptive-field measurement's on the
    spec's input if larger); a SpecError when it is over `max_memory`, or when the network
    has more than MAX_LAYERS layers."""
    if len(net) > MAX_LAYERS:
        raise SpecError(
            f"verify runs networks of at most {MAX_LAYERS:,} layers; {net.name} has {len(net):,}",
            None,
            "verify a smaller network with the same layer kinds: the analytic commands "
            "handle 100,000 layers",
        )
    need = max(forward_bytes(net, batch), workspace.box_bytes(net) if rf else 0)
    if need > max_memory:
        hint = "raise --max-memory if the machine has room"
        if len(net.input_shape) > 1:
            *sizes, c = net.input_shape
            smaller = "x".join(str(max(d // 2, 1)) for d in sizes)
            hint = f"use a smaller --input (e.g. {smaller}x{c})"
            hint += ", a smaller --batch" if batch > 1 else ""
            hint += ", --no-rf" if rf else ""
            hint += ", or raise --max-memory"
        raise SpecError(
            f"the NumPy verification of {net.name} needs about {human_bytes(need)} "
            f"(activations, weights, their temporaries and the receptive-field maps), more "
            f"than --max-memory {human_bytes(max_memory)}",
            None,
            hint,
        )
    return need


# --- receptive field ----------------------------------------------------------------------


def _spatial(shape: Shape) -> Shape:
    """A tensor's spatial sizes (none for a flat one)."""
    return shape[:-1]


def _categories(net: Network, fields: dict[str, ReceptiveField | None]) -> dict[str, str]:
    """What the analytic field of each layer means, as far as the comparison goes: `regular`
    (size, stride, center exact), `transposed` (a strided conv_transpose on a regular field),
    `after_transposed`, `uneven` (after adaptive bins of unequal width) or `broadcast` (after
    a 1×…×1 input that is not a global pool's, broadcast over the spatial axes)."""
    rank = {"regular": 0, "after_transposed": 1, "uneven": 2, "broadcast": 2}
    cats: dict[str, str] = dict.fromkeys(net.input_names, "regular")
    for node in net:
        inherited = [cats[name] for name in node.inputs]
        inherited = ["after_transposed" if c == "transposed" else c for c in inherited]
        cat = max(inherited, key=lambda c: rank[c])
        op: Any = node.op
        out = _spatial(net.shapes[node.name])
        if node.kind == "conv_transpose" and any(s != 1 for s in per_axis(op.stride, len(out))):
            cat = "transposed" if cat == "regular" else cat
        elif node.kind in ("adaptive_avgpool", "adaptive_maxpool"):
            sizes = _spatial(net.shapes[node.inputs[0]])
            output = per_axis(op.output, len(sizes))
            if any(s % o for s, o in zip(sizes, output, strict=True)) and rank[cat] < 2:
                cat = "uneven"
        elif node.kind in ("upsample", "pixel_shuffle"):  # transposed windows, or uneven
            shapes = net.input_shapes(node)
            if node.kind == "upsample" and not op.regular(shapes):
                cat = "uneven" if rank[cat] < 2 else cat
            elif op.window(shapes).transposed and any(s != 1 for s in op.window(shapes).stride):
                cat = "transposed" if cat == "regular" else cat
        elif len(node.inputs) > 1 and out and any(s != 1 for s in out):
            for name in node.inputs:
                f = fields.get(name)
                ones = all(s == 1 for s in _spatial(net.shapes[name]))
                if ones and f is not None and not f.whole_input:
                    cat = "broadcast"
        cats[node.name] = cat
    return cats


def _periods(net: Network) -> dict[str, tuple[int, ...]]:
    """Per layer and axis, a P such that unit u + P sees what unit u sees moved by a whole
    number of pixels (translation equivariance, from the layer structure alone): 1 until a
    conv_transpose spreads its input `stride` apart (P·stride); a window of stride t then
    takes P/gcd(P, t); a merge the lcm of its inputs'; global pooling leaves one unit."""
    rank = len(net.input_shape) - 1
    periods: dict[str, tuple[int, ...]] = dict.fromkeys(net.input_names, (1,) * rank)
    for node in net:
        ins = [periods[name] for name in node.inputs]
        p = [math.lcm(*(q[a] for q in ins)) for a in range(rank)]
        op: Any = node.op
        if node.kind == "conv_transpose":
            p = [p[a] * per_axis(op.stride, rank)[a] for a in range(rank)]
        elif node.kind in ("conv", "maxpool", "avgpool"):
            p = [p[a] // math.gcd(p[a], per_axis(op.stride, rank)[a]) for a in range(rank)]
        elif node.kind in ("adaptive_avgpool", "adaptive_maxpool"):
            sizes = _spatial(net.shapes[node.inputs[0]])
            output = per_axis(op.output, rank)
            bins = [max(sizes[a] // output[a], 1) for a in range(rank)]
            p = [p[a] // math.gcd(p[a], bins[a]) for a in range(rank)]
        elif node.kind in ("upsample", "pixel_shuffle", "pixel_unshuffle"):
            window = op.window(net.input_shapes(node))
            for a in range(rank):
                step = window.stride[a]
                p[a] = p[a] * step if window.transposed else p[a] // math.gcd(p[a], step)
        elif node.kind in ("global_avgpool", "global_maxpool"):
            p = [1] * rank
        periods[node.name] = tuple(p)
    return periods


def _every_axis(values: tuple[Any, ...]) -> tuple[Num, ...] | None:
    """The values, or None when some axis has none."""
    return None if any(v is None for v in values) else values


def _compare_rf(
    analytic: ReceptiveField, measured: MeasuredField, category: str, period: tuple[int, ...]
) -> Check | None:
    """The check, or None while the measurement needs a larger input. `period`: the units
    after which the boxes repeat, moved (see `_periods`): the stride is that move over it."""
    if measured.empty:
        return Check("skip", note=RF_NOTES["empty"])
    if analytic.whole_input:
        return Check(
            "ok" if measured.whole_input else "fail",
            FieldValue(whole_input=True),
            FieldValue(whole_input=measured.whole_input),
            RF_NOTES["whole"],
        )
    if not analytic.aligned:
        return Check("skip", note=RF_NOTES["unaligned"])
    if category in ("uneven", "broadcast"):
        return Check("skip", note=RF_NOTES[category])
    axes = measured.axes
    if any(a.run < 3 * p for a, p in zip(axes, period, strict=True)):
        return None  # the run must hold the pattern three times
    found = _every_axis(tuple(a.stride(p, p) for a, p in zip(axes, period, strict=True)))
    size, stride, center = analytic.size, analytic.stride, analytic.center
    if category == "regular":  # boxes move by one whole stride per unit
        want = FieldValue(size, stride, center)
        centers = _every_axis(tuple(a.center() for a in axes))
        got = FieldValue(_every_axis(measured.size), found, centers)
        return Check("ok" if want == got else "fail", want, got)
    if category == "after_transposed":
        want, got = FieldValue(stride=stride), FieldValue(stride=found)
    else:
        want, got = FieldValue(size, stride), FieldValue(_every_axis(measured.size), found)
    return Check("ok" if want == got else "fail", want, got, RF_NOTES[category])


MAX_BOX_UNITS = 30_000_000  # spatial units summed over layers: a few seconds of NumPy


def _box_units(net: Network) -> int:
    """The work of measuring the field on `net`'s input: every layer's output units."""
    return sum(math.prod(_spatial(shape)) for shape in net.shapes.values() if len(shape) > 1)


def _rf_checks(
    net: Network, max_memory: int, progress: Progress | None
) -> tuple[dict[str, Check], dict[str, Shape], list[Shape]]:
    checks: dict[str, Check] = {}
    where: dict[str, Shape] = {}
    used: list[Shape] = []
    pending = {node.name for node in net}
    largest: Shape = net.input_shape
    before: dict[str, Shape] = {}  # each pending layer's output shape on the last input
    failure = ""
    for step, candidate in enumerate(enlarged(net)):
        if not pending:
            break
        too_much = workspace.box_bytes(candidate) > max_memory
        if too_much or (step and _box_units(candidate) > MAX_BOX_UNITS):
            break
        if progress is not None:
            progress(f"receptive field at {'×'.join(map(str, candidate.input_shape))}", step, 0)
        largest = candidate.input_shape
        analytic = {row.node.name: row.rf for row in analyze(candidate).layers}
        try:
            measured = measure_fields(candidate)
        except Exception as exc:  # the same geometry as the forward: it failed there too
            failure = f"the measurement failed ({type(exc).__name__}: {exc})"
            break
        cats, periods = _categories(candidate, analytic), _periods(candidate)
        compared = False
        for node in candidate:
            if node.name not in pending:
                continue
            a, m = analytic[node.name], measured[node.name]
            if a is None or m is None:
                checks[node.name] = Check("n/a")
                pending.discard(node.name)
                continue
            check = _compare_rf(a, m, cats[node.name], periods[node.name])
            if check is not None:
                checks[node.name] = check
                where[node.name] = candidate.input_shape
                pending.discard(node.name)
                compared = compared or check.status in ("ok", "fail")
        if compared:
            used.append(candidate.input_shape)
        # a larger input cannot help a layer that does not grow (an upsample to a fixed size
        # whose input grows resamples by another factor: that can)
        resized = {n.name: n.inputs[0] for n in candidate if n.kind == "upsample"}
        for name in list(pending):
            shape = candidate.shapes[name]
            if name in resized:
                shape = (*shape, *candidate.shapes[resized[name]])
            if before.get(name) == shape:
                checks[name] = Check("skip", note=RF_NOTES["fixed"])
                pending.discard(name)
            before[name] = shape
    note = failure or RF_NOTES["too_small"].format(shape="×".join(map(str, largest)))
    for name in pending:
        checks[name] = Check("skip", note=note)
    return checks, where, used


# --- the whole check -----------------------------------------------------------------------


def verify_network(
    net: Network,
    *,
    batch: int = 1,
    seed: int = 0,
    max_memory: int = 2 * GIB,
    rf: bool = True,
    progress: Progress | None = None,
) -> VerifyResult:
    """Run the NumPy reference on `net` and compare every layer with the analytic passes.

    Raises SpecError (before allocating anything) when the forward, or the receptive-field
    measurement on the spec's input, would need more than `max_memory` bytes; a larger input
    for the measurement is tried only while its estimate stays under it too.
    """
    if batch < 1:
        raise SpecError(f"--batch must be at least 1, got {batch}", None)
    estimate = _guard(net, batch, max_memory, rf)
    report = analyze(net)
    total = len(net)

    def on_layer(index: int, node: Any) -> None:
        if progress is not None:
            progress(f"forward {node.name}", index, total)

    stopped: ForwardError | None = None
    try:
        result = run_forward(net, batch, seed, on_layer=on_layer if progress else None)
    except ForwardError as exc:  # a disagreement too: the analytic passes accepted the layer
        stopped, result = exc, exc.partial
    shapes = result.shapes
    counts = {name: (w.param_count, w.buffer_count) for name, w in result.weights.items()}
    del result  # the weights and outputs: the receptive field's maps need the room
    rf_checks: dict[str, Check] = {}
    rf_where: dict[str, Shape] = {}
    rf_used: list[Shape] = []
    if rf and stopped is None:
        rf_checks, rf_where, rf_used = _rf_checks(net, max_memory, progress)
    unreached = Check(
        "skip", note=f"not run: the NumPy forward stopped at {stopped and stopped.layer}"
    )
    rows = []
    for row in report.layers:
        name = row.node.name
        if name in shapes:
            got_shape: Any = shapes[name]
            shape = Check(
                "ok" if got_shape == row.output_shape else "fail", row.output_shape, got_shape
            )
        elif stopped is not None and name == stopped.layer:
            shape = Check("fail", row.output_shape, f"error ({stopped.message})")
        else:
            shape = unreached
        if name in counts:
            want = (row.counts.params, row.counts.buffers)
            got = counts[name]
            params = Check("ok" if want == got else "fail", want, got)
        else:
            params = unreached
        default = "not checked (--no-rf)" if stopped is None else unreached.note
        rf_check = rf_checks.get(name, Check("skip", note=default))
        rows.append(LayerCheck(name, row.node.kind, shape, params, rf_check, rf_where.get(name)))
    return VerifyResult(
        net.name,
        net.input_shape,
        batch,
        seed,
        estimate,
        tuple(rows),
        tuple(rf_used),
        () if net.plain else tuple(net.inputs.items()),
    )


def verify(
    source: str | Path, input_shape: InputOverride | None = None, **options: Any
) -> VerifyResult:
    """`verify_network(cnncalc.load(source, input_shape), **options)`."""
    return verify_network(load(source, input_shape), **options)


def parse_bytes(text: str) -> int:
    """`--max-memory` as `check` reads a size (`512MB` is 10^6-byte megabytes, `512MiB`
    2^20-byte ones), except that a bare K, M, G or T stays binary, as verify always took it."""
    cleaned = text.strip()
    if cleaned[-1:].upper() in ("K", "M", "G", "T"):
        cleaned += "iB"
    try:
        size = parse_size(cleaned, "--max-memory", SourcePos("--max-memory"))
    except SpecError:
        size = 0
    if size <= 0:
        raise SpecError(
            f"--max-memory must be a size like 2GiB, 512MiB or 100000000, got {text[:40]!r}",
            None,
            "a positive number with an optional unit: KiB/MiB/GiB/TiB or a bare K/M/G/T "
            "(1K = 1,024 B), or kB/MB/GB/TB (1 kB = 1,000 B)",
        )
    return size
