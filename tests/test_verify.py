"""`cnncalc verify` and `cnncalc.reference.verify`: the zoo agrees with the NumPy reference,
each check catches a deliberately broken analytic rule, the CLI's exit codes, formats and
memory guard, and NumPy stays out of the CLI's start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.layers.base import Shape, Window
from cnncalc.layers.conv import Conv
from cnncalc.layers.pool import MaxPool
from cnncalc.reference import verify, verify_network
from cnncalc.reference.verify_result import RF_NOTES, FieldValue
from cnncalc.zoo import zoo_names

runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args), input=input)


# --- the zoo ------------------------------------------------------------------------------


# U-Net's crop-and-concat joins an up-convolution, whose units pair up (the first pair's
# centre is half a coarse unit past the mean), with a symmetric crop: "not aligned", skipped
UNALIGNED = ("unet",)
# The video nets run on a shorter, smaller clip (the full one costs ~30 s of NumPy). Their
# deep layers see ~100 frames and ~400 pixels: clearing padding would need an input of
# ~140×530×530, beyond the measurement's budget; those are skipped, saying so.
CLIPS = {"r3d_18": (8, 64, 64, 3), "r2plus1d_18": (8, 64, 64, 3)}
FIRST_UNMEASURED = {"r3d_18": "layer3.0.conv2.0", "r2plus1d_18": "layer3.0.conv2.0.3"}
# fields verify cannot measure, each with its reason: googlenet_aux's heads pool 14×14 to 4×4
# (bins of unequal width); inception_v3's deepest 8×8 fields (jump 32) and its aux head's
# 5×5 conv need inputs past the measurement's 30-million-unit budget
PARTLY_MEASURED = {"googlenet_aux": "aux", "inception_v3": "Mixed_7b"}


@pytest.mark.parametrize("name", zoo_names())
def test_every_zoo_net_verifies(name: str) -> None:
    result = verify(name, CLIPS.get(name))
    assert result.ok, result.failures()
    counts = result.counts()
    n = len(result.layers)
    assert counts["shape"]["ok"] == n and counts["params"]["ok"] == n
    if name in PARTLY_MEASURED:
        skipped = [layer.name for layer in result.layers if layer.rf.status == "skip"]
        assert skipped and any(s.startswith(PARTLY_MEASURED[name]) for s in skipped)
        assert counts["rf"]["ok"] > n // 2
        return
    if name in UNALIGNED:
        skipped = [layer for layer in result.layers if layer.rf.status == "skip"]
        assert skipped and all("not aligned" in str(layer.rf.note) for layer in skipped)
        return
    names = [layer.name for layer in result.layers]
    measured = names.index(FIRST_UNMEASURED[name]) if name in FIRST_UNMEASURED else n
    # every spatial layer's receptive field was really compared (nothing skipped) up to the
    # first that no affordable input clears of padding
    assert all(layer.rf.status in ("ok", "n/a") for layer in result.layers[:measured])
    assert measured == n or result.layers[measured].rf.status == "skip"
    for layer in result.layers[measured:]:
        assert layer.rf.status != "skip" or layer.rf.note.startswith("no run of units clear")


def test_deep_fields_are_measured_on_an_enlarged_input() -> None:
    result = verify("vgg16")
    pool = next(layer for layer in result.layers if layer.name == "block5.pool")
    # at 224 no unit of block5 is clear of padding; the check ran on 448 (7 + m rows stay
    # divisible by the adaptive pool's 7 at 448: 14 → 7)
    assert pool.rf_input == (448, 448, 3)
    assert pool.rf.analytic == FieldValue((212, 212), (32, 32), (Fraction(31, 2),) * 2)
    assert (448, 448, 3) in result.rf_inputs


# --- each check catches a broken analytic rule ---------------------------------------------


def test_a_wrong_shape_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Conv.output_shape

    def off_by_one(self: Conv, inputs: Sequence[Shape]) -> Shape:
        h, w, c = real(self, inputs)
        return (h + 1, w, c) if self.stride in (2, (2, 2)) else (h, w, c)

    monkeypatch.setattr(Conv, "output_shape", off_by_one)
    result = verify("seed_conv4", rf=False)
    failures = result.failures()
    assert failures and failures[0].layer == "conv1" and failures[0].check == "shape"
    assert failures[0].analytic == (32, 31, 5) and failures[0].reference == (31, 31, 5)


def test_a_wrong_params_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Conv.params
    monkeypatch.setattr(Conv, "params", lambda self, inputs: real(self, inputs) - self.filters)
    failures = verify("seed_32x32", rf=False).failures()
    assert [(f.layer, f.check) for f in failures] == [("conv1", "params"), ("conv2", "params")]
    assert failures[0].analytic == (1500, 0) and failures[0].reference == (1520, 0)


def test_a_wrong_padding_in_the_rf_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """`same` resolved with the odd pixel before instead of after: shapes and params stay
    right, only the receptive field's center moves — the reference sees it."""
    real = Conv.window

    def before(self: Conv, inputs: Sequence[Shape]) -> Window:
        window = real(self, inputs)
        if self.padding != "same":
            return window
        total = [max(0, window.kernel[a] - window.stride[a]) for a in range(2)]
        pads = tuple(t - t // 2 for t in total)
        return replace(window, pad_before=(pads[0], pads[1]))

    monkeypatch.setattr(Conv, "window", before)
    net = cnncalc.load(
        "layers: [conv: {filters: 2, kernel: 3, stride: 2, padding: same}]", input_shape=(64, 64, 1)
    )
    # 64 rows, kernel 3, stride 2: 32 outputs need 1 row of padding, after (TensorFlow)
    failures = verify_network(net).failures()
    assert len(failures) == 1 and failures[0].check == "rf"
    assert failures[0].analytic.center == (0, 0)  # 1 − 1: as if padded before
    assert failures[0].reference.center == (1, 1)


def test_a_wrong_stride_in_the_rf_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = MaxPool.window
    monkeypatch.setattr(
        MaxPool, "window", lambda self, inputs: replace(real(self, inputs), stride=(1, 1))
    )
    failures = verify("seed_32x32").failures()
    assert {f.layer for f in failures} >= {"maxpool1", "conv2", "maxpool2"}
    first = failures[0]
    assert first.layer == "maxpool1" and first.analytic.stride == (1, 1)
    assert first.reference.stride == (2, 2)


def test_the_cli_exits_1_naming_the_layer_and_both_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = Conv.params
    monkeypatch.setattr(Conv, "params", lambda self, inputs: real(self, inputs) + 1)
    result = run("verify", "seed_32x32")
    assert result.exit_code == 1
    assert "✗ 1,521 ≠ 1,520" in result.stdout
    assert "error: layer conv1: params: analytic 1,521, NumPy 1,520" in result.stderr
    assert "Traceback" not in result.output


# --- receptive-field definitions ----------------------------------------------------------


def rf_check(layers: str, shape: tuple[int, ...], name: str):  # type: ignore[no-untyped-def]
    result = verify_network(cnncalc.load(f"layers: {layers}", input_shape=shape))
    assert result.ok, result.failures()
    return next(layer.rf for layer in result.layers if layer.name == name)


def test_global_pooling_is_compared_as_whole_input() -> None:
    check = rf_check(
        "[conv: {filters: 2, kernel: 3, padding: 1}, global_avgpool]", (9, 9, 1), "global_avgpool1"
    )
    assert check.status == "ok" and check.analytic == FieldValue(whole_input=True)


def test_conv_transpose_compares_size_and_fractional_stride() -> None:
    check = rf_check(
        "[conv_transpose: {filters: 1, kernel: 3, stride: 2, padding: 1}, relu]",
        (8, 8, 1),
        "conv_transpose1",
    )
    assert check.status == "ok" and check.note == RF_NOTES["transposed"]
    assert check.analytic == FieldValue((2, 2), (Fraction(1, 2), Fraction(1, 2)))
    after = rf_check(
        "[conv_transpose: {filters: 1, kernel: 4, stride: 2, padding: 1}, "
        "conv: {filters: 1, kernel: 3, stride: 3}]",
        (10, 10, 1),
        "conv1",
    )
    assert after.status == "ok" and after.analytic == FieldValue(
        stride=(Fraction(3, 2), Fraction(3, 2))
    )


def test_what_is_skipped_says_why() -> None:
    unaligned = rf_check(
        "[conv: {name: a, filters: 1, kernel: 2, padding: same}, add: {from: [input, a]}]",
        (12, 12, 1),
        "add1",
    )
    assert unaligned.status == "skip" and unaligned.note == RF_NOTES["unaligned"]
    uneven = rf_check("[adaptive_maxpool: {output: 3}, relu]", (10, 10, 1), "relu1")
    assert uneven.status == "skip" and uneven.note == RF_NOTES["uneven"]


# --- the command line ---------------------------------------------------------------------


def test_verify_prints_a_table_and_exits_0() -> None:
    result = run("verify", "seed_32x32")
    assert result.exit_code == 0, result.output
    assert "✓ 32×32×20" in result.stdout and "✓ 1,520" in result.stdout
    assert "✓ 6/2 c 0.5" in result.stdout  # maxpool1's field: size 6, stride 2
    assert "✓ all agree" in result.stdout


def test_verify_json() -> None:
    result = run("verify", "lenet5", "--format", "json", "--batch", "3", "--seed", "7")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["batch"] == 3 and data["seed"] == 7
    conv1 = data["layers"][0]
    assert conv1["shape"] == {
        "status": "ok",
        "analytic": [28, 28, 6],
        "reference": [28, 28, 6],
        "note": "",
    }
    assert conv1["rf"]["reference"]["size"] == [5, 5]


def test_verify_shorthand_with_input_and_no_rf() -> None:
    result = run("verify", "Conv4-5-Pvalid-S2,Pool3,FC5", "--input", "64x64x1", "--no-rf")
    assert result.exit_code == 0, result.output
    assert "skip" in result.stdout and "not checked (--no-rf)" in result.stdout


def test_memory_guard_refuses_with_a_hint() -> None:
    result = run("verify", "vgg16", "--max-memory", "256MiB")
    assert result.exit_code == 2
    assert "more than --max-memory 256.00 MiB" in result.stderr
    assert "--input (e.g. 112x112x3)" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "vgg16", "--max-memory", "plenty"),
        ("verify", "no_such_net"),
        ("verify", "seed_32x32", "--input", "0x3x3"),
        ("verify", "-"),
    ],
)
def test_bad_input_exits_2(args: tuple[str, ...]) -> None:
    result = run(*args, input="layers: [conv: {filters: 2, kernel: 9}]\ninput: [4, 4, 1]\n")
    assert result.exit_code == 2, result.output
    assert "error:" in result.stderr and "Traceback" not in result.output


def test_progress_reports_every_layer() -> None:
    seen: list[tuple[str, int, int]] = []
    verify("lenet5", progress=lambda stage, done, total: seen.append((stage, done, total)))
    forward = [s for s in seen if s[0].startswith("forward")]
    assert [s[1] for s in forward] == list(range(12)) and forward[0][2] == 12
    assert any(s[0].startswith("receptive field") for s in seen)


def test_the_cli_does_not_import_numpy_at_startup() -> None:
    code = "import sys, cnncalc.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_pattern_longer_than_the_spec_input_is_measured_on_a_larger_one() -> None:
    # on 3×3 the conv_transpose's 3 columns all see the one column the stride-3 conv kept:
    # they look like a stride of 0, but the pattern repeats only every 3 units
    check = rf_check(
        "[conv: {filters: 1, kernel: 1, stride: [1, 3], padding: same}, "
        "conv_transpose: {filters: 1, kernel: [1, 3], stride: [1, 3], padding: same}]",
        (3, 3, 1),
        "conv_transpose1",
    )
    assert check.status == "ok" and check.reference == FieldValue((1, 1), (1, 1))


def test_a_layer_numpy_cannot_run_is_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    """An analytic rule that accepts a window wider than its input: the reference cannot run
    the layer, and says so instead of crashing."""
    monkeypatch.setattr(MaxPool, "output_shape", lambda self, inputs: (1, 1, inputs[0][2]))
    monkeypatch.setattr(
        MaxPool, "window", lambda self, inputs: Window((9, 9), (9, 9), (1, 1), (0, 0))
    )
    result = run("verify", "-", input="input: [4, 4, 1]\nlayers: [maxpool: {kernel: 9}, relu]\n")
    assert result.exit_code == 1, result.output
    assert "error: layer maxpool1: shape: analytic 1×1×1, NumPy error (ValueError: window 9" in (
        result.stderr
    )
    assert "not run: the NumPy forward stopped at maxpool1" in result.stdout
    assert "Traceback" not in result.output
