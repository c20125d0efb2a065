"""Work shared between layers never blurs layers that differ.

A long network repeats a few layers on a few shapes, so the IR groups layers that compute
alike (one op object on equal input shapes) and the passes work out each group once; a
report's JSON shares one form per receptive field object. Each test here has two layers
that share as much as they may and differ in one thing, with hand-computed numbers.
"""

from __future__ import annotations

import dataclasses

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.passes.memory import MemoryOptions, inference_peak, live_timeline
from cnncalc.passes.receptive_field import receptive_fields
from cnncalc.passes.window_cache import window_memo


def test_one_op_on_different_inputs_counts_each_input():
    # a: 3 → 4 channels, 4·3·9 + 4 = 112 params, 8·8·4·27 = 6,912 MACs; b and c: 4 → 4,
    # 4·4·9 + 4 = 148 params, 8·8·4·36 = 9,216 MACs
    net = cnncalc.load(
        "input: [8, 8, 3]\nlayers:\n"
        "  - conv: {name: a, filters: 4, kernel: 3, padding: 1}\n"
        "  - conv: {name: b, filters: 4, kernel: 3, padding: 1}\n"
        "  - conv: {name: c, filters: 4, kernel: 3, padding: 1}\n"
    )
    assert net.node("a").op is net.node("b").op is net.node("c").op
    assert net.classes["a"] != net.classes["b"] == net.classes["c"]
    assert net.input_shapes(net.node("a")) == [(8, 8, 3)]
    assert net.input_shapes(net.node("b")) == [(8, 8, 4)]
    rows = {row.name: row for row in cnncalc.analyze(net).layers}
    assert [rows[n].counts.params for n in "abc"] == [112, 148, 148]
    assert [rows[n].multiplies.macs for n in "abc"] == [6_912, 9_216, 9_216]


def test_frozen_and_trainable_layers_sharing_an_op():
    # 4 → 4 channels, 1×1: 4·4 + 4 = 20 params each; only a's are trainable
    report = cnncalc.analyze(
        cnncalc.load(
            "input: [8, 8, 4]\nlayers:\n"
            "  - conv: {name: a, filters: 4, kernel: 1}\n"
            "  - conv: {name: b, filters: 4, kernel: 1, trainable: false}\n"
            "  - conv: {name: c, filters: 4, kernel: 1}\n"
        )
    )
    net = report.network
    assert net.node("a").op is net.node("b").op and net.classes["a"] == net.classes["b"]
    counts = {row.name: (row.counts.params, row.counts.trainable_params) for row in report.layers}
    assert counts == {"a": (20, 20), "b": (20, 0), "c": (20, 20)}
    assert report.totals.trainable_params == 40


def test_module_and_functional_layers_sharing_an_op():
    # ptflops counts a ReLU module 2 per output element, F.relu 1: 4·4·2 = 32 elements
    net = cnncalc.load(
        "input: [4, 4, 2]\nlayers:\n  - relu: {name: m}\n  - relu: {name: f, functional: true}\n"
    )
    assert net.node("m").op is net.node("f").op and net.classes["m"] == net.classes["f"]
    report = cnncalc.analyze(net, "ptflops")
    assert [row.multiplies.flops for row in report.layers] == [64, 32]


def test_ops_written_differently_are_never_one_class():
    # 0.0 == -0.0, but the spec keeps them apart (they print differently), and so do classes
    net = cnncalc.load(
        "input: [4, 4, 2]\nlayers:\n"
        "  - leaky_relu: {name: p, negative_slope: 0.0}\n"
        "  - leaky_relu: {name: n, negative_slope: -0.0}\n"
    )
    assert net.node("p").op == net.node("n").op
    assert net.classes["p"] != net.classes["n"]


def test_a_value_equal_to_an_earlier_one_but_of_another_type_is_checked_again():
    # true == 1 in Python, but `filters: true` is refused, even after `filters: 1`
    with pytest.raises(SpecError) as err:
        cnncalc.load(
            "input: [4, 4, 2]\nlayers:\n"
            "  - conv: {filters: 1, kernel: 1}\n"
            "  - conv: {filters: true, kernel: 1}\n"
        )
    assert err.value.pos is not None and (err.value.pos.line, err.value.pos.col) == (4, 21)
    assert "filters" in err.value.message


def test_entries_written_alike_share_one_op_however_they_are_written():
    # the same fields in another order, an alias, or an expression giving the same value
    net = cnncalc.load(
        "input: [8, 8, 4]\n"
        "blocks:\n  b: {args: {k: 1}, layers: [{conv: {filters: 4, kernel: $k}}]}\n"
        "layers:\n"
        "  - conv: {name: a, filters: 4, kernel: 1}\n"
        "  - conv: {name: c, kernel: 1, filters: 4}\n"
        "  - Conv2d: {name: d, out_channels: 4, kernel_size: 1}\n"
        "  - b: {name: e}\n"
    )
    ops = [node.op for node in net.nodes]
    assert all(op is ops[0] for op in ops), ops


def _expected_row(row: cnncalc.LayerReport, extent: tuple[int, ...]) -> dict[str, object]:
    """A row's JSON form built field by field, sharing nothing."""
    rf = row.rf
    return {
        "name": row.name,
        "kind": row.kind,
        "inputs": list(row.inputs),
        "output_shape": list(row.output_shape),
        "params": row.counts.params,
        "trainable_params": row.counts.trainable_params,
        "buffers": row.counts.buffers,
        "macs": row.multiplies.macs,
        "flops": row.multiplies.flops,
        "rf": None if rf is None else {**rf.to_dict(), "whole_input": rf.covers(extent)},
        "activation_elements": row.memory.activation_elements,
        "activation_bytes": row.memory.activation_bytes,
    }


FRACTIONS = """\
input: [9, 9, 2]
layers:
  - conv_transpose: {name: up, filters: 2, kernel: 3, stride: 2}
  - relu: {name: r}
  - conv: {name: down, filters: 2, kernel: 2, stride: 2}
  - add: {name: both, from: [down, input]}
  - global_avgpool: {name: g}
  - dense: {name: fc, units: 3}
"""


@pytest.mark.parametrize("spec", ["resnet18", "googlenet", "r3d_18", "m5", FRACTIONS])
def test_shared_json_forms_equal_forms_built_row_by_row(spec: str):
    report = cnncalc.analyze(cnncalc.load(spec))
    extent = report.network.input_shape[:-1]
    expected = [_expected_row(row, extent) for row in report.layers]
    assert report.to_dict()["layers"] == expected
    assert [row.to_dict(extent) for row in report.layers] == expected


def test_fractional_fields_in_json():
    # up (kernel 3, stride 2, transposed): size 1 + 1 = 2, jump 1/2, centre (−2/2 + 0)/2 = −1/2;
    # r keeps up's field object; down (kernel 2, stride 2): size 2 + 1·1/2 = 5/2, jump
    # Fraction(1) (an int in JSON), centre −1/2 + (1/2)·(1/2) = −1/4
    report = cnncalc.analyze(cnncalc.load(FRACTIONS))
    rows = {row["name"]: row for row in report.to_dict()["layers"]}
    up = {"size": [2, 2], "stride": [0.5, 0.5], "center": [-0.5, -0.5], "whole_input": False}
    assert rows["up"]["rf"] == rows["r"]["rf"] == up
    down = {"size": [2.5, 2.5], "stride": [1, 1], "center": [-0.25, -0.25], "whole_input": False}
    assert rows["down"]["rf"] == down
    assert type(rows["down"]["rf"]["stride"][0]) is int
    assert rows["g"]["rf"]["whole_input"] is True and rows["fc"]["rf"] is None


def test_inference_peak_on_a_tie_is_the_first_layer():
    # 4·4·1 floats = 64 B each: input 64; r1 runs with the input, 128; the input is freed, r2
    # runs with r1, 128 again; the first of the tie is r1
    net = cnncalc.load("input: [4, 4, 1]\nlayers:\n  - relu: {name: r1}\n  - relu: {name: r2}\n")
    sizes = {"input": 64, "r1": 64, "r2": 64}
    assert live_timeline(net, sizes) == [("input", 64), ("r1", 128), ("r2", 128)]
    assert inference_peak(net, sizes) == (128, "r1")
    report = cnncalc.analyze(net, memory=MemoryOptions())
    assert (report.memory.inference_peak_bytes, report.memory.inference_peak_layer) == (128, "r1")


def test_an_output_read_by_a_later_layer_stays_alive():
    # a (64 B) is an output and feeds b: it is never freed; b's 64 B are the last layer's
    net = cnncalc.load(
        "input: [4, 4, 1]\nlayers:\n  - relu: {name: a}\n  - relu: {name: b}\n"
        "  - relu: {name: c}\noutputs: [a, c]\n"
    )
    sizes = {"input": 64, "a": 64, "b": 64, "c": 64}
    assert live_timeline(net, sizes) == [("input", 64), ("a", 128), ("b", 128), ("c", 192)]


@pytest.mark.parametrize(
    ("padding", "beyond"),
    [(1, False), (2, True)],  # centre −2^62, then −2^63: one past −(2^63 − 1)
)
def test_a_field_centre_far_below_zero(padding: int, beyond: bool):
    net = cnncalc.load(
        "input: [1, 1, 1]\nlayers:\n"
        "  - conv: {filters: 1, kernel: 1, stride: 4611686018427387904}\n"
        f"  - conv: {{filters: 1, kernel: 1, padding: {padding}}}\n"
    )
    if beyond:
        with pytest.raises(SpecError, match="conv2"):
            receptive_fields(net)
    else:
        assert receptive_fields(net)["conv2"].center == (-(2**62), -(2**62))


@pytest.mark.parametrize(("stride", "beyond"), [(1, False), (2, True)])
def test_a_fractional_field_stride_past_64_bits(stride: int, beyond: bool):
    # jumps 1/2^62, then 1/2^62 (stride 1) or 1/2^63 (a denominator past 2^63 − 1)
    net = cnncalc.load(
        "input: [1, 1, 1]\nlayers:\n"
        "  - conv_transpose: {filters: 1, kernel: 1, stride: 4611686018427387904}\n"
        f"  - conv_transpose: {{filters: 1, kernel: 1, stride: {stride}}}\n"
    )
    if beyond:
        with pytest.raises(SpecError, match="conv_transpose2"):
            receptive_fields(net)
    else:
        assert receptive_fields(net)["conv_transpose2"].stride[0].denominator == 2**62


def test_the_window_memo_answers_each_op_on_each_input():
    # "same" padding, kernel 3, stride 2: 10 → 5 pads 1 in all (0 before), 5 → 3 pads 2 (1)
    net = cnncalc.load(
        "input: [10, 10, 3]\nlayers:\n"
        "  - conv: {name: a, filters: 3, kernel: 3, stride: 2, padding: same}\n"
        "  - conv: {name: b, filters: 3, kernel: 3, stride: 2, padding: same}\n"
    )
    a, b = net.node("a"), net.node("b")
    assert a.op is b.op
    window_of = window_memo()
    first = window_of(a.op, net.input_shapes(a))
    second = window_of(b.op, net.input_shapes(b))
    assert first is not None and second is not None
    assert (first.pad_before, second.pad_before) == ((0, 0), (1, 1))
    assert window_of(a.op, [(10, 10, 3)]) is first
    assert window_of(dataclasses.replace(a.op), [(5, 5, 3)]) == second
