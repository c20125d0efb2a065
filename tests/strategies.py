"""Hypothesis strategies: random valid architectures (chains and DAGs), invalid specs, and a
renderer from the IR back to a spec.

`architectures()` draws a spec (a dict ready for `yaml.safe_dump`) mixing every layer kind
with random kernel, stride, padding (valid, same, int, [h, w], [t, b, l, r]), dilation,
groups and ceil_mode, plus residual adds, concats, squeeze-excitation multiplies and
same-shape gates. It tracks shapes with its own small arithmetic (PyTorch's rules) only to
keep every draw valid; what the tests compare is the analytic passes against the NumPy
reference, never against this file.

`ranked_architectures(rank)` draws the same kinds on 1-D (L×C) and 3-D (D×H×W×C) inputs.

`invalid_specs()` draws a spec text with one defect that is certainly an error, for the
"exit 2, no traceback" property. `to_spec(net)` renders a Network as a spec again.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st

from cnncalc.graph import INPUT, Network

Shape = tuple[int, ...]
ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "gelu",
    "sigmoid",
    "tanh",
    "silu",
    "hardswish",
    "hardsigmoid",
    "softmax",
    "prelu",
    "mish",
    "hardtanh",
    "selu",
    "celu",
    "softplus",
    "log_softmax",
)
SAME_SHAPE = ("layernorm", "groupnorm", "l2norm", "channel_shuffle", "identity")
SAME_SHAPE += ("stochastic_depth", "layer_scale", "scale")

# --- shape arithmetic (only to keep draws valid) ----------------------------------------------


def _span(k: int, d: int) -> int:
    return d * (k - 1) + 1


def _windows(size: int, k: int, s: int, d: int, before: int, after: int, ceil: bool) -> int:
    room = size + before + after - _span(k, d)
    if room < 0:
        return 0
    if not ceil:
        return room // s + 1
    n = -(-room // s) + 1
    if (n - 1) * s >= size + before:
        n -= 1
    return n


def _same(size: int, span: int, s: int) -> tuple[int, int]:
    out = -(-size // s)
    total = max((out - 1) * s + span - size, 0)
    return total // 2, total - total // 2


def _pads(
    padding: Any, hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int], d: tuple[int, int]
) -> tuple[int, int, int, int]:
    if padding == "same":
        return (*_same(hw[0], _span(k[0], d[0]), s[0]), *_same(hw[1], _span(k[1], d[1]), s[1]))
    if padding == "valid":
        return (0, 0, 0, 0)
    if isinstance(padding, int):
        return (padding,) * 4  # type: ignore[return-value]
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    return tuple(padding)  # type: ignore[return-value]


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _as_field(pair: tuple[int, int], draw: Any) -> Any:
    """An (h, w) pair written as `n` when square (mostly) or `[h, w]`."""
    if pair[0] == pair[1] and draw(st.booleans()):
        return pair[0]
    return [pair[0], pair[1]]


def _divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


# --- the builder ---------------------------------------------------------------------------


@dataclass(frozen=True)
class T:
    """A tensor of the spec being drawn: the layer that makes it, and its shape."""

    name: str
    shape: Shape
    # every channel sees the same input field: a slice of it has the field the RF pass (which
    # does not tell channels apart) gives; a concat of paths can break that
    uniform: bool = True

    @property
    def spatial(self) -> bool:
        return len(self.shape) > 1  # L×C, H×W×C or D×H×W×C


@dataclass
class Builder:
    draw: Any
    torch_friendly: bool = False  # avoid what torch has no module for
    layers: list[Any] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    previous: str = "input"
    explicit: int = 0

    def add(self, kind: str, fields: dict[str, Any], inputs: list[T], shape: Shape) -> T:
        """Append one layer; `from` is written only when it is not the previous layer."""
        entry = dict(fields)
        draw = self.draw
        if draw(st.integers(0, 3)) == 0:
            self.explicit += 1
            name = f"n{self.explicit}"
            entry["name"] = name
        else:  # default names count the unnamed layers of each kind
            self.counters[kind] = self.counters.get(kind, 0) + 1
            name = f"{kind}{self.counters[kind]}"
        if [t.name for t in inputs] != [self.previous]:
            refs = [t.name for t in inputs]
            entry["from"] = refs[0] if len(refs) == 1 and draw(st.booleans()) else refs
        if draw(st.integers(0, 15)) == 0:
            entry["trainable"] = False
        if draw(st.integers(0, 15)) == 0:
            entry["functional"] = True
        self.layers.append({kind: entry} if entry or draw(st.booleans()) else kind)
        self.previous = name
        mixes = kind in ("conv", "conv_transpose", "dense") and fields.get("groups", 1) == 1
        uniform = mixes or (kind != "concat" and all(t.uniform for t in inputs))
        return T(name, shape, uniform)


def _conv(b: Builder, x: T, keep_size: bool = False, filters: int | None = None) -> T:
    """A random conv; `keep_size`: stride 1 and padding that keeps H×W."""
    draw = b.draw
    h, w, c = x.shape
    k = (
        (draw(st.integers(1, 5)),) * 2
        if draw(st.booleans())
        else (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    )
    d = (1, 1) if draw(st.integers(0, 3)) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (
        (1, 1)
        if keep_size or draw(st.booleans())
        else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    )
    padding: Any
    if keep_size:
        padding = "same"
    else:
        padding = draw(
            st.one_of(
                st.sampled_from(["valid", "same"]),
                st.integers(0, 3),
                st.lists(st.integers(0, 3), min_size=2, max_size=2),
                st.lists(st.integers(0, 3), min_size=4, max_size=4),
            )
        )
    pads = _pads(padding, (h, w), k, s, d)
    # shrink the kernel until it fits the padded input
    k = tuple(
        min(k[a], (size + pads[2 * a] + pads[2 * a + 1] - 1) // d[a] + 1)
        for a, size in enumerate((h, w))
    )  # type: ignore[assignment]
    pads = _pads(padding, (h, w), k, s, d)
    groups = draw(st.sampled_from(_divisors(c))) if draw(st.integers(0, 2)) == 0 else 1
    if filters is None:
        filters = groups * draw(st.integers(1, max(1, 8 // groups)))
    elif filters % groups:
        groups = 1
    fields: dict[str, Any] = {"filters": filters, "kernel": _as_field(k, draw)}  # type: ignore[arg-type]
    if s != (1, 1) or draw(st.booleans()):
        fields["stride"] = _as_field(s, draw)
    if padding != "valid" or draw(st.booleans()):
        fields["padding"] = padding
    if d != (1, 1):
        fields["dilation"] = _as_field(d, draw)
    if groups != 1:
        fields["groups"] = groups
    if draw(st.integers(0, 3)) == 0:
        fields["bias"] = False
    oh = _windows(h, k[0], s[0], d[0], pads[0], pads[1], False)
    ow = _windows(w, k[1], s[1], d[1], pads[2], pads[3], False)
    return b.add("conv", fields, [x], (oh, ow, filters))


def _conv_transpose(b: Builder, x: T) -> T:
    draw = b.draw
    h, w, c = x.shape
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (1, 1) if draw(st.integers(0, 3)) else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    op = tuple(draw(st.integers(0, max(s[a], d[a]) - 1)) for a in range(2))
    full = [(size - 1) * s[a] + _span(k[a], d[a]) + op[a] for a, size in enumerate((h, w))]
    padding: Any = draw(
        st.one_of(
            st.just("same"),
            st.integers(0, 2),
            st.lists(st.integers(0, 2), min_size=4, max_size=4),
        )
    )
    if padding == "same":
        if any(_span(k[a], d[a]) + op[a] < s[a] for a in range(2)):
            padding = 0
        out = (h * s[0], w * s[1])
    if padding != "same":
        pads = _pads(padding, (h, w), k, s, d)
        out = (full[0] - pads[0] - pads[1], full[1] - pads[2] - pads[3])
        if min(out) < 1:
            padding, out = 0, (full[0], full[1])
    groups = draw(st.sampled_from(_divisors(c))) if draw(st.integers(0, 2)) == 0 else 1
    filters = groups * draw(st.integers(1, max(1, 8 // groups)))
    fields: dict[str, Any] = {"filters": filters, "kernel": _as_field(k, draw)}  # type: ignore[arg-type]
    fields["stride"] = _as_field(s, draw)  # type: ignore[arg-type]
    fields["padding"] = padding
    if op != (0, 0):
        fields["output_padding"] = _as_field(op, draw)  # type: ignore[arg-type]
    if d != (1, 1):
        fields["dilation"] = _as_field(d, draw)
    if groups != 1:
        fields["groups"] = groups
    if draw(st.integers(0, 3)) == 0:
        fields["bias"] = False
    return b.add("conv_transpose", fields, [x], (out[0], out[1], filters))


def _pool(b: Builder, x: T, keep_size: bool = False) -> T:
    draw = b.draw
    h, w, c = x.shape
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    if keep_size:
        k, s, d, padding, ceil = (3, 3), (1, 1), (1, 1), 1, False
    else:
        k = (
            (draw(st.integers(1, 4)),) * 2
            if draw(st.booleans())
            else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        )
        k = (min(k[0], h), min(k[1], w))
        s = k if draw(st.booleans()) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        d = (1, 1)
        if kind == "maxpool" and draw(st.integers(0, 3)) == 0:
            d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            k = tuple(min(k[a], (size - 1) // d[a] + 1) for a, size in enumerate((h, w)))  # type: ignore[assignment]
        ceil = draw(st.booleans())
        # a pool pads by at most ⌊kernel/2⌋ (PyTorch's rule, dilated or not); torch pads
        # natively only symmetrically, and `same` or an asymmetric padding needs a padding
        # layer in front, which ceil_mode and count_include_pad=false cannot go through
        half = [k[a] // 2 for a in range(2)]
        choices = [st.just(0), st.integers(0, min(half))]
        if not (b.torch_friendly and (ceil or kind == "avgpool")):
            choices.append(st.just("same"))
            choices.append(st.tuples(*(st.integers(0, half[a // 2]) for a in range(4))).map(list))
        padding = draw(st.one_of(*choices))
    pads = _pads(padding, (h, w), k, s, d)
    out = (
        _windows(h, k[0], s[0], d[0], pads[0], pads[1], ceil),
        _windows(w, k[1], s[1], d[1], pads[2], pads[3], ceil),
    )
    fields: dict[str, Any] = {"kernel": _as_field(k, draw)}
    if s != k or draw(st.booleans()):
        fields["stride"] = _as_field(s, draw)
    if padding != 0 or draw(st.booleans()):
        fields["padding"] = padding
    if d != (1, 1):
        fields["dilation"] = _as_field(d, draw)
    if ceil:
        fields["ceil_mode"] = True
    if kind == "avgpool" and draw(st.booleans()):
        fields["count_include_pad"] = draw(st.booleans())
    return b.add(kind, fields, [x], (*out, c))


def _pointwise(b: Builder, x: T) -> T:
    draw = b.draw
    choices = ["batchnorm", "dropout", *ACTIVATIONS, *SAME_SHAPE]
    if b.torch_friendly and math.prod(x.shape[:-1]) == 1:  # torch's group_norm refuses one
        choices.remove("groupnorm")  # value per group (one position, groups = channels, at
        # batch 1: the export's own check)
    c = x.shape[-1]
    if x.spatial:
        choices.append("lrn")
        if math.prod(x.shape[:-1]) > 1:  # torch's instance_norm refuses a single position
            choices.append("instancenorm")
    kind = draw(st.sampled_from(choices))
    fields: dict[str, Any] = _same_shape_fields(draw, kind, c)
    if kind == "batchnorm" and draw(st.booleans()):
        fields = {"eps": draw(st.sampled_from([1e-5, 1e-3])), "affine": draw(st.booleans())}
        if draw(st.booleans()):
            fields[draw(st.sampled_from(["scale", "center"]))] = False
    elif kind == "dropout" and draw(st.booleans()):
        fields = {"rate": draw(st.sampled_from([0.0, 0.2, 0.5]))}
    elif kind == "lrn" and draw(st.booleans()):
        fields = {
            "size": draw(st.integers(1, 5)),
            "alpha": 1e-3,
            "beta": draw(st.sampled_from([0.5, 0.75])),
            "k": draw(st.sampled_from([1.0, 2.0])),
        }
    elif kind == "leaky_relu" and draw(st.booleans()):
        fields = {"negative_slope": 0.2}
    elif kind == "elu" and draw(st.booleans()):
        fields = {"alpha": 0.5}
    elif kind == "gelu" and draw(st.booleans()):
        fields = {"approximate": draw(st.sampled_from(["none", "tanh"]))}
    elif kind == "prelu" and draw(st.booleans()):
        fields = {"per_channel": draw(st.booleans())}
    return b.add(kind, fields, [x], x.shape)


def _same_shape_fields(draw: Any, kind: str, c: int) -> dict[str, Any]:
    """Fields of the shape-keeping kinds of issue 11 (normalizations, scales, activations)."""
    if kind in ("groupnorm", "channel_shuffle"):
        fields: dict[str, Any] = {"groups": draw(st.sampled_from(_divisors(c)))}
        if kind == "groupnorm" and draw(st.booleans()):
            fields["affine"] = False
        return fields
    if kind == "layernorm" and draw(st.booleans()):
        return {"elementwise_affine": draw(st.booleans()), "bias": draw(st.booleans())}
    if kind == "instancenorm" and draw(st.booleans()):
        return {"affine": draw(st.booleans()), "track_running_stats": draw(st.booleans())}
    if kind == "stochastic_depth" and draw(st.booleans()):
        return {"rate": 0.2, "mode": draw(st.sampled_from(["row", "batch"]))}
    if kind == "scale":
        return {"factor": draw(st.sampled_from([0.5, -2.0, 3.0]))}
    if kind == "hardtanh" and draw(st.booleans()):
        return {"min": -0.5, "max": draw(st.sampled_from([0.25, 2.0]))}
    if kind == "celu" and draw(st.booleans()):
        return {"alpha": draw(st.sampled_from([0.5, 2.0]))}
    if kind == "softplus" and draw(st.booleans()):
        return {"beta": draw(st.sampled_from([0.5, 2.0])), "threshold": 1.0}
    return {}


def _channel_step(b: Builder, x: T) -> T:
    """A kind of issue 11 that changes the channels (spatial or flat): glu, slice, a split
    rejoined, a per-position dense, or a mean."""
    draw = b.draw
    c = x.shape[-1]
    options = ["dense"] + (["glu"] if c % 2 == 0 else [])
    options += ["slice", "split"] if x.uniform else []
    options += ["mean"] if x.spatial else []
    step = draw(st.sampled_from(options))
    if step == "glu":
        return b.add("glu", {}, [x], (*x.shape[:-1], c // 2))
    if step == "slice":
        start = draw(st.integers(0, c - 1))
        stop = draw(st.integers(start + 1, c))
        return b.add("slice", {"start": start, "stop": stop}, [x], (*x.shape[:-1], stop - start))
    if step == "dense":
        units = draw(st.integers(1, 8))
        fields = {"units": units, "per_position": True}
        return b.add("dense", fields, [x], (*x.shape[:-1], units))
    if step == "mean":
        axes = draw(st.sampled_from([["spatial"], [0], [1], [-1], ["channels", 0]]))
        n = len(x.shape)
        shape = tuple(1 if a in axes or a - n in axes else d for a, d in enumerate(x.shape))
        if "spatial" in axes:
            shape = (*[1] * (n - 1), c)
        if "channels" in axes:
            shape = (*shape[:-1], 1)
        return b.add("mean", {"axes": axes, "keepdims": True}, [x], shape)
    return _split(b, x)


def _split(b: Builder, x: T) -> T:
    """`split` (sizes) or `chunk` into parts, a layer on some of them, concatenated again."""
    draw = b.draw
    c = x.shape[-1]
    b.explicit += 1
    name = f"n{b.explicit}"
    if draw(st.booleans()) or c == 1:
        cut = sorted(draw(st.sets(st.integers(1, c - 1), max_size=3))) if c > 1 else []
        sizes = [hi - lo for lo, hi in zip([0, *cut], [*cut, c], strict=True)]
        entry: dict[str, Any] = {"name": name, "sizes": sizes}
    else:
        count = draw(st.sampled_from([d for d in _divisors(c) if d > 1]))
        sizes = [c // count] * count
        entry = {"name": name, "chunks": count}
    if x.name != b.previous:
        entry["from"] = x.name
    kind = draw(st.sampled_from(["split", "chunk"])) if "chunks" in entry else "split"
    b.layers.append({kind: entry})
    parts = [T(f"{name}.{i}", (*x.shape[:-1], size), x.uniform) for i, size in enumerate(sizes)]
    b.previous = name  # not a tensor: every layer after the split says `from`
    outs = [
        b.add("relu", {}, [part], part.shape) if draw(st.booleans()) else part for part in parts
    ]
    if len(outs) == 1:
        return b.add("identity", {}, outs, outs[0].shape)
    if draw(st.booleans()):
        outs.reverse()
    return b.add("concat", {}, outs, (*x.shape[:-1], sum(o.shape[-1] for o in outs)))


def _adaptive(b: Builder, x: T) -> T:
    draw = b.draw
    h, w, c = x.shape
    kind = draw(st.sampled_from(["adaptive_avgpool", "adaptive_maxpool"]))
    out = (draw(st.integers(1, min(h, 5) + 1)), draw(st.integers(1, min(w, 5) + 1)))
    return b.add(kind, {"output": _as_field(out, draw)}, [x], (*out, c))


def _global(b: Builder, x: T) -> T:
    kind = b.draw(st.sampled_from(["global_avgpool", "global_maxpool"]))
    return b.add(kind, {}, [x], (1, 1, x.shape[2]))


def _residual(b: Builder, x: T) -> T:
    """x + branch(x), the branch keeping the shape; sometimes a strided projection pair."""
    draw = b.draw
    h, w, c = x.shape
    if draw(st.integers(0, 3)) == 0 and min(h, w) >= 2:  # downsampling block
        filters = draw(st.integers(1, 8))
        down = {"filters": filters, "kernel": 3, "stride": 2, "padding": 1}
        branch = b.add("conv", down, [x], (-(-h // 2), -(-w // 2), filters))
        branch = _pointwise(b, branch)
        short = b.add(
            "conv",
            {"filters": filters, "kernel": 1, "stride": 2},
            [x],
            (-(-h // 2), -(-w // 2), filters),
        )
        return b.add("add", {}, [branch, short], branch.shape)
    branches = []
    for _ in range(draw(st.integers(1, 2))):
        y = x
        for _ in range(draw(st.integers(1, 3))):
            step = draw(st.integers(0, 2))
            if step == 0:
                y = _conv(b, y, keep_size=True, filters=c)
            elif step == 1:
                y = _pointwise(b, y)
            else:
                y = _pool(b, y, keep_size=True)
        branches.append(y)
    inputs = [x, *branches]
    if draw(st.booleans()):
        inputs.reverse()
    return b.add("add", {}, inputs, x.shape)


def _concat(b: Builder, x: T) -> T:
    draw = b.draw
    h, w, _ = x.shape
    outs = []
    for _ in range(draw(st.integers(2, 3))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            outs.append(_conv(b, x, keep_size=True))
        elif kind == 1:
            outs.append(_pool(b, x, keep_size=True))
        else:
            outs.append(x)
    if all(o is x for o in outs):
        outs[0] = _conv(b, x, keep_size=True)
    return b.add("concat", {}, outs, (h, w, sum(o.shape[2] for o in outs)))


def _squeeze_excite(b: Builder, x: T) -> T:
    """x · gate(x), the gate a 1×1×C global summary (SE), or a same-shape sigmoid map."""
    draw = b.draw
    c = x.shape[2]
    if draw(st.integers(0, 3)) == 0:
        gate = _conv(b, x, keep_size=True, filters=c)
        gate = b.add("sigmoid", {}, [gate], gate.shape)
    else:
        squeeze = draw(st.integers(0, 2))
        if squeeze == 0:
            g = _global(b, x)
        else:
            kind = "adaptive_avgpool" if squeeze == 1 else "adaptive_maxpool"
            g = b.add(kind, {"output": 1}, [x], (1, 1, c))
        hidden = draw(st.integers(1, 4))
        g = b.add("conv", {"filters": hidden, "kernel": 1}, [g], (1, 1, hidden))
        g = b.add("relu", {}, [g], g.shape)
        g = b.add("conv", {"filters": c, "kernel": 1}, [g], (1, 1, c))
        gate = b.add(draw(st.sampled_from(["sigmoid", "hardsigmoid"])), {}, [g], g.shape)
    inputs = [x, gate] if draw(st.booleans()) else [gate, x]
    return b.add("multiply", {}, inputs, x.shape)


def _flat_step(b: Builder, x: T) -> T:
    draw = b.draw
    n = x.shape[0]
    step = draw(st.integers(0, 5))
    if step == 5:
        return _channel_step(b, x)
    if step == 0:
        units = draw(st.integers(1, 16))
        fields: dict[str, Any] = {"units": units}
        if draw(st.integers(0, 3)) == 0:
            fields["bias"] = False
        return b.add("dense", fields, [x], (units,))
    if step == 1:
        return _pointwise(b, x)
    other = b.add("dense", {"units": n}, [x], (n,))
    other = _pointwise(b, other)
    if step == 2:
        return b.add("add", {}, [x, other], (n,))
    if step == 3:
        return b.add("multiply", {}, [other, x], (n,))
    return b.add("concat", {}, [x, other], (2 * n,))


def _resample(b: Builder, x: T) -> T:
    """upsample (by a scale or to a size, every mode of 2-D), pixel_shuffle/unshuffle (a conv
    first when the channels do not divide), pad (every mode) or crop."""
    draw = b.draw
    h, w, c = x.shape
    step = draw(st.sampled_from(["upsample", "shuffle", "unshuffle", "pad", "crop"]))
    if step == "upsample":
        mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic"]))
        fields: dict[str, Any] = {} if mode == "nearest" else {"mode": mode}
        if mode != "nearest" and draw(st.booleans()):
            fields["align_corners"] = draw(st.booleans())
        if draw(st.booleans()):
            scale = draw(st.sampled_from([1, 2, 3, 0.5, 1.5, [2, 1], [1.5, 2]]))
            sh, sw = scale if isinstance(scale, list) else (scale, scale)
            out = (max(int(h * sh), 1), max(int(w * sw), 1))
            if min(int(h * sh), int(w * sw)) < 1:
                scale, out = 2, (2 * h, 2 * w)
            fields["scale"] = scale
        else:
            out = (draw(st.integers(1, 2 * h)), draw(st.integers(1, 2 * w)))
            fields["size"] = _as_field(out, draw)
        return b.add("upsample", fields, [x], (*out, c))
    if step == "shuffle":
        r = draw(st.sampled_from([1, 2]))
        if c % (r * r):
            x = b.add("conv", {"filters": r * r, "kernel": 1}, [x], (h, w, r * r))
        shape = (h * r, w * r, x.shape[2] // (r * r))
        return b.add("pixel_shuffle", {"factor": r}, [x], shape)
    if step == "unshuffle":
        r = draw(st.sampled_from([d for d in (2, 3) if h % d == 0 and w % d == 0] or [1]))
        out = b.add("pixel_unshuffle", {"factor": r}, [x], (h // r, w // r, c * r * r))
        return dataclasses.replace(out, uniform=r == 1)  # channels see different pixels
    if step == "pad":
        mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        limit = (h - 1, w - 1) if mode == "reflect" else (h, w)
        pads = [draw(st.integers(0, min(limit[a // 2], 3))) for a in range(4)]
        fields = {"padding": pads, "mode": mode}
        if mode == "constant" and draw(st.booleans()):
            fields["value"] = draw(st.sampled_from([1.0, -0.5]))
        out = (h + pads[0] + pads[1], w + pads[2] + pads[3])
        return b.add("pad", fields, [x], (*out, c))
    cuts = [draw(st.integers(0, (h - 1) // 2)), 0, draw(st.integers(0, (w - 1) // 2)), 0]
    cuts[1], cuts[3] = draw(st.integers(0, (h - 1) // 2)), draw(st.integers(0, (w - 1) // 2))
    out = (h - cuts[0] - cuts[1], w - cuts[2] - cuts[3])
    return b.add("crop", {"cropping": cuts}, [x], (*out, c))


def _spatial_step(b: Builder, x: T) -> T:
    draw = b.draw
    h, w, _ = x.shape
    options = ["conv"] * 4 + ["pool"] * 2 + ["pointwise"] * 3
    options += ["residual", "concat", "se", "adaptive", "global", "channels", "resample"]
    if max(h, w) <= 12:
        options += ["conv_transpose"] * 2
    step = draw(st.sampled_from(options))
    if step == "conv":
        return _conv(b, x)
    if step == "conv_transpose":
        return _conv_transpose(b, x)
    if step == "pool":
        return _pool(b, x)
    if step == "pointwise":
        return _pointwise(b, x)
    if step == "residual":
        return _residual(b, x)
    if step == "concat":
        return _concat(b, x)
    if step == "se":
        return _squeeze_excite(b, x)
    if step == "adaptive":
        return _adaptive(b, x)
    if step == "channels":
        return _channel_step(b, x)
    if step == "resample":
        return _resample(b, x)
    return _global(b, x)


@st.composite
def architectures(
    draw: Any,
    max_steps: int = 8,
    min_side: int = 3,
    max_side: int = 20,
    flat_input: bool = True,
    torch_friendly: bool = False,
    several: bool = True,
) -> dict[str, Any]:
    """A random valid spec: input, then up to `max_steps` steps (a layer or a small block),
    sometimes ending in flatten / dense layers. With `several`, a quarter of the specs have
    a second input (fused by a concat, or with a branch of its own to an output of its own)
    and some list `outputs:`, intermediate tensors among them (aux heads)."""
    b = Builder(draw, torch_friendly)
    if flat_input and draw(st.integers(0, 19)) == 0:
        x = T("input", (draw(st.integers(1, 16)),))
    else:
        x = T(
            "input",
            (
                draw(st.integers(min_side, max_side)),
                draw(st.integers(min_side, max_side)),
                draw(st.integers(1, 6)),
            ),
        )
    spec: dict[str, Any] = {"name": "random", "input": list(x.shape)}
    outputs: list[str] = []
    if several and x.spatial and draw(st.integers(0, 3)) == 0:
        x, second = T("image", x.shape), T("extra", (*x.shape[:2], draw(st.integers(1, 3))))
        del spec["input"]
        spec["inputs"] = {x.name: list(x.shape), second.name: list(second.shape)}
        if draw(st.booleans()):  # fused: one trunk from both
            h, w, c = x.shape
            x = b.add("concat", {}, [x, second], (h, w, c + second.shape[2]))
        else:  # a branch of its own, to its own output
            y = second
            for _ in range(draw(st.integers(1, 2))):
                y = _spatial_step(b, y) if y.spatial else _flat_step(b, y)
            outputs.append(y.name)
    aux = several and draw(st.integers(0, 3)) == 0
    for _ in range(draw(st.integers(1, max_steps))):
        x = _spatial_step(b, x) if x.spatial else _flat_step(b, x)
        if aux and draw(st.integers(0, 3)) == 0:
            outputs.append(x.name)  # an output that later layers read on from
        if x.spatial and max(x.shape[:2]) > 64:  # keep the forward small
            break
    if x.spatial and draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            x = b.add("flatten", {}, [x], (x.shape[0] * x.shape[1] * x.shape[2],))
        units = draw(st.integers(1, 10))
        x = b.add("dense", {"units": units}, [x], (units,))
    spec["layers"] = b.layers
    if outputs:
        spec["outputs"] = list(dict.fromkeys([x.name, *outputs]))
    return spec


def dump(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None)


# --- 1-D and 3-D nets ----------------------------------------------------------------------
# The same kinds on L×C and D×H×W×C tensors: windows with one value per axis (or one for
# all), padding as an int, one value per axis or (before, after) per axis. Small (3-D sides
# of at most 6) so the forward, the box maps and torch stay quick.


def _per_axis_r(value: Any, rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


def _pads_r(padding: Any, sizes: Shape, k: Shape, s: Shape, d: Shape) -> tuple[int, ...]:
    """(before, after) per axis."""
    rank = len(sizes)
    if padding == "same":
        return tuple(p for a in range(rank) for p in _same(sizes[a], _span(k[a], d[a]), s[a]))
    if padding == "valid":
        return (0,) * (2 * rank)
    if isinstance(padding, int) or len(padding) == rank:
        return tuple(p for p in _per_axis_r(padding, rank) for _ in (0, 1))
    return tuple(padding)


def _field_r(values: Shape, draw: Any) -> Any:
    """One value per axis, written as one int when they agree (mostly)."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return list(values)


def _axes_r(draw: Any, rank: int, lo: int, hi: int) -> Shape:
    if draw(st.booleans()):
        return (draw(st.integers(lo, hi)),) * rank
    return tuple(draw(st.integers(lo, hi)) for _ in range(rank))


def _padding_r(draw: Any, rank: int, most: int) -> Any:
    return draw(
        st.one_of(
            st.sampled_from(["valid", "same"]),
            st.integers(0, most),
            st.lists(st.integers(0, most), min_size=rank, max_size=rank),
            st.lists(st.integers(0, most), min_size=2 * rank, max_size=2 * rank),
        )
    )


def _conv_r(b: Builder, x: T, keep_size: bool = False, filters: int | None = None) -> T:
    """A random conv on any rank; `keep_size`: stride 1, padding `same`."""
    draw = b.draw
    *sizes, c = x.shape
    rank = len(sizes)
    k = _axes_r(draw, rank, 1, 5 if rank == 1 else 3)
    d = (1,) * rank if draw(st.integers(0, 3)) else _axes_r(draw, rank, 1, 2)
    s = (1,) * rank if keep_size or draw(st.booleans()) else _axes_r(draw, rank, 1, 3)
    padding = "same" if keep_size else _padding_r(draw, rank, 2)
    pads = _pads_r(padding, tuple(sizes), k, s, d)
    k = tuple(
        min(k[a], (size + pads[2 * a] + pads[2 * a + 1] - 1) // d[a] + 1)
        for a, size in enumerate(sizes)
    )
    pads = _pads_r(padding, tuple(sizes), k, s, d)
    groups = draw(st.sampled_from(_divisors(c))) if draw(st.integers(0, 2)) == 0 else 1
    if filters is None:
        filters = groups * draw(st.integers(1, max(1, 6 // groups)))
    elif filters % groups:
        groups = 1
    fields: dict[str, Any] = {"filters": filters, "kernel": _field_r(k, draw)}
    if any(v != 1 for v in s) or draw(st.booleans()):
        fields["stride"] = _field_r(s, draw)
    if padding != "valid" or draw(st.booleans()):
        fields["padding"] = padding
    if any(v != 1 for v in d):
        fields["dilation"] = _field_r(d, draw)
    if groups != 1:
        fields["groups"] = groups
    if draw(st.integers(0, 3)) == 0:
        fields["bias"] = False
    out = tuple(
        _windows(size, k[a], s[a], d[a], pads[2 * a], pads[2 * a + 1], False)
        for a, size in enumerate(sizes)
    )
    return b.add("conv", fields, [x], (*out, filters))


def _conv_transpose_r(b: Builder, x: T) -> T:
    draw = b.draw
    sizes = x.shape[:-1]
    rank = len(sizes)
    k, s = _axes_r(draw, rank, 1, 3), _axes_r(draw, rank, 1, 2)
    op = tuple(draw(st.integers(0, s[a] - 1)) for a in range(rank))
    full = [(size - 1) * s[a] + k[a] + op[a] for a, size in enumerate(sizes)]
    padding: Any = _field_r(_axes_r(draw, rank, 0, 1), draw)
    pads = _per_axis_r(padding, rank)
    out = tuple(full[a] - 2 * pads[a] for a in range(rank))
    if min(out) < 1:
        padding, out = 0, tuple(full)
    fields: dict[str, Any] = {"filters": draw(st.integers(1, 4)), "kernel": _field_r(k, draw)}
    fields["stride"] = _field_r(s, draw)
    fields["padding"] = padding
    if any(op):
        fields["output_padding"] = _field_r(op, draw)
    return b.add("conv_transpose", fields, [x], (*out, fields["filters"]))


def _pool_r(b: Builder, x: T, keep_size: bool = False) -> T:
    draw = b.draw
    *sizes, c = x.shape
    rank = len(sizes)
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    if keep_size:
        k, s, padding, ceil = (3,) * rank, (1,) * rank, 1, False
    else:
        k = tuple(min(v, size) for v, size in zip(_axes_r(draw, rank, 1, 3), sizes, strict=True))
        s = k if draw(st.booleans()) else _axes_r(draw, rank, 1, 2)
        ceil = draw(st.booleans())
        most = min(v // 2 for v in k)
        # torch pads pools natively only symmetrically (see `_pool`)
        padding = draw(st.integers(0, most))
        if not (b.torch_friendly and (ceil or kind == "avgpool")) and draw(st.booleans()):
            padding = "same"
    pads = _pads_r(padding, tuple(sizes), k, s, (1,) * rank)
    out = tuple(
        _windows(size, k[a], s[a], 1, pads[2 * a], pads[2 * a + 1], ceil)
        for a, size in enumerate(sizes)
    )
    fields: dict[str, Any] = {"kernel": _field_r(k, draw)}
    if s != k or draw(st.booleans()):
        fields["stride"] = _field_r(s, draw)
    if padding != 0:
        fields["padding"] = padding
    if ceil:
        fields["ceil_mode"] = True
    return b.add(kind, fields, [x], (*out, c))


def _pooled_r(b: Builder, x: T) -> T:
    """Adaptive (bins of any width) or global pooling."""
    draw = b.draw
    *sizes, c = x.shape
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["global_avgpool", "global_maxpool"]))
        return b.add(kind, {}, [x], (*[1] * len(sizes), c))
    kind = draw(st.sampled_from(["adaptive_avgpool", "adaptive_maxpool"]))
    out = tuple(draw(st.integers(1, min(size, 4) + 1)) for size in sizes)
    return b.add(kind, {"output": _field_r(out, draw)}, [x], (*out, c))


def _block_r(b: Builder, x: T) -> T:
    """A residual add, a concat of same-size branches, or a squeeze-excitation gate."""
    draw = b.draw
    *sizes, c = x.shape
    step = draw(st.sampled_from(["residual", "concat", "se"]))
    if step == "se":
        g = b.add("global_avgpool", {}, [x], (*[1] * len(sizes), c))
        g = b.add("conv", {"filters": c, "kernel": 1}, [g], g.shape)
        gate = b.add("sigmoid", {}, [g], g.shape)
        return b.add("multiply", {}, [x, gate] if draw(st.booleans()) else [gate, x], x.shape)
    branches = []
    # torch's AvgPool3d refuses an input smaller than the kernel, even padded (2-D ones don't)
    pools = not (b.torch_friendly and len(sizes) == 3 and min(sizes) < 3)
    for _ in range(draw(st.integers(1, 2))):
        choice = draw(st.sampled_from([0, 1, 2] if pools else [0, 2]))
        if choice == 0:
            branches.append(
                _conv_r(b, x, keep_size=True, filters=c if step == "residual" else None)
            )
        elif choice == 1:
            branches.append(_pool_r(b, x, keep_size=True))
        else:
            branches.append(_pointwise(b, x))
    if step == "residual":
        return b.add("add", {}, [x, *branches], x.shape)
    parts = [x, *branches]
    return b.add("concat", {}, parts, (*sizes, sum(p.shape[-1] for p in parts)))


def _ranked_step(b: Builder, x: T) -> T:
    draw = b.draw
    options = ["conv"] * 4 + ["pool"] * 2 + ["pointwise"] * 3 + ["block"] * 2
    options += ["pooled", "channels"]
    if math.prod(x.shape[:-1]) <= 64:
        options.append("conv_transpose")
    step = draw(st.sampled_from(options))
    if step == "conv":
        return _conv_r(b, x)
    if step == "conv_transpose":
        return _conv_transpose_r(b, x)
    if step == "pool":
        return _pool_r(b, x)
    if step == "pointwise":
        return _pointwise(b, x)
    if step == "block":
        return _block_r(b, x)
    if step == "pooled":
        return _pooled_r(b, x)
    return _channel_step(b, x)


@st.composite
def ranked_architectures(
    draw: Any, rank: int, max_steps: int = 6, torch_friendly: bool = False
) -> dict[str, Any]:
    """A random valid spec on a 1-D (L×C, L up to 40) or 3-D (D×H×W×C, sides up to 6)
    input, sometimes ending in flatten / dense layers."""
    b = Builder(draw, torch_friendly)
    most = 40 if rank == 1 else 6
    sizes = tuple(draw(st.integers(2, most)) for _ in range(rank))
    x = T("input", (*sizes, draw(st.integers(1, 4))))
    spec: dict[str, Any] = {"name": f"random_{rank}d", "input": list(x.shape)}
    for _ in range(draw(st.integers(1, max_steps))):
        x = _ranked_step(b, x) if x.spatial else _flat_step(b, x)
        if x.spatial and math.prod(x.shape[:-1]) > 400:  # keep the forward small
            break
    if x.spatial and draw(st.integers(0, 3)) == 0:
        x = b.add("flatten", {}, [x], (math.prod(x.shape),))
        units = draw(st.integers(1, 6))
        x = b.add("dense", {"units": units}, [x], (units,))
    spec["layers"] = b.layers
    return spec


# --- rendering the IR as a spec --------------------------------------------------------------


def _yaml_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_yaml_value(v) for v in value]
    return value


def to_spec(net: Network) -> dict[str, Any]:
    """The spec of a Network: every layer with every field written out."""
    layers = []
    for node in net:
        fields: dict[str, Any] = {"name": node.name, "from": list(node.inputs)}
        for f in dataclasses.fields(node.op):  # type: ignore[arg-type]
            fields[f.name] = _yaml_value(getattr(node.op, f.name))
        if not node.trainable:
            fields["trainable"] = False
        if node.functional:
            fields["functional"] = True
        layers.append({node.kind: fields})
    spec: dict[str, Any] = {"name": net.name, "input": list(net.input_shape)}
    if net.input_names != (INPUT,):
        del spec["input"]
        spec["inputs"] = {name: list(shape) for name, shape in net.inputs.items()}
    spec["layers"] = layers
    if net.output_names:
        spec["outputs"] = list(net.output_names)
    return spec


def ir_of(net: Network) -> tuple[Any, ...]:
    """What two equal networks share (positions in the source aside)."""
    return (
        net.name,
        net.input_shape,
        net.input_names,
        net.output_names,
        tuple((n.name, n.op, n.inputs, n.trainable, n.functional) for n in net),
        dict(net.shapes),
    )


# --- invalid specs ---------------------------------------------------------------------------


def _first_layer_defects(h: int, w: int, c: int) -> list[tuple[list[Any], str]]:
    """Layers that, put first on an h×w×c input, are certainly an error; and what to expect
    in the message."""
    return [
        ([{"conv": {"filters": 2, "kernel": [h + 1, 1]}}], "larger than"),
        ([{"conv": {"filters": c + 1, "kernel": 1, "groups": c + 1}}], "groups"),
        ([{"conv": {"filters": "8", "kernel": 3}}], "filters"),
        ([{"conv": {"filters": 0, "kernel": 3}}], "filters"),
        ([{"conv": {"filters": 2.5, "kernel": 1}}], "filters"),
        ([{"conv": {"filters": 2, "kernel": -1}}], "kernel"),
        ([{"conv": {"filters": 2, "kernel": 1, "stride": 0}}], "stride"),
        ([{"conv": {"filters": 2, "kernel": 1, "padding": "full"}}], "padding"),
        ([{"conv": {"filters": 2, "kernel": 1, "padding": [1, 2, 3]}}], "padding"),
        ([{"conv": {"filters": 2, "kernel": [1, 1, 1]}}], "kernel has 3 values"),
        ([{"maxpool": {"kernel": 1, "stride": [1]}}], "stride has 1 value"),
        ([{"conv": {"filters": 2, "kernel": 1, "padding": -1}}], "padding"),
        ([{"conv": {"filters": 2, "kernal": 3}}], "kernal"),
        ([{"conv": {"kernel": 3}}], "filters"),
        ([{"conv": {"filters": 2}}], "kernel"),
        ([{"conv": {"filters": 2, "kernel": 1, "bias": "yes"}}], "bias"),
        ([{"conv_transpose": {"filters": 2, "kernel": 2, "output_padding": 1}}], "output_padding"),
        ([{"maxpool": {"kernel": 2, "padding": 2}}], "padding"),
        ([{"maxpool": {"kernel": 3, "dilation": 2, "padding": 2}}], "padding"),
        ([{"avgpool": {"kernel": 1, "stride": 1, "padding": [0, 0, 0, 1]}}], "padding"),
        ([{"adaptive_avgpool": {"output": 0}}], "output"),
        ([{"dense": {"units": "ten"}}], "units"),
        ([{"dropout": {"rate": 1.5}}], "rate"),
        ([{"gelu": {"approximate": "fast"}}], "approximate"),
        ([{"convv": {"filters": 2, "kernel": 1}}], "unknown layer kind"),
        (["relu7"], "unknown layer kind"),
        ([{"relu": {"from": "nope"}}], "nope"),
        ([{"relu": {"name": "a", "from": "b"}}, {"relu": {"name": "b"}}], "further down"),
        ([{"relu": {"name": "a"}}, {"relu": {"name": "a"}}], "duplicate"),
        ([{"relu": {"name": "input"}}], "reserved"),
        (
            [
                {"conv": {"name": "p", "filters": c + 1, "kernel": 1}},
                {"add": {"from": ["input", "p"]}},
            ],
            "unequal",
        ),
        ([{"add": {"from": ["input"]}}], "at least 2"),
        ([{"relu": {"from": ["input", "input"]}}], "one input"),
        ([{"flatten": {}}, {"conv": {"filters": 2, "kernel": 1}}], "flat"),
        ([{"flatten": {}}, "lrn"], "flat"),
        ([{"relu": {"when": "maybe"}}], "when"),
        ([{"repeat": {"block": "nothing", "times": 2}}], "block"),
        ([{"relu": {"trainable": 3}}], "trainable"),
        (
            [{"concat": {"from": ["input", "mp"]}}, {"maxpool": {"name": "mp", "kernel": 2}}],
            "further down",
        ),
    ]


@st.composite
def invalid_specs(draw: Any) -> tuple[str, str]:
    """(spec text, a word the error message must contain) for a spec with one defect."""
    h, w, c = draw(st.integers(2, 12)), draw(st.integers(2, 12)), draw(st.integers(1, 4))
    tail = draw(st.lists(st.sampled_from(["relu", "batchnorm", "dropout", "sigmoid"]), max_size=3))
    top_level: list[tuple[Any, str]] = [
        ({"input": [0, h, c], "layers": ["relu"]}, "input"),
        ({"input": [h, w, c, c, h], "layers": ["relu"]}, "input"),
        ({"input": f"{h}x{w}x{c}", "layers": ["relu"]}, "input"),
        ({"input": [h, w, c], "layers": []}, "no layers"),
        ({"input": [h, w, c]}, "layers"),
        ({"layers": ["relu"]}, "input"),
        ({"input": [h, w, c], "layers": ["relu"], "outputs": 3}, "outputs"),
        ({"input": [h, w, c], "layers": "relu"}, "list"),
        ({"input": [h, w, c], "layers": ["relu"], "layout": "nchw"}, "layout"),
    ]
    if draw(st.integers(0, 4)) == 0:
        spec, word = draw(st.sampled_from(top_level))
        return dump(spec), word
    if draw(st.integers(0, 9)) == 0:
        broken = draw(
            st.sampled_from(
                [
                    f"input: [{h}, {w}, {c}]\nlayers: [conv: {{filters: 2, kernel: 3]\n",
                    f"input: [{h}, {w}, {c}]\nlayers:\n  - relu\n - relu\n",
                    f"input: [{h}, {w}, {c}]\nlayers:\n\t- relu\n",
                    "- just\n- a list\n",
                    f"input: [{h}, {w}, {c}]\nlayers: [relu]\nlayers: [relu]\n",
                ]
            )
        )
        return broken, "error"
    defects = _first_layer_defects(h, w, c)
    layers, word = draw(st.sampled_from(defects))
    spec = {"input": [h, w, c], "layers": [*layers, *tail]}
    return dump(spec), word
