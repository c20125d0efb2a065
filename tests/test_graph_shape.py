"""Graph shape: several inputs (`inputs:`), several outputs (`outputs:`), dead branches and
`unused`, and how every command treats them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import SpecError

runner = CliRunner()

# two inputs, two outputs; `aux` reads c_dep, which the main path reads too
TOY = """\
name: toy2
inputs: {image: [8, 8, 3], depth: [8, 8, 1]}
layers:
  - conv: {filters: 4, kernel: 3, padding: 1, from: image, name: c_img}
  - conv: {filters: 4, kernel: 3, padding: 1, from: depth, name: c_dep}
  - concat: {from: [c_img, c_dep], name: fuse}
  - global_avgpool
  - dense: {units: 5, name: logits}
  - dense: {units: 2, from: c_dep, name: aux}
outputs: [logits, aux]
"""


def cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def spec_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return str(path)


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        cnncalc.load(text)
    return info.value


# --- totals ---------------------------------------------------------------------------------


def test_two_inputs_two_outputs_by_hand() -> None:
    report = cnncalc.analyze(cnncalc.load(TOY))
    params = {row.name: row.counts.params for row in report.layers}
    macs = {row.name: row.multiplies.macs for row in report.layers}
    # c_img 3·3·3·4 + 4 = 112; c_dep 3·3·1·4 + 4 = 40; logits 8·5 + 5 = 45; aux 256·2 + 2 = 514
    assert params == {
        "c_img": 112,
        "c_dep": 40,
        "fuse": 0,
        "global_avgpool1": 0,
        "logits": 45,
        "aux": 514,
    }
    assert report.totals.params == 711
    # c_img 8·8·4 outputs × 27; c_dep × 9; logits 8·5; aux 256·2
    assert macs["c_img"] == 6_912 and macs["c_dep"] == 2_304
    assert report.macs == 6_912 + 2_304 + 40 + 512 == 9_768
    net = report.network
    assert net.inputs == {"image": (8, 8, 3), "depth": (8, 8, 1)}
    assert net.outputs == ("logits", "aux")
    assert net.output.name == "logits"


def test_json_lists_inputs_and_outputs() -> None:
    data = cnncalc.analyze(cnncalc.load(TOY)).to_dict()
    assert data["input_shape"] == [8, 8, 3]  # the first input's
    assert data["inputs"] == [
        {"name": "image", "input_shape": [8, 8, 3]},
        {"name": "depth", "input_shape": [8, 8, 1]},
    ]
    assert data["outputs"] == [
        {"name": "logits", "output_shape": [5]},
        {"name": "aux", "output_shape": [2]},
    ]
    assert data["unused"] == []


def test_a_plain_network_s_json_is_unchanged() -> None:
    data = cnncalc.analyze(cnncalc.load("lenet5")).to_dict()
    assert data["input_shape"] == [32, 32, 1]
    assert not {"inputs", "outputs", "unused"} & set(data)
    assert data["layers"][0]["inputs"] == ["input"]


def test_one_named_input_or_listed_outputs_give_the_fields() -> None:
    text = "inputs: {x: [4]}\nlayers:\n  - dense: {units: 2, from: x}\n"
    data = cnncalc.analyze(cnncalc.load(text)).to_dict()
    assert data["inputs"] == [{"name": "x", "input_shape": [4]}]
    assert data["outputs"] == [{"name": "dense1", "output_shape": [2]}]
    assert data["unused"] == []


def test_memory_liveness_over_two_outputs() -> None:
    report = cnncalc.analyze(cnncalc.load(TOY))
    # float32 bytes: image 8·8·3·4 = 768, depth 256; c_img, c_dep 1,024; fuse 2,048;
    # global_avgpool1 32; logits 20; aux 8. c_dep lives until aux (its last reader); outputs
    # stay alive to the end.
    assert report.memory.input_bytes == 1_024
    assert report.memory_timeline() == [
        ("image", 768),
        ("depth", 1_024),
        ("c_img", 2_048),  # then image is freed: 1,280
        ("c_dep", 2_304),  # then depth: 2,048
        ("fuse", 4_096),  # then c_img: 3,072
        ("global_avgpool1", 3_104),  # then fuse: 1,056 (c_dep and the pool's output)
        ("logits", 1_076),  # then the pool: 1,044 (c_dep and logits)
        ("aux", 1_052),
    ]
    assert report.memory.inference_peak_bytes == 4_096
    assert report.memory.inference_peak_layer == "fuse"


def test_an_output_read_by_later_layers_stays_alive() -> None:
    text = """
input: [4, 4, 1]
layers:
  - relu: {name: a}
  - relu: {name: b}
  - relu: {name: c}
outputs: [c, a]
"""
    # 16 values = 64 B each; a is an output, so it is never freed
    timeline = cnncalc.analyze(cnncalc.load(text)).memory_timeline()
    assert timeline == [("input", 64), ("a", 128), ("b", 128), ("c", 192)]


# --- reachability ---------------------------------------------------------------------------


DEAD = """\
inputs: {image: [8, 8, 3]}
layers:
  - conv: {filters: 4, kernel: 3, name: c}
  - dense: {units: 3, name: probe}
  - dense: {units: 5, from: c, name: logits}
outputs: [logits]
"""


def test_a_dead_branch_is_an_error_at_its_layer(tmp_path: Path) -> None:
    path = spec_file(tmp_path, DEAD)
    result = cli("params", path)
    assert result.exit_code == 2
    assert f"{path}:4:5: error: layer probe reaches no output" in result.output
    assert "hint:" in result.output and "unused: true" in result.output


def test_a_branch_marked_unused_is_left_out_of_the_totals() -> None:
    text = DEAD.replace("name: probe}", "name: probe, unused: true}")
    report = cnncalc.analyze(cnncalc.load(text))
    assert [row.name for row in report.layers] == ["c", "logits"]
    # c 3·3·3·4 + 4 = 112; logits 6·6·4·5 + 5 = 725; probe's 435 left out
    assert report.totals.params == 112 + 725
    assert report.network.unused == ("probe",)
    assert report.to_dict()["unused"] == ["probe"]


def test_marking_the_end_of_a_branch_marks_the_layers_that_only_feed_it() -> None:
    text = """
input: [8, 8, 3]
layers:
  - conv: {filters: 4, kernel: 1, name: trunk}
  - conv: {filters: 2, kernel: 1, name: side1}
  - relu: {name: side2, unused: true}
  - dense: {units: 5, from: trunk, name: logits}
outputs: logits
"""
    net = cnncalc.load(text)
    assert [node.name for node in net] == ["trunk", "logits"]
    assert net.unused == ("side1", "side2")


def test_unused_on_a_layer_an_output_needs_is_an_error() -> None:
    text = """
input: [8, 8, 3]
layers:
  - conv: {filters: 4, kernel: 1, name: a, unused: true}
  - relu: {name: b}
"""
    error = error_of(text)
    assert "marked `unused` but an output needs it" in error.message
    assert (error.pos.line, error.pos.col) == (4, 52)  # at `true`


def test_unused_with_an_activation_marks_the_activation() -> None:
    text = """
inputs: {x: [4]}
layers:
  - dense: {units: 3, name: head, activation: relu, from: x, unused: true}
  - dense: {units: 2, from: x, name: out}
outputs: [out]
"""
    net = cnncalc.load(text)
    assert [node.name for node in net] == ["out"]
    assert net.unused == ("head", "head.act")


def test_an_input_no_output_needs_is_an_error() -> None:
    text = """
inputs: {image: [8, 8, 3], depth: [8, 8, 1]}
layers:
  - relu: {from: image}
"""
    error = error_of(text)
    assert error.message == "input depth reaches no output of the network"
    assert (error.pos.line, error.pos.col) == (2, 28)  # at `depth`


def test_a_spec_without_inputs_or_outputs_counts_dead_layers_as_before() -> None:
    text = """
input: [4]
layers:
  - dense: {units: 3, name: side}
  - dense: {units: 2, from: input, name: out}
"""
    net = cnncalc.load(text)
    assert [node.name for node in net] == ["side", "out"]
    assert net.outputs == ("out",)
    assert cnncalc.analyze(net).totals.params == 15 + 10


# --- naming inputs and outputs --------------------------------------------------------------


def test_the_first_layer_of_several_inputs_must_say_which() -> None:
    text = "inputs: {image: [8, 8, 3], depth: [8, 8, 1]}\nlayers:\n  - relu\n"
    error = error_of(text)
    assert "several inputs (image, depth)" in error.message
    assert error.pos.line == 3
    assert "from: image" in (error.hint or "")


def test_from_input_is_ambiguous_with_several_inputs() -> None:
    text = "inputs: {a: [4], b: [4]}\nlayers:\n  - add: {from: [input, b]}\n"
    assert "several inputs" in error_of(text).message


def test_input_means_the_only_input_even_when_named() -> None:
    text = "inputs: {image: [8, 8, 3]}\nlayers:\n  - relu\n  - add: {from: [input, relu1]}\n"
    net = cnncalc.load(text)
    assert net.input_names == ("image",)
    assert [node.inputs for node in net] == [("image",), ("image", "relu1")]


def test_blocks_see_named_inputs_and_outputs_name_block_instances() -> None:
    text = """
inputs: {a: [4, 4, 2], b: [4, 4, 2]}
blocks:
  fuse:
    layers:
      - add: {from: [input, b]}
      - relu
layers:
  - fuse: {name: f, from: a}
outputs: [f]
"""
    net = cnncalc.load(text)
    assert [node.name for node in net] == ["f.add1", "f.relu1"]
    assert net.node("f.add1").inputs == ("a", "b")
    assert net.outputs == ("f.relu1",)


@pytest.mark.parametrize(
    ("outputs", "words", "col"),
    [
        ("[logits, nope]", "unknown layer 'nope' in `outputs`", 19),
        ("[logits, image]", "image is an input", 19),
        ("[logits, logits]", "lists logits twice", 19),
        ("[]", "`outputs` is empty", 10),
    ],
)
def test_bad_outputs_point_at_the_name(outputs: str, words: str, col: int) -> None:
    text = TOY.replace("outputs: [logits, aux]", f"outputs: {outputs}")
    error = error_of(text)
    assert words in error.message
    assert (error.pos.line, error.pos.col) == (10, col)


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ("{}", "maps each input's name to its shape"),
        ("[8, 8, 3]", "maps each input's name to its shape"),
        ("{image: [8, 8, 3, 3, 3]}", "input `image` must be [H, W, C] or [N]"),
        ("{two words: [8]}", "an input's name is text"),
        ("{a.b: [8]}", "an input's name is text"),
    ],
)
def test_bad_inputs_are_errors(inputs: str, words: str) -> None:
    error = error_of(f"inputs: {inputs}\nlayers: [relu]\n")
    assert words in error.message
    assert error.pos is not None and error.pos.line == 1


def test_input_and_inputs_together_is_an_error() -> None:
    error = error_of("input: [4]\ninputs: {a: [4]}\nlayers: [relu]\n")
    assert "both `input:` and `inputs:`" in error.message
    assert error.pos.line == 2


def test_an_input_named_like_a_layer_is_a_duplicate() -> None:
    error = error_of("inputs: {a: [4]}\nlayers:\n  - relu: {name: a, from: a}\n")
    assert "duplicate layer name 'a'" in error.message


# --- the command line -----------------------------------------------------------------------


def test_input_option_names_each_input(tmp_path: Path) -> None:
    path = spec_file(tmp_path, TOY)
    result = cli("params", path, "-i", "image=16x16x3", "-i", "depth=16x16x1", "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [i["input_shape"] for i in data["inputs"]] == [[16, 16, 3], [16, 16, 1]]
    # aux now reads 16·16·4 = 1,024 values: 1,024·2 + 2
    assert data["totals"]["params"] == 112 + 40 + 45 + 2_050


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["-i", "16x16x3"], "name the one --input sets"),
        (["-i", "rgb=16x16x3"], "names no input"),
        (["-i", "image=16x16x3", "-i", "16x16x1"], "gives no input name"),
        (["-i", "image=16x16x3", "-i", "image=8x8x3"], "gives input image twice"),
        (["-i", "image=16x16x3x3x3"], "must be HxWxC"),
    ],
)
def test_bad_input_options(tmp_path: Path, options: list[str], words: str) -> None:
    result = cli("params", spec_file(tmp_path, TOY), *options)
    assert result.exit_code == 2
    assert "--input: error:" in result.output and words in result.output


def test_one_input_takes_a_named_or_plain_option() -> None:
    assert cli("params", "lenet5", "-i", "input=28x28x1").exit_code == 0
    assert cnncalc.load("lenet5", {"input": (28, 28, 1)}).input_shape == (28, 28, 1)


def test_the_table_marks_outputs_and_lists_the_inputs(tmp_path: Path) -> None:
    result = cli("params", spec_file(tmp_path, TOY))
    assert result.exit_code == 0
    assert "logits (output)" in result.output and "aux (output)" in result.output
    assert "inputs image 8×8×3, depth 8×8×1 · outputs logits, aux" in result.output


def test_graph_has_a_node_per_input_and_output(tmp_path: Path) -> None:
    result = cli("graph", spec_file(tmp_path, TOY))
    lines = result.stdout.splitlines()
    assert '  n0(["input: image"])' in lines and '  n1(["input: depth"])' in lines
    assert '  n8(["output: logits"])' in lines and '  n9(["output: aux"])' in lines
    assert '  n1 -->|"8×8×1"| n3' in lines  # depth → c_dep
    assert '  n7 -->|"2"| n9' in lines  # aux → its output
    dot = cli("graph", spec_file(tmp_path, TOY), "--format", "dot").stdout
    assert 'n1 [label="input: depth", shape=oval];' in dot


def test_verify_draws_each_input(tmp_path: Path) -> None:
    result = cli("verify", spec_file(tmp_path, TOY), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["inputs"] == [
        {"name": "image", "input_shape": [8, 8, 3]},
        {"name": "depth", "input_shape": [8, 8, 1]},
    ]
    rf = {layer["name"]: layer["rf"]["status"] for layer in data["layers"]}
    assert rf["c_img"] == rf["c_dep"] == rf["fuse"] == "ok"


def test_receptive_field_counts_in_each_input_s_pixels() -> None:
    report = cnncalc.analyze(cnncalc.load(TOY))
    fuse = report.layer("fuse").rf
    assert fuse is not None and fuse.aligned and fuse.size == (3, 3)
    pool = report.layer("global_avgpool1").rf
    assert pool is not None and pool.whole_input


def test_every_command_takes_a_network_of_several_inputs(tmp_path: Path) -> None:
    path = spec_file(tmp_path, TOY)
    for command in (
        ["summary"],
        ["flops", "--explain", "fuse"],
        ["rf"],
        ["memory"],
        ["summary", "--depth", "1"],
        ["diff", path],
        ["run"],
        ["report", "-o", str(tmp_path / "r.html")],
        ["rf", "--image", str(tmp_path / "rf.png"), "--layer", "fuse"],
    ):
        name, *rest = command
        result = cli(name, path, *rest)
        assert result.exit_code == 0, (command, result.output)


# --- the zoo --------------------------------------------------------------------------------


def test_inception_v3_aux_head_is_its_second_output() -> None:
    report = cnncalc.analyze(cnncalc.load("inception_v3"))
    assert report.network.outputs == ("fc", "AuxLogits.fc")
    aux = [row for row in report.layers if row.name.startswith("AuxLogits.")]
    # conv0 768·128 + 2·128; conv1 128·768·25 + 2·768; fc 768·1,000 + 1,000
    assert sum(row.counts.params for row in aux) == 98_560 + 2_459_136 + 769_000
    assert report.totals.params - 3_326_696 == 23_834_568  # torchvision, aux_logits=False
    assert report.layer("Mixed_6e.concat").output_shape == (17, 17, 768)
    assert report.layer("Mixed_7c.concat").output_shape == (8, 8, 2048)


def test_googlenet_aux_is_googlenet_plus_two_heads() -> None:
    plain = cnncalc.analyze(cnncalc.load("googlenet"))
    aux = cnncalc.analyze(cnncalc.load("googlenet_aux"))
    assert aux.network.outputs == ("fc", "aux2.fc2", "aux1.fc2")
    heads = [row for row in aux.layers if row.name.startswith(("aux1.", "aux2."))]
    assert sum(row.counts.params for row in heads) == 3_188_968 + 3_191_016
    assert aux.totals.params - 6_379_984 == plain.totals.params == 6_624_904
    assert aux.layer("aux1.pool").output_shape == (4, 4, 512)
    assert aux.layer("aux2.flatten").output_shape == (2048,)


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_takes_inputs_outputs_and_unused() -> None:
    from tests.test_schema import schema_errors

    assert schema_errors(TOY) == []
    assert schema_errors(DEAD.replace("name: probe}", "name: probe, unused: true}")) == []
    assert schema_errors(TOY.replace("inputs:", "input: [8, 8, 3]\ninputs:")) != []
    assert schema_errors(TOY.replace("image: [8, 8, 3]", "image: [2, 8, 8, 8, 3]")) != []
    assert schema_errors(TOY.replace("outputs: [logits, aux]", "outputs: [aux, aux]")) != []


def test_check_expects_the_first_output_s_shape(tmp_path: Path) -> None:
    text = TOY.replace("outputs: [logits, aux]", "outputs: [aux, logits]")
    good = spec_file(tmp_path, text + "expect: {params: 711, output_shape: [2]}\n")
    assert cli("check", good).exit_code == 0
    bad = spec_file(tmp_path, text + "expect: {output_shape: [5]}\n")
    assert cli("check", bad).exit_code == 1


# --- export -----------------------------------------------------------------------------------


def test_export_to_pytorch_takes_each_input_and_returns_each_output(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from cnncalc.io import pytorch_code
    from tests.test_export import run_pytorch

    net = cnncalc.load(TOY)
    source = pytorch_code.write(net, check=True)
    returns = "tuple[torch.Tensor, torch.Tensor]"
    assert f"def forward(self, image: torch.Tensor, depth: torch.Tensor) -> {returns}:" in source
    assert "        return logits, aux\n" in source
    # --check asserts both outputs' shapes (channels first, no batch)
    assert '"output_shape": ((5,), (2,))' in source
    run_pytorch(net, tmp_path)


def test_export_check_fails_when_an_output_shape_differs(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import runpy

    from cnncalc.io import pytorch_code

    source = pytorch_code.write(cnncalc.load(TOY), check=True)
    path = tmp_path / "model.py"
    path.write_text(source.replace('"output_shape": ((5,), (2,))', '"output_shape": ((5,), (3,))'))
    with pytest.raises(SystemExit, match="cnncalc expects"):
        runpy.run_path(str(path), run_name="__main__")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_export_to_keras_takes_each_input_and_returns_each_output(tmp_path: Path) -> None:
    from cnncalc.io import keras_code
    from tests.test_export import _keras, ruff_check

    _keras()
    import runpy

    source = keras_code.write(cnncalc.load(TOY), check=True)
    assert 'image = keras.Input(shape=(8, 8, 3), name="image")' in source
    assert "return keras.Model([image, depth], [logits, aux]," in source
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    ruff_check(path)
    found = runpy.run_path(str(path), run_name="__main__")["found"]
    assert found["output_shape"] == ((5,), (2,))  # channels last, as cnncalc's
    assert found["params"] == 711


def test_export_cli_check_on_several_outputs(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    result = cli("export", spec_file(tmp_path, TOY), "--to", "pytorch", "--check")
    assert result.exit_code == 0, result.output
    assert "return logits, aux" in result.stdout


# --- every rank -------------------------------------------------------------------------------

ONE_D = """\
name: two_1d
inputs: {audio: [16, 2], meta: [16, 1]}
layers:
  - conv: {filters: 4, kernel: 3, padding: 1, from: audio, name: ca}
  - conv: {filters: 2, kernel: 3, padding: 1, from: meta, name: cm}
  - concat: {from: [ca, cm], name: fuse}
  - maxpool: {kernel: 2, name: pool}
  - global_avgpool: {name: gap}
  - dense: {units: 3, name: logits}
  - dense: {units: 2, from: pool, name: aux}
outputs: [logits, aux]
"""

THREE_D = """\
name: two_3d
inputs: {clip: [4, 8, 8, 3], flow: [4, 8, 8, 2]}
layers:
  - conv: {filters: 4, kernel: 3, padding: 1, from: clip, name: cc}
  - conv: {filters: 4, kernel: 3, padding: 1, from: flow, name: cf}
  - add: {from: [cc, cf], name: fuse}
  - split: {name: s, chunks: 2}
  - global_avgpool: {name: gap, from: s.0}
  - dense: {units: 3, name: logits}
outputs: [logits, s.1]
"""


def test_two_1d_inputs_by_hand() -> None:
    report = cnncalc.analyze(cnncalc.load(ONE_D))
    params = {row.name: row.counts.params for row in report.layers}
    # ca 3·2·4 + 4; cm 3·1·2 + 2; logits 6·3 + 3; aux reads pool's 8·6 = 48 values: 48·2 + 2
    assert params == {"ca": 28, "cm": 8, "fuse": 0, "pool": 0, "gap": 0, "logits": 21, "aux": 98}
    # ca 16·4 outputs × 6; cm 16·2 × 3; logits 18; aux 96
    assert report.macs == 384 + 96 + 18 + 96
    assert report.layer("fuse").output_shape == (16, 6)
    assert report.memory.input_bytes == (32 + 16) * 4
    fuse, pool = report.layer("fuse").rf, report.layer("pool").rf
    assert fuse is not None and fuse.size == (3,) and fuse.aligned
    assert pool is not None and pool.size == (4,) and pool.stride == (2,)


def test_two_3d_inputs_and_a_split_part_as_output_by_hand() -> None:
    report = cnncalc.analyze(cnncalc.load(THREE_D))
    net = report.network
    assert net.outputs == ("logits", "s.1")
    assert net.shapes["s.1"] == (4, 8, 8, 2)
    # cc 27·3·4 + 4; cf 27·2·4 + 4; logits 2·3 + 3
    assert report.totals.params == 328 + 220 + 9
    # cc and cf: 4·8·8·4 outputs × 81 and × 54; logits 6
    assert report.macs == 1_024 * 81 + 1_024 * 54 + 6
    data = report.to_dict()
    assert data["outputs"][1] == {"name": "s.1", "output_shape": [4, 8, 8, 2]}


def test_outputs_naming_a_split_lists_its_parts() -> None:
    error = error_of(THREE_D.replace("outputs: [logits, s.1]", "outputs: [logits, s]"))
    assert "a split into 2 parts" in error.message
    assert (error.pos.line, error.pos.col) == (10, 19)
    assert "`s.0`, `s.1`" in (error.hint or "")


def test_named_inputs_follow_the_layout_and_the_input_option() -> None:
    text = ONE_D.replace("audio: [16, 2], meta: [16, 1]", "audio: [2, 16], meta: [1, 16]")
    net = cnncalc.load("layout: chw\n" + text)
    assert net.inputs == {"audio": (16, 2), "meta": (16, 1)}
    net = cnncalc.load(ONE_D, {"audio": (32, 2), "meta": (32, 1)})
    assert net.shapes["aux"] == (2,) and net.shapes["pool"] == (16, 6)


@pytest.mark.parametrize("text", [ONE_D, THREE_D], ids=["1-D", "3-D"])
def test_verify_run_and_export_at_every_rank(text: str, tmp_path: Path) -> None:
    path = spec_file(tmp_path, text)
    result = cli("verify", path, "--format", "json")
    assert result.exit_code == 0, result.output
    assert [i["name"] for i in json.loads(result.stdout)["inputs"]] == list(
        cnncalc.load(text).input_names
    )
    for command in (["run"], ["graph", "--format", "dot"], ["summary", "-f", "csv"]):
        assert cli(command[0], path, *command[1:]).exit_code == 0, command


@pytest.mark.filterwarnings("ignore:TF32 acceleration:UserWarning")
@pytest.mark.parametrize("text", [ONE_D, THREE_D], ids=["1-D", "3-D"])
def test_torch_agrees_at_every_rank(text: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tests.test_export import run_pytorch
    from tests.test_torch_crosscheck import crosscheck

    net = cnncalc.load(text)
    crosscheck(net)
    run_pytorch(net, tmp_path)


def test_run_refuses_x_values_for_a_network_of_several_inputs(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    values = tmp_path / "x.npy"
    np.save(values, np.zeros((16, 2), dtype=np.float32))
    result = cli("run", spec_file(tmp_path, ONE_D), "--x", str(values))
    assert result.exit_code == 2
    assert "--x: error:" in result.output and "has 2 (audio, meta)" in result.output
    assert "hint:" in result.output


# --- training -----------------------------------------------------------------------------------

AUX_IN_BLOCK = """\
input: [4, 4, 1]
blocks:
  pair:
    layers:
      - relu: {name: a}
      - relu: {name: b}
layers:
  - pair: {name: blk}
  - relu: {name: c}
outputs: [c, blk.a]
"""


def training_memory_of(tmp_path: Path, text: str, *options: str) -> dict[str, int]:
    result = cli("memory", spec_file(tmp_path, text), "--training", *options, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["totals"]["training_memory"]  # type: ignore[no-any-return]


def test_training_counts_every_input(tmp_path: Path) -> None:
    # image 8·8·3 and depth 8·8·1 floats: 768 + 256 bytes
    assert training_memory_of(tmp_path, TOY)["input_bytes"] == 1_024
    result = cli("flops", spec_file(tmp_path, TOY), "--training")
    assert result.exit_code == 0, result.output


def test_training_keeps_an_output_that_later_layers_read(tmp_path: Path) -> None:
    # 16 floats = 64 B each. Checkpointing blk.* would recompute blk.a, read only inside the
    # segment, but it is an output: every activation stays saved
    memory = training_memory_of(tmp_path, AUX_IN_BLOCK, "--checkpoint", "blk.*")
    assert (memory["saved_activation_bytes"], memory["recompute_bytes"]) == (192, 0)
    # in place: c overwrites blk.b (0 B); blk.b may not overwrite blk.a, an output
    memory = training_memory_of(tmp_path, AUX_IN_BLOCK, "--inplace")
    assert memory["saved_activation_bytes"] == 128


def test_the_html_report_names_the_inputs_and_outputs(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    assert cli("report", spec_file(tmp_path, TOY), "-o", str(page)).exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert "inputs image 8×8×3, depth 8×8×1 · outputs logits, aux · 6 layers" in text
