"""`cnncalc report`: the HTML page, opened as a person would, in a headless Chromium.

The browser (Debian's `chromium`; `.ci/run` installs it, elsewhere these tests skip with a
message) loads each zoo net's page from a file:// URL with every host unresolvable: no
console message (an error, a failed fetch), the script ran to its end, the totals row of the
table equals `summary --format json`, the graph has one box per layer and one wire per
input, and at phone width the page itself does not scroll sideways. Screenshots of two
reports at desktop and phone width go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.zoo import zoo_names
from tests.conftest import ROOT

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs a headless Chromium: apt-get install chromium (.ci/run installs it)",
)
ARTIFACTS = ROOT / "tests" / "artifacts"

# headers of the summary table whose totals cell is a JSON total
TOTAL_COLUMNS = {
    "Params": "params",
    "Trainable": "trainable_params",
    "Buffers": "buffers",
    "MACs": "macs",
    "Act. bytes": "memory.activation_bytes",
}

WEIRD = """\
name: 'we"ird <b>x</b></script>'
input: [8, 8, 3]
layers:
  - conv: {name: '<img/src=x/onerror=alert(1)>', filters: 4, kernel: 3, stride: 2, padding: 1}
  - conv: {name: 'b&amp;"c', filters: 4, kernel: 2, stride: 2, from: input}
  - add: {name: '</svg><script>x</script>', from: ['<img/src=x/onerror=alert(1)>', 'b&amp;"c']}
"""


class Page(HTMLParser):
    """What the tests read from a page: body data, the first summary table, graph nodes,
    wires, merge verdicts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.totals_data: dict[str, str] = {}
        self.headers: list[str] = []
        self.footer: list[str] = []
        self.rows = 0
        self.layer_nodes: list[str] = []
        self.terminals = 0
        self.wires = 0
        self.verdicts: list[str] = []
        self._tables = 0
        self._in_first = False
        self._section = ""
        self._cell: list[str] | None = None
        self._in_merges = False
        self._td = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "body":
            self.body = a
        elif a.get("id") == "totals":
            self.totals_data = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
        elif tag == "table" and "summary" in classes:
            self._tables += 1
            self._in_first = self._tables == 1
        elif tag == "table" and "merges" in classes:
            self._in_merges = True
        elif tag in ("thead", "tbody", "tfoot") and self._in_first:
            self._section = tag
        elif tag == "tr" and self._section == "tbody":
            self.rows += 1
        elif tag in ("th", "td") and (self._section or self._in_merges):
            self._cell = []
            self._td += 1
        elif tag == "g" and "node" in classes:
            if "layer" in classes:
                self.layer_nodes.append(a["data-name"])
            else:
                self.terminals += 1
        elif tag == "path" and "wire" in classes:
            self.wires += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell).strip()
            if self._in_merges and tag == "td" and self._td % 3 == 0:
                self.verdicts.append(text)
            elif self._section == "thead":
                self.headers.append(text)
            elif self._section == "tfoot":
                self.footer.append(text)
            self._cell = None
        elif tag == "table":
            self._section, self._in_merges, self._in_first, self._td = "", False, False, 0

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def make_report(tmp_path: Path, arch: str, *args: str) -> Path:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", arch, "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def browse(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium, headless, offline (every host name unresolvable), console on stderr."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def summary_json(arch: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["summary", arch, "--format", "json", *args])
    assert result.exit_code == 0
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def check_page(page: Page, data: dict) -> None:  # type: ignore[type-arg]
    assert page.body.get("data-ready") == "1"  # the script ran to its end
    totals = data["totals"]
    for header, key in TOTAL_COLUMNS.items():
        expected = totals["memory"]["activation_bytes"] if "." in key else totals[key]
        cell = page.footer[page.headers.index(header)]
        assert int(cell.replace(",", "")) == expected, header
    assert page.footer[0] == "Total"
    assert page.rows == len(data["layers"])
    for key in ("params", "trainable_params", "buffers", "macs", "flops"):
        assert int(page.totals_data[key.replace("_", "-")]) == totals[key]
    assert page.layer_nodes == [layer["name"] for layer in data["layers"]]
    # a plain network's JSON has no `inputs`/`outputs`: it has one of each
    wires_to_outputs = len(data.get("outputs", [0]))
    assert page.terminals == len(data.get("inputs", [0])) + wires_to_outputs
    assert page.wires == sum(len(layer["inputs"]) for layer in data["layers"]) + wires_to_outputs
    assert len(page.verdicts) == sum(len(layer["inputs"]) > 1 for layer in data["layers"])


@needs_browser
@pytest.mark.parametrize("name", zoo_names())
def test_zoo_report_in_the_browser(tmp_path: Path, name: str) -> None:
    page_file = make_report(tmp_path, name)
    shown = browse(page_file.as_uri(), "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert console_lines(shown.stderr) == []
    check_page(Page(shown.stdout), summary_json(name))


@needs_browser
def test_hostile_names_stay_text(tmp_path: Path) -> None:
    spec = tmp_path / "weird.yaml"
    spec.write_text(WEIRD, encoding="utf-8")
    page_file = make_report(tmp_path, str(spec))
    shown = browse(page_file.as_uri(), "--dump-dom")
    assert console_lines(shown.stderr) == []  # no alert, no fetch of `x`, no broken script
    page = Page(shown.stdout)
    check_page(page, summary_json(str(spec)))
    assert page.layer_nodes[0] == "<img/src=x/onerror=alert(1)>"
    assert page.verdicts[0].startswith("not aligned")  # centre 0 against 0.5


@needs_browser
@pytest.mark.parametrize("name", ["resnet50", "googlenet"])
def test_screenshots_desktop_and_phone(tmp_path: Path, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page_file = make_report(tmp_path, name)
    for label, size in (("desktop", (1280, 2000)), ("phone", (390, 1600))):
        shot = ARTIFACTS / f"report-{name}-{label}.png"
        shot.unlink(missing_ok=True)
        taken = browse(
            page_file.as_uri(), f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}"
        )
        assert taken.returncode == 0 and console_lines(taken.stderr) == []
        header = shot.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(header[16:20], "big") == size[0]
        layout = browse(page_file.as_uri(), f"--window-size={size[0]},{size[1]}", "--dump-dom")
        # wide tables and the graph scroll inside their own boxes; the page never sideways
        # (headless Chromium lays out at least 500 px wide when it does not take a picture)
        body = Page(layout.stdout).body
        assert int(body["data-page-width"]) <= int(body["data-view-width"]) <= max(500, size[0])


def test_self_contained(tmp_path: Path) -> None:
    text = make_report(tmp_path, "resnet18").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert set(re.findall(r"https?://[^\s\"')]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\((?!#)", text)


def test_escapes_names(tmp_path: Path) -> None:
    spec = tmp_path / "weird.yaml"
    spec.write_text(WEIRD, encoding="utf-8")
    text = make_report(tmp_path, str(spec)).read_text(encoding="utf-8")
    assert "<img" not in text and "</svg><script>" not in text
    assert "&lt;img/src=x/onerror=alert(1)&gt;" in text


def test_stdout_and_options(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "seed_32x32", "-c", "fvcore", "--dtype", "float16"])
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "<code>fvcore</code>" in result.stdout and "float16" in result.stdout
    # every layer's derivation, as --explain prints it
    assert result.stdout.count("<details><summary>") == 8 + 1  # layers + the timeline's steps
    assert "H_out = ⌊(32 + 2 + 2 − 5)/1⌋ + 1 = 32" in result.stdout


def test_unwritable_output_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "seed_32x32", "-o", str(tmp_path / "no" / "r.html")])
    assert result.exit_code == 2
    assert "r.html" in result.stderr and "hint:" in result.stderr


def test_bad_spec_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "Conv9-4", "--input", "4x4x1"])
    assert result.exit_code == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_cold_start_does_not_import_jinja() -> None:
    code = "import sys, cnncalc.cli; print('jinja2' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_template_is_package_data() -> None:
    from importlib.resources import files

    assert files("cnncalc.render.html").joinpath("report.html.j2").is_file()


def test_memory_timeline_by_hand() -> None:
    from cnncalc.loader import load
    from cnncalc.report import analyze

    report = analyze(load("seed_32x32"))
    # float32 outputs: conv1, relu1 81,920 B; maxpool1 20,480; conv2, relu2 10,240; maxpool2,
    # flatten 2,560; dense 40; the input 12,288. A tensor is freed after its last consumer.
    assert report.memory_timeline() == [
        ("input", 12288),
        ("conv1", 12288 + 81920),
        ("relu1", 81920 + 81920),
        ("maxpool1", 81920 + 20480),
        ("conv2", 20480 + 10240),
        ("relu2", 10240 + 10240),
        ("maxpool2", 10240 + 2560),
        ("flatten1", 2560 + 2560),
        ("dense1", 2560 + 40),
    ]
    assert (report.memory.inference_peak_bytes, report.memory.inference_peak_layer) == (
        163840,
        "relu1",
    )


@pytest.mark.parametrize("name", ["googlenet", "resnet50"])
def test_graph_drawing_is_tidy(name: str) -> None:
    from cnncalc.loader import load
    from cnncalc.render.html.dag import BOX_HEIGHT, layered
    from cnncalc.report import analyze

    drawing = layered(analyze(load(name)))
    boxes = {box.id: box for box in drawing.boxes}
    rows: dict[float, list[tuple[float, float]]] = {}
    for box in drawing.boxes:
        rows.setdefault(box.y, []).append((box.x, box.x + box.width))
        assert box.x >= 0 and box.x + box.width <= drawing.width
    for spans in rows.values():  # boxes of one rank never overlap
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    for wire in drawing.wires:  # from the source's bottom edge to the target's top edge
        source, target = boxes[wire.source], boxes[wire.target]
        assert wire.points[0][1] == source.y + BOX_HEIGHT and wire.points[-1][1] == target.y
        assert source.x <= wire.points[0][0] <= source.x + source.width
        assert target.x <= wire.points[-1][0] <= target.x + target.width
        assert target.y > source.y
