"""`cnncalc diff A B`: per-layer and total deltas, matched by layer name.

tests/data/diff/before.yaml and after.yaml carry the hand-worked numbers in their comments.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.diff import Delta, diff_reports
from cnncalc.loader import load
from cnncalc.passes.memory import MemoryOptions
from cnncalc.report import analyze
from tests.conftest import ROOT

BEFORE = "tests/data/diff/before.yaml"
AFTER = "tests/data/diff/after.yaml"
runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def small_diff():  # type: ignore[no-untyped-def]
    return diff_reports(analyze(load(str(ROOT / BEFORE))), analyze(load(str(ROOT / AFTER))))


def test_layers_matched_by_name_in_order():
    diff = small_diff()
    assert [(layer.name, layer.status) for layer in diff.layers] == [
        ("conv1", "same"),
        ("relu1", "same"),
        ("maxpool1", "same"),
        ("conv2", "changed"),  # 8 → 16 filters
        ("relu2", "changed"),  # its shape follows
        ("conv3", "added"),
        ("global_avgpool1", "changed"),
        ("flatten1", "changed"),
        ("dropout1", "removed"),  # where it was: after flatten1
        ("dense1", "changed"),  # 8 → 16 inputs
    ]
    counts = {s: diff.count(s) for s in ("added", "removed", "changed", "same")}
    assert counts == {"added": 1, "removed": 1, "changed": 5, "same": 3}


def test_layer_deltas_by_hand():
    layers = {layer.name: layer for layer in small_diff().layers}
    conv2 = layers["conv2"]
    assert conv2.shapes == ((8, 8, 8), (8, 8, 16))
    assert conv2.count("params") == Delta(584, 1_168)  # 3·3·8·8 + 8 → 3·3·8·16 + 16
    assert conv2.count("params").delta == 584
    assert conv2.count("macs").delta == 36_864  # 8·8·8·72 → 8·8·16·72
    conv3 = layers["conv3"]
    assert conv3.a is None and conv3.count("params") == Delta(None, 2_304)  # 3·3·16·16
    assert conv3.count("macs").delta == 36_864  # 4·4·16·144
    assert conv3.rfs[1] is not None
    assert (conv3.rfs[1].size, conv3.rfs[1].stride) == ((12, 12), (4, 4))  # 8 + 2·2; 2·2
    dropout = layers["dropout1"]
    assert dropout.b is None and dropout.count("params") == Delta(0, None)
    assert dropout.shapes == ((8,), None)
    dense = layers["dense1"]
    assert dense.count("params").delta == 80  # 8·10 + 10 → 16·10 + 10
    assert dense.count("macs").delta == 80


def test_total_deltas_by_hand():
    diff = small_diff()
    assert diff.total("params") == Delta(898, 3_866)
    assert diff.total("params").delta == 2_968
    assert diff.total("macs") == Delta(92_240, 166_048)
    assert diff.total("macs").delta == 73_808
    assert diff.total("buffers").delta == 0
    assert diff.total("param_bytes") == Delta(898 * 4, 3_866 * 4)
    # peak: relu1 while conv1's output is alive, 2 × 16·16·8 × 4 B in both
    assert diff.total("inference_peak_bytes") == Delta(16_384, 16_384)
    # the sum of the per-layer deltas is the total delta
    for quantity in ("params", "macs", "flops"):
        per_layer = sum(layer.count(quantity).delta for layer in diff.layers)
        assert per_layer == diff.total(quantity).delta


def test_resnet18_to_resnet50():
    diff = diff_reports(analyze(load("resnet18")), analyze(load("resnet50")))
    assert diff.total("params").delta == 25_557_032 - 11_689_512 == 13_867_520
    assert diff.total("macs").delta == 4_089_184_256 - 1_814_073_344
    assert diff.total("buffers").delta == 53_120 - 9_600
    assert diff.count("added") == 174 - 68 and diff.count("removed") == 0
    assert [layer.name for layer in diff.layers] == [row.node.name for row in diff.b.layers]


def test_removed_layers_stay_where_they_were(tmp_path: Path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(
        "input: [4, 4, 1]\nlayers:\n  - relu: {name: x}\n  - relu: {name: p}\n"
        "  - relu: {name: q}\n  - relu: {name: y}\n"
    )
    b.write_text("input: [4, 4, 1]\nlayers:\n  - relu: {name: p}\n  - relu: {name: z}\n")
    diff = diff_reports(analyze(load(str(a))), analyze(load(str(b))))
    assert [(layer.name, layer.status) for layer in diff.layers] == [
        ("x", "removed"),  # before every common layer: first
        ("p", "changed"),  # its input: x → the network input
        ("q", "removed"),  # after p, the common layer before it in A
        ("y", "removed"),
        ("z", "added"),
    ]


def test_self_diff_is_empty():
    report = analyze(load("resnet50"))
    diff = diff_reports(report, report)
    assert diff.changed == []
    assert all(diff.total(q).delta == 0 for q in ("params", "macs", "flops", "buffers"))
    result = run("diff", "resnet50", "resnet50")
    assert result.exit_code == 0
    assert "174 unchanged" in result.stdout
    assert "params 25,557,032 → 25,557,032: no change" in result.stdout
    listed = json.loads(run("diff", "resnet50", "resnet50", "-f", "json").stdout)["layers"]
    assert listed == []
    every = json.loads(run("diff", "vgg16", "vgg16", "--all", "-f", "json").stdout)["layers"]
    assert len(every) == len(analyze(load("vgg16")).layers)
    assert {layer["status"] for layer in every} == {"same"}


def test_review_summary_line():
    result = run("diff", "resnet18", "resnet50")
    assert result.exit_code == 0, result.output
    assert "params 11,689,512 → 25,557,032: +13,867,520 (+13.87 M, +118.6%)" in result.stdout
    assert "MACs 1,814,073,344 → 4,089,184,256: +2,275,110,912 (+2.28 G, +125.4%)" in (
        result.stdout
    )
    smaller = run("diff", "resnet50", "resnet18").stdout
    assert "params 25,557,032 → 11,689,512: -13,867,520 (-13.87 M, -54.3%)" in smaller


def test_golden_table(in_root: Path, golden):  # type: ignore[no-untyped-def]
    result = run("diff", BEFORE, AFTER)
    assert result.exit_code == 0, result.output
    golden("diff_table.txt", result.stdout)


def test_golden_table_all(in_root: Path, golden):  # type: ignore[no-untyped-def]
    golden("diff_table_all.txt", run("diff", BEFORE, AFTER, "--all").stdout)


def test_golden_json(in_root: Path, golden):  # type: ignore[no-untyped-def]
    result = run("diff", BEFORE, AFTER, "-f", "json")
    data = json.loads(result.stdout)
    assert data["totals"]["params"] == {"a": 898, "b": 3866, "delta": 2968}
    assert data["layer_counts"] == {"added": 1, "removed": 1, "changed": 5, "same": 3}
    assert [layer["name"] for layer in data["layers"]] == [
        "conv2",
        "relu2",
        "conv3",
        "global_avgpool1",
        "flatten1",
        "dropout1",
        "dense1",
    ]
    golden("diff.json", result.stdout)


def test_csv_and_markdown(in_root: Path):
    rows = list(csv.DictReader(io.StringIO(run("diff", BEFORE, AFTER, "-f", "csv").stdout)))
    assert rows[-1]["Layer"] == "Total"
    assert rows[-1]["Δ Params"] == "+2968"
    assert sum(int(r["Δ Params"] or 0) for r in rows[:-1]) == 2968
    markdown = run("diff", BEFORE, AFTER, "-f", "markdown").stdout
    assert "| conv3 | added | 4×4×16 | +2,304 | +36,864 | 12/4 |" in markdown


def test_convention_memory_and_input_options(in_root: Path):
    result = run("diff", BEFORE, AFTER, "-c", "fvcore", "--dtype", "float16", "--batch", "2")
    assert result.exit_code == 0, result.output
    # fvcore also counts global average pooling's input elements: + 8·8·8, + 4·4·16
    assert "FLOPs (fvcore) 92,752 → 166,304: +73,552" in result.stdout
    assert "inference peak (float16, batch 2) 16.00 KiB → 16.00 KiB: no change" in result.stdout
    shorthand = run("diff", "Conv3-4,FC2", "Conv3-8,FC2", "--input", "8x8x1", "-f", "json")
    data = json.loads(shorthand.stdout)
    # conv 3·3·1·4 + 4 = 40 → 3·3·1·8 + 8 = 80; dense 144·2 + 2 = 290 → 288·2 + 2 = 578
    assert data["totals"]["params"] == {"a": 330, "b": 658, "delta": 328}


def test_same_memory_options_on_both_sides():
    options = MemoryOptions("float16", 8)
    a = analyze(load("seed_32x32"), memory=options)
    b = analyze(load("seed_21x21"), memory=options)
    data = diff_reports(a, b).to_dict()
    assert data["memory"] == {"dtype": "float16", "batch": 8}
    assert data["totals"]["param_bytes"] == {"a": 9_740 * 2, "b": 2_606 * 2, "delta": -7_134 * 2}


def test_errors_exit_2(tmp_path: Path):
    missing = run("diff", "seed_32x32", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2
    assert missing.stderr == f"{tmp_path / 'nope.yaml'}: error: no such file\n"
    both_stdin = run("diff", "-", "-", input="")
    assert both_stdin.exit_code == 2
    assert "only one of A and B can be `-`" in both_stdin.stderr
    text = (ROOT / AFTER).read_text()
    from_stdin = run("diff", BEFORE.replace("tests", str(ROOT / "tests"), 1), "-", input=text)
    assert from_stdin.exit_code == 0, from_stdin.output
    assert "+2,968" in from_stdin.stdout


def test_a_network_against_itself_changes_nothing(in_root: Path) -> None:
    # the same source on both sides is read and analysed once
    result = run("diff", BEFORE, BEFORE, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"]["params"] == {"a": 898, "b": 898, "delta": 0}
    assert data["layer_counts"] == {"added": 0, "removed": 0, "changed": 0, "same": 9}


def test_two_analyses_of_one_network_match_layer_by_layer() -> None:
    # not the same rows (as `diff A A` has): every layer compared field by field
    a, b = analyze(load("resnet18")), analyze(load("resnet18"))
    diff = diff_reports(a, b)
    assert all(x is not y for x, y in zip(a.layers, b.layers, strict=True))
    assert diff.changed == [] and diff.count("same") == 68
    smaller = diff_reports(a, analyze(load("resnet18"), memory=MemoryOptions("float16")))
    assert smaller.count("same") == 68  # activation bytes are not part of a layer's change
    wider = diff_reports(a, analyze(load("resnet18", [256, 256, 3])))
    # every output shape changes (global_avgpool's field), but not fc's: 512 → 1000 either way
    assert [layer.name for layer in wider.layers if layer.status == "same"] == ["fc"]
    assert wider.count("changed") == 67
