"""`cnncalc roofline`: bytes, intensity and latency bounds worked out by hand on a made-up
device (1 GFLOP/s, 1 GB/s), and the bundled profiles load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.design.roofline import load_device, profile_names, roofline

runner = CliRunner()

NET = """\
name: tiny
input: [4, 4, 1]
layers:
  - conv: {name: conv, filters: 1, kernel: 3, bias: false}
  - relu: {name: relu}
"""

DEVICE = """\
name: toy
peak_flops: {float32: 1.0e9, float16: 4.0e9}
bandwidth: 1.0e9
source: made up
"""


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args))


@pytest.fixture
def device(tmp_path: Path) -> str:
    path = tmp_path / "toy.yaml"
    path.write_text(DEVICE)
    return str(path)


def test_tiny_network_by_hand(device: str) -> None:
    result = roofline(cnncalc.load(NET), load_device(device))
    conv, relu = result.layers
    # conv: 2×2 outputs × 9 MACs = 36 MACs = 72 FLOPs; bytes: 9 weights + 16 in + 4 out, ×4
    assert (conv.flops, conv.weight_bytes, conv.input_bytes, conv.output_bytes) == (72, 36, 64, 16)
    assert conv.bound == "memory"  # 72 FLOP / 116 B = 0.62 < ridge 1.0
    assert conv.seconds == pytest.approx(116e-9)
    assert conv.intensity == pytest.approx(72 / 116)
    # relu: 4 FLOPs, 16 + 16 bytes
    assert (relu.flops, relu.bytes) == (4, 32)
    assert result.seconds == pytest.approx(148e-9)
    assert result.ridge == 1.0


def test_batch_and_dtype_scale_activations_not_weights(device: str) -> None:
    conv = roofline(cnncalc.load(NET), load_device(device), "float16", batch=10).layers[0]
    assert (conv.flops, conv.weight_bytes, conv.input_bytes, conv.output_bytes) == (
        720,
        18,
        320,
        80,
    )
    assert conv.bound == "memory"  # 720 / 418 = 1.7 < ridge 4
    assert conv.seconds == pytest.approx(418e-9)


def test_compute_bound_layer(device: str) -> None:
    net = cnncalc.load("input: [32, 32, 64]\nlayers:\n  - conv: {filters: 64, kernel: 3}\n")
    conv = roofline(net, load_device(device)).layers[0]
    # 30·30·64·3·3·64 MACs = 33,177,600; 2 per MAC plus 57,600 bias adds
    assert conv.flops == 2 * 33_177_600 + 57_600
    assert conv.bound == "compute"
    assert conv.seconds == pytest.approx(conv.flops / 1e9)


def test_cli_json(device: str) -> None:
    result = cli("roofline", NET, "--device", device, "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["flops"] == 76
    assert data["totals"]["bytes"] == 148
    assert data["totals"]["seconds"] == pytest.approx(148e-9)
    assert [layer["bound"] for layer in data["layers"]] == ["memory", "memory"]


def test_every_bundled_profile_loads_and_cites_a_source() -> None:
    names = profile_names()
    assert "cpu-2core-avx512" in names and len(names) >= 4
    for name in names:
        device = load_device(name)
        assert device.bandwidth > 0 and device.peak("float32") > 0
        assert device.source
        result = cli("roofline", "resnet18", "--device", name, "-f", "json")
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["resnet18", "--device", "nosuch"], "no device profile"),
        (["resnet18", "--device", "nvidia-t4", "--dtype", "bfloat16"], "no peak FLOP/s"),
        ([], "give an ARCH"),
    ],
)
def test_errors_exit_2(args: list[str], message: str) -> None:
    result = cli("roofline", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_bad_profile_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\npeak_flops: {float32: 1e9}\nbandwidth: -3\n")
    result = cli("roofline", "resnet18", "--device", str(path))
    assert result.exit_code == 2
    assert f"{path}:3:12: error: `bandwidth` must be a positive number" in result.stderr


def test_no_layer_runs_faster_than_its_bound_in_torch() -> None:
    """The bundled CPU profile's bounds against torch's per-layer times on this machine (the
    whole zoo: bench/roofline.py)."""
    torch = pytest.importorskip("torch")
    import time

    from cnncalc.reference.torch_model import build_torch_model

    net = cnncalc.load("resnet18")
    model = build_torch_model(net)
    starts: dict[str, float] = {}
    fastest: dict[str, float] = {}

    def start(name: str) -> None:
        starts[name] = time.perf_counter()

    def stop(name: str) -> None:
        seconds = time.perf_counter() - starts[name]
        fastest[name] = min(fastest.get(name, seconds), seconds)

    for name, key in model.keys.items():
        model.layers[key].register_forward_pre_hook(lambda m, a, name=name: start(name))
        model.layers[key].register_forward_hook(lambda m, a, o, name=name: stop(name))
    x = torch.randn(1, 3, 224, 224)
    for _ in range(3):
        model.forward(x, keep=False)
    bounds = roofline(net, load_device("cpu-2core-avx512")).layers
    timed = [layer for layer in bounds if layer.name in fastest]
    assert len(timed) > 50
    for layer in timed:
        assert fastest[layer.name] >= layer.seconds, f"{layer.name}: faster than its bound"
