"""`cnncalc roofline --measure`: this machine's float32 peak and memory bandwidth, as a device
profile.

Peak: the larger of the best FLOP/s of NumPy's float32 matrix product (BLAS, every core) on
2048² and 3072² matrices and, on Linux, the nominal peak cores × clock × FLOP per cycle
(AVX-512: 64, two FMA units of 16 lanes; AVX2 with FMA: 32; else 8). A tuned convolution
beats BLAS's matmul (torch reached 221 GFLOP/s where NumPy's best was 192 on the 2-core
machine cnncalc is built on), so the measured product alone is no ceiling. Bandwidth: the
best (read + write) bytes/s of copies run on every core at once (one thread each; NumPy
releases the GIL), over working sets from 64 KiB (cache) to 256 MiB (memory) — the best,
not the typical, so that no layer can beat the bound.
"""

from __future__ import annotations

import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def _best(task: object, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        task()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def peak_flops(sizes: tuple[int, ...] = (2048, 3072), repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)
        seconds = _best(lambda a=a, b=b: a @ b, repeats)
        best = max(best, 2 * n**3 / seconds)
    return best


def nominal_flops() -> float:
    """cores × MHz × float32 FLOP per cycle from /proc/cpuinfo; 0 where it cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            text = info.read()
    except OSError:
        return 0.0
    mhz = [float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")]
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "").split()
    per_cycle = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= set(flags) else 8
    return sum(mhz) * 1e6 * per_cycle


def bandwidth(threads: int | None = None, repeats: int = 5) -> float:
    threads = threads or os.cpu_count() or 1
    best = 0.0
    with ThreadPoolExecutor(threads) as pool:
        for total in (64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20, 256 << 20):
            per_thread = total // threads // 4  # float32 elements
            pairs = [
                (np.ones(per_thread, np.float32), np.empty(per_thread, np.float32))
                for _ in range(threads)
            ]
            copies = max(1, (64 << 20) // total)  # each timing moves at least 64 MiB

            def copy(pair: tuple[np.ndarray, np.ndarray], copies: int = copies) -> None:
                for _ in range(copies):
                    np.copyto(pair[1], pair[0])

            seconds = _best(lambda pairs=pairs: list(pool.map(copy, pairs)), repeats)
            best = max(best, 2 * per_thread * 4 * threads * copies / seconds)
    return best


def measure_profile() -> str:
    """This machine's profile, as the YAML of a `--device` file."""
    cores = os.cpu_count() or 1
    measured, nominal, moved = peak_flops(), nominal_flops(), bandwidth()
    peak = max(measured, nominal)
    return (
        f"name: {platform.node() or 'this-machine'}\n"
        f"description: {cores}-core {platform.machine()} CPU, measured by cnncalc roofline "
        "--measure\n"
        f"peak_flops: {{float32: {peak:.4g}}}  # FLOP/s, the larger of: NumPy float32 matmul "
        f"{measured:.4g}, nominal {nominal:.4g}\n"
        f"bandwidth: {moved:.4g}  # bytes/s: best multi-threaded copy, 64 KiB to 256 MiB\n"
        f"source: measured {time.strftime('%Y-%m-%d')} with NumPy {np.__version__}\n"
    )
