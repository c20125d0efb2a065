"""`cnncalc import` of the kinds beyond the 2019 vocabulary, at spatial rank 1, 2 and 3.

ConvNeXt-T, ShuffleNet V2, EfficientNet-B0 and RegNetY-400MF (written from torchvision's
source in `tests/torchvision_more.py`) and small 1-D and 3-D nets are imported through
torch.fx and through ONNX (exported here): params, buffers and the output shape equal
torch's, MACs equal a forward-hook count of conv and linear layers, and the four zoo specs
give the same numbers. Keras functional models with the new layers count as Keras does.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def tv() -> Any:
    pytest.importorskip("torch")
    from tests import torchvision_more

    return torchvision_more


def _expected(tv: Any, model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    import torch

    x = torch.zeros(1, shape[-1], *shape[:-1])
    with torch.no_grad():
        out = model(x)
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n),
        "output": tuple(out.shape[1:]),
        "macs": tv.mac_count(model, x),
    }


def _numbers(net: Any) -> dict[str, Any]:
    report = analyze(net)
    return {
        "params": report.totals.params,
        "buffers": report.totals.buffers,
        "output": net.shapes[net.output.name],
        "macs": report.macs,
    }


def _export(model: Any, shape: tuple[int, ...], path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, shape[-1], *shape[:-1]),),
            str(path),
            dynamo=False,
            training=torch.onnx.TrainingMode.PRESERVE,  # keep BatchNorm (not folded into convs)
        )


NETS = ["convnext_tiny", "shufflenet_v2_x1_0", "efficientnet_b0", "regnet_y_400mf"]


@pytest.mark.parametrize("name", NETS)
def test_torchvision_net_imports_via_fx_and_onnx_with_torchs_numbers(
    tv: Any, name: str, tmp_path: Path
) -> None:
    shape = (64, 64, 3)
    model = getattr(tv, name)(num_classes=10).eval()
    expected = _expected(tv, model, shape)
    expected["output"] = (10,)
    via_fx = import_model(
        f"tests.torchvision_more:{name}", "torch", False, shape, True, {"num_classes": 10}
    )
    assert _numbers(via_fx.network) == expected
    assert same_network(cnncalc.load(via_fx.text), via_fx.network)

    path = tmp_path / f"{name}.onnx"
    _export(model, shape, path)
    result = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "net.yaml")])
    assert result.exit_code == 0, result.output
    via_onnx = cnncalc.load(tmp_path / "net.yaml")
    assert _numbers(via_onnx) == expected
    # ONNX drops stochastic depth and dropout at inference, and exports AdaptiveAvgPool2d(1)
    # as GlobalAveragePool; every other kind is the same
    dropped = {"stochastic_depth", "dropout"}
    fx_kinds = [n.kind for n in via_fx.network if n.kind not in dropped]
    global_pool = {"adaptive_avgpool": "global_avgpool"}
    assert [n.kind for n in via_onnx] == [global_pool.get(k, k) for k in fx_kinds]


@pytest.mark.parametrize("name", NETS)
def test_torchvision_net_via_fx_counts_as_the_zoo_spec(tv: Any, name: str) -> None:
    shape = (64, 64, 3)
    via_fx = import_model(f"tests.torchvision_more:{name}", "torch", False, shape)
    zoo = _numbers(cnncalc.load(name, shape))
    assert _numbers(via_fx.network) == zoo


def test_convnext_reads_as_its_blocks_do(tv: Any) -> None:
    net = import_model("tests.torchvision_more:convnext_tiny", "torch", False, (64, 64, 3)).network
    nodes = {n.name: n for n in net}
    block = "features.1.0"
    assert nodes[f"{block}.block.0"].kind == "conv"
    assert nodes[f"{block}.block.2"].kind == "layernorm"
    pointwise = nodes[f"{block}.block.3"].op
    assert pointwise.per_position and pointwise.units == 384  # type: ignore[attr-defined]
    assert nodes[f"{block}.layer_scale"].kind == "layer_scale"
    assert nodes[f"{block}.stochastic_depth"].kind == "stochastic_depth"
    stem_norm = nodes["features.0.1"]
    assert stem_norm.kind == "layernorm" and stem_norm.functional


def test_shufflenet_chunk_and_shuffle_become_slices_and_channel_shuffle(tv: Any) -> None:
    net = import_model(
        "tests.torchvision_more:shufflenet_v2_x1_0", "torch", False, (64, 64, 3)
    ).network
    nodes = {n.name: n for n in net}
    halves = [nodes["stage2.1.chunk.0"].op, nodes["stage2.1.chunk.1"].op]
    assert [(h.parts, h.part) for h in halves] == [(2, 0), (2, 1)]  # type: ignore[attr-defined]
    shuffle = nodes["stage2.1.channel_shuffle"]
    assert shuffle.kind == "channel_shuffle" and shuffle.op.groups == 2  # type: ignore[attr-defined]
    assert nodes["mean"].kind == "mean"


SMALL = {"Audio1d": (100, 2), "Video3d": (8, 32, 32, 3), "Functional": (17, 17, 3)}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_1d_and_3d_nets_import_via_fx_and_onnx(tv: Any, name: str, tmp_path: Path) -> None:
    shape = SMALL[name]
    model = getattr(tv, name)().eval()
    expected = _expected(tv, model, shape)
    via_fx = import_model(f"tests.torchvision_more:{name}", "torch", False, shape)
    assert _numbers(via_fx.network) == expected
    assert same_network(cnncalc.load(via_fx.text), via_fx.network)
    path = tmp_path / f"{name}.onnx"
    _export(model, shape, path)
    via_onnx = import_model(str(path), allow_unsupported=True)
    assert _numbers(via_onnx.network) == expected


def test_function_forms_map_as_their_modules_do(tv: Any) -> None:
    net = import_model("tests.torchvision_more:Functional", "torch", False, (17, 17, 3)).network
    ops = {n.name: n.op for n in net}
    assert net.shapes["max_pool2d"] == (9, 9, 16)  # ceil((17 + 2 − 3) / 2) + 1
    assert net.shapes["avg_pool2d"] == (4, 4, 16)
    assert (ops["getitem"].start, ops["getitem"].stop) == (4, 12)  # type: ignore[attr-defined]
    assert [n.kind for n in net if n.name in ("glu", "add_", "mean")] == ["glu", "add", "mean"]


# --- Keras ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def _keras_import(keras: Any, model: Any, tmp_path: Path) -> Any:
    path = tmp_path / "m.keras"
    model.save(path)
    result = import_model(str(path))
    totals = analyze(result.network).totals
    assert totals.params + totals.buffers == model.count_params()
    assert result.network.shapes[result.network.output.name] == tuple(model.output.shape[1:])
    return result.network


def test_keras_1d_net_with_the_new_normalizations(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    x = keras.Input((100, 4))
    y = layers.Conv1D(16, 5, strides=2, padding="same", activation="mish", name="conv")(x)
    y = layers.BatchNormalization(scale=False, name="bn_center_only")(y)
    y = layers.MaxPooling1D(3, name="pool")(y)
    y = layers.GroupNormalization(groups=4, name="gn")(y)
    y = layers.Conv1D(32, 3, activation="selu", name="conv2")(y)
    y = layers.LayerNormalization(name="ln")(y)
    y = layers.Dense(8, name="per_position")(y)  # Keras' Dense acts on the last axis
    y = layers.UnitNormalization(name="unit")(y)
    y = layers.GlobalAveragePooling1D(name="gap")(y)
    model = keras.Model(x, layers.Dense(3, activation="softplus", name="head")(y))
    net = _keras_import(keras, model, tmp_path)
    kinds = {n.name: n.kind for n in net}
    assert kinds["bn_center_only"] == "batchnorm" and kinds["gn"] == "groupnorm"
    assert kinds["ln"] == "layernorm" and kinds["unit"] == "l2norm"
    assert kinds["conv.act"] == "mish" and kinds["head.act"] == "softplus"
    assert net.shapes["per_position"] == (14, 8)  # 100 → 50 (stride 2) → 16 (pool 3) → 14


def test_keras_3d_net(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    x = keras.Input((8, 16, 16, 3))
    y = layers.Conv3D(8, (3, 5, 5), strides=(1, 2, 2), padding="same", name="stem")(x)
    y = layers.BatchNormalization(center=False, scale=False, name="bn_plain")(y)
    y = layers.AveragePooling3D(2, name="pool")(y)
    y = layers.Conv3DTranspose(4, 2, strides=2, name="up")(y)
    y = layers.GlobalMaxPooling3D(name="gmp")(y)
    model = keras.Model(x, layers.Dense(2, name="fc")(y))
    net = _keras_import(keras, model, tmp_path)
    assert net.shapes["stem"] == (8, 8, 8, 8) and net.shapes["up"] == (8, 8, 8, 4)


def test_skimmed_onnx_keeps_every_tensor_but_the_large_values(tv: Any, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from cnncalc.io.onnx_skim import KEEP_BYTES, skim

    path = tmp_path / "c.onnx"
    _export(tv.convnext_tiny(num_classes=10).eval(), (32, 32, 3), path)
    full, skimmed = onnx.load(str(path)), skim(str(path), onnx)
    assert [n.name for n in skimmed.graph.node] == [n.name for n in full.graph.node]
    assert skimmed.graph.input == full.graph.input and skimmed.opset_import == full.opset_import
    kept = 0
    for a, b in zip(full.graph.initializer, skimmed.graph.initializer, strict=True):
        assert (a.name, list(a.dims), a.data_type) == (b.name, list(b.dims), b.data_type)
        if a.ByteSize() <= KEEP_BYTES:
            assert (numpy_helper.to_array(a) == numpy_helper.to_array(b)).all()
            kept += 1
        else:
            assert b.ByteSize() < 200  # the weights themselves left out
    assert 0 < kept < len(full.graph.initializer)
    assert skim(str(tmp_path / "missing.onnx"), onnx) is None
    (tmp_path / "junk.onnx").write_bytes(b"\xff" * 64)
    assert skim(str(tmp_path / "junk.onnx"), onnx) is None


def test_shape_arithmetic_after_an_unsupported_op_is_still_a_clear_error(
    tv: Any, tmp_path: Path
) -> None:
    path = tmp_path / "erf.onnx"
    _export(tv.AfterUnsupported().eval(), (8, 8, 3), path)
    failed = runner.invoke(app, ["import", str(path)])
    assert failed.exit_code == 2 and "Erf ×1" in failed.stderr
    assert "Traceback" not in failed.stderr and "unexpected content" not in failed.stderr
    net = import_model(str(path), allow_unsupported=True).network
    assert [n.kind for n in net] == ["conv", "opaque", "flatten", "dense"]
