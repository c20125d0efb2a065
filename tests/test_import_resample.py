"""`cnncalc import` of upsample, pixel_shuffle / pixel_unshuffle, pad and crop at spatial rank
1, 2 and 3: small torch modules through torch.fx and through ONNX (exported here), whose
params, buffers, output shape and conv MACs equal torch's; Keras models whose counts equal
Keras'.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.io.importer import import_model, same_network
from cnncalc.report import analyze

runner = CliRunner()
torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional


class Resample2d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.shuffle = nn.PixelShuffle(2)
        self.reflect = nn.ReflectionPad2d((1, 2, 3, 4))
        self.zeros = nn.ZeroPad2d(1)
        self.head = nn.Conv2d(4, 8, 3)

    def forward(self, x: Any) -> Any:
        y = F.interpolate(self.conv(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
        y = self.zeros(self.reflect(self.shuffle(self.up(y))))
        y = F.pad(y, (1, 1, 0, 2), mode="replicate")
        y = self.head(y[:, :, 1:-2, 2:])
        return F.interpolate(y, scale_factor=0.5, mode="bicubic", align_corners=True)


class Resample1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3)
        self.up = nn.Upsample(scale_factor=3, mode="linear")
        self.pad = nn.ReplicationPad1d((2, 1))

    def forward(self, x: Any) -> Any:
        y = F.pad(self.pad(self.up(self.conv(x))), (1, 1), value=0.5)
        return y[:, :, 1:-1]


class Resample3d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=(1, 2, 2), mode="trilinear", align_corners=True)
        self.pad = nn.ConstantPad3d(1, 0.0)
        self.head = nn.Conv3d(4, 2, 1)

    def forward(self, x: Any) -> Any:
        return self.head(self.pad(self.up(self.conv(x)))[:, :, :, 1:, 1:])


class Shuffles(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.unshuffle = nn.PixelUnshuffle(2)

    def forward(self, x: Any) -> Any:
        return F.pixel_shuffle(self.unshuffle(F.pixel_shuffle(self.conv(x), 2)), 2)


MODELS = {
    Resample2d: ((12, 12, 3), ["conv", "upsample", "upsample", "pixel_shuffle", "pad", "pad"]),
    Resample1d: ((10, 2), ["conv", "upsample", "pad", "pad", "crop"]),
    Resample3d: ((4, 6, 6, 3), ["conv", "upsample", "pad", "crop", "conv"]),
    Shuffles: ((8, 8, 3), ["conv", "pixel_shuffle", "pixel_unshuffle", "pixel_shuffle"]),
}


def _torch_numbers(model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """Params, buffers, output shape (channels last) and the MACs of convs, by hooks."""
    x = torch.zeros(1, shape[-1], *shape[:-1])
    macs = 0

    def hook(module: Any, args: Any, out: Any) -> None:
        nonlocal macs
        if isinstance(module, nn.modules.conv._ConvNd):
            macs += out.numel() * math.prod(module.kernel_size) * module.in_channels

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        out = model(x)
    for handle in handles:
        handle.remove()
    dims = tuple(out.shape[1:])
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": 0,
        "output": (*dims[1:], dims[0]),
        "conv_macs": macs,
    }


def _numbers(net: Any) -> dict[str, Any]:
    report = analyze(net)
    return {
        "params": report.totals.params,
        "buffers": report.totals.buffers,
        "output": net.shapes[net.output.name],
        "conv_macs": sum(row.multiplies.macs for row in report.layers if row.node.kind == "conv"),
    }


def _export(model: Any, shape: tuple[int, ...], path: Path, dynamo: bool = False) -> None:
    pytest.importorskip("onnx")
    if dynamo:
        pytest.importorskip("onnxscript")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, shape[-1], *shape[:-1]),), str(path), dynamo=dynamo
        )


def _module_source(cls: type) -> str:
    return f"tests.test_import_resample:{cls.__name__}"


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
def test_fx_import_counts_as_torch(cls: type) -> None:
    shape, kinds = MODELS[cls]
    result = import_model(_module_source(cls), "torch", False, shape)
    assert _numbers(result.network) == _torch_numbers(cls().eval(), shape)
    assert [n.kind for n in result.network][: len(kinds)] == kinds
    assert same_network(cnncalc.load(result.text), result.network)


def test_fx_import_reads_each_argument() -> None:
    net = import_model(_module_source(Resample2d), "torch", False, (12, 12, 3)).network
    nodes = {n.name: n.op for n in net}
    # a size read from `x.shape[-2:]` is the concrete size; F.pad lists the last axis first
    assert nodes["interpolate"] == cnncalc.layers.KINDS["upsample"](size=12, mode="bilinear")
    assert nodes["reflect"].padding == (3, 4, 1, 2)  # type: ignore[attr-defined]
    assert nodes["pad"].padding == (0, 2, 1, 1)  # type: ignore[attr-defined]
    assert nodes["pad"].mode == "replicate"  # type: ignore[attr-defined]
    assert nodes["getitem"].cropping == (1, 2, 2, 0)  # type: ignore[attr-defined]
    up = nodes["interpolate_1"]
    assert (up.scale, up.mode, up.align_corners) == (0.5, "bicubic", True)  # type: ignore[attr-defined]
    one_d = {
        n.name: n.op
        for n in import_model(_module_source(Resample1d), "torch", False, (10, 2)).network
    }
    assert one_d["pad_1"].value == 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", [Resample2d, Resample1d, Resample3d], ids=lambda c: c.__name__)
def test_onnx_import_counts_as_torch(cls: type, tmp_path: Path) -> None:
    shape = MODELS[cls][0]
    path = tmp_path / "m.onnx"
    _export(cls().eval(), shape, path)
    result = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0, result.output
    net = cnncalc.load(tmp_path / "m.yaml")
    assert _numbers(net) == _torch_numbers(cls().eval(), shape)
    fx = import_model(_module_source(cls), "torch", False, shape).network
    # ONNX slices one axis at a time: a crop of two axes is two crops
    assert [n.kind for n in net if n.kind != "crop"] == [n.kind for n in fx if n.kind != "crop"]


def test_onnx_pixel_shuffles_from_the_dynamo_exporter(tmp_path: Path) -> None:
    """DepthToSpace (CRD) for pixel_shuffle; Reshape → Transpose → Reshape for unshuffle."""
    shape = MODELS[Shuffles][0]
    path = tmp_path / "m.onnx"
    _export(Shuffles().eval(), shape, path, dynamo=True)
    net = import_model(str(path)).network
    assert [n.kind for n in net] == MODELS[Shuffles][1]
    assert [n.op.factor for n in list(net)[1:]] == [2, 2, 2]  # type: ignore[attr-defined]
    assert _numbers(net) == _torch_numbers(Shuffles().eval(), shape)


def test_onnx_resize_by_sizes_and_scales(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    _export(Resample2d().eval(), (12, 12, 3), path, dynamo=True)
    net = import_model(str(path)).network
    ups = [n.op for n in net if n.kind == "upsample"]
    assert [(u.size, u.scale, u.mode) for u in ups] == [  # type: ignore[attr-defined]
        (12, None, "bilinear"),
        (None, 2, "nearest"),
        (None, 0.5, "bicubic"),
    ]
    assert ups[2].align_corners  # type: ignore[attr-defined]


def test_onnx_pad_of_the_channels_is_unsupported_with_its_node(tmp_path: Path) -> None:
    class ChannelPad(nn.Module):
        def forward(self, x: Any) -> Any:
            return F.pad(x, (0, 0, 0, 0, 1, 1))

    torch_path = tmp_path / "m.onnx"
    _export(ChannelPad(), (4, 4, 3), torch_path)
    result = runner.invoke(app, ["import", str(torch_path)])
    assert result.exit_code == 2
    assert "Pad ×1" in result.stderr


def test_fx_unsupported_modes_are_listed() -> None:
    result = runner.invoke(
        app,
        [
            "import",
            "--from",
            "torch",
            "tests.test_import_resample:NearestExact",
            "--input",
            "8x8x3",
        ],
    )
    assert result.exit_code == 2
    assert "interpolate ×1" in result.stderr and "ReflectionPad2d" not in result.stderr


class NearestExact(nn.Module):
    def forward(self, x: Any) -> Any:
        return F.interpolate(x, scale_factor=2, mode="nearest-exact")


# --- Keras -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def test_keras_resampling_layers(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    x = keras.Input((8, 8, 3))
    y = layers.Conv2D(4, 3, padding="same", name="conv")(x)
    y = layers.ZeroPadding2D(((1, 0), (2, 1)), name="zp")(y)
    y = layers.Cropping2D(((0, 1), (1, 2)), name="crop")(y)
    y = layers.UpSampling2D((2, 3), interpolation="bilinear", name="up")(y)
    y = layers.Resizing(12, 10, name="resize")(y)
    model = keras.Model(x, layers.Conv2D(2, 1, name="head")(y))
    model.save(tmp_path / "m.keras")
    net = import_model(str(tmp_path / "m.keras")).network
    ops = {n.name: n.op for n in net}
    assert ops["zp"].padding == (1, 0, 2, 1)  # type: ignore[attr-defined]
    assert ops["crop"].cropping == (0, 1, 1, 2)  # type: ignore[attr-defined]
    assert (ops["up"].scale, ops["up"].mode) == ((2, 3), "bilinear")  # type: ignore[attr-defined]
    assert ops["resize"].size == (12, 10)  # type: ignore[attr-defined]
    assert net.shapes["head"] == tuple(model.output.shape[1:])
    assert analyze(net).totals.params == model.count_params()


def test_keras_1d_and_3d_resampling(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    for shape, rank in (((10, 2), 1), ((4, 6, 6, 2), 3)):
        x = keras.Input(shape)
        y = getattr(layers, f"UpSampling{rank}D")(2, name="up")(x)
        y = getattr(layers, f"ZeroPadding{rank}D")(1, name="zp")(y)
        y = getattr(layers, f"Cropping{rank}D")(2, name="crop")(y)
        model = keras.Model(x, y)
        model.save(tmp_path / "m.keras")
        net = import_model(str(tmp_path / "m.keras")).network
        assert [n.kind for n in net] == ["upsample", "pad", "crop"]
        assert net.shapes["crop"] == tuple(model.output.shape[1:])


@pytest.mark.parametrize("opset", [9, 10, 11])
def test_onnx_upsample_of_older_opsets(opset: int, tmp_path: Path) -> None:
    """Upsample (opset 9), Resize of (X, scales) (10) and of (X, roi, scales) (11)."""
    pytest.importorskip("onnx")
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1),
        nn.Upsample(scale_factor=2),
        nn.Upsample(scale_factor=2, mode="bilinear"),
    ).eval()
    path = tmp_path / "m.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False, opset_version=opset
        )
    net = import_model(str(path)).network
    ups = [n.op for n in net if n.kind == "upsample"]
    assert [(u.scale, u.mode) for u in ups] == [(2, "nearest"), (2, "bilinear")]  # type: ignore[attr-defined]
    assert net.shapes[net.output.name] == (32, 32, 4)
