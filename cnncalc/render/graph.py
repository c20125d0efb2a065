"""The layer graph as Mermaid or Graphviz DOT text, with the tensor shapes on the edges.

Nodes are numbered (`n0` is the input, `n1`… the layers in spec order, the last the output;
a network of several inputs or outputs has one terminal node for each, named after it), so no
layer name can collide with a keyword of either language; names appear only inside quoted,
escaped labels.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from cnncalc.graph import INPUT
from cnncalc.layers import fmt_shape
from cnncalc.render.safe import visible
from cnncalc.report import Report

_shape_text = lru_cache(maxsize=4096)(fmt_shape)  # a long network repeats a few shapes


class _Node(NamedTuple):
    id: str
    lines: tuple[str, ...]  # the label, one entry per line
    terminal: bool  # the input or output pseudo-node


class _Edge(NamedTuple):
    source: str
    target: str
    label: str


def _layout(report: Report) -> tuple[list[_Node], list[_Edge]]:
    net = report.network
    ids = {name: f"n{index}" for index, name in enumerate(net.input_names)}
    nodes = [_Node(ids[n], ("input" if n == INPUT else f"input: {n}",), True) for n in ids]
    edges = []
    for index, row in enumerate(report.layers, start=len(ids)):
        node = row.node
        ids[node.name] = f"n{index}"
        detail = node.kind
        if row.counts.params:
            detail += f" · {row.counts.params:,} params"
        nodes.append(_Node(ids[node.name], (node.name, detail), False))
        for source in node.inputs:
            edges.append(_Edge(ids[source], ids[node.name], _shape_text(net.shapes[source])))
    for index, name in enumerate(net.outputs, start=len(ids)):
        label = f"output: {name}" if net.output_names else "output"
        nodes.append(_Node(f"n{index}", (label,), True))
        edges.append(_Edge(ids[name], f"n{index}", _shape_text(net.shapes[name])))
    return nodes, edges


_MERMAID_SPECIAL = re.compile('[#&"<>`]')
_DOT_SPECIAL = re.compile(r'[\\"&]')


def _mermaid_text(text: str) -> str:
    """One line of text inside a quoted Mermaid label: control characters `visible`, entity
    codes for what Mermaid would interpret."""
    text = visible(text)
    if _MERMAID_SPECIAL.search(text) is None:  # most lines: names, kinds, shapes
        return text
    for char, code in (("#", "#35;"), ("&", "#38;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text.replace("`", "#96;")


def to_mermaid(report: Report) -> str:
    """A Mermaid flowchart (top to bottom); paste it into a ```mermaid block."""
    nodes, edges = _layout(report)
    lines = [f"%% {_mermaid_text(report.name)}: layer graph by cnncalc", "flowchart TD"]
    for node in nodes:
        label = "<br/>".join(_mermaid_text(line) for line in node.lines)
        lines.append(f'  {node.id}(["{label}"])' if node.terminal else f'  {node.id}["{label}"]')
    for edge in edges:
        lines.append(f'  {edge.source} -->|"{_mermaid_text(edge.label)}"| {edge.target}')
    return "\n".join(lines) + "\n"


def _dot_string(*lines: str) -> str:
    """A quoted DOT string of `lines` (control characters `visible`). Graphviz reads
    `\\n`-style escapes and HTML entities in labels, so backslashes are doubled and `&` is
    written `&amp;`; the lines are joined by `\\n`."""
    return '"' + "\\n".join(map(_dot_line, lines)) + '"'


def _dot_line(line: str) -> str:
    line = visible(line)
    if _DOT_SPECIAL.search(line) is None:  # most lines: names, kinds, shapes
        return line
    return line.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def to_dot(report: Report) -> str:
    """A Graphviz digraph: `cnncalc graph ARCH --format dot | dot -Tsvg > net.svg`."""
    nodes, edges = _layout(report)
    lines = [
        f"digraph {_dot_string(report.name)} {{",
        '  graph [rankdir=TB, fontname="Helvetica"];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in nodes:
        label = _dot_string(*node.lines)
        shape = ", shape=oval" if node.terminal else ""
        lines.append(f"  {node.id} [label={label}{shape}];")
    for edge in edges:
        lines.append(f"  {edge.source} -> {edge.target} [label={_dot_string(edge.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["to_dot", "to_mermaid"]
