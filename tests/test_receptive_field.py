"""Receptive field: hand-computed cases, the seeds' exercise and the classic nets."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.passes.receptive_field import ReceptiveField, receptive_fields


def fields(text: str, shape: tuple[int, ...] = (64, 64, 3)) -> dict[str, ReceptiveField | None]:
    return receptive_fields(cnncalc.load(text, input_shape=shape))


def square(rf: ReceptiveField | None) -> tuple[float, float, float]:
    assert rf is not None
    assert rf.size[0] == rf.size[1] and rf.stride[0] == rf.stride[1]
    return float(rf.size[0]), float(rf.stride[0]), float(rf.center[0])


def test_five_stacked_5x5_convs_see_21_pixels():
    # the seeds' exercise: R_l = R_{l-1} + (5 − 1)·1 → 5, 9, 13, 17, 21
    rf = fields("Conv5-8-P2-S1,Conv5-8-P2-S1,Conv5-8-P2-S1,Conv5-8-P2-S1,Conv5-1-P2-S1")
    assert [square(rf[f"conv{i}"])[0] for i in range(1, 6)] == [5, 9, 13, 17, 21]


def test_seed_32x32_by_hand():
    rf = receptive_fields(cnncalc.load("seed_32x32"))
    # conv 5×5 same (pad 2): size 5, jump 1, center 0 + (2 − 2)·1 = 0
    assert square(rf["conv1"]) == (5, 1, 0)
    # maxpool 2: 5 + 1·1 = 6, jump 2, center 0 + (0.5 − 0)·1 = 0.5
    assert square(rf["maxpool1"]) == (6, 2, 0.5)
    # conv 3×3 same (pad 1): 6 + 2·2 = 10, jump 2, center 0.5 + (1 − 1)·2
    assert square(rf["conv2"]) == (10, 2, 0.5)
    assert rf["flatten1"] is None and rf["dense1"] is None


def test_classic_nets():
    vgg = receptive_fields(cnncalc.load("vgg16"))
    assert square(vgg["block5.pool"])[:2] == (212, 32)
    assert square(vgg["block5.conv.2.conv"])[:2] == (196, 16)
    alexnet = receptive_fields(cnncalc.load("alexnet_torchvision"))
    assert square(alexnet["features.12"])[:2] == (195, 32)
    resnet = receptive_fields(cnncalc.load("resnet50"))
    assert square(resnet["layer4.2.relu3"])[:2] == (427, 32)
    assert all(f is None or f.aligned for f in resnet.values())


def test_dilation_widens_the_kernel():
    # 3×3 with dilation 2 spans 5
    assert square(fields("layers: [conv: {filters: 2, kernel: 3, dilation: 2}]")["conv1"]) == (
        5,
        1,
        2,
    )


def test_asymmetric_same_padding_moves_the_center():
    # 5 wide, kernel 4, stride 2, same: out 3, padding 3 = 1 top + 2 bottom;
    # center = 0 + (1.5 − 1)·1 = 0.5
    rf = fields("layers: [conv: {filters: 2, kernel: 4, stride: 2, padding: same}]", (5, 5, 1))
    assert square(rf["conv1"]) == (4, 2, 0.5)


def test_conv_transpose_has_fractional_jump():
    # k2 s2: every output unit takes exactly one input unit
    up = fields("layers: [conv_transpose: {filters: 2, kernel: 2, stride: 2}]", (4, 4, 1))
    assert square(up["conv_transpose1"]) == (1, 0.5, 0)
    # k3 s2 p1: odd outputs mix two neighbours (taps 0 and 2), so the size is 1 + 1·1 = 2
    up = fields(
        "layers: [conv_transpose: {filters: 2, kernel: 3, stride: 2, padding: 1}]", (4, 4, 1)
    )
    assert square(up["conv_transpose1"])[:2] == (2, 0.5)


def test_global_pool_covers_the_whole_input():
    rf = fields("layers: [conv: {filters: 2, kernel: 3}, global_avgpool]", (10, 10, 1))
    assert rf["global_avgpool1"] is not None and rf["global_avgpool1"].whole_input
    assert rf["global_avgpool1"].size == (Fraction(10), Fraction(10))


def test_misaligned_paths_are_marked():
    text = """
layers:
  - conv: {name: a, filters: 2, kernel: 3, padding: 1}
  - conv: {name: b, from: input, filters: 2, kernel: 3, padding: [2, 0, 2, 0]}
  - add: {from: [a, b]}
"""
    rf = fields(text, (8, 8, 1))
    assert rf["a"] is not None and rf["a"].center == (0, 0)
    assert rf["b"] is not None and rf["b"].center == (-1, -1)
    assert rf["add1"] is not None and not rf["add1"].aligned


def _window_layers(axes: list[list[tuple[int, int, int, int, bool]]], rank: int) -> str:
    """A spec's layers from each axis's (kernel, stride, dilation, padding, pool) per layer;
    rank 1 writes the first axis's numbers as scalars."""
    layers = []
    for per_axis in zip(*axes, strict=True):
        values = [[a[i] for a in per_axis] if rank > 1 else per_axis[0][i] for i in range(4)]
        kind = "avgpool" if per_axis[0][4] else "conv"
        filters = "" if kind == "avgpool" else "filters: 1, "
        layers.append(
            f"  - {kind}: {{{filters}kernel: {values[0]}, stride: {values[1]}, "
            + (f"dilation: {values[2]}, " if kind == "conv" else "")
            + f"padding: {values[3]}}}"
        )
    return "layers:\n" + "\n".join(layers) + "\n"


window = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_each_axis_of_a_field_is_its_one_dimensional_field(data: st.DataObject) -> None:
    """Images (2-D) take an unrolled path and video (3-D) per-axis maps: each axis must be
    what a 1-D network with that axis's windows gets, exactly (ints stay ints)."""
    rank = data.draw(st.sampled_from([2, 3]))
    depth = data.draw(st.integers(1, 4))
    pools = [data.draw(st.booleans()) for _ in range(depth)]
    axes = []
    for _ in range(rank):
        drawn = data.draw(st.lists(window, min_size=depth, max_size=depth))
        # a pool's padding is at most half its kernel, and it has no dilation
        axes.append(
            [
                (k, s, 1 if pool else d, min(p, k // 2) if pool else p, pool)
                for (k, s, d, p), pool in zip(drawn, pools, strict=True)
            ]
        )
    whole = receptive_fields(cnncalc.load(_window_layers(axes, rank), (*[400] * rank, 1)))
    for a in range(rank):
        line = receptive_fields(cnncalc.load(_window_layers([axes[a]], 1), (400, 1)))
        for name, field in whole.items():
            assert field is not None and line[name] is not None
            one = line[name]
            got = (field.size[a], field.stride[a], field.center[a])
            assert got == (one.size[0], one.stride[0], one.center[0])
            assert [type(v) for v in got] == [type(one.size[0]), type(one.stride[0]),
                                              type(one.center[0])]  # fmt: skip


def test_a_gate_broadcast_over_the_image_does_not_unalign_a_merge() -> None:
    """The rule of a merge (which inputs are positional) is worked out once per class of
    layers: an SE gate (1×1) at stride 8 does not unalign `x * gate`, two positional paths
    of different strides do, in the same network."""
    text = """
layers:
  - conv: {name: x, filters: 4, kernel: 3, padding: 1}
  - global_avgpool: {name: gate}
  - multiply: {name: m1, from: [x, gate]}
  - multiply: {name: m2, from: [gate, x]}
  - conv: {name: y, from: x, filters: 4, kernel: 3, padding: 1}
  - multiply: {name: m3, from: [y, gate]}
  - conv: {name: z, from: x, filters: 4, kernel: 2, stride: 2}
  - upsample: {name: up, scale: 2}
  - add: {name: bad, from: [y, up]}
"""
    rf = fields(text, (8, 8, 1))
    for name in ("m1", "m2", "m3"):
        merged = rf[name]
        assert merged is not None and merged.aligned and merged.stride == (1, 1)
        # the gate's field is the largest: 3 + (8 − 1)·1, and it covers the whole input
        assert merged.size == (10, 10) and merged.whole_input
    bad = rf["bad"]
    assert bad is not None and not bad.aligned
    assert [name for name, _, _ in bad.disagree] == ["y", "up"]


def test_rf_table_cells_follow_each_rows_own_field_and_window() -> None:
    """The rf table makes a cell once per field or window object that rows share (a relu
    keeps its input's field): each row must still show its own, and a row without a field
    its own note (flat: whole input; after an opaque layer: unknown)."""
    from cnncalc.render.views import rf_view
    from cnncalc.report import analyze

    text = """
layers:
  - conv: {name: c1, filters: 2, kernel: 3}
  - relu: {name: r1}
  - conv: {name: c2, filters: 2, kernel: 3, stride: 2}
  - relu: {name: r2}
  - opaque: {name: o, output_shape: [3, 3, 2], params: 0, op: Foo}
  - relu: {name: r3}
  - global_avgpool: {name: g}
  - flatten: {name: f}
  - dense: {name: d, units: 3}
"""
    table = rf_view(analyze(cnncalc.load(text, input_shape=(10, 10, 1))))
    header = [c.header for c in table.columns]
    rows = {cells[0]: dict(zip(header, cells, strict=True)) for cells in table.rows}
    # c1: 1 + 2 = 3, jump 1; c2: 3 + 2·1 = 5, jump 2 (its window: kernel 3, stride 2)
    assert [rows[n]["RF size"] for n in ("c1", "r1", "c2", "r2")] == ["3", "3", "5", "5"]
    assert [rows[n]["RF stride"] for n in ("c1", "r1", "c2", "r2")] == ["1", "1", "2", "2"]
    assert [rows[n]["Kernel"] for n in ("c1", "r1", "c2", "r2")] == ["3", "", "3", ""]
    assert [rows[n]["Stride"] for n in ("c1", "r1", "c2", "r2")] == ["1", "", "2", ""]
    assert rows["c2"]["Growth"] == "██████████" and rows["c1"]["Growth"] == "██████"
    assert [rows[n]["Note"] for n in ("o", "r3", "g", "f", "d")] == [
        "unknown (opaque layer)",
        "unknown (opaque layer)",
        "unknown (opaque layer)",
        "whole input",
        "whole input",
    ]
    assert rows["g"]["Kernel"] == "global" and rows["o"]["RF size"] == "—"


@pytest.mark.parametrize("shape", [(100, 4), (4, 10, 10, 1)])
def test_rf_note_after_an_opaque_layer_in_1d_and_3d(shape: tuple[int, ...]) -> None:
    """A 1-D or 3-D tensor after an opaque layer has an unknown field, not the whole input."""
    from cnncalc.render.views import rf_view
    from cnncalc.report import analyze

    measured = [*(d - 2 for d in shape[:-1]), 2]
    text = f"""
layers:
  - conv: {{name: c, filters: 2, kernel: 3}}
  - opaque: {{name: o, output_shape: {measured}, params: 0, op: Foo}}
  - relu: {{name: r}}
  - flatten: {{name: f}}
"""
    table = rf_view(analyze(cnncalc.load(text, input_shape=shape)))
    notes = {cells[0]: cells[-1] for cells in table.rows}
    assert [notes[n] for n in ("o", "r", "f")] == [
        "unknown (opaque layer)",
        "unknown (opaque layer)",
        "whole input",
    ]
