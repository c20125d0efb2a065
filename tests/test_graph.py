"""`cnncalc graph`: the layer DAG as Mermaid or Graphviz DOT, shapes on the edges.

The text is checked structurally (every statement well-formed, every edge between declared
nodes, every label quoted and escaped, one edge per layer input plus the output edge, edge
labels the shapes flowing along them); where Graphviz is installed, `dot -Tsvg` must also
accept it and draw every node and edge.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.layers import fmt_shape
from cnncalc.render.graph import to_dot, to_mermaid
from tests.conftest import ARCHITECTURES

runner = CliRunner()

# names that a careless renderer would let break out of a label or a statement
WEIRD = """\
name: 'we"ird #1; <b>x</b> `t` %% end\\'
input: [8, 8, 3]
layers:
  - relu: {name: 'a"b#c;d<e>f`g[h]i(j)k{l}m|n%%o\\p&amp;q'}
  - relu: {name: end}
  - relu: {name: graph}
  - relu: {name: 'x-->y', from: end}
  - add: {from: [graph, 'x-->y'], name: subgraph}
"""

SPECS = {p.stem: p.read_text(encoding="utf-8") for p in sorted(ARCHITECTURES.glob("*.yaml"))}
SPECS["weird"] = WEIRD
SPECS["two_in_two_out"] = """\
inputs: {image: [8, 8, 3], depth: [8, 8, 1]}
layers:
  - conv: {filters: 4, kernel: 3, padding: 1, from: image, name: c_img}
  - concat: {from: [c_img, depth], name: fuse}
  - global_avgpool
  - dense: {units: 2, from: fuse, name: aux}
outputs: [global_avgpool1, aux]
"""


def report(text: str) -> cnncalc.Report:
    return cnncalc.analyze(cnncalc.load(text))


def terminals(rep: cnncalc.Report) -> tuple[dict[str, str], list[str]]:
    """The labels of the input nodes (by input name) and of the output nodes, in order:
    `input` and `output` for a network of one of each, else `input: image`, `output: fc`."""
    net = rep.network
    inputs = {name: "input" if name == "input" else f"input: {name}" for name in net.input_names}
    outputs = [f"output: {name}" if net.output_names else "output" for name in net.outputs]
    return inputs, outputs


def node_names(rep: cnncalc.Report) -> dict[str, str]:
    """Node id → its first label line: the inputs, the layers in order, then the outputs."""
    inputs, outputs = terminals(rep)
    first = len(inputs)
    names = {f"n{i}": label for i, label in enumerate(inputs.values())}
    names |= {f"n{i}": row.node.name for i, row in enumerate(rep.layers, start=first)}
    names |= {f"n{i}": label for i, label in enumerate(outputs, start=first + len(rep.layers))}
    return names


def expected_edges(rep: cnncalc.Report) -> list[tuple[str, str, str]]:
    """(source name, target name, shape) for every layer input, and an edge to each output."""
    inputs, outputs = terminals(rep)
    edges = []
    for row in rep.layers:
        for source in row.node.inputs:
            shape = fmt_shape(rep.network.shapes[source])
            edges.append((inputs.get(source, source), row.node.name, shape))
    for name, label in zip(rep.network.outputs, outputs, strict=True):
        edges.append((name, label, fmt_shape(rep.network.shapes[name])))
    return edges


# --- Mermaid ------------------------------------------------------------------------------------

_MM_LABEL = r'"([^"]*)"'
_MM_NODE = re.compile(rf"  (n\d+)(?:\[{_MM_LABEL}\]|\(\[{_MM_LABEL}\]\))")
_MM_EDGE = re.compile(rf"  (n\d+) -->\|{_MM_LABEL}\| (n\d+)")
_MM_ENTITY = re.compile(r"#(?:\d+|quot|lt|gt);")


def parse_mermaid(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
    """Nodes (id → label lines) and edges of our Mermaid subset; fails on anything else."""
    lines = text.splitlines()
    assert lines[0].startswith("%% ")
    assert lines[1] == "flowchart TD"
    nodes: dict[str, list[str]] = {}
    edges = []
    for line in lines[2:]:
        if m := _MM_NODE.fullmatch(line):
            label = m.group(2) if m.group(2) is not None else m.group(3)
            assert m.group(1) not in nodes, f"node declared twice: {line}"
            nodes[m.group(1)] = [unmermaid(part) for part in label.split("<br/>")]
        elif m := _MM_EDGE.fullmatch(line):
            assert m.group(1) in nodes and m.group(3) in nodes, (
                f"edge to an undeclared node: {line}"
            )
            edges.append((m.group(1), m.group(3), unmermaid(m.group(2))))
        else:
            pytest.fail(f"not a Mermaid statement of ours: {line!r}")
    return nodes, edges


def unmermaid(text: str) -> str:
    """A label as Mermaid shows it; only entity codes may stand for `#`, `"`, `<`, `>`, `&`."""
    assert not re.search(r"[\"<>`]", text.replace("<br/>", "")), text
    assert "#" not in _MM_ENTITY.sub("", text), f"a bare # starts an entity: {text}"
    codes = {"#quot;": '"', "#lt;": "<", "#gt;": ">"}
    return _MM_ENTITY.sub(lambda m: codes.get(m.group()) or chr(int(m.group()[1:-1])), text)


@pytest.mark.parametrize("name", SPECS)
def test_mermaid_is_well_formed(name: str):
    rep = report(SPECS[name])
    nodes, edges = parse_mermaid(to_mermaid(rep))
    names = node_names(rep)
    assert {k: v[0] for k, v in nodes.items()} == names
    assert [(names[a], names[b], label) for a, b, label in edges] == expected_edges(rep)


# --- DOT ----------------------------------------------------------------------------------------

_DOT_STRING = r'"(?:[^"\\]|\\.)*"'
_DOT_NODE = re.compile(rf"  (n\d+) \[label=({_DOT_STRING})(, shape=oval)?\];")
_DOT_EDGE = re.compile(rf"  (n\d+) -> (n\d+) \[label=({_DOT_STRING})\];")
_DOT_ATTRS = re.compile(r"  (graph|node|edge) \[[a-z]+=[^\[\]]*\];")


def undot(quoted: str) -> str:
    """A label as Graphviz shows it: `\\n` breaks lines, `\\\\` is a backslash, `&amp;` an &."""
    body = quoted[1:-1]
    out = re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), body)
    assert not re.search(r"&(?!amp;)", out), f"a bare & starts an entity: {body}"
    return out.replace("&amp;", "&")


def parse_dot(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
    lines = text.splitlines()
    assert re.fullmatch(rf"digraph {_DOT_STRING} \{{", lines[0]), lines[0]
    assert lines[-1] == "}"
    nodes: dict[str, list[str]] = {}
    edges = []
    for line in lines[1:-1]:
        if m := _DOT_NODE.fullmatch(line):
            nodes[m.group(1)] = undot(m.group(2)).split("\n")
        elif m := _DOT_EDGE.fullmatch(line):
            assert m.group(1) in nodes and m.group(2) in nodes, line
            edges.append((m.group(1), m.group(2), undot(m.group(3))))
        else:
            assert _DOT_ATTRS.fullmatch(line), f"not a DOT statement of ours: {line!r}"
    return nodes, edges


@pytest.mark.parametrize("name", SPECS)
def test_dot_is_well_formed(name: str):
    rep = report(SPECS[name])
    nodes, edges = parse_dot(to_dot(rep))
    names = node_names(rep)
    assert {k: v[0] for k, v in nodes.items()} == names
    assert [(names[a], names[b], label) for a, b, label in edges] == expected_edges(rep)


def test_labels_say_kind_and_params():
    nodes, _ = parse_dot(to_dot(report(SPECS["seed_21x21"])))
    assert nodes["n1"] == ["conv1", "conv · 456 params"]
    assert nodes["n2"] == ["maxpool1", "maxpool"]
    assert nodes["n0"] == ["input"] and nodes["n6"] == ["output"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
@pytest.mark.parametrize("name", ["googlenet", "resnet18", "weird"])
def test_graphviz_draws_it(name: str, tmp_path: Path):
    rep = report(SPECS[name])
    proc = subprocess.run(
        ["dot", "-Tsvg"], input=to_dot(rep), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not even a warning
    svg = proc.stdout
    assert svg.count('class="node"') == len(rep.layers) + 2
    assert svg.count('class="edge"') == len(expected_edges(rep))
    if name == "weird":  # the label survives Graphviz's escapes and entities intact
        assert "a&quot;b#c;d&lt;e&gt;f`g[h]i(j)k{l}m|n%%o\\p&amp;amp;q" in svg


# --- the command --------------------------------------------------------------------------------


def test_graph_command_formats():
    mermaid = runner.invoke(app, ["graph", "seed_21x21"])
    assert mermaid.exit_code == 0, mermaid.output
    assert mermaid.stdout == to_mermaid(report(SPECS["seed_21x21"]))
    dot = runner.invoke(app, ["graph", "seed_21x21", "--format", "dot"])
    assert dot.exit_code == 0, dot.output
    assert dot.stdout.startswith('digraph "seed_21x21" {')


def test_graph_command_input_and_shorthand():
    result = runner.invoke(app, ["graph", "Conv3-4,Pool2,FC5", "--input", "10x10x1", "-f", "dot"])
    assert result.exit_code == 0, result.output
    _, edges = parse_dot(result.stdout)
    assert [label for _, _, label in edges] == ["10×10×1", "8×8×4", "4×4×4", "5"]


def test_graph_command_errors(tmp_path: Path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [4, 4, 3]\nlayers:\n  - conv: {filters: 8, kernel: 5}\n")
    result = runner.invoke(app, ["graph", str(spec)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{spec}:3:5: error: layer conv1: kernel 5 is larger")
    bad = runner.invoke(app, ["graph", "seed_21x21", "-f", "png"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
