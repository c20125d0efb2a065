"""Roofline lower bounds against per-layer PyTorch CPU times, for the whole zoo.

    python bench/roofline.py [--device cpu-2core-avx512] [--runs 7] [NAME ...]

Each network runs forward in torch (CPU, batch 1, float32, every core) with forward hooks
timing each layer's module; the median of the runs (after a warm-up) is compared with the
layer's bound from `cnncalc roofline`. Layers that are not torch modules (merges, flatten)
are not timed. Prints, in one run: the Spearman rank correlation of bounds and times, the
median and smallest ratio measured / bound per layer kind, and every layer whose time is
below its bound (there should be none).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

import cnncalc
from cnncalc.design.roofline import load_device, roofline
from cnncalc.reference.torch_model import build_torch_model
from cnncalc.zoo import zoo_names


def layer_times(net: cnncalc.Network, runs: int) -> dict[str, float]:
    """Median seconds per layer module over `runs` forward passes (after one warm-up)."""
    model = build_torch_model(net)
    starts: dict[str, float] = {}
    samples: dict[str, list[float]] = defaultdict(list)
    for name, key in model.keys.items():
        module = model.layers[key]
        module.register_forward_pre_hook(
            lambda m, a, name=name: starts.__setitem__(name, time.perf_counter())
        )
        module.register_forward_hook(
            lambda m, a, o, name=name: samples[name].append(time.perf_counter() - starts[name])
        )
    x = torch.randn(1, net.input_shape[2], *net.input_shape[:2])
    model.forward(x, keep=False)
    samples.clear()
    for _ in range(runs):
        model.forward(x, keep=False)
    return {name: statistics.median(values) for name, values in samples.items()}


def spearman(a: list[float], b: list[float]) -> float:
    ranks_a = np.argsort(np.argsort(a))
    ranks_b = np.argsort(np.argsort(b))
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=zoo_names())
    parser.add_argument("--device", default="cpu-2core-avx512")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    device = load_device(args.device)
    print(
        f"{device.name}: {device.peak('float32') / 1e9:.0f} GFLOP/s, "
        f"{device.bandwidth / 1e9:.0f} GB/s; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, median of {args.runs} runs"
    )
    bounds, measured = [], []
    ratios: dict[str, list[float]] = defaultdict(list)
    below = []
    for name in args.names:
        net = cnncalc.load(name)
        times = layer_times(net, args.runs)
        net_bounds, net_times = [], []
        for layer in roofline(net, device).layers:
            if layer.name not in times:
                continue
            seconds = times[layer.name]
            net_bounds.append(layer.seconds)
            net_times.append(seconds)
            ratios[layer.kind].append(seconds / layer.seconds if layer.seconds else float("inf"))
            if seconds < layer.seconds:
                below.append(
                    f"{name}.{layer.name} ({layer.kind}): {seconds:.3g} s < {layer.seconds:.3g} s"
                )
        bounds += net_bounds
        measured += net_times
        print(
            f"{name:<22} {len(net_times):>4} layers  bound {sum(net_bounds) * 1e3:8.2f} ms  "
            f"measured {sum(net_times) * 1e3:8.2f} ms  "
            f"rank corr. {spearman(net_bounds, net_times):.3f}"
        )
    print(f"\nall {len(bounds)} layers: Spearman rank correlation {spearman(bounds, measured):.3f}")
    print(f"{'kind':<18} {'layers':>6} {'median measured/bound':>22} {'smallest':>9}")
    for kind, values in sorted(ratios.items()):
        print(f"{kind:<18} {len(values):>6} {statistics.median(values):>22.1f} {min(values):>9.2f}")
    print(f"\nlayers faster than their bound: {len(below)}")
    for line in below[:20]:
        print("  " + line)


if __name__ == "__main__":
    main()
