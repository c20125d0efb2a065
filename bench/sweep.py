"""A NAS-style space analyzed end to end: every cell of a 4-node DAG whose 6 edges each take
one of {none, skip, conv1×1, conv3×3, avgpool3×3} — 5^6 = 15,625 networks (the NAS-Bench-201
space) — through `cnncalc.sweep`: serially, in a process pool, and on a Dask LocalCluster.

    python bench/sweep.py [--limit N]

Each network: a 3×3 stem conv (16 filters) and batchnorm on 32×32×3, the cell three times,
global average pooling and a 10-way dense layer. An edge's conv is conv + batchnorm; a node
adds its live inputs. A node without live inputs is dead (NAS-Bench-201: zeros); when the
cell's output node is dead the cell is analyzed as the identity. Prints networks per second
per core (serial) and each executor's speed-up over serial, measured in one run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cnncalc

OPS = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
EDGES = [(i, j) for j in range(1, 4) for i in range(j)]  # (0,1) (0,2) (1,2) (0,3) (1,3) (2,3)
CELLS = 3


def _edge(cell: int, i: int, j: int, op: str, source: str) -> tuple[list[str], str]:
    """The layers of one edge and the name of its output."""
    name = f"c{cell}.e{i}{j}"
    if op == "skip":
        return [], source
    if op == "avgpool3x3":
        return [
            f"  - avgpool: {{name: {name}, from: {source}, kernel: 3, stride: 1, padding: 1}}"
        ], name
    kernel, padding = (1, 0) if op == "conv1x1" else (3, 1)
    return [
        f"  - conv: {{name: {name}.conv, from: {source}, filters: 16, kernel: {kernel}, "
        f"padding: {padding}, bias: false}}",
        f"  - batchnorm: {{name: {name}}}",
    ], name


def network(genotype: tuple[str, ...]) -> tuple[str, bool]:
    """The spec of one genotype, and whether its cell's output node is dead."""
    lines = [
        "name: nas-" + "-".join(genotype),
        "input: [32, 32, 3]",
        "layers:",
        "  - conv: {name: stem, filters: 16, kernel: 3, padding: 1, bias: false}",
        "  - batchnorm: {name: stem.bn}",
    ]
    previous, dead_output = "stem.bn", False
    ops = dict(zip(EDGES, genotype, strict=True))
    for cell in range(CELLS):
        nodes: dict[int, str | None] = {0: previous}
        for j in range(1, 4):
            live = []
            for i in range(j):
                source = nodes[i]
                if ops[(i, j)] == "none" or source is None:
                    continue
                layers, out = _edge(cell, i, j, ops[(i, j)], source)
                lines += layers
                live.append(out)
            if len(live) > 1:
                lines.append(f"  - add: {{name: c{cell}.n{j}, from: [{', '.join(live)}]}}")
                nodes[j] = f"c{cell}.n{j}"
            else:
                nodes[j] = live[0] if live else None
        dead_output = nodes[3] is None
        previous = nodes[3] or previous
    lines += [
        f"  - global_avgpool: {{name: pool, from: {previous}}}",
        "  - dense: {name: fc, units: 10}",
    ]
    return "\n".join(lines) + "\n", dead_output


def timed(label: str, texts: list[str], serial: float | None, **options: object) -> float:
    start = time.perf_counter()
    result = cnncalc.sweep(texts, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    invalid = sum(row.error is not None for row in result.rows)
    rate = len(texts) / seconds
    ratio = f", {serial / seconds:.2f}× serial" if serial else ""
    print(f"{label:<34} {seconds:7.1f} s  {rate:7.0f} networks/s{ratio}  ({invalid} invalid)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="only the first N networks")
    args = parser.parse_args()
    genotypes = list(itertools.product(OPS, repeat=len(EDGES)))[: args.limit]
    specs = [network(g) for g in genotypes]
    texts = [text for text, _ in specs]
    dead = sum(d for _, d in specs)
    layers = [len(cnncalc.load(t)) for t in texts[:: max(1, len(texts) // 200)]]
    print(
        f"{len(texts):,} networks ({dead:,} with a dead cell output, analyzed as identity "
        f"cells), {min(layers)}–{max(layers)} layers; {os.cpu_count()} cores"
    )
    serial = timed("serial (1 core)", texts, None)
    print(f"  → {len(texts) / serial:.0f} networks per second per core")
    timed("process pool, 2 workers", texts, serial, workers=2)
    try:
        from distributed import LocalCluster
    except ImportError:
        print('Dask: not installed (pip install "cnncalc[dask]")')
        return
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        timed("Dask LocalCluster, 2 workers", texts, serial, scheduler=cluster.scheduler_address)


if __name__ == "__main__":
    main()
