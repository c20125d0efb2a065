"""Exports: CSV, Markdown and LaTeX from the one table model (golden files), `--svg`,
`--quiet`, and plain text for pipes and NO_COLOR.

Beyond the golden files, each format is read back by a real reader — Python's csv module,
markdown-it (CommonMark with GitHub tables, which rich already depends on) and, where it is
installed, pdflatex — and must give back exactly the table's cells, however odd the names.
"""

from __future__ import annotations

import csv
import html.parser
import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv
from cnncalc.render import output
from cnncalc.render.tabular import Column, Tabular, latex_escape, markdown_escape

runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args), input=input)


# --- golden files -------------------------------------------------------------------------------

GOLDEN = [
    ("params", "seed_32x32"),
    ("rf", "seed_21x21"),  # missing values (—) and growth bars (█)
    ("memory", "seed_21x21"),
    ("flops", "lenet5", "--convention", "fvcore"),
]
SUFFIX = {"csv": "csv", "markdown": "md", "latex": "tex"}


@pytest.mark.parametrize("fmt", SUFFIX)
@pytest.mark.parametrize("args", GOLDEN, ids=lambda a: "-".join(a[:2]))
def test_golden_export(golden, args: tuple[str, ...], fmt: str):  # type: ignore[no-untyped-def]
    result = run(*args, "--format", fmt)
    assert result.exit_code == 0, result.output
    golden(f"export_{args[0]}_{args[1]}.{SUFFIX[fmt]}", result.stdout)


# --- read back by real readers ------------------------------------------------------------------

ODD = [
    "plain",
    "a_b",
    "_lead",
    "x*y*z",
    "pipe|in|name",
    "[link](x)",
    "<b>html</b>",
    "back`tick`",
    "dollar$5$",
    "tilde~~x~~",
    "amp&amp;",
    "# heading",
    "- item",
    "1. item",
    "back\\slash",
    "{brace}^hat%pct#hash",
    "3×3 → 5 · 2 — ok",
    "██",
]


def odd_table() -> Tabular:
    table = Tabular("odd *names* — [test]", [Column("Name"), Column("Value", numeric=True)])
    table.rows = [[name, f"{i:,}"] for i, name in enumerate(ODD)]
    table.rows.append(["missing", "—"])
    table.totals = ["Total", "1,234"]
    table.notes = ["# a note that starts like a heading", "- and one like a list item *x*"]
    return table


def test_csv_reads_back():
    table = odd_table()
    rows = list(csv.reader(io.StringIO(table.to_csv())))
    assert rows[0] == ["Name", "Value"]
    body = [[n, v.replace(",", "")] for n, v in table.rows]
    body[-1][1] = ""  # a missing value is an empty cell
    assert rows[1:] == [*body, ["Total", "1234"]]


# characters that each format treats specially, the separators the renderers join cells with
# internally, and line breaks
_TRICKY = st.text(st.sampled_from(list('ab1_*|\\`<>[]&~$,"\n\r\x00\x01\u2028 —')), max_size=5)


@given(st.lists(st.lists(_TRICKY, min_size=2, max_size=2), max_size=6), st.booleans())
def test_csv_is_what_the_csv_module_writes(rows: list[list[str]], totals: bool) -> None:
    # written a column at a time, yet field for field as csv.writer quotes it
    table = Tabular("t", [Column('a, "b"'), Column("n", numeric=True)], rows=rows)
    table.totals = ["Total", "1,2"] if totals else None
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(['a, "b"', "n"])
    for name, value in [*rows, *([table.totals] if table.totals else [])]:
        writer.writerow(
            ["" if name == "—" else name, "" if value == "—" else value.replace(",", "")]
        )
    assert table.to_csv() == expected.getvalue()


def test_csv_of_one_column_quotes_an_empty_row() -> None:
    table = Tabular("t", [Column("a")], rows=[[""], ["x"]])
    assert table.to_csv() == 'a\n""\nx\n'


@given(st.lists(st.lists(_TRICKY, min_size=3, max_size=3), min_size=1, max_size=6))
def test_markdown_rows_escape_each_cell_alone(rows: list[list[str]]) -> None:
    # the whole table is escaped at once: the same as escaping each cell by itself
    table = Tabular("t", [Column("a"), Column("b"), Column("c")], rows=rows)
    lines = table.to_markdown().split("\n\n")[1].splitlines()[2:]
    assert lines == ["| " + " | ".join(map(markdown_escape, row)) + " |" for row in rows]


class _Cells(html.parser.HTMLParser):
    """The text of every table cell, row by row, and the paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.paragraphs: list[str] = []
        self._cell: list[str] | None = None
        self._para: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p":
            self._para = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "p" and self._para is not None:
            self.paragraphs.append("".join(self._para))
            self._para = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._para):
            if part is not None:
                part.append(data)


def render_markdown(text: str) -> _Cells:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    cells = _Cells()
    cells.feed(md.render(text))
    return cells


def test_markdown_reads_back():
    table = odd_table()
    cells = render_markdown(table.to_markdown())
    assert cells.rows == [["Name", "Value"], *table.rows, table.totals]
    assert cells.paragraphs == [table.title, *table.notes]


def test_markdown_keeps_plain_underscores():
    assert markdown_escape("global_avgpool") == "global_avgpool"
    assert markdown_escape("_x_") == "\\_x\\_"


@pytest.mark.parametrize("command", ["params", "flops", "rf", "memory", "summary"])
def test_markdown_of_every_command_reads_back(command: str):
    text = run(command, "googlenet", "-f", "markdown").stdout
    csv_rows = list(csv.reader(io.StringIO(run(command, "googlenet", "-f", "csv").stdout)))
    cells = render_markdown(text)
    assert [row[0] for row in cells.rows] == [row[0] for row in csv_rows]
    assert len(cells.rows[1]) == len(csv_rows[0])


def test_latex_escapes_every_special_character():
    assert latex_escape("a_b & c%") == r"a\_b \& c\%"
    assert latex_escape("{x}$^~\\") == (
        r"\{x\}\$\textasciicircum{}\textasciitilde{}\textbackslash{}"
    )
    assert latex_escape("3×3 → 5") == r"3$\times$3 $\to$ 5"
    assert latex_escape("███") == r"\rule{1.5em}{1ex}"


def test_latex_title_and_notes_are_comments():
    lines = odd_table().to_latex().splitlines()
    assert lines[0] == "% odd *names* — [test]"
    assert lines[1] == r"\begin{tabular}{lr}"
    assert lines[-3:] == [
        r"\end{tabular}",
        "% # a note that starts like a heading",
        "% - and one like a list item *x*",
    ]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(tmp_path: Path):
    body = [odd_table().to_latex()]
    for command in ("params", "flops", "rf", "memory", "summary"):
        body.append(run(command, "googlenet", "-f", "latex", "--convention", "fvcore").stdout)
        if command == "summary":
            body.append(run(command, "resnet18", "--wide", "-f", "latex").stdout)
    document = (
        "\\documentclass{article}\n\\begin{document}\n" + "\n".join(body) + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(document, encoding="utf-8")
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    log = (tmp_path / "t.log").read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, log[-2000:]
    assert "Missing character" not in log
    assert "not set up for use with LaTeX" not in log


# --- --svg and --quiet --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("params", "seed_32x32"),
        ("flops", "seed_32x32", "-c", "ptflops"),
        ("rf", "seed_32x32"),
        ("memory", "seed_32x32"),
        ("summary", "seed_32x32", "--wide"),
        ("zoo",),
    ],
    ids=lambda a: a[0],
)
def test_svg_saves_the_table(tmp_path: Path, args: tuple[str, ...]):
    svg = tmp_path / "table.svg"
    result = run(*args, "--svg", str(svg))
    assert result.exit_code == 0, result.output
    assert "┃" in result.stdout  # the table is still printed
    root = ET.parse(svg).getroot()  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = svg.read_text(encoding="utf-8")
    assert "Generated with Rich" in text
    words = ["seed_32x32", "conv1", "dense1"] if args[0] != "zoo" else ["resnet50", "vgg16"]
    for word in words:
        assert word in text.replace("&#160;", " ")


def test_svg_with_quiet_prints_nothing(tmp_path: Path):
    svg = tmp_path / "t.svg"
    result = run("params", "seed_21x21", "--svg", str(svg), "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert svg.stat().st_size > 1000


def test_svg_of_an_explanation(tmp_path: Path):
    svg = tmp_path / "explain.svg"
    result = run("params", "seed_32x32", "--explain", "conv1", "--svg", str(svg))
    assert result.exit_code == 0, result.output
    assert "params = 5·5·3·20 + 20 = 1,520" in result.stdout
    ET.parse(svg)
    assert "1,520" in svg.read_text(encoding="utf-8")


def test_svg_into_a_missing_folder_is_exit_2(tmp_path: Path):
    target = tmp_path / "no" / "such" / "t.svg"
    result = run("params", "seed_21x21", "--svg", str(target))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{target}: error: cannot write the SVG")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["params", "flops", "rf", "memory", "summary", "zoo"])
def test_quiet_prints_nothing(command: str):
    args = [command] if command == "zoo" else [command, "resnet18"]
    for fmt in ("table", "json", "csv"):
        result = run(*args, "-q", "-f", fmt)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""


def test_quiet_keeps_exit_codes_and_errors(tmp_path: Path):
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [8, 8, 1]\nlayers:\n"
        "  - conv: {name: a, filters: 2, kernel: 3, padding: 1}\n"
        "  - conv: {name: b, from: input, filters: 2, kernel: 3, padding: [2, 0, 2, 0]}\n"
        "  - add: {from: [a, b]}\n"
    )
    strict = run("rf", str(spec), "--strict", "--quiet")
    assert strict.exit_code == 1
    assert strict.stdout == ""
    assert "not aligned" in strict.stderr
    broken = run("params", "Conv9-2", "--input", "4x4x1", "-q")
    assert broken.exit_code == 2
    assert "kernel 9 is larger" in broken.stderr


# --- terminals, pipes and NO_COLOR --------------------------------------------------------------


def test_plain_text_when_not_a_terminal_or_no_color(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert not output.plain_output()
    monkeypatch.setenv("NO_COLOR", "")  # empty: as if unset (no-color.org)
    assert not output.plain_output()
    monkeypatch.setenv("NO_COLOR", "1")
    assert output.plain_output()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    monkeypatch.delenv("NO_COLOR")
    assert output.plain_output()


def test_piped_output_has_no_escape_codes():
    result = run("summary", "resnet18")
    assert "\x1b[" not in result.stdout
    assert result.stdout.splitlines()[0] == "resnet18 — summary"


def test_terminal_output_shows_names_literally(monkeypatch: pytest.MonkeyPatch):
    """In a terminal rich draws the table; a name like `[bold]` or `[/]` is text, not markup."""
    import rich.console

    monkeypatch.setattr(output, "plain_output", lambda: False)
    buffer = io.StringIO()
    monkeypatch.setattr(
        output,
        "console",
        lambda: rich.console.Console(file=buffer, width=120, force_terminal=True, highlight=False),
    )
    spec = "input: [4, 4, 1]\nlayers:\n  - relu: {name: '[bold]x'}\n  - relu: {name: '[/]'}\n"
    result = run("summary", "-", input=spec)
    assert result.exit_code == 0, result.output
    shown = buffer.getvalue()
    assert "\x1b[" in shown  # styled
    assert "[bold]x" in shown and "[/]" in shown  # the peak-memory note names one of them
