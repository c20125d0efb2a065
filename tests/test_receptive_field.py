"""Receptive field: hand-computed cases, the seeds' exercise and the classic nets."""

from __future__ import annotations

from fractions import Fraction

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
