"""Closed forms (`--input HxWx3`): the formulas, evaluated at three sizes, equal `summary` at
those sizes; one is derived by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv
from cnncalc.design.symbols import symbolic_input

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args))


def at(formula: str, **values: int) -> int:
    """A formula as cnncalc writes it (`36,144·H·W + 512,000`), evaluated."""
    python = formula.replace(",", "").replace("·", "*").replace("−", "-").replace("²", "**2")
    result = eval(python, {}, dict(values))  # our own output: numbers, + − · / and symbols
    assert result == int(result)
    return int(result)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "googlenet"])
def test_closed_forms_equal_summary_at_three_sizes(name: str) -> None:
    result = cli("summary", name, "--input", "HxWx3", "-f", "json")
    assert result.exit_code == 0, result.output
    form = json.loads(result.stdout)
    assert form["condition"]["H"]["multiple_of"] == 32
    for h, w in [(224, 224), (256, 192), (320, 416)]:
        summary = json.loads(cli("summary", name, "--input", f"{h}x{w}x3", "-f", "json").stdout)
        totals = summary["totals"]
        assert at(form["totals"]["macs"], H=h, W=w) == totals["macs"]
        assert at(form["totals"]["params"], H=h, W=w) == totals["params"]
        peak = totals["memory"]["inference_peak_bytes"]
        assert at(form["totals"]["inference_peak_bytes"], H=h, W=w) == peak
        assert at(form["totals"]["training_bytes"], H=h, W=w) == totals["memory"]["training_bytes"]
        for mine, theirs in zip(form["layers"], summary["layers"], strict=True):
            assert mine["name"] == theirs["name"]
            shape = [at(d, H=h, W=w) for d in mine["output_shape"]]
            assert shape == theirs["output_shape"], mine["name"]
            assert at(mine["macs"], H=h, W=w) == theirs["macs"], mine["name"]


def test_resnet18_macs_formula() -> None:
    result = cli("flops", "resnet18", "--input", "HxWx3", "-f", "json")
    # 1,814,073,344 MACs at 224×224: 36,144·224·224 + 512,000 (fc: 512·1,000)
    assert json.loads(result.stdout)["totals"]["macs"] == "36,144·H·W + 512,000"


def test_seed_by_hand_and_a_square_input() -> None:
    # conv1 (same, 5×5, 3 → 20): 1,500·H·W; conv2 on H/2 × W/2 (3×3, 20 → 10): 450·H·W;
    # dense on H/4 · W/4 · 10 inputs → 10: 6.25·H·W; in all 7,825·H·W/4
    data = json.loads(cli("flops", "seed_32x32", "--input", "HxWx3", "-f", "json").stdout)
    assert data["totals"]["macs"] == "7,825·H·W/4"
    assert data["condition"] == {
        "H": {"multiple_of": 4, "at_least": 4},
        "W": {"multiple_of": 4, "at_least": 4},
    }
    square = json.loads(cli("params", "seed_32x32", "--input", "SxSx3", "-f", "json").stdout)
    # dense: S/4 · S/4 · 10 · 10 weights; 1,520 + 1,810 + 10 fixed
    assert square["totals"]["params"] == "25·S²/4 + 3,340"
    table = cli("flops", "seed_32x32", "--input", "HxWx3")
    assert "MACs = 7,825·H·W/4" in table.stdout
    assert "exact for H a multiple of 4" in table.stdout


def test_numbers_are_not_symbolic_and_channels_must_be_a_number() -> None:
    assert symbolic_input("224x224x3") is None
    assert symbolic_input(None) is None
    result = cli("params", "resnet18", "--input", "HxWxC")
    assert result.exit_code == 2
    assert "channels must be a number" in result.stderr
