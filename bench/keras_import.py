"""Which keras.applications CNNs `cnncalc import` reads (not part of CI).

    pip install keras torch && KERAS_BACKEND=torch python bench/keras_import.py [NAME ...]
        [--size 96]

For every model (built with `weights=None`, `classes=10`, at size×size×3, saved as .keras):
whether the import succeeds without `--allow-unsupported`, whether params + buffers equal
Keras' `count_params()`, and how many layers' output shapes differ from the ones Keras gives
the layer of the same name (models inside models included). One line per model, then the
totals. Without Keras it says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

MODELS = [
    *("Xception", "VGG16", "VGG19"),
    *("ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2"),
    *("InceptionV3", "InceptionResNetV2"),
    *("MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large"),
    *("DenseNet121", "DenseNet169", "DenseNet201"),
    *(f"EfficientNetB{i}" for i in range(8)),
    *(f"EfficientNetV2{v}" for v in ("B0", "B1", "B2", "B3", "S", "M", "L")),
    *(f"ConvNeXt{v}" for v in ("Tiny", "Small", "Base", "Large", "XLarge")),
    *("NASNetMobile", "NASNetLarge"),
]


def leaves(model: Any) -> list[Any]:
    """Every layer but the inputs, inside nested models too."""
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            found += leaves(layer)
        elif type(layer).__name__ != "InputLayer":
            found.append(layer)
    return found


def check(keras: Any, name: str, size: int, folder: Path) -> str:
    from cnncalc import analyze
    from cnncalc.errors import SpecError
    from cnncalc.io.importer import import_model

    try:
        model = getattr(keras.applications, name)(
            weights=None, input_shape=(size, size, 3), classes=10
        )
    except Exception as exc:  # a model this backend or size cannot build
        return f"not built ({type(exc).__name__}: {str(exc)[:80]})"
    path = folder / f"{name}.keras"
    model.save(path)
    try:
        net = import_model(str(path)).network
    except SpecError as exc:
        return "refused: " + " ".join(str(exc).split())[:160]
    totals = analyze(net).totals
    counted = totals.params + totals.buffers
    shapes = [
        layer.name
        for layer in leaves(model)
        if layer.name in net.shapes and net.shapes[layer.name] != tuple(layer.output.shape[1:])
    ]
    params = "params ok" if counted == model.count_params() else f"params {counted:,} ≠ keras"
    return f"{params}, {len(shapes)} shapes differ {shapes[:3]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--size", type=int, default=96)
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "torch")
    warnings.filterwarnings("ignore")
    try:
        import keras
    except ImportError:
        print("keras is not installed: nothing to measure")
        return
    good = 0
    with tempfile.TemporaryDirectory() as folder:
        for name in args.names or MODELS:
            size = max(args.size, 331 if name == "NASNetLarge" else 224 if "NASNet" in name else 0)
            line = check(keras, name, size, Path(folder))
            good += line.startswith("params ok, 0 shapes")
            print(f"{name:20} {line}", flush=True)
    print(f"{good} of {len(args.names or MODELS)} imported exactly", file=sys.stderr)


if __name__ == "__main__":
    main()
