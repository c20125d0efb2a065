"""`cnncalc solve`: the inverse problem, with answers worked out by hand from
out = ⌊(in + 2p − d·(k − 1) − 1)/s⌋ + 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.design.solve import find_unknowns, solve

runner = CliRunner()


def cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args), input=input)


def test_textbook_single_layer() -> None:
    # 224 → 112 with a 7×7 kernel: ⌊(217 + 2p)/s⌋ = 111 only for s = 2, 2p ∈ {5, 6}: p = 3;
    # `same` pads (2, 3), the same 5 rows. s = 3 would need p ≥ 58, beyond the range (0–5)
    result = cli("solve", "--in", "224", "--out", "112", "--kernel", "7")
    assert result.exit_code == 0, result.output
    assert "best: stride 2, padding 3 (or same)" in result.stdout
    data = json.loads(
        cli("solve", "--in", "224", "--out", "112", "--kernel", "7", "-f", "json").stdout
    )
    assert data["best"] == "stride 2, padding 3 (or same)"
    assert [s["values"] for s in data["solutions"]] == [
        {"stride": "2", "padding": "3"},
        {"stride": "2", "padding": "same"},
    ]
    assert data["tried"] == 4 * 7  # strides 1–4 × paddings 0–5 and same


def test_single_layer_with_dilation_unknown() -> None:
    # 28 → 28, 3×3, stride 1: 2p = 2d, so p = d for d = 1, 2, 3 (and same for each)
    data = json.loads(
        cli(
            "solve",
            "--in",
            "28",
            "--out",
            "28",
            "--kernel",
            "3",
            "--stride",
            "1",
            "--dilation",
            "?",
            "-f",
            "json",
        ).stdout
    )
    pairs = {(s["values"]["padding"], s["values"]["dilation"]) for s in data["solutions"]}
    assert pairs == {
        ("1", "1"),
        ("2", "2"),
        ("3", "3"),
        ("same", "1"),
        ("same", "2"),
        ("same", "3"),
    }
    assert data["best"] == "padding 1, dilation 1 (or same)"


def test_single_layer_pooling() -> None:
    # a 2×2 max pool halving 32: ⌊(32 + 2p − 2)/s⌋ + 1 = 16 → s = 2, p = 0 (or same)
    result = cli("solve", "--in", "32", "--out", "16", "--kernel", "2", "--kind", "maxpool")
    assert result.exit_code == 0, result.output
    assert "best: stride 2, padding 0 (or same)" in result.stdout


def test_unreachable_output_names_the_target_and_the_nearest() -> None:
    # a 3×3 kernel at most grows 224 by 2p − 2 ≤ 8: 232 is the nearest to 300
    result = cli("solve", "--in", "224", "--out", "300", "--kernel", "3")
    assert result.exit_code == 1
    assert "--out 300×300 is unreachable" in result.stderr
    assert "232×232×1 (stride 1, padding 5)" in result.stderr
    assert "Traceback" not in result.output


SPEC = """\
name: textbook
input: [224, 224, 3]
layers:
  - conv: {name: conv1, filters: 64, kernel: 7, stride: ?, padding: ?}
  - maxpool: {name: pool1, kernel: 3, stride: 2, padding: 1}
  - conv: {name: conv2, filters: ?, kernel: 3, padding: 1}
expect:
  output_shape: [56, 56, 128]
  max_params: 100K
"""


def test_spec_unknowns_by_hand() -> None:
    # pool1 gives 56 from conv1's 111 or 112: stride 2 with padding 2 (111), 3 or same (112);
    # conv2 must have 128 filters; params 7·7·3·64 + 64 + 3·3·64·128 + 128 = 83,328 ≤ 100K
    result = solve(SPEC)
    found = [s.values for s in result.solutions]
    assert found == [("2", "2", "128"), ("2", "3", "128"), ("2", "same", "128")]
    assert {s.params for s in result.solutions} == {83_328}
    # ranked: equal params, then fewest MACs (111×111 before 112×112)
    assert result.solutions[0].macs < result.solutions[1].macs
    assert result.headline() == "stride 2, padding 2, filters 128"


def test_write_gives_the_solved_spec(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "solved.yaml"
    result = cli("solve", str(spec), "--write", str(out))
    assert result.exit_code == 0, result.output
    solved = out.read_text()
    assert "stride: 2, padding: 2}" in solved and "filters: 128," in solved
    net = cnncalc.load(out)
    assert net.shapes[net.output.name] == (56, 56, 128)
    report = cnncalc.analyze(net)
    assert report.totals.params == 83_328


def test_block_argument_unknown() -> None:
    spec = """\
input: [32, 32, 3]
blocks:
  stage:
    args: {width: 8}
    layers:
      - conv: {name: conv, filters: $width, kernel: 3, padding: 1}
      - relu
layers:
  - stage: {name: s1, width: $(?)}
  - maxpool: {kernel: 2}
  - flatten
  - dense: {units: 10}
expect:
  min_params: 10K
"""
    # params = 27w + w + 16·16·w·10 + 10 = 2,588w + 10 ≥ 10,000 → w ≥ 4 (3.86): 4 is fewest
    result = solve(spec)
    assert [u.name for u in result.unknowns] == ["width"]
    assert result.solutions[0].values == ("4",)
    assert result.solutions[0].params == 2_588 * 4 + 10


def test_unreachable_target_in_a_spec_points_at_it() -> None:
    result = cli("solve", SPEC.replace("max_params: 100K", "max_params: 1K"))
    assert result.exit_code == 1
    assert ":9:15: error: max_params 1K is unreachable; nearest: 10,049" in result.stderr


def test_targets_reachable_only_one_at_a_time() -> None:
    spec = """\
input: [8, 8, 1]
layers:
  - conv: {filters: 1, kernel: 3, padding: ?}
expect: {output_shape: [6, 6, 1], min_macs: 500}
"""
    # padding 0 gives 6×6 (324 MACs... 6·6·9 = 324 < 500); larger paddings give more MACs
    result = cli("solve", spec)
    assert result.exit_code == 1
    assert "no combination meets every target together" in result.stderr
    assert "nearest: padding 0" in result.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("input: [8, 8, 1]\nlayers:\n  - conv: {filters: 2, kernel: ?}\n", "states no target"),
        ("input: [8, 8, 1]\nlayers:\n  - conv: {filters: 2, kernel: 3}\n", "no unknowns"),
        (
            "input: [64, 64, 1]\nlayers:\n"
            + "".join("  - conv: {filters: ?, kernel: ?, padding: same}\n" for _ in range(3))
            + "expect: {max_params: 1K}\n",
            "combinations",
        ),
    ],
)
def test_bad_problems_exit_2(spec: str, message: str) -> None:
    result = cli("solve", "-", input=spec)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_markers_in_comments_and_text_are_not_unknowns() -> None:
    text = "name: what?\n# stride: ?\nlayers:\n  - conv: {kernel: 3, stride: ?}  # padding: ?\n"
    unknowns = find_unknowns(text, "f")
    assert [(u.name, u.pos.line, u.pos.col) for u in unknowns] == [("stride", 4, 31)]


@pytest.mark.parametrize("command", ["solve", "sweep", "roofline"])
def test_design_commands_help_shows_every_word(command: str) -> None:
    import re

    from typer.main import get_command

    result = cli(command, "-h")
    assert result.exit_code == 0
    words = set(re.split(r"[\s│╭╮╰╯─]+", result.stdout))
    click_command = get_command(app).commands[command]  # type: ignore[attr-defined]
    for param in click_command.params:
        for word in (getattr(param, "help", None) or "").split():
            assert word in words, f"{command}: {word!r} is cut"
