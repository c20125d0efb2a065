"""Reading a 100,000-layer spec's YAML into the tree: CPU time and the tree's memory.

    python bench/yaml_read.py

For the benchmark chain written three ways (flow fields, `name` last, block-style fields) and
a chain of `from: [a, b]` lists: the line reader's time (`parse_yaml`), libyaml's path on the
same text (`_build`) and their ratio, measured in one run (best of 3, the collector paused as
`parse_yaml` pauses it), and the tree's size (RSS after minus before, in a fresh process, as
the pages a tree takes stay with the process). Goals on the chain: ≤ 0.25 s and ≤ 55 MB.
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import chain_spec

from cnncalc.yamltree import _build, parse_yaml

LAYERS = 100_000
_TREE_MB = """
import sys
from cnncalc.yamltree import parse_yaml
def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096
text = sys.stdin.read()
before = rss()
tree = parse_yaml(text, 'spec.yaml')
print((rss() - before) / 1e6)
"""


def specs() -> dict[str, str]:
    chain = chain_spec(LAYERS)
    flow_field = re.compile(r"\{name: (c\d+), filters: 16, kernel: 3, padding: 1\}")
    block_fields = "\n      name: \\1\n      filters: 16\n      kernel: 3\n      padding: 1"
    lines = ["input: [8, 8, 4]", "layers:", "  - relu: {name: x0}", "  - relu: {name: x1}"]
    lines += [f"  - add: {{name: x{i}, from: [x{i - 1}, x{i - 2}]}}" for i in range(2, 60_000)]
    return {
        "chain": chain,
        "chain, name last": flow_field.sub(
            r"{filters: 16, kernel: 3, padding: 1, name: \1}", chain
        ),
        "chain, block fields": flow_field.sub(block_fields, chain),
        "60k from lists": "\n".join(lines) + "\n",
    }


def best_seconds(read: Callable[[str, str], Any], text: str) -> float:
    times = []
    for _ in range(3):
        gc.disable()
        start = time.process_time()
        tree = read(text, "spec.yaml")
        times.append(time.process_time() - start)
        del tree
        gc.enable()
    return min(times)


def main() -> None:
    print(f"{'spec':<22}{'lines':>9}{'parse s':>9}{'libyaml s':>11}{'ratio':>7}{'tree MB':>9}")
    for name, text in specs().items():
        fast, slow = best_seconds(parse_yaml, text), best_seconds(_build, text)
        tree_mb = subprocess.run(
            [sys.executable, "-c", _TREE_MB], input=text, capture_output=True, text=True
        ).stdout.strip()
        lines = text.count("\n")
        print(f"{name:<22}{lines:>9,}{fast:>9.3f}{slow:>11.3f}{fast / slow:>7.2f}{tree_mb:>9.5}")


if __name__ == "__main__":
    main()
