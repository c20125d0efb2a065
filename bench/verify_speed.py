"""The NumPy reference forward against PyTorch's CPU forward of the same network.

    python bench/verify_speed.py        (needs torch: pip install torch==2.13.0)

vgg16 and resnet50 at 224×224×3, batch 1, float32, the same weights in both; each time is the
median of 5 runs after a warm-up, both measured in this one run. Goal: NumPy within 1.5× of
torch on vgg16. Throughput is 2·MACs per second, set against the machine's own ceiling: a
4096×4096 sgemm in NumPy (OpenBLAS) and in torch, and the nominal FMA peak of its cores.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from common import median_seconds

import cnncalc
from cnncalc.reference.forward import run_forward
from cnncalc.reference.torch_model import build_torch_model

NETS = ("vgg16", "resnet50")
GOAL = 1.5  # NumPy / torch on vgg16


def sgemm_gflops(torch: Any = None, n: int = 4096) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    if torch is None:
        seconds = median_seconds(lambda: a @ a, repeats=3)
    else:
        t = torch.from_numpy(a)
        seconds = median_seconds(lambda: t @ t, repeats=3)
    return 2 * n**3 / seconds / 1e9


def nominal_peak() -> str:
    """cores × clock × 32 float32 FLOPs per cycle (two 8-wide FMA units), if /proc says so."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    if not mhz or " fma" not in flags or " avx2" not in flags:
        return "unknown"
    cores = os.cpu_count() or 1
    ghz = mhz[0] / 1000
    return f"{cores * ghz * 32:.0f} GFLOP/s nominal ({cores} cores × {ghz:.2f} GHz × 32)"


def time_both(name: str, torch: Any) -> tuple[int, float, float]:
    """(MACs, NumPy seconds, torch seconds) of one bundled network, same weights."""
    net = cnncalc.load(name)
    macs = cnncalc.analyze(net).macs
    first = run_forward(net)  # allocates the weights; not timed
    numpy_s = median_seconds(lambda: run_forward(net, weights=first.weights, x=first.input))
    time.sleep(1.0)  # let OpenBLAS's threads go idle before torch's start
    model = build_torch_model(net, first.weights)
    x = torch.from_numpy(np.ascontiguousarray(first.input.transpose(0, 3, 1, 2)))
    with torch.inference_mode():
        torch_s = median_seconds(lambda: model.forward(x, keep=False))
    time.sleep(1.0)
    return macs, numpy_s, torch_s


def main() -> None:
    import torch

    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    rows = [(name, *time_both(name, torch)) for name in NETS]
    numpy_peak = sgemm_gflops()
    time.sleep(1.0)
    torch_peak = sgemm_gflops(torch)
    print(
        f"{'net':<9} {'GMACs':>6} {'NumPy':>9} {'torch':>9} {'ratio':>6} "
        f"{'NumPy GFLOP/s':>14} {'torch GFLOP/s':>14}"
    )
    for name, macs, numpy_s, torch_s in rows:
        print(
            f"{name:<9} {macs / 1e9:6.2f} {numpy_s * 1000:7.0f} ms {torch_s * 1000:7.0f} ms "
            f"{numpy_s / torch_s:5.2f}× {2 * macs / numpy_s / 1e9:14.0f} "
            f"{2 * macs / torch_s / 1e9:14.0f}"
        )
    print(
        f"machine: 4096² sgemm {numpy_peak:.0f} GFLOP/s (NumPy/OpenBLAS), "
        f"{torch_peak:.0f} GFLOP/s (torch); {nominal_peak()}"
    )
    vgg = rows[0]
    ratio = vgg[2] / vgg[3]
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"goal NumPy ≤ {GOAL}× torch on vgg16: {ratio:.2f}× — {verdict}")


if __name__ == "__main__":
    main()
