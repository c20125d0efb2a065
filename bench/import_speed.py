"""`cnncalc import resnet50.onnx` end to end, against onnx-tool's profile of the same file.

    pip install torch onnx onnx-tool && python bench/import_speed.py

Exports a torchvision-like ResNet-50 (tests/torchvision_like.py; BatchNorm kept) to ONNX,
then times each tool as a fresh process (median of 5 after a warm-up), in one run: the
cold `cnncalc import` (read, count, check against the initializers, recover the blocks,
write the spec) and `onnx_tool.model_profile` (shapes, MACs and params of every node).
Goals: faster than onnx-tool, and ≤ 1 s cold.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str], repeats: int = 5) -> float:
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def export_resnet50(path: Path) -> None:
    import torch

    sys.path.insert(0, str(ROOT))
    from tests.torchvision_like import resnet50

    torch.onnx.export(
        resnet50().eval(),
        (torch.zeros(1, 3, 224, 224),),
        str(path),
        dynamo=False,
        training=torch.onnx.TrainingMode.PRESERVE,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "resnet50.onnx"
        export_resnet50(model)
        bare = wall([sys.executable, "-c", "pass"])
        imported = wall(
            [sys.executable, "-m", "cnncalc", "import", str(model), "-o", str(Path(tmp) / "r.yaml")]
        )
        profile = wall(
            [
                sys.executable,
                "-c",
                f"import onnx_tool; onnx_tool.model_profile({str(model)!r})",
            ]
        )
    print(f"python -c pass:                 {bare * 1000:7.0f} ms")
    print(f"cnncalc import resnet50.onnx:   {imported * 1000:7.0f} ms  (goal ≤ 1000 ms)")
    print(f"onnx_tool.model_profile:        {profile * 1000:7.0f} ms")
    print(f"onnx-tool / cnncalc:            {profile / imported:7.2f}×  (goal > 1)")


if __name__ == "__main__":
    main()
