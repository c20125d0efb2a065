"""`memory --training` what-ifs, worked out by hand on a small network."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv

runner = CliRunner()

NET = """\
name: two-blocks
input: [8, 8, 1]
layers:
  - conv: {name: b1.conv, filters: 2, kernel: 3, padding: 1}
  - relu: {name: b1.relu}
  - conv: {name: b2.conv, filters: 2, kernel: 3, padding: 1}
  - relu: {name: b2.relu}
  - flatten: {name: flat}
  - dense: {name: fc, units: 4}
"""
# params 20 + 38 + 516 = 574; activations 5 × 128 + 4 = 644 values; input 64 values
BASELINE = 574 * 4 + 574 * 4 + 64 * 4 + 644 * 4  # weights, gradients, input, activations


def training(*options: str) -> dict[str, Any]:
    result = runner.invoke(
        app, normalize_argv(["memory", NET, "--training", "-f", "json", *options])
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)["totals"]
    return data


def test_baseline_is_the_training_estimate() -> None:
    totals = training()
    assert totals["training_memory"]["training_bytes"] == BASELINE == 7_424
    assert totals["memory"]["training_bytes"] == BASELINE


def test_inplace_relus_share_their_input() -> None:
    t = training("--inplace")["training_memory"]
    assert t["saved_activation_bytes"] == 644 * 4 - 2 * 128 * 4
    assert t["training_bytes"] == BASELINE - 1_024


def test_checkpointing_blocks() -> None:
    one = training("--checkpoint", "b1.*")["training_memory"]
    # b1.conv's output is only used inside its segment: dropped, then recomputed
    assert (one["checkpoint_segments"], one["recompute_bytes"]) == (1, 512)
    assert one["training_bytes"] == BASELINE
    both = training("--checkpoint", "b*")["training_memory"]
    assert both["checkpoint_segments"] == 2
    assert both["saved_activation_bytes"] == 644 * 4 - 2 * 512
    assert both["training_bytes"] == BASELINE - 1_024 + 512
    assert both["recompute_macs"] == 64 * 2 * 9 + 64 * 2 * 18


def test_mixed_precision() -> None:
    t = training("--dtype", "bfloat16", "--master-weights", "float32")["training_memory"]
    parts = (t["weight_bytes"], t["master_weight_bytes"], t["gradient_bytes"])
    assert parts == (574 * 2, 574 * 4, 574 * 4)
    assert t["saved_activation_bytes"] == 644 * 2 and t["input_bytes"] == 64 * 2
    assert t["training_bytes"] == 7_156
    adam = training("--dtype", "bfloat16", "--master-weights", "float32", "--optimizer", "adam")
    assert adam["training_memory"]["training_bytes"] == 7_156 + 574 * 4 * 2


def test_table_states_the_assumptions() -> None:
    result = runner.invoke(
        app, normalize_argv(["memory", NET, "--training", "--checkpoint", "b*", "--inplace"])
    )
    assert result.exit_code == 0, result.output
    assert "training what-if" in result.stdout
    assert "assumed: --checkpoint b*: 2 segments" in result.stdout
    assert "assumed: --inplace" in result.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--checkpoint", "b*"], "what-ifs of --training"),
        (["--training", "--master-weights", "float64"], "unknown --master-weights"),
        (
            ["--training", "--checkpoint", "nosuch"],
            "--checkpoint: error: 'nosuch' matches no layer",
        ),
    ],
)
def test_errors_exit_2(options: list[str], message: str) -> None:
    result = runner.invoke(app, normalize_argv(["memory", NET, *options]))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
