"""Spatial rank 1, 2 and 3: `input: [L, C]` and `[D, H, W, C]` through every pass, the NumPy
reference and torch's Conv1d/Conv3d, with hand-computed expectations."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import SpecError
from cnncalc.reference import verify_network
from cnncalc.reference.verify_result import FieldValue
from tests.strategies import dump, ranked_architectures
from tests.test_properties import analytic_agrees_with_numpy
from tests.test_reference import box_maps, nan_probe_boxes
from tests.test_verify_memory import estimate, peak_under

runner = CliRunner()

AUDIO = """
input: [16000, 1]
layers:
  - conv: {name: conv1, filters: 32, kernel: 80, stride: 16}
  - batchnorm
  - relu
  - maxpool: {kernel: 4}
  - conv: {filters: 32, kernel: 3, padding: same}
  - global_avgpool
  - flatten
  - dense: {units: 35}
"""

VIDEO = """
input: [16, 112, 112, 3]
layers:
  - conv: {name: stem, filters: 64, kernel: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3],
           bias: false}
  - batchnorm
  - relu
  - maxpool: {kernel: [1, 3, 3], stride: [1, 2, 2], padding: [0, 1, 1]}
  - conv_transpose: {filters: 8, kernel: 2, stride: 2}
  - adaptive_avgpool: {output: [1, 2, 3]}
"""


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def test_one_dimensional_conv_by_hand() -> None:
    report = cnncalc.analyze(cnncalc.load(AUDIO))
    conv = report.layers[0]
    assert conv.output_shape == (996, 32)  # ⌊(16000 − 80)/16⌋ + 1
    assert conv.counts.params == 80 * 1 * 32 + 32
    assert conv.multiplies.macs == 996 * 32 * 80 * 1
    assert conv.rf is not None
    assert (conv.rf.size, conv.rf.stride, conv.rf.center) == ((80,), (16,), (Fraction(79, 2),))
    bn = report.layers[1]
    assert (bn.counts.params, bn.counts.buffers) == (64, 64)
    pool = report.layers[3]
    assert pool.output_shape == (249, 32)
    assert pool.rf is not None and pool.rf.size == (80 + 3 * 16,)
    assert report.layers[5].output_shape == (1, 32)
    assert report.layers[-1].counts.params == 32 * 35 + 35


def test_three_dimensional_conv_by_hand() -> None:
    report = cnncalc.analyze(cnncalc.load(VIDEO))
    stem = report.layers[0]
    assert stem.output_shape == (16, 56, 56, 64)  # (16 + 2 − 3) + 1, ⌊(112 + 6 − 7)/2⌋ + 1
    assert stem.counts.params == 3 * 7 * 7 * 3 * 64
    assert stem.multiplies.macs == 16 * 56 * 56 * 64 * (3 * 7 * 7 * 3)
    assert stem.rf is not None and stem.rf.size == (3, 7, 7) and stem.rf.stride == (1, 2, 2)
    pool = report.layers[3]
    assert pool.output_shape == (16, 28, 28, 64)
    up = report.layers[4]
    assert up.output_shape == (32, 56, 56, 8)
    assert up.multiplies.macs == 16 * 28 * 28 * 64 * 8 * 8  # every input scatters 2·2·2·8
    assert report.layers[5].output_shape == (1, 2, 3, 8)


def test_json_has_the_tensors_rank() -> None:
    result = run("summary", "-", "--format", "json", stdin=AUDIO)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["input_shape"] == [16000, 1]
    conv = data["layers"][0]
    assert conv["output_shape"] == [996, 32]
    assert conv["rf"]["size"] == [80] and conv["rf"]["stride"] == [16]
    assert conv["rf"]["center"] == [39.5]
    assert data["layers"][-1]["output_shape"] == [35] and data["layers"][-1]["rf"] is None
    video = json.loads(run("summary", "-", "--format", "json", stdin=VIDEO).stdout)
    assert video["layers"][0]["output_shape"] == [16, 56, 56, 64]
    assert video["layers"][0]["rf"]["size"] == [3, 7, 7]


def test_input_option_takes_every_rank() -> None:
    one = run("params", "Conv5-4", "--input", "100x2", "--format", "json")
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["layers"][0]["output_shape"] == [96, 4]
    three = run("params", "Conv3-4,Pool2", "--input", "8x8x8x1", "--format", "json")
    assert three.exit_code == 0, three.output
    assert json.loads(three.stdout)["layers"][1]["output_shape"] == [3, 3, 3, 4]


def test_chw_layout_in_every_rank() -> None:
    net = cnncalc.load("input: [2, 50]\nlayout: chw\nlayers: [{conv: {filters: 3, kernel: 5}}]\n")
    assert net.input_shape == (50, 2)
    assert net.shapes["conv1"] == (46, 3)


def test_explain_names_the_axes() -> None:
    result = run("params", "-", "--explain", "conv1", stdin=AUDIO)
    assert result.exit_code == 0, result.output
    assert "L_out = ⌊(16000 − 80)/16⌋ + 1 = 996" in result.stdout
    assert "params = 80·1·32 + 32 = 2,592" in result.stdout


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("conv: {filters: 4, kernel: [3, 3]}", "kernel has 2 values but the input has 1 spatial"),
        ("conv: {filters: 4, kernel: 3, stride: [1, 2]}", "stride has 2 values"),
        ("maxpool: {kernel: 2, padding: [1, 1, 1]}", "padding has 3 values"),
        ("adaptive_avgpool: {output: [2, 2]}", "output has 2 values"),
    ],
)
def test_a_list_of_the_wrong_rank_is_an_error_at_its_field(layer: str, message: str) -> None:
    text = f"input: [32, 4]\nlayers:\n  - {layer}\n"
    with pytest.raises(SpecError) as err:
        cnncalc.load(text)
    assert message in err.value.message
    assert err.value.pos is not None and err.value.pos.line == 3
    result = run("params", "-", stdin=text)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_numpy_reference_agrees_in_one_and_three_dimensions() -> None:
    small_video = VIDEO.replace("[16, 112, 112, 3]", "[4, 20, 20, 3]")
    for text in (AUDIO, small_video):
        result = verify_network(cnncalc.load(text), batch=2)
        assert result.ok, result.failures()
        assert all(row.shape.status == "ok" and row.params.status == "ok" for row in result.layers)


def test_torch_conv1d_and_conv3d_agree() -> None:
    pytest.importorskip("torch")
    from tests.test_torch_crosscheck import crosscheck

    crosscheck(cnncalc.load(AUDIO))
    crosscheck(cnncalc.load(VIDEO.replace("[16, 112, 112, 3]", "[4, 20, 20, 3]")))
    odd = """
input: [9, 11, 13, 2]
layers:
  - conv: {filters: 4, kernel: [2, 3, 4], stride: [2, 1, 3], padding: [0, 1, 1, 0, 2, 1],
           dilation: [1, 2, 1], groups: 2}
  - avgpool: {kernel: 2, ceil_mode: true}
  - conv_transpose: {filters: 2, kernel: 3, stride: [1, 2, 3], padding: 1,
                    output_padding: [0, 1, 2]}
"""
    crosscheck(cnncalc.load(odd))


@pytest.mark.parametrize("shape", ["Lx2", "8xHxWx3"])
def test_closed_forms_refuse_other_ranks(shape: str) -> None:
    """Closed forms (letters in --input) are fitted in H and W only: exit 2, not a guess."""
    result = runner.invoke(app, ["flops", "resnet18", "--input", shape])
    assert result.exit_code == 2
    assert "2-D" in result.stderr and "Traceback" not in result.output


KINDS_1D = """
input: [64, 8]
layers:
  - conv: {filters: 8, kernel: 3, padding: same}
  - groupnorm: {groups: 2}
  - instancenorm: {affine: true}
  - layernorm
  - channel_shuffle: {groups: 2}
  - dense: {units: 6, per_position: true}
  - layer_scale: {init: 0.5}
  - mish
  - mean: {axes: [spatial], keepdims: true}
  - flatten
  - dense: {units: 3}
"""
KINDS_3D = """
input: [4, 6, 6, 4]
layers:
  - conv: {filters: 4, kernel: 3, padding: 1}
  - batchnorm: {scale: false}
  - instancenorm
  - l2norm
  - glu
  - hardtanh
  - softplus
  - mean: {axes: [0, 1], keepdims: true}
  - global_avgpool
  - flatten
  - dense: {units: 2}
"""


def test_new_kinds_in_rank_1_and_3() -> None:
    """Statistics reach the whole input in any rank; a mean's window spans its axes; torch
    agrees on shapes, params and MACs."""
    one = cnncalc.analyze(cnncalc.load(KINDS_1D))
    rows = {row.node.name: row for row in one.layers}
    assert rows["groupnorm1"].rf is not None and rows["groupnorm1"].rf.whole_input
    three = cnncalc.analyze(cnncalc.load(KINDS_3D))
    rows = {row.node.name: row for row in three.layers}
    assert rows["mean1"].rf is not None
    assert rows["mean1"].rf.size == (3 + 3, 3 + 5, 3)  # D 4 and H 6 averaged, W kept
    pytest.importorskip("torch")
    from tests.test_torch_crosscheck import crosscheck

    crosscheck(cnncalc.load(KINDS_1D))
    crosscheck(cnncalc.load(KINDS_3D))


def test_verify_measures_the_field_in_one_and_three_dimensions() -> None:
    """The box maps carry (lo, hi) per axis: a 1-D and a 3-D net are measured and compared,
    nothing skipped for its rank; the hand-computed fields come out."""
    audio = verify_network(cnncalc.load(AUDIO))
    assert audio.ok, audio.failures()
    rows = {row.name: row for row in audio.layers}
    assert rows["maxpool1"].rf.status == "ok"
    assert rows["maxpool1"].rf.reference == FieldValue((128,), (16 * 4,), (Fraction(127, 2),))
    assert rows["global_avgpool1"].rf.status == "ok"  # every unit sees the whole input
    video = verify_network(cnncalc.load(VIDEO.replace("[16, 112, 112, 3]", "[4, 20, 20, 3]")))
    assert video.ok, video.failures()
    rows = {row.name: row for row in video.layers}
    stem = rows["stem"].rf
    assert stem.status == "ok" and stem.reference == FieldValue((3, 7, 7), (1, 2, 2), (0, 0, 0))
    # D stride 1 pool: the 1×3×3 window adds 2·2 along H and W only
    assert rows["maxpool1"].rf.reference == FieldValue((3, 11, 11), (1, 4, 4), (0, 0, 0))
    up = rows["conv_transpose1"].rf
    assert up.status == "ok" and up.reference.stride == (Fraction(1, 2), 2, 2)
    assert all(row.rf.note != "" or row.rf.status != "skip" for row in video.layers)


def test_a_wrong_three_dimensional_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The measurement is independent of the RF pass: a pass that forgets D's kernel fails."""
    from cnncalc.passes import receptive_field

    real = receptive_field.layer_field

    def flat_depth(*args, **kwargs):  # type: ignore[no-untyped-def]
        field = real(*args, **kwargs)
        if field is None or len(field.size) != 3:
            return field
        return dataclasses.replace(field, size=(1, *field.size[1:]))

    monkeypatch.setattr(receptive_field, "layer_field", flat_depth)
    result = verify_network(
        cnncalc.load("input: [6, 6, 6, 1]\nlayers: [conv: {filters: 1, kernel: 3}]\n")
    )
    failures = result.failures()
    assert [(f.layer, f.check) for f in failures] == [("conv1", "rf")]


def test_rf_image_draws_a_one_dimensional_field_as_a_strip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Valid convs: conv 5 → r 5, j 1, c 2; pool 2 → r 6, j 2, c 2.5; conv 3 → r 10, j 2,
    c 2.5 + 1·2 = 4.5: unit 3 of conv2 sees 4.5 + 3·2 ± 4.5 = 6..15 (NumPy measures the
    same)."""
    out = tmp_path / "strip.svg"
    result = run(
        "rf", "Conv5-2,Pool2,Conv3-2", "--input", "40x1", "--unit", "3", "--image", str(out),
        "--empirical",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "positions 6..15 of a 1-D input of length 40" in result.stdout
    assert "measured (NumPy): positions 6..15" in result.stdout
    svg = out.read_text(encoding="utf-8")
    assert 'data-role="field" data-rows="0 0" data-cols="6 15"' in svg
    assert 'data-role="measured" data-rows="0 0" data-cols="6 15"' in svg
    png = tmp_path / "strip.png"
    assert run("rf", "m5", "--layer", "conv2", "--image", str(png)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    bad = run("rf", "m5", "--unit", "1,2", "--image", str(png))
    assert bad.exit_code == 2 and "--unit" in bad.stderr and "Traceback" not in bad.output


def test_rf_image_refuses_a_three_dimensional_input_cleanly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run("rf", "r3d_18", "--image", str(tmp_path / "rf.png"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and "(3-D)" in result.stderr
    assert "without --image" in result.stderr
    assert not (tmp_path / "rf.png").exists()


# --- random 1-D and 3-D nets: the property tests of tests/test_properties.py and friends ----

RANKED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@RANKED
@given(st.sampled_from([1, 3]).flatmap(lambda rank: ranked_architectures(rank)))
def test_random_nets_of_rank_1_and_3_agree_with_numpy(spec: dict[str, Any]) -> None:
    """Shapes, params and the measured receptive field, as for 2-D nets."""
    analytic_agrees_with_numpy(spec)


@RANKED
@given(st.sampled_from([1, 3]).flatmap(lambda rank: ranked_architectures(rank, max_steps=4)))
def test_random_boxes_of_rank_1_and_3_are_what_the_forward_depends_on(
    spec: dict[str, Any],
) -> None:
    net = cnncalc.load(dump(spec))
    probed, boxes = nan_probe_boxes(net), box_maps(net)
    assert probed.keys() == boxes.keys()
    for name in probed:
        np.testing.assert_array_equal(boxes[name], probed[name], err_msg=name)


@RANKED
@given(st.sampled_from([1, 3]).flatmap(lambda rank: ranked_architectures(rank)))
def test_random_nets_of_rank_1_and_3_stay_under_their_estimate(spec: dict[str, Any]) -> None:
    net = cnncalc.load(dump(spec))
    peak_under(net, estimate(net))


def test_run_shows_and_explains_one_and_three_dimensional_outputs() -> None:
    """`cnncalc run` prints a 1-D channel as a row and a 3-D one frame by frame (was a
    traceback), and `--explain` takes one index per axis."""
    signal = run("run", "Conv3-2", "--input", "10x1", "--explain", "2")
    assert signal.exit_code == 0, signal.output
    lines = signal.stdout.splitlines()
    assert lines[:2] == ["conv1 (conv) output, 8×2:", "O[:, 0] ="]
    assert len(lines[2].split()) == 8 and lines[3] == "O[:, 1] ="  # a channel is one row
    explained = [line for line in lines if line.startswith("O[2,")]
    assert [line[:7] for line in explained] == ["O[2,0] ", "O[2,1] "]
    assert all(line.count("·") == 3 for line in explained)  # 3 taps · 1 input channel
    clip = run("run", "Conv2-2", "--input", "3x4x4x1", "--explain", "1,1,1,0")
    assert clip.exit_code == 0, clip.output
    for frame in range(2):
        for channel in range(2):
            assert f"O[{frame}, :, :, {channel}] =" in clip.stdout
    assert "O[1,1,1,0] = " in clip.stdout
    wrong = run("run", "Conv2-2", "--input", "3x4x4x1", "--explain", "1,1")
    assert wrong.exit_code == 2 and "i,j,k or i,j,k,c" in wrong.stderr


@pytest.mark.parametrize(
    ("shape", "expect", "ok"),
    [
        ("[100, 1]", "rf: 5", True),  # one value stands for every axis, in any rank
        ("[100, 1]", "rf: [5]", True),
        ("[100, 1]", "min_rf: 6", False),
        ("[8, 8, 8, 1]", "rf: [3, 5, 5]", True),
        ("[8, 8, 8, 1]", "max_rf: [3, 5, 4]", False),
        ("[8, 8, 8, 1]", "max_rf: 5", True),
    ],
)
def test_check_takes_a_receptive_field_per_axis_of_any_rank(
    tmp_path, shape: str, expect: str, ok: bool
) -> None:  # type: ignore[no-untyped-def]
    kernel = "5" if shape == "[100, 1]" else "[3, 5, 5]"
    spec = tmp_path / "net.yaml"
    spec.write_text(
        f"input: {shape}\nlayers:\n  - conv: {{name: c1, filters: 2, kernel: {kernel}}}\n"
        f"expect:\n  layers: {{c1: {{{expect}}}}}\n"
    )
    result = run("check", str(spec))
    assert result.exit_code == (0 if ok else 1), result.output


def test_check_refuses_a_receptive_field_of_another_rank(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [8, 8, 8, 1]\nlayers:\n  - conv: {name: c1, filters: 2, kernel: 3}\n"
        "expect:\n  layers: {c1: {rf: [3, 3]}}\n"
    )
    result = run("check", str(spec))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{spec}:5:21: error: `rf` must be a receptive-field size" in result.stderr
    assert "3-D field, got 2 values" in result.stderr
