"""Tables people can read: never a cut name or number, folding, ranking, footers, -h."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv
from cnncalc.render.layout import under_blocks, wrap_note
from cnncalc.render.tabular import Column, Tabular

runner = CliRunner()


def run(*args: str, columns: int | None = None):  # type: ignore[no-untyped-def]
    env = {"COLUMNS": str(columns)} if columns is not None else None
    return runner.invoke(app, normalize_argv(args), env=env)


def layers(arch: str, *options: str) -> list[dict]:  # type: ignore[type-arg]
    result = run("summary", arch, "-f", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["layers"]  # type: ignore[no-any-return]


def table_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and the body rows (totals included) of a box-drawn table, cells stripped."""
    lines = text.splitlines()
    header = [c.strip() for c in lines[2].strip("┃").split("┃")]
    rows = [
        [c.strip() for c in line.strip("│").split("│")] for line in lines if line.startswith("│")
    ]
    return header, rows


def full_names(cells: list[str]) -> list[str]:
    """Layer names as written out: a `…conv1` under a block row `layer1.0` is `layer1.0.conv1`;
    block rows themselves (no numbers) are dropped by the caller."""
    names, parent = [], ""
    for cell in cells:
        if cell.startswith("…"):
            names.append(f"{parent}.{cell[1:]}")
        else:
            names.append(cell)
            parent = cell
    return names


@pytest.mark.parametrize("columns", [80, 40, 20])
@pytest.mark.parametrize(
    "command, numbers",
    [
        ("summary", {"Params": "params", "MACs": "macs"}),
        ("params", {"Params": "params"}),
        ("flops", {"MACs": "macs"}),
        ("memory", {"Bytes (float32)": "activation_bytes"}),
    ],
)
def test_piped_tables_keep_every_name_and_number_whole(
    command: str, numbers: dict[str, str], columns: int
):
    expected = layers("resnet50")
    result = run(command, "resnet50", columns=columns)
    assert result.exit_code == 0, result.output
    header, rows = table_rows(result.stdout)
    body = rows[:-1]  # the last row is the totals
    names = full_names([row[0] for row in body])
    # block rows name a block and carry no numbers; every other row is one layer, in order
    layer_rows = [(n, row) for n, row in zip(names, body, strict=True) if any(row[1:])]
    assert [n for n, _ in layer_rows] == [layer["name"] for layer in expected]
    assert next(iter(numbers)) in header  # the command's own count is never dropped
    for column, key in numbers.items():
        if column not in header:  # an optional column, left out at this width
            continue
        at = header.index(column)
        for (name, row), layer in zip(layer_rows, expected, strict=True):
            assert row[at] == f"{layer[key]:,}", name
    if columns >= 80:  # a table that can fit does (notes may run longer: items stay whole)
        box = [line for line in result.stdout.splitlines() if line[:1] in "┏┃┡│├└"]
        assert max(len(line) for line in box) <= columns


@pytest.mark.parametrize("command", ["params", "flops", "rf", "memory", "summary"])
def test_wide_and_every_table_stay_within_100_columns_piped(command: str):
    for arch in ("resnet50", "googlenet", "mobilenet_v2"):
        for extra in (["--wide"] if command == "summary" else []), []:
            result = run(command, arch, *extra)
            assert result.exit_code == 0, result.output
            assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_dropped_columns_are_named():
    out = run("summary", "resnet50", "--wide").stdout
    assert "not shown for width:" in out
    header, _ = table_rows(out)
    note = out[out.index("not shown for width:") :]
    assert "Trainable" in note and "Trainable" not in header


def test_rich_table_never_cuts_a_number():
    """The terminal renderer: at 20 columns the table runs wider rather than fold 1,520."""
    table = Tabular("t", [Column("Layer", name=True), Column("Params", numeric=True)])
    table.rows = [["block.first_layer", "1,520"], ["block.second", "25,557,032"]]
    layout = table.fit(20)
    out = Console(file=io.StringIO(), width=max(layout.width, 20), color_system=None)
    out.print(table.to_rich(20))
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "1,520" in text and "25,557,032" in text
    assert "…first_layer" in text and "…second" in text and "block" in text


def test_names_under_their_block():
    rows = [["conv1", "1"], ["l.0.a", "2"], ["l.0.b", "3"], ["l.1.a", "4"], ["fc", "5"]]
    assert under_blocks(rows, 0) == [
        ["conv1", "1"],
        ["l.0", ""],
        ["…a", "2"],
        ["…b", "3"],
        ["l.1.a", "4"],  # alone in its block: whole
        ["fc", "5"],
    ]


def test_notes_wrap_between_items_only():
    note = "MACs 4,089,184,256 (4.089 G) · param memory 97.49 MiB · inference peak 9.19 MiB"
    assert wrap_note(note, 40) == [
        "MACs 4,089,184,256 (4.089 G)",
        "  param memory 97.49 MiB",
        "  inference peak 9.19 MiB",
    ]
    assert wrap_note(note, 20)[0] == "MACs 4,089,184,256 (4.089 G)"  # longer, never cut


def test_summary_footer_wording():
    out = run("summary", "resnet50").stdout
    assert "param memory 97.49 MiB" in out
    assert "params 97.49 MiB" not in out
    assert "macs 4,089,184,256" not in out  # MACs once, not again as the convention
    fvcore = run("summary", "resnet50", "-c", "fvcore")
    flops = json.loads(run("summary", "resnet50", "-c", "fvcore", "-f", "json").stdout)
    assert f"FLOPs (fvcore) {flops['totals']['flops']:,}" in fvcore.stdout


def test_depth_folds_blocks_with_subtotals():
    result = run("summary", "resnet50", "--depth", "2")
    assert result.exit_code == 0, result.output
    header, rows = table_rows(result.stdout)
    by_name = {row[0]: row for row in rows}
    assert len(rows) == 4 + 16 + 2 + 1  # stem, 16 blocks, avgpool and fc, totals
    block = by_name["layer1.0"]
    assert block[header.index("Kind")] == "12 layers"
    # conv1 4,096 + bn1 128 + conv2 36,864 + bn2 128 + conv3 16,384 + bn3 512 + downsample
    # 16,384 + 512
    assert block[header.index("Params")] == "75,008"
    # 12,845,056 + 115,605,504 + 51,380,224 (conv3) + 51,380,224 (downsample)
    assert block[header.index("MACs")] == "231,211,008"
    assert block[header.index("Output shape")] == "56×56×256"
    params = [int(row[header.index("Params")].replace(",", "")) for row in rows[:-1]]
    assert f"{sum(params):,}" == rows[-1][header.index("Params")] == "25,557,032"
    assert "--depth 0" in result.stdout
    stages = table_rows(run("params", "resnet50", "--depth", "1").stdout)[1]
    assert [row[0] for row in stages[:-1]] == [
        *("conv1", "bn1", "relu1", "maxpool1"),
        *("layer1", "layer2", "layer3", "layer4", "avgpool", "fc"),
    ]


def test_piped_and_json_are_never_folded():
    assert len(table_rows(run("summary", "resnet50").stdout)[1]) == 174 + 1
    assert len(table_rows(run("summary", "resnet50", "--depth", "0").stdout)[1]) == 175
    assert len(layers("resnet50", "--depth", "1")) == 174


def test_sort_and_top_list_the_heaviest():
    _, rows = table_rows(run("params", "resnet50", "--sort", "params", "--top", "4").stdout)
    # layer4.*.conv2: 3·3·512·512 = 2,359,296 each; then 1·1·1024·2048 = 2,097,152 (more
    # than fc's 2048·1000 + 1000 = 2,049,000)
    assert [(row[0], row[4]) for row in rows[:-1]] == [
        ("layer4.0.conv2", "2,359,296"),
        ("layer4.1.conv2", "2,359,296"),
        ("layer4.2.conv2", "2,359,296"),
        ("layer4.0.downsample.0", "2,097,152"),
    ]
    assert rows[-1][4] == "25,557,032"  # totals stay the network's
    data = layers("resnet50", "--sort", "macs", "--top", "2")
    assert [layer["name"] for layer in data] == ["conv1", "layer1.0.conv2"]  # 118,013,952 first
    flops = table_rows(run("flops", "vgg16", "--top", "1").stdout)[1]
    # 224·224·64·3·3·64 = 1,849,688,064 MACs, the most (block2's and block3's second convs tie)
    assert flops[0][0] == "block1.conv.1.conv" and flops[0][3] == "1,849,688,064"
    assert run("summary", "resnet50", "--sort", "bytes").exit_code == 2
    assert run("summary", "resnet50", "--top", "0").exit_code == 2


def test_share_columns():
    header, rows = table_rows(run("params", "seed_32x32").stdout)
    assert rows[0][header.index("Share")] == "15.6%"  # 1,520 of 9,740
    header, rows = table_rows(run("summary", "seed_32x32", "--wide").stdout)
    assert rows[0][header.index("% MACs")] == "76.7%"  # 1,536,000 of 2,003,200


def test_rf_table_shows_the_layer_window_and_whole_input():
    rows = list(csv_rows(run("rf", "seed_21x21", "-f", "csv").stdout))
    conv1 = rows[0]
    assert conv1["Kernel"] == "5" and conv1["Stride"] == "2" and conv1["Pad"] == "0"
    assert conv1["Dil."] == "1" and conv1["RF size"] == "5" and conv1["RF stride"] == "2"
    rf = {row["Layer"]: row for row in csv_rows(run("rf", "resnet50", "-f", "csv").stdout)}
    assert rf["layer4.2.relu3"]["Note"] == "whole input"  # 427 ≥ 224
    assert rf["layer1.0.conv1"]["Note"] == ""
    by_name = {layer["name"]: layer for layer in layers("resnet50")}
    assert by_name["layer4.2.relu3"]["rf"]["whole_input"] is True
    assert by_name["avgpool"]["rf"]["whole_input"] is True
    assert by_name["conv1"]["rf"] == {
        "size": [7, 7],
        "stride": [2, 2],
        "center": [0, 0],  # 0 + ((7 − 1)/2 − 3)·1
        "whole_input": False,
    }


def csv_rows(text: str):  # type: ignore[no-untyped-def]
    import csv

    lines = text.splitlines()
    header = next(csv.reader(lines[:1]))
    for values in csv.reader(lines[1:]):
        yield dict(zip(header, values, strict=True))


UNALIGNED = (
    "input: [8, 8, 1]\nlayers:\n"
    "  - conv: {name: a, filters: 2, kernel: 3, padding: 1}\n"
    "  - conv: {name: b, from: input, filters: 2, kernel: 3, padding: [2, 0, 2, 0]}\n"
    "  - add: {from: [a, b]}\n"
)


def test_rf_strict_names_the_paths_and_centers(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(UNALIGNED)
    strict = run("rf", str(spec), "--strict")
    assert strict.exit_code == 1
    # a: center 0 + ((3 − 1)/2 − 1)·1 = 0; b: 0 + ((3 − 1)/2 − 2)·1 = −1
    assert "add1" in strict.stderr
    assert "a (stride 1, center 0)" in strict.stderr
    assert "b (stride 1, center -1)" in strict.stderr
    explained = run("rf", str(spec), "--explain", "add1")
    assert "not aligned: a stride 1 center 0, b stride 1 center -1" in explained.stdout


def test_diff_csv_leaves_missing_cells_empty():
    out = run("diff", "resnet18", "resnet50", "-f", "csv").stdout
    assert "—" not in out
    fc = next(row for row in csv_rows(out) if row["Layer"] == "fc")
    assert fc["RF"] == ""


def test_zoo_lists_input_params_and_macs():
    header, rows = table_rows(run("zoo").stdout)
    resnet50 = next(row for row in rows if row[0] == "resnet50")
    assert resnet50[header.index("Params")] == "25,557,032"
    assert resnet50[header.index("MACs")] == "4,089,184,256"
    entries = json.loads(run("zoo", "-f", "json").stdout)["architectures"]
    lenet = next(e for e in entries if e["name"] == "lenet5")
    assert lenet["input_shape"] == [32, 32, 1] and lenet["params"] == 61_706
    assert lenet["macs"] == 416_520


COMMANDS = ["params", "flops", "rf", "memory", "summary", "zoo", "graph", "diff", "check"]
COMMANDS += ["verify", "schema"]


@pytest.mark.parametrize("command", COMMANDS)
def test_short_help_and_whole_words(command: str):
    short, long = run(command, "-h"), run(command, "--help")
    assert short.exit_code == 0 and short.stdout == long.stdout
    assert "{" not in short.stdout.splitlines()[1]  # `Usage: cnncalc params [OPTIONS] ARCH`
    words = set(re.split(r"[\s│╭╮╰╯─]+", short.stdout))
    from typer.main import get_command

    click_command = get_command(app).commands[command]  # type: ignore[attr-defined]
    for param in click_command.params:
        for word in (getattr(param, "help", None) or "").split():
            assert word in words, f"{command}: {word!r} is cut"


@pytest.mark.parametrize(
    "args",
    [
        ("params", "--explain", "seed_32x32"),
        ("params", "seed_32x32", "--explain"),
        ("params", "-i", "32x32x3", "--explain", "seed_32x32"),
    ],
)
def test_explain_does_not_swallow_the_architecture(args: tuple[str, ...]):
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "conv1 (conv)" in result.stdout and "dense1 (dense)" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("params", "seed_32x32", "--explain", "conv2"),
        ("params", "--explain", "conv2", "seed_32x32"),
    ],
)
def test_explain_one_layer_before_or_after_the_architecture(args: tuple[str, ...]):
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("conv2 (conv)") and "conv1" not in result.stdout


def test_explain_as_json_and_on_summary_and_flops():
    data = json.loads(run("summary", "seed_32x32", "--explain", "conv1", "-f", "json").stdout)
    steps = {s["label"]: s for s in data["layers"][0]["steps"]}
    assert steps["params"] == {"label": "params", "derivation": "5·5·3·20 + 20", "value": 1520}
    assert steps["MACs"]["value"] == 1_536_000  # 32·32·20·5·5·3
    assert steps["bytes (float32)"]["value"] == 81_920  # 32·32·20·4
    flops = run("flops", "seed_32x32", "-c", "flops", "--explain", "conv1").stdout
    # 2 per MAC plus one bias add per output element: 2·1,536,000 + 32·32·20
    assert "FLOPs (flops) = 2·1536000 + 20480 = 3,092,480" in flops


def test_a_table_without_rows_is_drawn() -> None:
    # the column widths of an empty table are its headers' (max() of one value failed)
    table = Tabular("empty", [Column("Layer"), Column("Params", True)])
    assert table.to_text(80).splitlines()[2] == "┃ Layer ┃ Params ┃"
    assert table.to_csv() == "Layer,Params\n"
