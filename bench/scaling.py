"""Cost is linear in layers: load + every pass for generated 1,000- and 10,000-layer specs.

    python bench/scaling.py

Prints both medians and their ratio (goal: 10k under 1 s, 10k/1k ≤ 12), measured in one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import chain_spec, median_seconds

import cnncalc


def main() -> None:
    results = {}
    for layers in (1_000, 10_000):
        text = chain_spec(layers)
        results[layers] = median_seconds(lambda text=text: cnncalc.analyze(cnncalc.load(text)))
        count = len(cnncalc.load(text))
        print(
            f"{count:>6} layers: load + all passes {results[layers] * 1000:8.1f} ms (median of 5)"
        )
    ratio = results[10_000] / results[1_000]
    print(f"10k/1k time ratio: {ratio:.2f} (linear ≈ 10; goal ≤ 12)")
    print(f"10k under 1 s: {'yes' if results[10_000] < 1 else 'NO'}")


if __name__ == "__main__":
    main()
