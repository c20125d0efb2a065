"""The command line through typer's CliRunner: exit codes, formats, golden outputs."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv
from tests.conftest import ARCHITECTURES

runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    """The command line as `cnncalc` (main) sees it."""
    return runner.invoke(app, normalize_argv(args), input=input)


def test_summary_json_contract_resnet50():
    result = run("summary", "resnet50", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "resnet50"
    assert data["input_shape"] == [224, 224, 3]
    first = data["layers"][0]
    assert first == {
        **first,
        "name": "conv1",
        "kind": "conv",
        "inputs": ["input"],
        "output_shape": [112, 112, 64],
        "params": 9408,  # 7·7·3·64, no bias
        "trainable_params": 9408,
        "buffers": 0,
    }
    assert data["totals"]["params"] == 25_557_032
    assert data["totals"]["buffers"] == 53_120
    # totals are the column sums
    for key in ("params", "trainable_params", "buffers"):
        assert data["totals"][key] == sum(layer[key] for layer in data["layers"])
    assert data["layers"][-1]["output_shape"] == [1000]


def test_params_shorthand_with_input():
    result = run(
        "params", "Conv4-5-Pvalid-S2,Pool3,Conv3-5-Pvalid-S1,Pool2,FC5", "--input", "64x64x1"
    )
    assert result.exit_code == 0, result.output
    for expected in ("31×31×5", "10×10×5", "8×8×5", "4×4×5", "85", "230", "405", "720"):
        assert expected in result.stdout


def test_input_override_changes_shapes():
    data = json.loads(run("summary", "vgg16", "--input", "32x32x3", "-f", "json").stdout)
    assert data["input_shape"] == [32, 32, 3]
    # five 2× pools: 32 → 1; classifier input still 7×7×512 through adaptive_avgpool
    assert data["totals"]["params"] == 138_357_544


def test_shorthand_without_input_is_usage_error():
    result = run("params", "Conv4-5-Pvalid-S2,Pool3,FC5")
    assert result.exit_code == 2
    assert "--input" in result.stderr


@pytest.mark.parametrize("bad", ["4x4x4x4x4", "axbxc", "0x4x4", "4x4x0x4"])
def test_bad_input_option(bad: str):
    result = run("params", "seed_32x32", "--input", bad)
    assert result.exit_code == 2
    assert "--input" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_architecture_lists_bundled():
    result = run("summary", "resnet51")
    assert result.exit_code == 2
    assert "resnet50" in result.stderr


def test_spec_error_format_and_exit_code(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [4, 4, 3]\nlayers:\n  - conv: {filters: 8, kernel: 5}\n")
    result = run("params", str(spec))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{spec}:3:5: error: layer conv1: kernel 5 is larger")


def test_stdin_spec():
    text = (ARCHITECTURES / "seed_32x32.yaml").read_text()
    result = run("params", "-", "-f", "json", input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["params"] == 9740


def test_csv_columns_sum_to_total():
    result = run("params", "seed_32x32", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[-1]["Layer"] == "Total"
    assert sum(int(r["Params"]) for r in rows[:-1]) == int(rows[-1]["Params"]) == 9740


def test_markdown_and_latex_have_every_layer():
    for fmt in ("markdown", "latex"):
        out = run("params", "seed_21x21", "-f", fmt).stdout
        for name in ("conv1", "maxpool1", "conv2", "flatten1", "dense1"):
            assert name in out
        assert "2,606" in out


def test_zoo_lists_every_architecture():
    result = run("zoo", "-f", "json")
    names = {a["name"] for a in json.loads(result.stdout)["architectures"]}
    assert names == {p.stem for p in ARCHITECTURES.glob("*.yaml")}


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("cnncalc ")


def test_golden_table(golden):
    golden("params_seed_32x32.txt", run("params", "seed_32x32").stdout)


def test_golden_json(golden):
    golden("summary_seed_21x21.json", run("summary", "seed_21x21", "-f", "json").stdout)


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", "params", "seed_conv4", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["params"] == 720


def test_summary_json_has_every_pass():
    data = json.loads(run("summary", "vgg16", "-f", "json", "-c", "fvcore").stdout)
    totals = data["totals"]
    assert totals["macs"] == 15_470_264_320
    assert totals["flops"] == 15_470_289_408  # fvcore 0.1.5
    assert totals["convention"] == "fvcore"
    pool = next(layer for layer in data["layers"] if layer["name"] == "block5.pool")
    assert pool["rf"] == {
        "size": [212, 212],
        "stride": [32, 32],
        "center": [15.5, 15.5],
        "whole_input": False,
    }
    assert data["layers"][-1]["rf"] is None
    assert totals["memory"]["param_bytes"] == 138_357_544 * 4
    assert sum(layer["macs"] for layer in data["layers"]) == totals["macs"]


def test_flops_command_with_convention():
    result = run("flops", "resnet18", "--convention", "ptflops")
    assert result.exit_code == 0, result.output
    assert "1,825,313,768" in result.stdout


def test_unknown_convention_exit_2():
    result = run("flops", "resnet18", "-c", "gflops")
    assert result.exit_code == 2
    assert "unknown convention" in result.stderr


def test_rf_command_and_one_layer():
    result = run("rf", "vgg16", "--layer", "block5.pool")
    assert result.exit_code == 0, result.output
    assert "212" in result.stdout and "block5.pool" in result.stdout
    assert "block1.pool" not in result.stdout


def test_rf_strict_exits_1_when_not_aligned(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [8, 8, 1]\nlayers:\n"
        "  - conv: {name: a, filters: 2, kernel: 3, padding: 1}\n"
        "  - conv: {name: b, from: input, filters: 2, kernel: 3, padding: [2, 0, 2, 0]}\n"
        "  - add: {from: [a, b]}\n"
    )
    assert run("rf", str(spec)).exit_code == 0
    strict = run("rf", str(spec), "--strict")
    assert strict.exit_code == 1
    assert "not aligned" in strict.stderr


def test_memory_command_float16():
    result = run("memory", "seed_32x32", "--dtype", "float16", "-f", "json")
    memory = json.loads(result.stdout)["totals"]["memory"]
    assert memory["activation_bytes"] == 104_980
    assert memory["dtype"] == "float16"


def test_explain_all_layers_and_one_layer():
    every = run("params", "seed_32x32", "--explain")
    assert every.exit_code == 0, every.output
    assert "params = 5·5·3·20 + 20 = 1,520" in every.stdout
    assert "dense1" in every.stdout
    one = run("rf", "seed_32x32", "--explain", "conv2")
    assert one.exit_code == 0, one.output
    assert "size = 6 + (3 − 1)·2 = 10" in one.stdout
    assert "conv1" not in one.stdout


def test_unknown_layer_suggests():
    result = run("params", "seed_32x32", "--explain", "conv3")
    assert result.exit_code == 2
    assert "conv1" in result.stderr or "conv2" in result.stderr


def test_wide_summary_shows_every_column():
    out = run("summary", "resnet18", "--wide").stdout
    for header in ("From", "Trainable", "Buffers", "MACs", "RF", "Act. bytes"):
        assert header in out


@pytest.mark.parametrize("command", ["params", "flops", "rf", "memory", "summary"])
@pytest.mark.parametrize("arch", ["googlenet", "mobilenet_v2", "alexnet_grouped"])
def test_plain_tables_fit_100_columns(command: str, arch: str):
    result = run(command, arch)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


@pytest.mark.parametrize("line", ["Conv4-x", "Pool", "FC"])
def test_lone_malformed_shorthand_gets_the_shorthand_message(line: str):
    result = run("params", line, "--input", "8x8x1")
    assert result.exit_code == 2
    assert "malformed shorthand layer" in result.stderr
