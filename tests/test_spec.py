"""Valid specs: blocks, repeat, when, from, trainable, layout, the shorthand, and the shape rules.

Every expected number is computed by hand in the comment next to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc
from cnncalc.graph import Network
from cnncalc.layers.base import window_output
from cnncalc.passes.params import ParamCount, count_params
from cnncalc.spec import from_yaml


def load(tmp_path: Path, text: str | bytes, input_shape: tuple[int, ...] | None = None) -> Network:
    path = tmp_path / "spec.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return cnncalc.load(str(path), input_shape)


def names(net: Network) -> list[str]:
    return [node.name for node in net]


def shape(net: Network, name: str) -> tuple[int, ...]:
    return tuple(net.shapes[name])


def totals(net: Network) -> ParamCount:
    return sum(count_params(net).values(), ParamCount(0, 0, 0))


def one_layer(tmp_path: Path, layer: str, input_shape: str = "[8, 8, 3]") -> tuple[int, ...]:
    """The output shape of a network of the one layer `layer` (a flow mapping)."""
    net = load(tmp_path, f"input: {input_shape}\nlayers:\n  - {layer}\n")
    return shape(net, net.output.name)


# --- blocks -------------------------------------------------------------------------------------

CBR = """\
input: [8, 8, 3]
blocks:
  cbr:
    args: {filters: 16, stride: 1}
    layers:
      - conv: {name: conv, filters: $filters, kernel: 3, stride: $stride, padding: 1, bias: false}
      - batchnorm: {name: bn}
      - relu: {name: act}
layers:
  - cbr: {name: stem, filters: 8}
  - cbr: {stride: 2}
"""


def test_block_calls(tmp_path):
    net = load(tmp_path, CBR)
    # the unnamed call is the first unnamed call of cbr: cbr1
    assert names(net) == [
        "stem.conv", "stem.bn", "stem.act", "cbr1.conv", "cbr1.bn", "cbr1.act",
    ]  # fmt: skip
    assert net.node("stem.conv").inputs == ("input",)
    assert net.node("cbr1.conv").inputs == ("stem.act",)
    assert shape(net, "stem.conv") == (8, 8, 8)  # 3×3, padding 1, stride 1: 8×8 kept
    assert shape(net, "cbr1.conv") == (4, 4, 16)  # ⌊(8 + 2 − 3)/2⌋ + 1 = 4; default 16 filters
    # stem.conv 3·3·3·8 = 216, stem.bn 2·8 = 16, cbr1.conv 3·3·8·16 = 1,152, cbr1.bn 2·16 = 32
    assert totals(net) == ParamCount(216 + 16 + 1152 + 32, 1416, 2 * 8 + 2 * 16)


RES = """\
input: [16, 16, 4]
blocks:
  res:
    args: {width: 4, stride: 1, down: false}
    layers:
      - conv: {name: conv1, filters: $width, kernel: 3, stride: $stride, padding: 1}
      - relu
      - conv: {name: conv2, filters: $width, kernel: 3, padding: 1}
      - conv:
          {name: downsample, from: input, filters: $width, kernel: 1, stride: $stride, when: $down}
      - add: {from: [conv2, downsample]}
layers:
  - repeat:
      block: res
      times: 3
      name: layer2
      args: {width: 8, stride: $(2 if i == 0 else 1), down: $(i == 0)}
  - relu: {name: after0, from: layer2.0}
  - relu: {name: after, from: layer2}
"""


def test_repeat_names_instances_and_layers(tmp_path):
    net = load(tmp_path, RES)
    assert names(net) == [
        "layer2.0.conv1", "layer2.0.relu1", "layer2.0.conv2", "layer2.0.downsample",
        "layer2.0.add1",
        "layer2.1.conv1", "layer2.1.relu1", "layer2.1.conv2", "layer2.1.add1",
        "layer2.2.conv1", "layer2.2.relu1", "layer2.2.conv2", "layer2.2.add1",
        "after0", "after",
    ]  # fmt: skip
    # i == 0: stride 2 and a projection; ⌊(16 + 2 − 3)/2⌋ + 1 = 8 and ⌊(16 − 1)/2⌋ + 1 = 8
    assert shape(net, "layer2.0.conv1") == (8, 8, 8)
    assert shape(net, "layer2.0.downsample") == (8, 8, 8)
    assert net.node("layer2.0.downsample").inputs == ("input",)
    assert net.node("layer2.0.add1").inputs == ("layer2.0.conv2", "layer2.0.downsample")
    # i > 0: `when: false` skips the projection, so `downsample` means the block's input
    assert net.node("layer2.1.add1").inputs == ("layer2.1.conv2", "layer2.0.add1")
    assert net.node("layer2.1.conv1").inputs == ("layer2.0.add1",)
    # an instance name means its output; the repeat's name means the last instance's output
    assert net.node("after0").inputs == ("layer2.0.add1",)
    assert net.node("after").inputs == ("layer2.2.add1",)
    # block 0: conv1 3·3·4·8 + 8 = 296, conv2 3·3·8·8 + 8 = 584, downsample 4·8 + 8 = 40;
    # blocks 1 and 2: 584 + 584 each: 920 + 2·1,168 = 3,256
    assert totals(net).params == 3256


def test_repeat_in_a_block_and_default_repeat_names(tmp_path):
    text = """\
input: [8, 8, 2]
blocks:
  unit:
    layers:
      - conv: {filters: 2, kernel: 1}
  stage:
    layers:
      - repeat: {block: unit, times: 2}
layers:
  - stage
  - repeat: {block: unit, times: 2}
  - unit
"""
    # a repeat counts once among the calls of its block: unit1.0, unit1.1, then unit2, unit3
    assert names(load(tmp_path, text)) == [
        "stage1.unit1.0.conv1", "stage1.unit1.1.conv1",
        "unit1.0.conv1", "unit1.1.conv1", "unit2.conv1",
    ]  # fmt: skip


def test_repeat_when_false_is_skipped_and_aliased(tmp_path):
    text = """\
input: [8, 8, 3]
blocks:
  b:
    layers:
      - conv: {filters: 3, kernel: 1}
layers:
  - relu
  - repeat: {block: b, times: 2, name: extra, when: false}
  - relu: {name: out, from: extra}
"""
    net = load(tmp_path, text)
    assert names(net) == ["relu1", "out"]
    assert net.node("out").inputs == ("relu1",)


def test_recursive_block_ends_under_when(tmp_path):
    text = """\
input: [8, 8, 3]
blocks:
  chain:
    args: {n: 1}
    layers:
      - relu
      - chain: {n: $(n - 1), when: $(n > 1)}
layers:
  - chain: {n: 3}
"""
    assert names(load(tmp_path, text)) == [
        "chain1.relu1", "chain1.chain1.relu1", "chain1.chain1.chain1.relu1",
    ]  # fmt: skip


def test_block_arguments_and_expressions(tmp_path):
    text = """\
input: [8, 8, 3]
blocks:
  b:
    args: {w: null, tag: x}
    layers:
      - conv: {name: "conv_$tag", filters: "$(max(w // 2, 1) * 4)", kernel: "$(min(w, 3))"}
layers:
  - b: {w: 5, tag: wide}
  - repeat: {block: b, times: 2, name: r, args: {w: $(i + 1), tag: "n$(i * 10)"}}
"""
    net = load(tmp_path, text)
    assert names(net) == ["b1.conv_wide", "r.0.conv_n0", "r.1.conv_n10"]
    # w = 5: filters max(2, 1)·4 = 8, kernel min(5, 3) = 3: 8 − 3 + 1 = 6
    assert shape(net, "b1.conv_wide") == (6, 6, 8)
    # i = 0, w = 1: filters max(0, 1)·4 = 4, kernel 1: 6×6
    assert shape(net, "r.0.conv_n0") == (6, 6, 4)
    # i = 1, w = 2: filters max(1, 1)·4 = 4, kernel 2: 6 − 2 + 1 = 5
    assert shape(net, "r.1.conv_n10") == (5, 5, 4)


# --- when and from ---------------------------------------------------------------------------


def test_when_false_skips_and_aliases_to_its_input(tmp_path):
    text = """\
input: [8, 8, 3]
layers:
  - conv: {name: a, filters: 4, kernel: 1}
  - batchnorm: {name: bn, when: false}
  - relu
  - relu: {name: r, from: bn}
  - relu: {name: t, when: true}
"""
    net = load(tmp_path, text)
    assert names(net) == ["a", "relu1", "r", "t"]
    assert net.node("relu1").inputs == ("a",)  # the default `from` skips bn too
    assert net.node("r").inputs == ("a",)


def test_from_inside_blocks(tmp_path):
    text = """\
input: [8, 8, 3]
blocks:
  inner:
    layers:
      - conv: {name: c, filters: 4, kernel: 1}
  outer:
    layers:
      - inner: {name: first}
      - inner: {name: second, from: input}
      - concat: {from: [first, second]}
  two:
    output: a
    layers:
      - conv: {name: a, filters: 2, kernel: 1}
      - conv: {name: b, filters: 5, kernel: 1}
layers:
  - conv: {name: stem, filters: 3, kernel: 1}
  - outer: {name: o}
  - two: {name: t}
  - relu: {name: after_two}
  - relu: {name: deep, from: o.first.c}
  - add: {from: [input, stem]}
"""
    net = load(tmp_path, text)
    assert net.node("o.first.c").inputs == ("stem",)
    assert net.node("o.second.c").inputs == ("stem",)  # `input` of the block: its input
    assert net.node("o.concat1").inputs == ("o.first.c", "o.second.c")  # instance names
    assert shape(net, "o.concat1") == (8, 8, 8)  # 4 + 4 channels
    assert net.node("t.b").inputs == ("t.a",)
    assert net.node("after_two").inputs == ("t.a",)  # `output: a` is the block's output
    assert shape(net, "after_two") == (8, 8, 2)
    assert net.node("deep").inputs == ("o.first.c",)  # a layer inside an instance
    assert net.node("add1").inputs == ("input", "stem")


# --- trainable ---------------------------------------------------------------------------------

TRAINABLE = """\
input: [4, 4, 2]
blocks:
  b:
    layers:
      - conv: {name: c, filters: 3, kernel: 1}
      - batchnorm: {name: bn, trainable: true}
layers:
  - conv: {name: frozen, filters: 2, kernel: 1, trainable: false}
  - b: {name: fb, trainable: false}
  - b: {name: tb}
  - repeat: {block: b, times: 1, name: rb, trainable: false}
"""


def test_trainable_false_on_a_layer_a_call_and_a_repeat(tmp_path):
    net = load(tmp_path, TRAINABLE)
    counts = count_params(net)
    assert counts["frozen"] == ParamCount(6, 0, 0)  # 1·1·2·2 + 2
    assert counts["fb.c"] == ParamCount(9, 0, 0)  # 1·1·2·3 + 3
    assert counts["fb.bn"] == ParamCount(6, 0, 6)  # `trainable: true` cannot thaw a frozen call
    assert counts["tb.c"] == ParamCount(12, 12, 0)  # 1·1·3·3 + 3
    assert counts["tb.bn"] == ParamCount(6, 6, 6)
    assert counts["rb.0.c"] == ParamCount(12, 0, 0)
    # params 6 + 9 + 6 + 12 + 6 + 12 + 6 = 57; trainable 12 + 6 = 18; buffers 3·6 = 18
    assert totals(net) == ParamCount(57, 18, 18)
    assert cnncalc.analyze(net).totals == ParamCount(57, 18, 18)


# --- input, layout, override -------------------------------------------------------------------


def test_layout_chw(tmp_path):
    net = load(tmp_path, "input: [3, 32, 16]\nlayout: chw\nlayers: [relu]\n")
    assert net.input_shape == (32, 16, 3)
    assert load(tmp_path, "input: [3, 32, 16]\nlayout: hwc\nlayers: [relu]\n").input_shape == (
        3,
        32,
        16,
    )


def test_input_shape_override(tmp_path):
    text = "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3}\n"
    net = load(tmp_path, text, input_shape=(64, 32, 1))
    assert net.input_shape == (64, 32, 1)
    assert shape(net, "conv1") == (62, 30, 4)
    # no `input:` at all is fine when the caller gives one
    net = load(tmp_path, "layers:\n  - dense: {units: 3}\n", input_shape=(10,))
    assert shape(net, "dense1") == (3,)


def test_flat_input(tmp_path):
    net = load(tmp_path, "input: [20]\nlayers:\n  - dense: {units: 5}\n  - dropout\n")
    assert shape(net, "dropout1") == (5,)
    assert totals(net).params == 105  # 20·5 + 5


def test_network_name(tmp_path):
    assert load(tmp_path, "input: [4]\nlayers: [relu]\n").name == "spec"  # the file's stem
    assert load(tmp_path, "name: tiny\ninput: [4]\nlayers: [relu]\n").name == "tiny"


def test_bom_and_crlf_load_fine(tmp_path):
    text = b"\xef\xbb\xbfinput: [8, 8, 3]\r\nlayers:\r\n  - conv: {filters: 2, kernel: 3}\r\n"
    assert shape(load(tmp_path, text), "conv1") == (6, 6, 2)


def test_bom_and_crlf_keep_error_positions(tmp_path):
    text = b"\xef\xbb\xbfinput: [8, 8, 3]\r\nlayers:\r\n  - maxpol: {kernel: 2}\r\n"
    with pytest.raises(cnncalc.SpecError) as info:
        load(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'spec.yaml'}:3:5: error: unknown layer kind")


def test_yaml_text_and_anchors(tmp_path):
    net = cnncalc.load("input: &s [8, 8, 3]\nexpect: {shape: *s}\nlayers:\n  - relu\n")
    assert net.input_shape == (8, 8, 3)


# --- the shorthand -------------------------------------------------------------------------------


def test_shorthand_course_example():
    net = cnncalc.load("Conv4-5-Pvalid-S2,Pool3,FC5", input_shape=(64, 64, 1))
    assert [n.kind for n in net] == ["conv", "maxpool", "dense"]
    assert names(net) == ["conv1", "maxpool1", "dense1"]
    assert shape(net, "conv1") == (31, 31, 5)  # ⌊(64 − 4)/2⌋ + 1 = 31
    assert shape(net, "maxpool1") == (10, 10, 5)  # stride = kernel 3: ⌊(31 − 3)/3⌋ + 1 = 10
    # conv 4·4·1·5 + 5 = 85; FC 10·10·5·5 + 5 = 2,505
    assert totals(net).params == 2590


@pytest.mark.parametrize(
    ("item", "kind", "out", "params"),
    [
        # same on 64: 64×64; kernel 3×5: 3·5·1·8 + 8 = 128
        ("conv3x5-8-Psame", "conv", (64, 64, 8), 128),
        ("CONV3-4-PSAME-S2", "conv", (32, 32, 4), 40),  # ⌈64/2⌉ = 32; 3·3·4 + 4 = 40
        ("Conv3-4-P1", "conv", (64, 64, 4), 40),  # 64 + 2 − 3 + 1 = 64
        ("Conv5-2", "conv", (60, 60, 2), 52),  # 64 − 5 + 1 = 60; 5·5·2 + 2 = 52
        ("Pool3-S2", "maxpool", (31, 31, 1), 0),  # ⌊(64 − 3)/2⌋ + 1 = 31
        ("pool2", "maxpool", (32, 32, 1), 0),
        ("MaxPool2", "maxpool", (32, 32, 1), 0),
        ("AvgPool2", "avgpool", (32, 32, 1), 0),
        ("avgpool4-S4", "avgpool", (16, 16, 1), 0),
        ("FC10", "dense", (10,), 40970),  # 64·64·10 + 10
        ("fc3", "dense", (3,), 12291),  # 4,096·3 + 3
    ],
)
def test_shorthand_forms(item, kind, out, params):
    net = cnncalc.load(f"{item},relu", input_shape=(64, 64, 1))
    node = net.nodes[0]
    assert node.kind == kind
    assert shape(net, node.name) == out
    assert totals(net).params == params


def test_shorthand_single_item_and_spaces():
    assert len(cnncalc.load("FC10", input_shape=(4,))) == 1
    net = cnncalc.load(" Conv3-4 , relu ,Pool2 ", input_shape=(8, 8, 1))
    assert names(net) == ["conv1", "relu1", "maxpool1"]
    assert shape(net, "maxpool1") == (3, 3, 4)  # 8 − 3 + 1 = 6, pooled by 2: 3


def test_shorthand_in_a_yaml_list(tmp_path):
    net = load(tmp_path, "input: [8, 8, 1]\nlayers:\n  - Conv3-8-Psame\n  - Pool2\n  - FC2\n")
    assert [shape(net, n) for n in names(net)] == [(8, 8, 8), (4, 4, 8), (2,)]


# --- default names ------------------------------------------------------------------------------


def test_default_names_count_per_kind(tmp_path):
    text = """\
input: [8, 8, 3]
blocks:
  b:
    layers:
      - conv: {filters: 4, kernel: 1}
      - relu
layers:
  - conv: {filters: 4, kernel: 1}
  - relu
  - conv: {name: mid, filters: 4, kernel: 1}
  - conv: {filters: 4, kernel: 1}
  - relu
  - relu: {when: false}
  - relu
  - b
"""
    # <kind><n>: the n-th unnamed layer of that kind in its list, skipped ones included;
    # each block instance counts afresh
    assert names(load(tmp_path, text)) == [
        "conv1", "relu1", "mid", "conv2", "relu2", "relu4", "b1.conv1", "b1.relu1",
    ]  # fmt: skip


# --- padding, stride, dilation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "out"),
    [
        ("conv: {filters: 2, kernel: 3}", (6, 6, 2)),  # valid by default: 8 − 3 + 1
        ("conv: {filters: 2, kernel: 3, padding: valid}", (6, 6, 2)),
        ("conv: {filters: 2, kernel: 3, padding: 1}", (8, 8, 2)),
        ("conv: {filters: 2, kernel: 4, padding: same}", (8, 8, 2)),  # same, stride 1: 8
        ("conv: {filters: 2, kernel: 3, stride: 3, padding: SAME}", (3, 3, 2)),  # ⌈8/3⌉ = 3
        # [h, w]: rows 8 + 2 − 3 + 1 = 8, columns 8 + 4 − 3 + 1 = 10
        ("conv: {filters: 2, kernel: 3, padding: [1, 2]}", (8, 10, 2)),
        # [t, b, l, r]: rows 8 + 0 + 1 − 3 + 1 = 7, columns 8 + 2 + 3 − 3 + 1 = 11
        ("conv: {filters: 2, kernel: 3, padding: [0, 1, 2, 3]}", (7, 11, 2)),
        # kernel [3, 5], stride [1, 2]: rows 8 − 3 + 1 = 6, columns ⌊(8 − 5)/2⌋ + 1 = 2
        ("conv: {filters: 2, kernel: [3, 5], stride: [1, 2]}", (6, 2, 2)),
        # dilation 2 spans 2·(3 − 1) + 1 = 5: 8 − 5 + 1 = 4
        ("conv: {filters: 2, kernel: 3, dilation: 2}", (4, 4, 2)),
        # dilation [1, 3]: spans 3 and 7: 6 × 2
        ("conv: {filters: 2, kernel: 3, dilation: [1, 3]}", (6, 2, 2)),
        # depthwise: groups = channels
        ("conv: {filters: 6, kernel: 3, groups: 3}", (6, 6, 6)),
    ],
)
def test_conv_shapes(tmp_path, layer, out):
    assert one_layer(tmp_path, layer) == out


def test_same_padding_puts_the_extra_row_after():
    # input 7, kernel 4, stride 2: output ⌈7/2⌉ = 4 needs (4 − 1)·2 + 4 − 7 = 3 rows of
    # padding: 1 before, 2 after (TensorFlow)
    (out, pads) = window_output((7, 7), (4, 4), (2, 2), (1, 1), "same")
    assert tuple(map(int, out)) == (4, 4)
    assert pads == (1, 2, 1, 2)


def test_conv_params_with_groups_and_dilation(tmp_path):
    net = load(
        tmp_path,
        "input: [8, 8, 4]\nlayers:\n"
        "  - conv: {filters: 6, kernel: 3, groups: 2, dilation: 2, bias: false}\n",
    )
    assert totals(net).params == 108  # 3·3·(4/2)·6; dilation adds no weights


# --- conv_transpose: PyTorch's (in − 1)·s − pad_t − pad_b + d·(k − 1) + output_padding + 1 ----


@pytest.mark.parametrize(
    ("layer", "input_shape", "out"),
    [
        # (4 − 1)·2 − 2 + 2 + 1 + 1 = 8
        ("{filters: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1}", "[4, 4, 8]", 8),
        ("{filters: 4, kernel: 4, stride: 2, padding: 1}", "[7, 7, 8]", 14),  # 12 − 2 + 3 + 1
        ("{filters: 4, kernel: 3}", "[5, 5, 8]", 7),  # 4 + 2 + 1
        ("{filters: 4, kernel: 3, stride: 3, dilation: 2}", "[3, 3, 8]", 11),  # 6 + 4 + 1
        # dilation 2 allows output_padding 1 with stride 1: 4 + 4 + 1 + 1 = 10
        ("{filters: 4, kernel: 3, dilation: 2, output_padding: 1}", "[5, 5, 8]", 10),
        ("{filters: 4, kernel: 4, stride: 2, padding: same}", "[4, 4, 8]", 8),  # in·stride
        ("{filters: 4, kernel: 3, stride: 2, padding: same}", "[5, 5, 8]", 10),
    ],
)
def test_conv_transpose_matches_pytorch(tmp_path, layer, input_shape, out):
    assert one_layer(tmp_path, f"conv_transpose: {layer}", input_shape) == (out, out, 4)


def test_conv_transpose_asymmetric(tmp_path):
    # kernel [3, 5], stride [2, 1], padding [1, 2]:
    # rows (4 − 1)·2 − 2 + 2 + 1 = 7, columns (4 − 1)·1 − 4 + 4 + 1 = 4
    layer = "conv_transpose: {filters: 2, kernel: [3, 5], stride: [2, 1], padding: [1, 2]}"
    assert one_layer(tmp_path, layer, "[4, 4, 8]") == (7, 4, 2)


def test_conv_transpose_params(tmp_path):
    text = (
        "input: [4, 4, 8]\nlayers:\n"
        "  - conv_transpose: {name: a, filters: 4, kernel: 3}\n"
        "  - conv_transpose: {name: b, from: input, filters: 4, kernel: 3, groups: 2}\n"
    )
    counts = count_params(load(tmp_path, text))
    assert counts["a"].params == 292  # C_in·C_out·k² + bias = 8·4·9 + 4
    assert counts["b"].params == 148  # 8·(4/2)·9 + 4


# --- pooling -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "size", "out"),
    [
        ("maxpool: {kernel: 2}", 7, 3),  # stride = kernel: ⌊(7 − 2)/2⌋ + 1 = 3
        ("maxpool: {kernel: 3, stride: 2}", 8, 3),  # ⌊5/2⌋ + 1 = 3
        ("maxpool: {kernel: 3, stride: 2, ceil_mode: true}", 8, 4),  # ⌈5/2⌉ + 1 = 4
        ("maxpool: {kernel: 3, stride: 2, ceil_mode: true}", 112, 56),  # ⌈109/2⌉ + 1
        ("maxpool: {kernel: 3, stride: 2}", 112, 55),  # ⌊109/2⌋ + 1
        # ceil_mode, but the 4th window would start in the padding: ⌈(5 + 2 − 2)/2⌉ + 1 = 4,
        # (4 − 1)·2 = 6 ≥ 5 + 1, so 3 (PyTorch drops it)
        ("maxpool: {kernel: 2, padding: 1, ceil_mode: true}", 5, 3),
        ("maxpool: {kernel: 3, stride: 2, padding: 1}", 112, 56),  # ⌊(112 + 2 − 3)/2⌋ + 1
        ("maxpool: {kernel: 2, dilation: 2}", 8, 3),  # spans 3, stride 2: ⌊5/2⌋ + 1 = 3
        ("avgpool: {kernel: 3, stride: 2, padding: 1}", 7, 4),  # ⌊(7 + 2 − 3)/2⌋ + 1 = 4
        ("avgpool: {kernel: 3, stride: 2, padding: same}", 7, 4),  # ⌈7/2⌉
        ("avgpool: {kernel: 2, padding: [1, 0]}", 7, 4),  # rows ⌊(7 + 2 − 2)/2⌋ + 1 = 4
    ],
)
def test_pool_output_sizes(tmp_path, layer, size, out):
    got = one_layer(tmp_path, layer, f"[{size}, {size}, 5]")
    assert got[0] == out and got[2] == 5


def test_pool_padding_up_to_half_the_kernel_is_allowed(tmp_path):
    assert one_layer(tmp_path, "maxpool: {kernel: 3, stride: 1, padding: 1}") == (8, 8, 3)
    assert one_layer(tmp_path, "avgpool: {kernel: 2, stride: 1, padding: 1}") == (9, 9, 3)


@pytest.mark.parametrize(
    ("layer", "out"),
    [
        ("adaptive_avgpool: {output: 7}", (7, 7, 4)),
        ("adaptive_avgpool: {output: [2, 3]}", (2, 3, 4)),
        ("adaptive_maxpool: {output: 1}", (1, 1, 4)),
        ("global_avgpool", (1, 1, 4)),
        ("global_maxpool", (1, 1, 4)),
    ],
)
def test_adaptive_and_global_pools(tmp_path, layer, out):
    assert one_layer(tmp_path, layer, "[13, 13, 4]") == out


# --- merges ------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["[input, gate]", "[gate, input]"])
def test_multiply_broadcasts_1x1xc(tmp_path, order):
    text = f"""\
input: [8, 8, 16]
layers:
  - global_avgpool: {{name: squeeze}}
  - conv: {{name: fc1, filters: 4, kernel: 1}}
  - relu
  - conv: {{name: fc2, filters: 16, kernel: 1}}
  - sigmoid: {{name: gate}}
  - multiply: {{name: scale, from: {order}}}
"""
    net = load(tmp_path, text)
    assert shape(net, "gate") == (1, 1, 16)
    assert shape(net, "scale") == (8, 8, 16)
    assert totals(net).params == 148  # fc1 16·4 + 4 = 68, fc2 4·16 + 16 = 80


def test_concat_channels_and_flat_vectors(tmp_path):
    text = """\
input: [8, 8, 3]
layers:
  - conv: {name: a, filters: 4, kernel: 1}
  - concat: {name: channels, from: [input, a]}
  - dense: {name: d1, units: 3}
  - dense: {name: d2, from: channels, units: 5}
  - concat: {name: flat, from: [d1, d2]}
  - add: {name: sum, from: [a, a, a]}
"""
    net = load(tmp_path, text)
    assert shape(net, "channels") == (8, 8, 7)  # 3 + 4 channels
    assert shape(net, "flat") == (8,)  # 3 + 5 end to end
    assert shape(net, "sum") == (8, 8, 4)


def test_block_defaults_may_use_earlier_arguments():
    text = """
input: [8, 8, 16]
blocks:
  b:
    args: {width: 4, out: $(width * 4)}
    layers:
      - conv: {name: c, filters: $out, kernel: 1}
layers:
  - b: {width: 2}
  - b
  - b: {out: 5}
"""
    net = cnncalc.load(text)
    # out = width·4 unless given: 2·4 = 8, 4·4 = 16, then 5
    assert [net.shapes[f"b{i}.c"][2] for i in (1, 2, 3)] == [8, 16, 5]


def test_layers_written_alike_share_an_op_but_differently_written_values_do_not() -> None:
    net = from_yaml(
        "input: [4, 4, 2]\nlayers:\n"
        "  - leaky_relu: {negative_slope: 0.0}\n"
        "  - leaky_relu: {negative_slope: -0.0}\n"
        "  - leaky_relu: {negative_slope: -0.0}\n"
        "  - scale: {factor: 2}\n"
        "  - scale: {factor: 2.0}\n",
        "net.yaml",
        "net",
    )
    first, second, third, two, two_float = (node.op for node in net.nodes)
    assert second is third  # one object for layers written alike
    assert repr(first) != repr(second)  # 0.0 == -0.0, yet each layer keeps its own sign
    assert repr(two) != repr(two_float) or two is two_float
