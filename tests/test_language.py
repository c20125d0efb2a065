"""Speaking the user's language: framework names for kinds and fields, Keras' `activation:`,
shorthand without bias, `--input` conventions, automatic names, warnings when flooring drops
input rows, and `--layers` subtotals."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.layers import KINDS
from cnncalc.layers.base import kind_named, own_aliases
from cnncalc.passes.flooring import unseen_pixels
from cnncalc.zoo import zoo_names
from tests.conftest import ROOT
from tests.test_schema import parser_accepts, schema_errors

runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args), input=input)


def spec_error(text: str) -> cnncalc.SpecError:
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.load(text)
    return info.value


def names(net: cnncalc.Network) -> list[str]:
    return [node.name for node in net]


def kinds(net: cnncalc.Network) -> list[str]:
    return [node.kind for node in net]


# --- framework names for kinds -------------------------------------------------------------------

ALIASES = [
    ("Conv2d", "conv"),
    ("Conv2D", "conv"),
    ("conv2d", "conv"),
    ("Convolution2D", "conv"),
    ("ConvTranspose2d", "conv_transpose"),
    ("Conv2DTranspose", "conv_transpose"),
    ("Linear", "dense"),
    ("Dense", "dense"),
    ("fc", "dense"),
    ("MaxPool2d", "maxpool"),
    ("MaxPooling2D", "maxpool"),
    ("MaxPool", "maxpool"),
    ("AvgPool2d", "avgpool"),
    ("AveragePooling2D", "avgpool"),
    ("AdaptiveAvgPool2d", "adaptive_avgpool"),
    ("GlobalAveragePooling2D", "global_avgpool"),
    ("BatchNorm2d", "batchnorm"),
    ("BatchNormalization", "batchnorm"),
    ("ReLU", "relu"),
    ("RELU", "relu"),
    ("LeakyReLU", "leaky_relu"),
    ("ReLU6", "relu6"),
    ("Sigmoid", "sigmoid"),
    ("Tanh", "tanh"),
    ("SiLU", "silu"),
    ("Swish", "silu"),
    ("Hardswish", "hardswish"),
    ("GELU", "gelu"),
    ("ELU", "elu"),
    ("PReLU", "prelu"),
    ("Softmax", "softmax"),
    ("Dropout", "dropout"),
    ("Flatten", "flatten"),
    ("Add", "add"),
    ("Concatenate", "concat"),
    ("cat", "concat"),
    ("Multiply", "multiply"),
    ("mul", "multiply"),
    ("LocalResponseNorm", "lrn"),
]


@pytest.mark.parametrize(("alias", "kind"), ALIASES)
def test_framework_names_name_kinds_in_any_case(alias: str, kind: str):
    assert kind_named(alias) == kind
    assert kind_named(alias.upper()) == kind
    assert kind_named(kind.upper()) == kind


def test_every_declared_alias_is_unique_and_resolves_to_its_kind():
    for kind, cls in KINDS.items():
        for alias in own_aliases(cls):
            assert kind_named(alias) == kind


FRAMEWORK_SPEC = """\
input: [32, 32, 3]
layers:
  - Conv2d: {out_channels: 8, kernel_size: 3, padding: 1, use_bias: false}
  - BatchNorm2d: {epsilon: 0.001}
  - ReLU
  - MaxPooling2D: {pool_size: 2, strides: 2}
  - Conv2D: {filters: 4, kernel_size: [3, 3], strides: 2, dilation_rate: 1}
  - GlobalAveragePooling2D
  - Flatten
  - Dropout: {p: 0.2}
  - Linear: {out_features: 10}
  - Softmax
"""


def test_a_spec_in_framework_names_builds_the_canonical_network():
    net = cnncalc.load(FRAMEWORK_SPEC)
    assert kinds(net) == [
        "conv", "batchnorm", "relu", "maxpool", "conv", "global_avgpool", "flatten", "dropout",
        "dense", "softmax",
    ]  # fmt: skip
    # automatic names use the canonical kind and count across its spellings
    assert names(net)[:5] == ["conv1", "batchnorm1", "relu1", "maxpool1", "conv2"]
    report = cnncalc.analyze(net)
    # conv1 3·3·3·8 (no bias) = 216; bn 2·8 = 16; conv2 3·3·8·4 + 4 = 292; dense 4·10 + 10 = 50
    assert [row.counts.params for row in report.layers if row.counts.params] == [216, 16, 292, 50]
    # 32 → pool 16 → ⌊(16 − 3)/2⌋ + 1 = 7
    assert net.shapes["conv2"] == (7, 7, 4)
    assert net.node("batchnorm1").op.eps == 0.001  # type: ignore[attr-defined]
    assert net.node("dropout1").op.rate == 0.2  # type: ignore[attr-defined]


def test_the_schema_accepts_framework_names():
    assert parser_accepts(FRAMEWORK_SPEC)
    assert schema_errors(FRAMEWORK_SPEC) == []


def test_json_output_uses_canonical_kinds():
    result = run("params", "-", "--format", "json", input=FRAMEWORK_SPEC)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][0]["kind"] == "conv"


def test_a_field_set_under_two_names_is_an_error():
    text = "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, out_channels: 4, kernel: 1}\n"
    err = spec_error(text)
    assert err.pos is not None and (err.pos.line, err.pos.col) == (3, 24)
    assert "`filters`" in err.message and "`out_channels`" in err.message
    assert schema_errors(text) != []


def test_a_required_field_under_its_alias_satisfies_the_schema():
    text = "input: [8, 8, 3]\nlayers:\n  - Linear: {out_features: 4}\n"
    assert parser_accepts(text) and schema_errors(text) == []
    assert schema_errors("input: [8, 8, 3]\nlayers:\n  - Linear: {bias: false}\n") != []


def test_conv2d_without_fields_is_explained_not_called_malformed_shorthand():
    err = spec_error("input: [8, 8, 3]\nlayers:\n  - conv2d: {kernel: 3}\n")
    assert "needs `filters`" in err.message


def test_a_bare_kind_name_that_needs_fields_reads_as_unfinished_shorthand():
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.load("FC,Conv2d", input_shape=(4, 4, 1))
    assert "'FC'" in info.value.message
    assert info.value.hint is not None and "FC<units>" in info.value.hint


def test_a_block_may_not_take_a_framework_name():
    err = spec_error("input: [8, 8, 3]\nblocks:\n  Linear: {layers: [relu]}\nlayers:\n  - relu\n")
    assert "is a layer kind" in err.message


# --- Keras' activation: --------------------------------------------------------------------------


def test_activation_adds_the_layer_after_and_its_name_means_the_activated_output():
    net = cnncalc.load(
        """\
input: [8, 8, 3]
layers:
  - conv: {filters: 4, kernel: 3, activation: relu}
  - conv: {filters: 4, kernel: 1, from: conv1, activation: linear}
  - add: {from: [conv1, conv2]}
  - flatten
  - Dense: {units: 10, activation: Softmax}
"""
    )
    assert [(n.name, n.kind) for n in net][:3] == [
        ("conv1", "conv"), ("conv1.act", "relu"), ("conv2", "conv"),
    ]  # fmt: skip
    assert net.node("conv2").inputs == ("conv1.act",)  # as in Keras: the activated output
    assert net.node("add1").inputs == ("conv1.act", "conv2")
    assert net.node("dense1.act").kind == "softmax"
    assert net.node("dense1.act").inputs == ("dense1",)


def test_activation_must_name_an_activation():
    err = spec_error(
        "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3, activation: relux}\n"
    )
    assert err.pos is not None and (err.pos.line, err.pos.col) == (3, 47)
    assert err.hint == "did you mean `relu`?"
    err = spec_error(
        "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3, activation: conv}\n"
    )
    assert "names an activation" in err.message


def test_activation_only_where_keras_has_it():
    err = spec_error("input: [8, 8, 3]\nlayers:\n  - batchnorm: {activation: relu}\n")
    assert "has no field 'activation'" in err.message


def test_the_schema_knows_activation():
    ok = "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3, activation: ReLU}\n"
    assert parser_accepts(ok) and schema_errors(ok) == []
    assert schema_errors(ok.replace("ReLU", "conv")) != []


# --- shorthand: no bias, activations -------------------------------------------------------------


def test_shorthand_without_bias_and_with_activations():
    net = cnncalc.load("Conv5-20-Psame-NB,ReLU,Pool2,FC10-nobias,Sigmoid", input_shape=(28, 28, 1))
    assert kinds(net) == ["conv", "relu", "maxpool", "dense", "sigmoid"]
    report = cnncalc.analyze(net)
    # 5·5·1·20 = 500 (520 with bias); 14·14·20·10 = 39,200 (39,210 with bias)
    assert [row.counts.params for row in report.layers] == [500, 0, 0, 39_200, 0]
    with_bias = cnncalc.analyze(cnncalc.load("Conv5-20-Psame,FC10", input_shape=(28, 28, 1)))
    assert [row.counts.params for row in with_bias.layers] == [520, 28 * 28 * 20 * 10 + 10]


def test_the_schema_accepts_the_new_shorthand():
    text = "input: [8, 8, 1]\nlayers:\n  - Conv3-4-Psame-S1-NB\n  - ReLU\n  - FC2-NB\n"
    assert parser_accepts(text) and schema_errors(text) == []
    assert schema_errors(text.replace("-NB\n  - ReLU", "-NX\n  - ReLU")) != []


# --- --input -------------------------------------------------------------------------------------


def test_input_of_two_sizes_is_a_sequence_of_channels():
    result = run("params", "FC5", "--input", "100x3", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["input_shape"] == [100, 3]  # L = 100 samples of 3 channels
    assert data["totals"]["params"] == 100 * 3 * 5 + 5


def test_input_option_follows_the_spec_layout():
    text = "input: [3, 16, 16]\nlayout: chw\nlayers:\n  - conv: {filters: 2, kernel: 3}\n"
    result = run("params", "-", "--input", "1x8x10", "--format", "json", input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["input_shape"] == [8, 10, 1]  # C=1, H=8, W=10
    assert data["layers"][0]["output_shape"] == [6, 8, 2]


# --- automatic names -----------------------------------------------------------------------------


def test_automatic_names_count_unnamed_layers_and_skip_written_names():
    net = cnncalc.load(
        """\
input: [8, 8, 3]
layers:
  - conv: {filters: 4, kernel: 1}
  - conv: {filters: 4, kernel: 1, name: conv2}
  - conv: {filters: 4, kernel: 1}
  - conv: {filters: 4, kernel: 1, name: conv4}
  - conv: {filters: 4, kernel: 1, name: mid}
  - conv: {filters: 4, kernel: 1}
"""
    )
    # unnamed: conv1, then conv2 (written on another layer) → conv3, then conv4 (written
    # further down) → conv5
    assert names(net) == ["conv1", "conv2", "conv3", "conv4", "mid", "conv5"]


def test_an_unnamed_layer_after_a_named_one_does_not_clash():
    net = cnncalc.load(
        "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 1, name: conv2}\n"
        "  - conv: {filters: 4, kernel: 1}\n  - conv: {filters: 4, kernel: 1}\n"
    )
    assert names(net) == ["conv2", "conv1", "conv3"]


def test_zoo_names_are_stable():
    # the automatic names that the bundled specs and their tests rely on
    assert names(cnncalc.load("seed_32x32")) == [
        "conv1", "relu1", "maxpool1", "conv2", "relu2", "maxpool2", "flatten1", "dense1",
    ]  # fmt: skip
    assert "layer4.2.relu3" in names(cnncalc.load("resnet50"))


# --- messages ------------------------------------------------------------------------------------


def test_field_messages_do_not_double_the_field_name():
    err = spec_error(
        "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3, padding: full}\n"
    )
    assert err.message.startswith("layer conv1: `padding` expects valid, same")


def test_a_fraction_from_an_expression_suggests_floor_division():
    err = spec_error(
        "input: [8, 8, 3]\nblocks:\n  b:\n    args: {width: 64}\n    layers:\n"
        "      - conv: {filters: $(width / 3), kernel: 1}\nlayers:\n  - b\n"
    )
    assert "expects a positive integer" in err.message
    assert err.hint is not None and "//" in err.hint


# --- warnings: flooring drops input rows ---------------------------------------------------------


def test_alexnet_at_224_warns_that_conv1_drops_a_row_and_column():
    result = run("params", "alexnet", "--input", "224x224x3")
    assert result.exit_code == 0
    first = result.stderr.splitlines()[0]
    # (224 − 11)/4 = 53.25: 54 windows reach 53·4 + 11 = 223 pixels, the 224th is never seen
    assert first.endswith(
        "alexnet.yaml:5:5: warning: layer conv1 never sees the last row and column of its "
        "224×224×3 input (its windows do not fit a whole number of times; the output size "
        "rounds down)"
    )
    assert result.stderr.splitlines()[1] == (
        "  hint: an input of 227×227×3 (or 223×223×3) would be exact"
    )


def test_warnings_are_in_the_json_and_never_change_the_exit_code():
    result = run("summary", "alexnet", "--input", "224x224x3", "--format", "json")
    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["warnings"]
    assert [w["layer"] for w in warnings] == ["conv1", "pool1", "pool2", "pool5"]
    assert warnings[0]["line"] == 5 and warnings[0]["hint"].startswith("an input of 227×227×3")
    clean = run("summary", "alexnet", "--format", "json")
    assert json.loads(clean.stdout)["warnings"] == [] and clean.stderr == ""


def test_unseen_rows_are_counted_per_axis():
    # 11×13, kernel 3, stride 4: ⌊(11 − 3)/4⌋ + 1 = 3 windows reach 2·4 + 3 = 11 rows: none
    # lost; of 13 columns the same 3 windows reach 11: 2 lost, more than the 1 that the gap
    # between two windows skips
    net = cnncalc.load(
        "input: [11, 13, 1]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 4}\n"
    )
    (warning,) = unseen_pixels(net)
    assert "never sees the last 2 columns of its 11×13×1 input" in warning.message
    assert warning.hint == "an input of 11×15×1 (or 11×11×1) would be exact"


@pytest.mark.parametrize(
    "layer",
    [
        "conv: {filters: 1, kernel: 1, stride: 2}",  # skips every other row anyway
        "conv: {filters: 1, kernel: 3, stride: 2, padding: same}",  # SAME pads to fit
        "maxpool: {kernel: 3, stride: 2, ceil_mode: true}",  # the last window is partial
        "conv: {filters: 1, kernel: 3, stride: 2, padding: [0, 1, 0, 1]}",  # padding is lost
    ],
)
def test_no_warning_when_no_input_pixel_is_lost(layer: str):
    net = cnncalc.load(f"input: [8, 8, 1]\nlayers:\n  - {layer}\n")
    assert unseen_pixels(net) == []


# seed_conv4 is an exercise's net; m5 is the torchaudio tutorial's (8,000 samples: its pools
# drop 2 and 1 samples, as in torch)
@pytest.mark.parametrize("name", [n for n in zoo_names() if n not in ("seed_conv4", "m5")])
def test_the_zoo_drops_no_pixels(name: str):
    assert unseen_pixels(cnncalc.load(name)) == []


# --- --layers: subtotals of a part of the network ------------------------------------------------


def test_layers_glob_prints_the_rows_and_their_subtotal():
    result = run("params", "seed_32x32", "--layers", "conv*", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Layer,Kind,Input shape,Output shape,Params,Share",
        "conv1,conv,32×32×3,32×32×20,1520,15.6%",
        "conv2,conv,16×16×20,16×16×10,1810,18.6%",
        "Subtotal (2 layers),,,,3330,",  # 1,520 + 1,810
        "Total,,,,9740,",
    ]


def test_layers_range_and_list_in_json():
    result = run("summary", "seed_32x32", "--layers", "conv2..maxpool2, dense1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["name"] for row in data["layers"]] == ["conv2", "relu2", "maxpool2", "dense1"]
    selection = data["selection"]
    assert selection["layers"] == ["conv2", "relu2", "maxpool2", "dense1"]
    assert selection["params"] == 1_810 + 6_410
    # conv2 16·16·10·3·3·20 = 460,800; dense1 640·10 = 6,400
    assert selection["macs"] == 460_800 + 6_400
    # activations: 16·16·10 twice, 8·8·10, 10
    assert selection["activation_elements"] == 2560 * 2 + 640 + 10
    assert selection["activation_bytes"] == 4 * selection["activation_elements"]
    assert data["totals"]["params"] == 9_740  # the network's totals stay


def test_memory_subtotal_row():
    result = run("memory", "seed_32x32", "--layers", "maxpool*", "--format", "csv")
    assert result.exit_code == 0, result.output
    # 16·16·20 = 5,120 and 8·8·10 = 640 elements, 4 bytes each
    assert "Subtotal (2 layers),,,5760,23040" in result.stdout.splitlines()


def test_inception_branch_subtotal():
    report = cnncalc.analyze(cnncalc.load("googlenet")).select("inception3a.branch2.*")
    assert report.selection is not None
    # 1×1 192→96 then 3×3 96→128 at 28×28: 28·28·(192·96 + 9·96·128) MACs
    assert report.selection.macs == 28 * 28 * (192 * 96 + 9 * 96 * 128)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("zzz*", "'zzz*' matches no layer of seed_32x32"),
        ("conv2..conv1", "'conv2' comes after 'conv1'"),
        ("conv1..nope", "no layer named 'nope'"),
        ("conv1,,relu1", "empty item"),
    ],
)
def test_layers_errors(pattern: str, message: str):
    result = run("params", "seed_32x32", "--layers", pattern)
    assert result.exit_code == 2
    assert result.stderr.startswith("--layers: error: ")
    assert message in result.stderr


def test_layer_and_layers_cannot_be_combined():
    result = run("params", "seed_32x32", "--layers", "conv*", "--layer", "conv1")
    assert result.exit_code == 2
    assert "cannot be combined" in result.stderr


def test_the_readme_lists_every_alias():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| kind | fields (default)") :]
    table = table[: table.index("\n\n")]
    for kind, cls in KINDS.items():
        for alias in own_aliases(cls):
            assert alias.lower() == kind or f"`{alias}`" in table, alias


def test_a_data_table_input_flattened_by_a_dense_layer_is_a_warning():
    # the sheets' (n, p) = (100, 3) read as --input 100x3 is a 1-D signal: 300 features
    table = run("params", "FC4,FC4,FC1", "--input", "100x3", "--format", "json")
    assert table.exit_code == 0
    data = json.loads(table.stdout)
    assert data["totals"]["params"] == 300 * 4 + 4 + 20 + 5
    assert [w["layer"] for w in data["warnings"]] == ["dense1"]
    assert "--input 3" in data["warnings"][0]["hint"]
    assert "warning: layer dense1: the input 100×3 is one 1-D signal" in table.stderr
    one_row = run("params", "FC4,FC4,FC1", "--input", "3", "--format", "json")
    assert json.loads(one_row.stdout)["totals"]["params"] == 16 + 20 + 5  # the sheet's 41
    assert "warning" not in one_row.stderr
    audio = run("params", "Conv3-4,FC2", "--input", "100x3", "--format", "json")
    assert json.loads(audio.stdout)["warnings"] == []  # a conv first: a real 1-D signal
