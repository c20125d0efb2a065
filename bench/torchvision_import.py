"""Which torchvision models `cnncalc import` reads, via torch.fx and via ONNX (not part of CI).

    pip install torch torchvision onnx && python bench/torchvision_import.py [NAME ...]
        [--no-onnx] [--onnx-max-params 100e6] [--max-params 1e9]

For every classification model (and the segmentation and video ones) built with
`weights=None`: whether the import succeeded, whether params and buffers equal torch's, and
the unsupported ops with their counts where it did not. Prints one line per model and route,
then the totals. Without torchvision it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import types
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

INPUTS = {"classification": (224, 224, 3), "segmentation": (224, 224, 3), "video": (8, 112, 112, 3)}
MODULES = {
    "classification": "torchvision.models",
    "segmentation": "torchvision.models.segmentation",
    "video": "torchvision.models.video",
}
KWARGS = {"segmentation": {"weights_backbone": None}, "video": {}, "classification": {}}
NO_AUX = {"googlenet", "inception_v3"}  # their auxiliary classifiers run only in training


def load_torchvision() -> Any:
    """torchvision, or None. A wheel built against another torch fails registering its
    C++ operators' meta kernels; the models need none of them, so skip that module."""
    try:
        import torchvision
    except ImportError:
        return None
    except RuntimeError:
        for name in [n for n in sys.modules if n.startswith("torchvision")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("stub")
        import torchvision
    return torchvision


def torch_numbers(model: Any) -> tuple[int, int]:
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    return params, buffers


def attempt(source: str, kind: Any, shape: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    """('ok', (params, buffers)) or ('unsupported', Counter) or ('error', message)."""
    from cnncalc.errors import SpecError
    from cnncalc.io.importer import build, read_source
    from cnncalc.report import analyze

    try:
        imported = read_source(source, kind, True, shape, kwargs)
        if imported.unsupported:
            return "unsupported", Counter(op for op, _ in imported.unsupported)
        totals = analyze(build(imported, structure=False).network).totals
        return "ok", (totals.params, totals.buffers)
    except SpecError as exc:
        return "error", exc.message.splitlines()[0][:150]
    except Exception as exc:  # a model or exporter failure: report it and go on
        return "error", f"{type(exc).__name__}: {str(exc)[:150]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--onnx-max-params", type=float, default=100e6)
    parser.add_argument("--max-params", type=float, default=1e9, help="skip larger models")
    args = parser.parse_args()
    torchvision = load_torchvision()
    if torchvision is None:
        print("torchvision is not installed: nothing to do")
        return
    import torch

    warnings.filterwarnings("ignore")
    summary: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for family, module in MODULES.items():
            namespace = sys.modules.get(module) or __import__(module, fromlist=["_"])
            for name in torchvision.models.list_models(module=namespace):
                if args.names and name not in args.names:
                    continue
                shape, kwargs = INPUTS[family], KWARGS[family]
                if name in NO_AUX:
                    kwargs = {"aux_logits": False, "init_weights": False}
                model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
                expected = torch_numbers(model)
                if expected[0] > args.max_params:
                    print(f"{name:28s} skipped: {expected[0]:,} params")
                    summary["skipped"] += 1
                    continue
                routes = [("torch", f"{module}:{name}")]
                if not args.no_onnx and expected[0] <= args.onnx_max_params:
                    path = Path(tmp) / f"{name}.onnx"
                    try:
                        torch.onnx.export(
                            model,
                            (torch.zeros(1, shape[-1], *shape[:-1]),),
                            str(path),
                            dynamo=False,
                            training=torch.onnx.TrainingMode.PRESERVE,
                        )
                        routes.append(("onnx", str(path)))
                    except Exception as exc:
                        print(f"{name:28s} onnx   export failed: {type(exc).__name__}")
                for route, source in routes:
                    start = time.perf_counter()
                    status, detail = attempt(source, route, shape, kwargs)
                    seconds = time.perf_counter() - start
                    if status == "ok":
                        status = "ok" if detail == expected else "MISMATCH"
                        detail = f"params/buffers {detail} vs torch {expected}"
                    elif status == "unsupported":
                        detail = ", ".join(f"{op} ×{n}" for op, n in detail.most_common())
                    summary[f"{route} {status}"] += 1
                    print(f"{name:28s} {route:6s} {status:11s} {seconds:5.1f}s  {detail}")
                    sys.stdout.flush()
    print()
    for key, count in sorted(summary.items()):
        print(f"{key:24s} {count}")


if __name__ == "__main__":
    main()
