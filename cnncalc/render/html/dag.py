"""A layered drawing of the layer graph for the HTML report (Sugiyama-style, in Python).

Ranks by longest path from the input; an edge spanning several ranks gets a bend point on
each rank it crosses, so it is routed around the boxes; a few barycentric sweeps (down, then
up) order each rank to reduce crossings; boxes are then placed left to right in each rank and
the ranks centred. The same nodes and edges as `cnncalc graph` (Mermaid, DOT), so the three
drawings cannot disagree; the SVG is written by the report's template.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.render.graph import _layout as graph_elements  # the nodes and edges Mermaid draws
from cnncalc.report import Report

CHAR_WIDTH = 6.6  # px per character at the template's 11 px monospace-ish label font
BOX_HEIGHT = 34
RANK_GAP = 64  # vertical distance between ranks
BOX_GAP = 24  # horizontal gap between neighbours in a rank
SWEEPS = 4


@dataclass(frozen=True)
class Box:
    id: str
    lines: tuple[str, ...]
    terminal: bool  # the input / output pseudo-nodes
    x: float  # left
    y: float  # top
    width: float


@dataclass(frozen=True)
class Wire:
    source: str
    target: str
    label: str
    points: tuple[tuple[float, float], ...]  # from the source's bottom to the target's top

    @property
    def path(self) -> str:
        """SVG path data through the points."""
        return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in self.points)

    @property
    def label_at(self) -> tuple[float, float]:
        """Where the shape label goes: beside the wire, just below its source."""
        (x0, y0), (x1, y1) = self.points[0], self.points[1]
        t = min(1.0, 18 / max(1.0, y1 - y0))
        return x0 + (x1 - x0) * t + 4, y0 + (y1 - y0) * t + 4


@dataclass(frozen=True)
class Drawing:
    boxes: tuple[Box, ...]
    wires: tuple[Wire, ...]
    width: float
    height: float


def _width(lines: tuple[str, ...]) -> float:
    return max(len(line) for line in lines) * CHAR_WIDTH + 16


def _barycenters(
    members: list[str],
    links: dict[str, list[str]],
    position: dict[str, int],
    current: dict[str, int],
) -> dict[str, float]:
    """Each vertex's mean position of its neighbours in the rank before (its own if none)."""
    out = {}
    for v in members:
        seen = [position[n] for n in links[v] if n in position]
        out[v] = sum(seen) / len(seen) if seen else float(current[v])
    return out


def layered(report: Report) -> Drawing:
    """The graph laid out top to bottom; O(nodes + edges) per sweep."""
    nodes, edges = graph_elements(report)
    rank: dict[str, int] = {node.id: 0 for node in nodes}
    preds: dict[str, list[str]] = {node.id: [] for node in nodes}
    for edge in edges:  # edges come in topological order of their targets
        rank[edge.target] = max(rank[edge.target], rank[edge.source] + 1)
    # chains of bend points: an edge over k ranks becomes k segments
    chains: list[list[str]] = []
    for number, edge in enumerate(edges):
        chain = [edge.source]
        for r in range(rank[edge.source] + 1, rank[edge.target]):
            bend = f"b{number}.{r}"
            rank[bend] = r
            preds[bend] = [chain[-1]]
            chain.append(bend)
        preds[edge.target].append(chain[-1])
        chain.append(edge.target)
        chains.append(chain)
    ranks: list[list[str]] = [[] for _ in range(max(rank.values()) + 1)]
    for vertex in rank:  # nodes first (in spec order), then bends: a stable first order
        ranks[rank[vertex]].append(vertex)
    succs: dict[str, list[str]] = {vertex: [] for vertex in rank}
    for vertex, before in preds.items():
        for p in before:
            succs[p].append(vertex)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        order = range(1, len(ranks)) if down else range(len(ranks) - 2, -1, -1)
        for r in order:
            neighbours_rank = ranks[r - 1] if down else ranks[r + 1]
            position = {v: i for i, v in enumerate(neighbours_rank)}
            links = preds if down else succs
            current = {v: i for i, v in enumerate(ranks[r])}
            barycenter = _barycenters(ranks[r], links, position, current)
            ranks[r].sort(key=barycenter.__getitem__)
    widths = {node.id: _width(node.lines) for node in nodes}
    x: dict[str, float] = {}
    rank_width = []
    for members in ranks:
        left = 0.0
        for v in members:
            x[v] = left
            left += widths.get(v, 0.0) + BOX_GAP
        rank_width.append(left - BOX_GAP)
    width = max(rank_width)
    for members, used in zip(ranks, rank_width, strict=True):
        for v in members:
            x[v] += (width - used) / 2
    boxes = tuple(
        Box(n.id, n.lines, n.terminal, x[n.id] + 8, rank[n.id] * RANK_GAP + 8, widths[n.id])
        for n in nodes
    )

    def anchor(v: str, bottom: bool) -> tuple[float, float]:
        top = rank[v] * RANK_GAP + 8
        if v not in widths:  # a bend point: a vertical run through the rank
            return x[v] + 8, top + (BOX_HEIGHT if bottom else 0)
        return x[v] + 8 + widths[v] / 2, top + (BOX_HEIGHT if bottom else 0)

    wires = []
    for edge, chain in zip(edges, chains, strict=True):
        points = [anchor(chain[0], True)]
        for bend in chain[1:-1]:
            points += [anchor(bend, False), anchor(bend, True)]
        points.append(anchor(chain[-1], False))
        wires.append(Wire(edge.source, edge.target, edge.label, tuple(points)))
    return Drawing(boxes, tuple(wires), width + 16, len(ranks) * RANK_GAP + 16)
