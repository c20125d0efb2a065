"""Cold start: `cnncalc summary resnet50` as a fresh process, against bare Python.

    python bench/startup.py

Runs each command 7 times (after one warm-up for the disk cache) and prints medians and the
ratio, measured in one run. When torch is installed it also times `import torch`, the floor
under every torch-based peer (torchinfo, fvcore, ptflops).
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import time


def wall(cmd: list[str], repeats: int = 7) -> float:
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    bare = wall([sys.executable, "-c", "pass"])
    summary = wall([sys.executable, "-m", "cnncalc", "summary", "resnet50"])
    as_json = wall([sys.executable, "-m", "cnncalc", "summary", "resnet50", "-f", "json"])
    print(f"python -c pass:                      {bare * 1000:7.1f} ms")
    print(
        f"cnncalc summary resnet50 (table):    {summary * 1000:7.1f} ms  "
        f"({summary / bare:.1f}× bare Python; goal ≤ 300 ms)"
    )
    print(f"cnncalc summary resnet50 --format json: {as_json * 1000:7.1f} ms")
    if importlib.util.find_spec("torch") is not None:
        torch = wall([sys.executable, "-c", "import torch"], repeats=3)
        print(
            f"python -c 'import torch':            {torch * 1000:7.1f} ms  "
            f"(cnncalc summary is {torch / summary:.1f}× faster than importing torch)"
        )


if __name__ == "__main__":
    main()
