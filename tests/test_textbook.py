"""The exercises users bring (shared/seeds), answered by hand and checked against cnncalc."""

from __future__ import annotations

import cnncalc


def params_of(text: str, shape: tuple[int, ...]) -> list[int]:
    report = cnncalc.analyze(cnncalc.load(text, input_shape=shape))
    return [row.counts.params for row in report.layers]


def test_fully_connected_3_layers():
    # input p = 3, hidden 4 and 4, one output, biases everywhere:
    # (3·4 + 4) + (4·4 + 4) + (4·1 + 1) = 16 + 20 + 5 = 41
    assert sum(params_of("FC4,FC4,FC1", (3,))) == 41


def test_32x32x3_conv_net_with_and_without_bias():
    spec = """
layers:
  - conv: {filters: 20, kernel: 5, padding: same, bias: %s}
  - relu
  - maxpool: {kernel: 2}
  - conv: {filters: 10, kernel: 3, padding: same, bias: %s}
  - relu
  - maxpool: {kernel: 2}
  - flatten
  - dense: {units: 10, bias: %s}
"""
    without = [p for p in params_of(spec % (("false",) * 3), (32, 32, 3)) if p]
    with_bias = [p for p in params_of(spec % (("true",) * 3), (32, 32, 3)) if p]
    # (b) 5·5·3·20 = 1,500, +20 biases = 1,520; (c) 3·3·20·10 = 1,800, +10 = 1,810;
    # (d) 8·8·10·10 = 6,400, +10 = 6,410; (e) 1,520 + 1,810 + 6,410 = 9,740
    assert without == [1500, 1800, 6400]
    assert with_bias == [1520, 1810, 6410]
    assert sum(with_bias) == 9740


def test_4x4_input_2x2_kernel_valid():
    # (4 − 2)/1 + 1 = 3 per side
    net = cnncalc.load(
        "layers: [conv: {filters: 1, kernel: 2, bias: false}]", input_shape=(4, 4, 1)
    )
    assert net.shapes["conv1"] == (3, 3, 1)


def test_two_3x3_convs_versus_one_5x5():
    # Inception v2's argument: two stacked 3×3 see 5×5 with 2·9·C² weights instead of 25·C²
    two = cnncalc.analyze(cnncalc.load("Conv3-64-P1,Conv3-64-P1", input_shape=(28, 28, 64)))
    one = cnncalc.analyze(cnncalc.load("Conv5-64-P2", input_shape=(28, 28, 64)))
    assert two.layers[-1].rf is not None and one.layers[-1].rf is not None
    assert two.layers[-1].rf.size == one.layers[-1].rf.size == (5, 5)
    assert two.totals.params == 2 * (3 * 3 * 64 * 64 + 64)
    assert one.totals.params == 5 * 5 * 64 * 64 + 64
    # MACs per output pixel: 2·9·64·64 against 25·64·64, on 28·28 outputs
    assert two.macs == 28 * 28 * 64 * 2 * 9 * 64
    assert one.macs == 28 * 28 * 64 * 25 * 64
