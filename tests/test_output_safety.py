"""Output safety: names, file names and messages with terminal escapes, bidi overrides, line
breaks and rich markup reach no output as raw control characters, split no table row or error
line, and print literally (not as markup) in rich tables.

Every command × format runs on one spec whose layer names, block instance name, network
`name:` and file name are hostile; the expected escapes are written out by hand.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv
from cnncalc.cli import verify as verify_cli
from cnncalc.errors import SourcePos, SpecError
from cnncalc.render import output
from cnncalc.render.safe import error_text, json_text, visible
from tests.test_exports import render_markdown

runner = CliRunner()

# a layer name (no spaces, commas or tabs: the spec's rule) that sets the terminal title,
# clears the screen, reverses the text, is rich markup (a `[/]` with nothing to close raises
# in rich's parser), an emoji code, and has a newline, C1 NEL, DEL, a bidi isolate, a CR
LAYER = (
    "ev\x1b]0;t\x07\x1b[2J\u202e[/][bold]x[/][link=https://e.x]l[/link]:smile:\n\x85\x7f\u2066\r"
)
LAYER_SHOWN = (
    r"ev\x1b]0;t\x07\x1b[2J\u202e[/][bold]x[/][link=https://e.x]l[/link]:smile:\n\x85\x7f\u2066\r"
)
NETWORK = "net \x1b[31m\t[bold]\u202e\nname"
NETWORK_SHOWN = r"net \x1b[31m\t[bold]\u202e\nname"
BLOCK = "blk\x1b[1m\u2067\u2028"
FILE = "spec\x1b]0;t\x07\u202e\n.yaml"
FILE_SHOWN = r"spec\x1b]0;t\x07\u202e\n.yaml"

# what must never be written raw: C0 (the renderer's own newline aside), DEL, C1, bidi
# embeddings/overrides/isolates, the Unicode line and paragraph separators, lone surrogates
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def hostile_spec(**expect: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": NETWORK,
        "input": [8, 8, 3],
        "blocks": {"b": {"layers": [{"conv": {"name": "c", "filters": 4, "kernel": 1}}]}},
        "layers": [
            {"conv": {"name": LAYER, "filters": 4, "kernel": 3, "padding": 1}},
            # a field shifted half a pixel: `rf --strict` names the add
            {
                "conv": {
                    "name": "off",
                    "from": "input",
                    "filters": 4,
                    "kernel": 2,
                    "padding": [1, 0, 1, 0],
                }
            },
            {"add": {"name": f"add{LAYER}", "from": [LAYER, "off"]}},
            {"repeat": {"block": "b", "times": 2, "name": BLOCK}},
            "flatten",
            {"dense": {"units": 3}},
        ],
    }
    if expect:
        spec["expect"] = expect
    return spec


LAYERS = 7  # the rows of the tables: 3 + 2 from the repeat + flatten + dense


def write(folder: Path, spec: object, name: str = FILE) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(spec, allow_unicode=False, sort_keys=False), "utf-8")
    return str(path)


@pytest.fixture
def spec_file(tmp_path: Path) -> str:
    return write(tmp_path, hostile_spec())


def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, normalize_argv(args), env={"COLUMNS": "400", **env})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    for stream in (result.stdout, result.stderr):
        assert not RAW.search(stream), repr(RAW.search(stream))
    return result


def error_lines(stderr: str) -> list[str]:
    """stderr as `…error: …` lines each optionally followed by its `  hint:` line."""
    lines = stderr.splitlines()
    for line in lines:
        assert "error: " in line or line.startswith("  hint: "), lines
    return lines


def test_visible_escapes_exactly_the_unsafe_characters():
    text = "a\x00\x1b\x7f\x85\x9f\u202a\u202e\u2066\u2069\u2028\u2029\udcff\t\n\r é×\u202f[b]"
    assert visible(text) == (
        r"a\x00\x1b\x7f\x85\x9f\u202a\u202e\u2066\u2069\u2028\u2029\udcff\t\n\r" + " é×\u202f[b]"
    )
    assert visible("conv1") == "conv1"


def test_json_text_reads_back_and_has_no_raw_controls():
    data = {"name": LAYER + "\x9f\u2029\udcff", "n": [1, 2]}
    text = json_text(data)
    assert not RAW.search(text) and text.endswith("}\n")
    assert json.loads(text) == data


# --- every table command × format -------------------------------------------------------------

TABLE_COMMANDS = [["params"], ["flops"], ["rf"], ["memory"], ["summary"], ["summary", "--wide"]]


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_plain_table_rows_stay_whole(spec_file: str, command: list[str]):
    out = run(*command, spec_file).stdout
    lines = out.splitlines()
    assert lines[0] == f"{NETWORK_SHOWN} — " + lines[0].split(" — ")[-1]
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    bottom = next(i for i, line in enumerate(lines) if line.startswith("└"))
    body = lines[top : bottom + 1]
    assert all(line[0] in "┏┃┡│├└" and len(line) == len(body[0]) for line in body)
    assert r"\x1b]0;t\x07" in out


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_csv_one_record_per_line(spec_file: str, command: list[str]):
    out = run(*command, spec_file, "-f", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == len(out.splitlines())
    names = [row[0] for row in rows[1:]]
    assert names[0] == LAYER_SHOWN
    assert names[2] == f"add{LAYER_SHOWN}"
    assert names[3].startswith(r"blk\x1b[1m\u2067\u2028")
    assert len(names) == LAYERS + (command != ["rf"])  # the totals row


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_markdown_cells_read_back_escaped(spec_file: str, command: list[str]):
    cells = render_markdown(run(*command, spec_file, "-f", "markdown").stdout)
    assert cells.rows[1][0] == LAYER_SHOWN
    assert cells.paragraphs[0] == NETWORK_SHOWN + " — " + cells.paragraphs[0].split(" — ")[-1]
    assert len(cells.rows) == 1 + LAYERS + (command != ["rf"])


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_latex_one_row_per_line(spec_file: str, command: list[str]):
    out = run(*command, spec_file, "-f", "latex").stdout
    rows = [line for line in out.splitlines() if line.endswith(r"\\")]
    assert len(rows) == 1 + LAYERS + (command != ["rf"])
    assert rows[1].startswith(r"ev\textbackslash{}x1b{]}0;t\textbackslash{}x07")
    assert out.splitlines()[0].startswith(f"% {NETWORK_SHOWN} — ")  # a comment, not escaped


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_json_keeps_the_exact_names(spec_file: str, command: list[str]):
    data = json.loads(run(*command, spec_file, "-f", "json").stdout)
    assert data["name"] == NETWORK
    assert data["layers"][0]["name"] == LAYER
    assert data["layers"][2]["inputs"] == [LAYER, "off"]


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_rich_table_shows_markup_literally(
    spec_file: str, command: list[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(output, "plain_output", lambda: False)
    out = run(*command, spec_file).stdout
    assert LAYER_SHOWN in out
    assert NETWORK_SHOWN.replace(r"\t", "\\t") in out
    assert "😄" not in out


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_svg_is_well_formed_and_escaped(spec_file: str, command: list[str], tmp_path: Path):
    svg = tmp_path / "out.svg"
    run(*command, spec_file, "--svg", str(svg), "-q")
    text = svg.read_text("utf-8")
    assert not RAW.search(text)
    ET.fromstring(text)  # XML 1.0 has no place for most control characters
    assert "x1b]0;t" in text


@pytest.mark.parametrize("command", ["params", "flops", "rf", "memory"])
def test_explain_headings_stay_one_line(spec_file: str, command: str, tmp_path: Path):
    svg = tmp_path / "explain.svg"
    out = run(command, spec_file, "--explain", "--svg", str(svg)).stdout
    blocks = out.strip("\n").split("\n\n")
    assert len(blocks) == LAYERS
    assert blocks[0].startswith(LAYER_SHOWN + " (conv)")
    assert all(line.startswith("  ") for b in blocks for line in b.splitlines()[1:])
    ET.fromstring(svg.read_text("utf-8"))


def test_zoo_and_schema_are_clean():
    for fmt in ("table", "json", "csv", "markdown", "latex"):
        run("zoo", "-f", fmt)
    run("schema")


# --- graph, check, diff, verify --------------------------------------------------------------


def test_mermaid_one_statement_per_line(spec_file: str):
    lines = run("graph", spec_file).stdout.splitlines()
    assert lines[0] == rf"%% {NETWORK_SHOWN}: layer graph by cnncalc"
    assert all(re.match(r"  n\d+[\[( -]", line) for line in lines[2:])
    assert f'n1["{LAYER_SHOWN}<br/>conv · 112 params"]' in lines[3]


def test_dot_one_statement_per_line(spec_file: str):
    lines = run("graph", spec_file, "-f", "dot").stdout.splitlines()
    escaped = LAYER_SHOWN.replace("\\", "\\\\")
    assert lines[0] == 'digraph "' + NETWORK_SHOWN.replace("\\", "\\\\") + '" {'
    assert all(line.endswith(";") for line in lines[1:-1])
    assert f'  n1 [label="{escaped}\\nconv · 112 params"];' in lines


def test_rf_strict_names_the_layer_on_one_line(spec_file: str):
    result = run("rf", spec_file, "--strict", "-q")
    assert result.exit_code == 1
    error, hint = result.stderr.splitlines()  # the names' line breaks do not split it
    assert error.startswith(f"error: receptive fields not aligned at add{LAYER_SHOWN}: ")
    assert f"{LAYER_SHOWN} (stride 1, center 0) ≠ " in error
    assert hint.startswith("  hint: ")


@pytest.mark.parametrize("fmt", ["table", "github", "json"])
def test_check_failures_and_invalid_specs(tmp_path: Path, fmt: str):
    failing = write(tmp_path, hostile_spec(layers={LAYER: {"params": 1}}))
    invalid = write(tmp_path, {"name": NETWORK, "input": [8, 8, 3], "layers": [LAYER]}, "bad.yaml")
    result = run("check", failing, invalid, "-f", fmt, "--verbose")
    assert result.exit_code == 2
    if fmt == "json":
        files = json.loads(result.stdout)["files"]
        assert [f["file"] for f in files] == [failing, invalid]
        assert LAYER in files[0]["checks"][0]["message"]
        return
    text = result.stderr if fmt == "table" else result.stdout
    failure = f"{tmp_path}/{FILE_SHOWN}:"
    if fmt == "table":
        lines = error_lines(result.stderr)
        assert lines[0].startswith(failure) and f"layer {LAYER_SHOWN}: params is 112" in lines[0]
        assert lines[1].startswith(f"{tmp_path}/bad.yaml:") and r"\x1b]0;t" in lines[1]
    else:
        annotations = [line for line in text.splitlines() if line.startswith("::error ")]
        assert len(annotations) == 2
        assert f"file={tmp_path}/{FILE_SHOWN}".replace(",", "%2C") in annotations[0]
        assert LAYER_SHOWN in annotations[0]
    listing = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(listing) == 1 and LAYER_SHOWN in listing[0]


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "latex"])
def test_diff_between_hostile_specs(tmp_path: Path, spec_file: str, fmt: str):
    other = hostile_spec()
    other["layers"][0]["conv"]["filters"] = 6  # type: ignore[index]
    other["layers"][1]["conv"]["filters"] = 6  # type: ignore[index]
    result = run("diff", spec_file, write(tmp_path, other, "other.yaml"), "-f", fmt)
    assert result.exit_code == 0
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(result.stdout)))[1][0] == LAYER_SHOWN


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "latex"])
def test_verify_with_progress_bar(spec_file: str, fmt: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(output, "plain_output", lambda: False)
    monkeypatch.setattr(verify_cli, "plain_output", lambda: False)  # the progress bar runs
    result = run("verify", spec_file, "-f", fmt)
    assert result.exit_code == 0
    if fmt == "json":
        assert json.loads(result.stdout)["layers"][0]["name"] == LAYER
    elif fmt == "csv":
        assert list(csv.reader(io.StringIO(result.stdout)))[1][0] == LAYER_SHOWN
    elif fmt == "table":
        assert LAYER_SHOWN in result.stdout


# --- error messages and hints ------------------------------------------------------------------


def test_missing_file_with_a_hostile_name(tmp_path: Path):
    # (no newline: an argument with one that is not a file is read as YAML text)
    result = run("params", str(tmp_path / "no\x1b]0;t\x07\u202e.yaml"))
    assert result.exit_code == 2
    shown = rf"{tmp_path}/no\x1b]0;t\x07\u202e.yaml: error: "
    assert error_lines(result.stderr)[0].startswith(shown)


def test_syntax_error_position_names_the_file_visibly(tmp_path: Path):
    path = tmp_path / FILE
    path.write_text("input: [8, 8, 3]\nlayers: [relu\n", "utf-8")
    result = run("params", str(path))
    assert result.exit_code == 2
    assert re.match(
        rf"{re.escape(str(tmp_path))}/{re.escape(FILE_SHOWN)}:\d+:\d+: error: ", result.stderr
    )


def test_unknown_layer_hint_names_the_close_layer_visibly(spec_file: str):
    result = run("params", spec_file, "--layer", LAYER[:-1] + "z")
    assert result.exit_code == 2
    message, hint = error_lines(result.stderr)
    assert message.endswith(f"in {NETWORK_SHOWN}")
    assert hint == f"  hint: did you mean `{LAYER_SHOWN}`?"


@pytest.mark.parametrize(
    ("layers", "shown"),
    [
        ([{"relu": {"from": "nope\x1b[2J\u202e"}}], r"nope\x1b[2J\u202e"),
        ([{"repeat": {"block": "b\x1b[2J\n", "times": 2}}], r"b\x1b[2J\n"),
        ([{"relu": {"name": LAYER}}, {"relu": {"name": LAYER}}], LAYER_SHOWN),
        ([f"Conv3-4\x1b[2J{LAYER}"], r"\x1b[2J"),
    ],
    ids=["from", "block", "duplicate", "kind"],
)
def test_spec_errors_quote_names_visibly(tmp_path: Path, layers: list[object], shown: str):
    path = write(tmp_path, {"input": [8, 8, 3], "layers": layers})
    result = run("summary", path)
    assert result.exit_code == 2
    lines = error_lines(result.stderr)
    assert lines[0].startswith(f"{tmp_path}/{FILE_SHOWN}:")
    assert shown in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["params", "Conv3-4\x1b[2J\u202e,FC2", "--input", "8x8x1"],
        ["params", "seed_32x32", "--input", "8x8\x1b[2J\u202e"],
        ["params", "seed_32x32\x1b[2J\u202e"],
        ["params", "seed_32x32", "--svg", "/nonexistent\x1b[2J\u202e/x.svg"],
        ["verify", "seed_32x32", "--max-memory", "1\x1b[2J\u202eGiB"],
        ["check", "/nonexistent\x1b[2J\u202e/*.yaml"],
        ["params", "seed_32x32", "-f", "\x1b[2J\u202e[bold]"],
        ["\x1b[2J\u202e[bold]"],
    ],
    ids=["shorthand", "input", "arch", "svg", "max-memory", "check-glob", "format", "command"],
)
def test_command_line_values_in_errors(args: list[str]):
    result = run(*args)
    assert result.exit_code == 2
    assert r"\x1b[2J\u202e" in result.stderr
    if args[-1] == "\x1b[2J\u202e[bold]":  # typer's usage errors: boxed, markup literal
        assert "[bold]" in result.stderr
    else:
        error_lines(result.stderr)


def test_an_errors_detail_lines_are_lines_each_escaped() -> None:
    error = SpecError(
        "2 operation(s) cnncalc cannot express:",
        SourcePos("m.onnx"),
        "--allow-unsupported imports the rest",
        ("Resize ×1: up\x1b[2J", "Foo ×1: a\nerror: fake"),
    )
    assert error_text(error).splitlines() == [
        "m.onnx: error: 2 operation(s) cnncalc cannot express:",
        "    Resize ×1: up\\x1b[2J",
        "    Foo ×1: a\\nerror: fake",  # a name's newline cannot start a line of its own
        "  hint: --allow-unsupported imports the rest",
    ]
