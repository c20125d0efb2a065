"""The NumPy reference itself: every kind has an op, the ops against definitions written out
as loops, PyTorch's conventions by hand, seeded weights, and the empirical receptive field's
boxes against NaN-probing the real forward pass."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import cnncalc
from cnncalc.graph import Network
from cnncalc.layers import KINDS
from cnncalc.reference import ops, windows
from cnncalc.reference.forward import LayerWeights, make_weights, run_forward
from cnncalc.reference.receptive import (
    enlarged,
    initial_boxes,
    layer_boxes,
    measure_fields,
)
from cnncalc.reference.verify import forward_bytes, parse_bytes
from cnncalc.reference.workspace import forward_temporaries
from tests.strategies import architectures, dump

rng = np.random.default_rng(1)


def net_of(layers: str, shape: tuple[int, ...]) -> Network:
    return cnncalc.load(f"layers: {layers}", input_shape=shape)


def forward_one(layers: str, x: np.ndarray) -> tuple[np.ndarray, LayerWeights]:
    net = net_of(layers, x.shape[1:])
    result = run_forward(net, x=x)
    node = net.nodes[-1]
    return result.outputs[node.name], result.weights[node.name]


def test_every_kind_has_an_op() -> None:
    assert set(ops.OPS) == set(KINDS)


# --- ops against loop definitions ---------------------------------------------------------


def conv_by_loops(x, weight, bias, pads, stride, dilation, groups):  # type: ignore[no-untyped-def]
    """out[n, i, j, f] = Σ x_padded[n, i·s + a·d, j·s + b·d, c] · w[a, b, c, f] (HWIO)."""
    t, b_, left, r = pads
    xp = np.pad(x, ((0, 0), (t, b_), (left, r), (0, 0)))
    kh, kw, per_group, filters = weight.shape
    oh = (xp.shape[1] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[2] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((x.shape[0], oh, ow, filters))
    per_out = filters // groups
    for f in range(filters):
        g = f // per_out
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for b in range(kw):
                        row = xp[
                            :, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]
                        ]
                        chans = row[:, g * per_group : (g + 1) * per_group]
                        out[:, i, j, f] += chans @ weight[a, b, :, f]
        if bias is not None:
            out[..., f] += bias[f]
    return out


def conv_transpose_by_loops(x, weight, bias, crop, output_padding, stride, dilation, groups):  # type: ignore[no-untyped-def]
    """Scatter: input (i, j) adds w[c, f, a, b]·x to output (i·s + a·d, j·s + b·d), then
    output_padding rows/columns after, then crop (t, b, l, r)."""
    n, h, w, c = x.shape
    _, per_out, kh, kw = weight.shape
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    full_w = (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    out = np.zeros((n, full_h, full_w, per_out * groups))
    per_in = c // groups
    for ch in range(c):
        g = ch // per_in
        for i in range(h):
            for j in range(w):
                for a in range(kh):
                    for b in range(kw):
                        y, z = i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]
                        out[:, y, z, g * per_out : (g + 1) * per_out] += (
                            x[:, i, j, ch, None] * weight[ch, :, a, b]
                        )
    if bias is not None:
        out += bias
    t, b_, left, r = crop
    return out[:, t : full_h - b_, left : full_w - r]


@pytest.mark.parametrize(
    "layer",
    [
        "{filters: 4, kernel: 3}",
        "{filters: 4, kernel: [2, 3], stride: [2, 1], padding: [1, 0, 2, 1]}",
        "{filters: 6, kernel: 3, dilation: [2, 1], groups: 3, padding: same}",
        "{filters: 3, kernel: 4, stride: 3, padding: same, bias: false, groups: 3}",
        "{filters: 2, kernel: 1, stride: 2}",
    ],
)
def test_conv_matches_its_definition(layer: str) -> None:
    x = rng.standard_normal((2, 7, 8, 3 if "groups: 3" in layer else 2)).astype(np.float32)
    out, w = forward_one(f"[conv: {layer}]", x)
    op = net_of(f"[conv: {layer}]", x.shape[1:]).nodes[0].op
    pads = windows.window_pads(op.padding, (7, 8), op.kernel, op.stride, op.dilation)
    stride, dilation = windows.per_axis(op.stride, 2), windows.per_axis(op.dilation, 2)
    want = conv_by_loops(
        x, w.params["weight"], w.params.get("bias"), pads, stride, dilation, op.groups
    )
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [
        "{filters: 2, kernel: 3, stride: 2}",
        "{filters: 2, kernel: 3, stride: 2, padding: 1, output_padding: 1}",
        "{filters: 4, kernel: [2, 3], stride: [3, 1], padding: [0, 1, 1, 0], groups: 2}",
        "{filters: 2, kernel: 3, stride: 2, dilation: 2, padding: same}",
        "{filters: 2, kernel: 4, stride: 2, padding: same, output_padding: 1, bias: false}",
    ],
)
def test_conv_transpose_matches_its_definition(layer: str) -> None:
    x = rng.standard_normal((2, 4, 5, 2)).astype(np.float32)
    out, w = forward_one(f"[conv_transpose: {layer}]", x)
    op = net_of(f"[conv_transpose: {layer}]", x.shape[1:]).nodes[0].op
    crop = windows.transpose_crop(op, (4, 5))
    want = conv_transpose_by_loops(
        x,
        w.params["weight"],
        w.params.get("bias"),
        crop,
        windows.per_axis(op.output_padding, 2),
        windows.per_axis(op.stride, 2),
        windows.per_axis(op.dilation, 2),
        op.groups,
    )
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_conv_transpose_crop_may_reach_into_output_padding() -> None:
    # one input column, stride 3, kernel 1: the full output is 1 + output_padding 2 = 3 columns,
    # and the leading crop of 2 leaves the last one, which only output_padding produced
    x = rng.standard_normal((1, 2, 1, 1)).astype(np.float32)
    layer = (
        "{filters: 1, kernel: [2, 1], stride: [1, 3], padding: [0, 0, 2, 0], "
        "output_padding: [0, 2]}"
    )
    out, w = forward_one(f"[conv_transpose: {layer}]", x)
    op = net_of(f"[conv_transpose: {layer}]", x.shape[1:]).nodes[0].op
    want = conv_transpose_by_loops(
        x,
        w.params["weight"],
        w.params.get("bias"),
        windows.transpose_crop(op, (2, 1)),
        windows.per_axis(op.output_padding, 2),
        windows.per_axis(op.stride, 2),
        windows.per_axis(op.dilation, 2),
        op.groups,
    )
    assert out.shape == want.shape == (1, 3, 1, 1)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_same_padding_is_tensorflow_same() -> None:
    # 5 wide, kernel 4, stride 2: ⌈5/2⌉ = 3 outputs, (3 − 1)·2 + 4 − 5 = 3 pad: 1 before, 2 after
    assert windows.same_pads(5, 4, 2) == (1, 2)
    assert windows.same_pads(224, 7, 2) == (2, 3)
    assert windows.same_pads(6, 1, 3) == (0, 0)
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1, 1)
    out, _ = forward_one("[maxpool: {kernel: [4, 1], stride: [2, 1], padding: same}]", x)
    assert out.ravel().tolist() == [2, 4, 4]  # windows [-1, 2], [1, 4], [3, 6]


def test_ceil_mode_follows_pytorch() -> None:
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1, 1)
    # floor: windows [0, 1], [2, 3]; ceil: and [4] — the last window hangs off the end
    assert forward_one("[maxpool: {kernel: [2, 1]}]", x)[0].ravel().tolist() == [1, 3]
    assert forward_one("[maxpool: {kernel: [2, 1], ceil_mode: true}]", x)[0].ravel().tolist() == [
        1,
        3,
        4,
    ]
    # avg over the overhang counts only real cells: (4)/1, with padding 1 the divisor counts it
    avg = forward_one("[avgpool: {kernel: [2, 1], ceil_mode: true}]", x)[0].ravel()
    assert avg.tolist() == [0.5, 2.5, 4.0]
    # 6 rows, kernel 2, stride 2, padding 1, ceil: ⌈(6 + 2 − 2)/2⌉ + 1 = 4, but the 4th would
    # start at 6 ≥ 6 + 1? no — it starts at row 6 − 1 = 5 (inside), so 4 windows
    y = np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1)
    out = forward_one("[maxpool: {kernel: [2, 1], padding: [1, 0], ceil_mode: true}]", y)[0]
    assert out.ravel().tolist() == [0, 2, 4, 5]


def test_avgpool_count_include_pad() -> None:
    x = np.ones((1, 3, 3, 1), dtype=np.float32)
    with_pad = forward_one("[avgpool: {kernel: 3, stride: 1, padding: 1}]", x)[0][0, :, :, 0]
    # a corner window holds 4 ones among 9 cells
    assert with_pad[0, 0] == pytest.approx(4 / 9) and with_pad[1, 1] == pytest.approx(1)
    without = forward_one(
        "[avgpool: {kernel: 3, stride: 1, padding: 1, count_include_pad: false}]", x
    )[0]
    assert np.allclose(without, 1)


def test_adaptive_bins_are_pytorchs() -> None:
    start, end = windows.adaptive_bins(5, 3)
    assert list(zip(start.tolist(), end.tolist(), strict=True)) == [(0, 2), (1, 4), (3, 5)]
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1, 1)
    assert forward_one("[adaptive_avgpool: {output: [3, 1]}]", x)[0].ravel().tolist() == [
        0.5,
        2.0,
        3.5,
    ]
    assert forward_one("[adaptive_maxpool: {output: [3, 1]}]", x)[0].ravel().tolist() == [1, 3, 4]


def test_lrn_matches_its_definition() -> None:
    x = rng.standard_normal((1, 2, 2, 7)).astype(np.float32)
    out = forward_one("[lrn: {size: 4, alpha: 0.1, beta: 0.75, k: 2}]", x)[0]
    want = np.empty_like(x)
    for c in range(7):
        window = range(max(c - 2, 0), min(c + 1, 6) + 1)  # ⌊4/2⌋ before, ⌊3/2⌋ after
        squares = sum(x[..., d] ** 2 for d in window)
        want[..., c] = x[..., c] / (2 + 0.1 / 4 * squares) ** 0.75
    np.testing.assert_allclose(out, want, rtol=1e-5)


def test_lrn_of_a_huge_window_sums_every_channel_at_the_channels_cost() -> None:
    # a window of 2^32 + 1 channels covers all 7 at every channel: the same as a window of 13
    x = rng.standard_normal((1, 2, 2, 7)).astype(np.float32)
    huge = forward_one("[lrn: {size: 4294967297, alpha: 0.1, beta: 0.75, k: 2}]", x)[0]
    wide = forward_one("[lrn: {size: 13, alpha: 0.1, beta: 0.75, k: 2}]", x)[0]
    squares = (x**2).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(huge, x / (2 + 0.1 / 4294967297 * squares) ** 0.75, rtol=1e-5)
    np.testing.assert_allclose(wide, x / (2 + 0.1 / 13 * squares) ** 0.75, rtol=1e-5)


def test_activations_by_hand() -> None:
    x = np.array([[-3.0, -0.5, 0.0, 0.5, 7.0]], dtype=np.float32)
    cases = {
        "relu": [0, 0, 0, 0.5, 7],
        "relu6": [0, 0, 0, 0.5, 6],
        "leaky_relu: {negative_slope: 0.1}": [-0.3, -0.05, 0, 0.5, 7],
        "hardsigmoid": [0, 2.5 / 6, 0.5, 3.5 / 6, 1],
        "hardswish": [0, -0.5 * 2.5 / 6, 0, 0.5 * 3.5 / 6, 7],
        "elu": [math.expm1(-3), math.expm1(-0.5), 0, 0.5, 7],
        "sigmoid": [1 / (1 + math.exp(-v)) for v in x[0]],
        "tanh": [math.tanh(v) for v in x[0]],
        "silu": [v / (1 + math.exp(-v)) for v in x[0]],
        "gelu": [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x[0]],
        "gelu: {approximate: tanh}": [
            0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) for v in x[0]
        ],
        "dropout": list(x[0]),
    }
    for layer, want in cases.items():
        out = forward_one(f"[{layer}]", x)[0]
        np.testing.assert_allclose(out[0], want, rtol=2e-6, atol=2e-7, err_msg=layer)
    soft = forward_one("[softmax]", x)[0]
    assert soft.sum() == pytest.approx(1) and soft.argmax() == 4


def test_batchnorm_and_prelu_use_their_weights() -> None:
    x = rng.standard_normal((3, 2, 2, 4)).astype(np.float32)
    out, w = forward_one("[batchnorm: {eps: 0.001}]", x)
    b = w.all()
    want = (x - b["running_mean"]) / np.sqrt(b["running_var"] + 0.001) * b["weight"] + b["bias"]
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    out, w = forward_one("[prelu]", x)
    np.testing.assert_allclose(out, np.where(x >= 0, x, x * w.params["weight"]), rtol=1e-6)


def test_merges_broadcast_and_concatenate() -> None:
    x = rng.standard_normal((1, 3, 3, 2)).astype(np.float32)
    layers = (
        "[global_avgpool: {name: g}, multiply: {from: [input, g]}, "
        "concat: {from: [input, multiply1]}]"
    )
    net = net_of(layers, (3, 3, 2))
    result = run_forward(net, x=x, keep_outputs=True)
    gate = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(result.outputs["multiply1"], x * gate, rtol=1e-6)
    assert result.outputs["concat1"].shape == (1, 3, 3, 4)


# --- weights ------------------------------------------------------------------------------


def test_weights_are_allocated_in_pytorch_layouts() -> None:
    net = cnncalc.load(
        "layers: [conv: {filters: 6, kernel: [3, 2], groups: 2}, "
        "conv_transpose: {filters: 4, kernel: 2, groups: 2, bias: false}, "
        "batchnorm: {affine: false}, prelu: {per_channel: false}, dense: {units: 5}]",
        input_shape=(5, 5, 4),
    )
    result = run_forward(net)
    shapes = {n: {k: v.shape for k, v in w.all().items()} for n, w in result.weights.items()}
    assert shapes["conv1"] == {"weight": (3, 2, 2, 6), "bias": (6,)}  # HWIO
    assert shapes["conv_transpose1"] == {"weight": (6, 2, 2, 2)}  # (C_in, F/groups, kh, kw)
    assert shapes["batchnorm1"] == {"running_mean": (4,), "running_var": (4,)}
    assert result.weights["batchnorm1"].param_count == 0
    assert result.weights["batchnorm1"].buffer_count == 8
    assert shapes["prelu1"] == {"weight": (1,)}
    assert shapes["dense1"] == {"weight": (5, 4 * 5 * 4), "bias": (5,)}  # 4×5×4 flattened


def test_weights_and_outputs_are_seeded() -> None:
    net = cnncalc.load("seed_32x32")
    a, b, c = run_forward(net, seed=3), run_forward(net, seed=3), run_forward(net, seed=4)
    out = net.output.name
    assert np.array_equal(a.outputs[out], b.outputs[out])
    assert not np.array_equal(a.outputs[out], c.outputs[out])
    assert np.array_equal(a.weights["conv1"].params["weight"], b.weights["conv1"].params["weight"])
    # a layer's weights depend on its own seed only
    node = net.nodes[0]
    again = make_weights(node, [(1, 32, 32, 3)], np.random.default_rng([3, 0]))
    assert np.array_equal(again.params["weight"], a.weights["conv1"].params["weight"])


def test_forward_frees_tensors_after_their_last_use() -> None:
    net = cnncalc.load("resnet18", input_shape=(32, 32, 3))
    result = run_forward(net)
    assert list(result.outputs) == [net.output.name]
    kept = run_forward(net, keep_outputs=True)
    assert set(kept.outputs) == {n.name for n in net}


def test_memory_estimate_covers_the_im2col_block_and_padding() -> None:
    net = cnncalc.load("vgg16")
    node = net.nodes[2]  # block1's second conv, 224×224×64 in and out
    assert node.kind == "conv"
    weight = (3 * 3 * 64 * 64 + 64) * 4  # rearranged once into the matmul's layout
    block = 32 * 224 * (3 * 3 * 64) * 4  # 16 MiB of im2col rows: 32 output rows of 224
    padded = 226 * 226 * 64 * 4
    assert forward_temporaries(node, net, 1, weight) == weight + block + padded
    assert forward_bytes(net, 2) > forward_bytes(net, 1) > 138_357_544 * 4


def test_parse_bytes() -> None:
    assert parse_bytes("2GiB") == 2 << 30
    assert parse_bytes("512 MiB") == 512 << 20
    assert parse_bytes("1.5G") == 3 << 29
    assert parse_bytes("1000") == 1000
    # as `check` reads sizes: MB and kB are powers of 1000, MiB and KiB of 1024
    assert parse_bytes("512MB") == 512_000_000
    assert parse_bytes("3kB") == 3000
    assert parse_bytes("1,000,000") == 1_000_000
    for bad in ("lots", "-1G", "0", "", "nan", "inf", "1e999", "2GB!", "5 parsecs"):
        with pytest.raises(cnncalc.SpecError):
            parse_bytes(bad)


# --- the empirical receptive field ----------------------------------------------------------


def nan_probe_boxes(net: Network) -> dict[str, np.ndarray]:
    """Per layer and unit, the bounding box (lo, hi per spatial axis: lo_y, hi_y, lo_x, hi_x
    in 2-D) of the input pixels whose NaN reaches it through the real forward pass (NaN·0
    is NaN, so a zero weight still counts: structural dependence); NaN where none does.
    Several inputs (of one size) are probed at the same pixel, as each counts in its own
    pixels."""
    *sizes, _ = net.input_shape
    rank, pixels = len(sizes), math.prod(sizes)
    coords = np.unravel_index(np.arange(pixels), sizes)
    x = {}
    for name, shape in net.inputs.items():
        x[name] = np.zeros((pixels, *sizes, shape[-1]), dtype=np.float32)
        x[name][(np.arange(pixels), *coords)] = np.nan
    with np.errstate(invalid="ignore", over="ignore"):
        result = run_forward(net, x=x, keep_outputs=True)
    boxes = {}
    for node in net:
        out = result.outputs[node.name]
        if out.ndim != rank + 2:
            continue
        reached = np.isnan(out).any(axis=-1)  # (probe, *out sizes)
        box = np.full((*out.shape[1:-1], 2 * rank), np.nan)
        for unit in np.ndindex(*out.shape[1:-1]):
            probes = np.flatnonzero(reached[(slice(None), *unit)])
            if len(probes):
                box[unit] = [f(axis[probes]) for axis in coords for f in (np.min, np.max)]
        boxes[node.name] = box
    return boxes


def box_maps(net: Network) -> dict[str, np.ndarray]:
    live = initial_boxes(net)
    out = {}
    for node in net:
        m = layer_boxes(node, [live[i] for i in node.inputs])
        live[node.name] = m
        if m is not None:
            rank = m.ndim - 2
            bounds = [m[0, ..., k] * (1 if k % 2 else -1) for k in range(2 * rank)]
            b = np.stack(bounds, axis=-1)
            out[node.name] = np.where(np.isfinite(b), b, np.nan)
    return out


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(architectures(max_steps=5, min_side=2, max_side=9, flat_input=False))
def test_receptive_boxes_are_what_the_forward_pass_depends_on(spec: dict[str, object]) -> None:
    net = cnncalc.load(dump(spec))
    assume(not _takes_channels_after_concat(net))  # per position: their union (see below)
    probed, boxes = nan_probe_boxes(net), box_maps(net)
    assert probed.keys() == boxes.keys()
    for name in probed:
        np.testing.assert_array_equal(boxes[name], probed[name], err_msg=name)


def _takes_channels_after_concat(net: Network) -> bool:
    """Whether a pixel_shuffle or channel slice follows a concat: its units take some of a
    position's channels, whose fields differ when the concat's branches' do, and the box maps
    (per position) give the union of them all."""
    after: set[str] = set()
    for node in net:
        if node.kind == "concat" or after.intersection(node.inputs):
            after.add(node.name)
            if node.kind in ("pixel_shuffle", "slice"):
                return True
    return False


def test_a_channel_subset_after_a_concat_is_bounded_by_the_union() -> None:
    # n3 sees rows i and i+1 of the input, n4 row i only; the shuffle puts n4's channel at the
    # odd rows: per position the box map gives both channels' union, the forward depends on less
    spec = """input: [4, 4, 1]
layers:
  - conv: {filters: 3, kernel: [2, 1], padding: same, bias: false, name: n3}
  - conv: {filters: 1, kernel: 1, bias: false, name: n4, from: input}
  - concat: {from: [n3, n4]}
  - pixel_shuffle: {factor: 2, name: up}
"""
    net = cnncalc.load(spec)
    assert _takes_channels_after_concat(net)
    probed, boxes = nan_probe_boxes(net)["up"], box_maps(net)["up"]
    assert np.all(probed[1::2, 1::2, 1] == probed[1::2, 1::2, 0])  # one row: n4's
    assert np.all(boxes[1::2, 1::2, 1] >= boxes[1::2, 1::2, 0])
    assert np.any(boxes[1::2, 1::2, 1] > probed[1::2, 1::2, 1])  # the union: n3's two rows
    assert np.all(boxes[0::2, 0::2] == probed[0::2, 0::2])  # n3's units: exact


def test_dilated_and_strided_fields_by_hand() -> None:
    net = cnncalc.load(
        "layers: [conv: {filters: 1, kernel: 3, dilation: 2}, maxpool: {kernel: 2}]",
        input_shape=(20, 20, 1),
    )
    fields = measure_fields(net)
    conv, pool = fields["conv1"], fields["maxpool1"]
    assert conv is not None and pool is not None
    assert conv.size == (5, 5) and conv.axes[0].stride() == 1 and conv.axes[0].center() == 2
    assert pool.size == (6, 6) and pool.axes[0].stride() == 2  # 5 + (2 − 1)·1
    assert pool.axes[0].center() == Fraction(5, 2)  # 2 + (2 − 1)/2


def test_conv_transpose_field_repeats_every_stride_units() -> None:
    # k3 s2 p1: even outputs see one input pixel, odd ones two: widest 2, jump 1/2
    net = cnncalc.load(
        "layers: [conv_transpose: {filters: 1, kernel: 3, stride: 2, padding: 1}]",
        input_shape=(12, 12, 1),
    )
    field = measure_fields(net)["conv_transpose1"]
    assert field is not None and field.size == (2, 2)
    assert field.axes[0].period(2) == (1, 2) and field.axes[0].stride(2) == Fraction(1, 2)


def test_enlarged_inputs_keep_every_layers_rounding() -> None:
    net = cnncalc.load("resnet18", input_shape=(33, 35, 3))
    sizes = list(enlarged(net, max_side=600))
    assert sizes[0] is net and len(sizes) >= 3
    for bigger in sizes[1:]:
        for node in net:
            small, large = net.shapes[node.name], bigger.shapes[node.name]
            if len(small) == 3 and node.kind == "conv":
                op = node.op
                pads = windows.window_pads(
                    op.padding, net.input_shapes(node)[0][:2], op.kernel, op.stride, op.dilation
                )
                big_pads = windows.window_pads(
                    op.padding, bigger.input_shapes(node)[0][:2], op.kernel, op.stride, op.dilation
                )
                assert pads == big_pads, node.name
            assert len(small) == len(large)
