"""Roofline: per layer, the bytes it must move and the FLOPs it must do, and from a device's
peak FLOP/s and memory bandwidth a lower bound on its latency.

bytes = (weights + buffers) + inputs + output, each at the dtype's size (weights once, the
activations per sample); FLOPs are the `flops` convention's (2 per MAC, plus bias,
normalization, activation, pooling and merge work). Arithmetic intensity = FLOPs / bytes;
a layer is compute-bound when it exceeds the device's ridge point (peak / bandwidth), and no
implementation can run it faster than max(FLOPs / peak, bytes / bandwidth) — assuming each
tensor crosses memory once, which caches can only make cheaper, never dearer, than the
profile's best measured bandwidth.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnncalc.errors import SourcePos, SpecError
from cnncalc.graph import Network
from cnncalc.layers.base import prod
from cnncalc.passes.flops import count_flops
from cnncalc.passes.memory import DTYPE_BYTES
from cnncalc.yamlnodes import YMap
from cnncalc.yamltree import parse_yaml

PROFILES = Path(__file__).parent / "profiles"


@dataclass(frozen=True)
class Device:
    name: str
    description: str
    peak_flops: dict[str, float]  # FLOP/s per dtype
    bandwidth: float  # bytes/s
    source: str

    def peak(self, dtype: str) -> float:
        if dtype not in self.peak_flops:
            raise SpecError(
                f"device {self.name} has no peak FLOP/s for {dtype}",
                None,
                f"its profile gives {', '.join(self.peak_flops)}: choose one with --dtype",
            )
        return self.peak_flops[dtype]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "peak_flops": dict(self.peak_flops),
            "bandwidth": self.bandwidth,
            "source": self.source,
        }


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))


def _number(doc: YMap, key: str, file: str) -> float:
    """A positive number; `19.5e12` too (YAML 1.1 reads an exponent without a sign as text)."""
    value = doc.get(key)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e30:
        raise SpecError(
            f"`{key}` must be a positive number, got {value!r}",
            doc.pos_of(key) if key in doc else SourcePos(file, 1, 1),
        )
    return float(value)


def load_device(name: str) -> Device:
    """A bundled profile by name, or a profile YAML file."""
    path = PROFILES / f"{name}.yaml"
    if "/" in name or name.endswith((".yaml", ".yml")) or not path.exists():
        path = Path(name)
        if not path.is_file():
            raise SpecError(
                f"no device profile {name!r}",
                SourcePos("--device"),
                f"bundled: {', '.join(profile_names())}; or a YAML file",
            )
    file = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), file)
    if not isinstance(doc, YMap):
        raise SpecError("a device profile is a mapping", SourcePos(file, 1, 1))
    peaks = doc.get("peak_flops")
    if not isinstance(peaks, YMap) or not peaks:
        raise SpecError(
            "`peak_flops` must map dtypes to FLOP/s",
            doc.pos_of("peak_flops") if "peak_flops" in doc else SourcePos(file, 1, 1),
            "e.g. `peak_flops: {float32: 1.9e11}`",
        )
    for dtype in peaks:
        if dtype not in DTYPE_BYTES:
            raise SpecError(
                f"unknown dtype {dtype!r} in peak_flops",
                peaks.key_pos.get(dtype),
                f"choose from {', '.join(DTYPE_BYTES)}",
            )
    return Device(
        str(doc.get("name", path.stem)),
        str(doc.get("description", "")),
        {dtype: _number(peaks, dtype, file) for dtype in peaks},
        _number(doc, "bandwidth", file),
        str(doc.get("source", "")),
    )


@dataclass(frozen=True)
class LayerBound:
    name: str
    kind: str
    flops: int
    weight_bytes: int
    input_bytes: int
    output_bytes: int
    compute_seconds: float
    memory_seconds: float

    @property
    def bytes(self) -> int:
        return self.weight_bytes + self.input_bytes + self.output_bytes

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else 0.0

    @property
    def bound(self) -> str:
        return "compute" if self.compute_seconds > self.memory_seconds else "memory"

    @property
    def seconds(self) -> float:
        return max(self.compute_seconds, self.memory_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "flops": self.flops,
            "weight_bytes": self.weight_bytes,
            "input_bytes": self.input_bytes,
            "output_bytes": self.output_bytes,
            "bytes": self.bytes,
            "intensity": self.intensity,
            "bound": self.bound,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class Roofline:
    name: str
    device: Device
    dtype: str
    batch: int
    layers: tuple[LayerBound, ...]

    @property
    def ridge(self) -> float:
        """FLOPs per byte above which a layer is compute-bound."""
        return self.device.peak(self.dtype) / self.device.bandwidth

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def bytes(self) -> int:
        return sum(layer.bytes for layer in self.layers)

    @property
    def seconds(self) -> float:
        return sum(layer.seconds for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "device": self.device.to_dict(),
            "dtype": self.dtype,
            "batch": self.batch,
            "ridge": self.ridge,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": {
                "flops": self.flops,
                "bytes": self.bytes,
                "intensity": self.flops / self.bytes if self.bytes else 0.0,
                "seconds": self.seconds,
                "compute_bound_layers": sum(r.bound == "compute" for r in self.layers),
                "memory_bound_layers": sum(r.bound == "memory" for r in self.layers),
            },
        }


def roofline(net: Network, device: Device, dtype: str = "float32", batch: int = 1) -> Roofline:
    """Every layer's bytes, FLOPs and latency lower bound on `device`."""
    size = DTYPE_BYTES[dtype]
    peak = device.peak(dtype)
    flops = count_flops(net, "flops")
    layers = []
    for node in net:
        inputs = net.input_shapes(node)
        weights = int(node.op.params(inputs)) + int(node.op.buffers(inputs))
        read = sum(int(prod(shape)) for shape in inputs)
        written = int(prod(net.shapes[node.name]))
        work = flops[node.name].flops * batch
        moved = (weights + batch * (read + written)) * size
        layers.append(
            LayerBound(
                node.name,
                node.kind,
                work,
                weights * size,
                batch * read * size,
                batch * written * size,
                work / peak,
                moved / device.bandwidth,
            )
        )
    return Roofline(net.name, device, dtype, batch, tuple(layers))
