"""Helpers for the benchmarks: generated specs and medians. Run the benches by hand."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def chain_spec(layers: int) -> str:
    """A residual chain of `layers` layers: conv/batchnorm/relu triples with an add every
    third triple, so the DAG, shapes, params, MACs, RF and memory passes all do real work."""
    lines = ["name: chain", "input: [32, 32, 16]", "layers:"]
    count = 0
    block = 0
    while count < layers:
        lines.append(f"  - conv: {{name: c{block}, filters: 16, kernel: 3, padding: 1}}")
        lines.append("  - batchnorm")
        lines.append(f"  - relu: {{name: r{block}}}")
        count += 3
        if block % 3 == 2 and count < layers:
            lines.append(f"  - add: {{from: [r{block}, r{block - 2}]}}")
            count += 1
        block += 1
    return "\n".join(lines) + "\n"


def median_seconds(task: Callable[[], object], repeats: int = 5) -> float:
    task()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
