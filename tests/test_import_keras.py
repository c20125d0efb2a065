"""Keras import: models inside models, ConvNeXt's LayerScale, squeeze-excitation's pool and
reshape, preprocessing statistics, and hostile configs. Every shape is compared with the one
Keras itself gives the layer of the same name."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bench.keras_import import leaves  # (the bench walks the models as these tests do)
from cnncalc import analyze
from cnncalc.cli import app
from cnncalc.io.importer import import_model
from cnncalc.io.keras_reader import MAX_NESTED_MODELS

runner = CliRunner()


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def _import_like_keras(keras: Any, model: Any, tmp_path: Path, **options: Any) -> Any:
    """Import `model` saved as .keras; params + buffers and every shape as Keras has them."""
    path = tmp_path / "m.keras"
    model.save(path)
    net = import_model(str(path), **options).network
    totals = analyze(net).totals
    assert totals.params + totals.buffers == model.count_params()
    for layer in leaves(model):
        if layer.name in net.shapes:
            assert net.shapes[layer.name] == tuple(layer.output.shape[1:]), layer.name
    return net


def test_models_inside_models_are_read_layer_by_layer(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    stem = keras.Sequential(
        [layers.Conv2D(8, 3, strides=2, name="stem_conv"), layers.BatchNormalization(name="bn")],
        name="stem",
    )
    x = keras.Input((15, 15, 8))
    block = keras.Model(x, layers.Add(name="inner_add")([x, layers.Conv2D(8, 1, name="c1")(x)]))
    inputs = keras.Input((32, 32, 3))
    h = stem(inputs)
    h = layers.ReLU(name="relu")(h)
    h = keras.Sequential([block, layers.GlobalAveragePooling2D(name="gap")], name="head")(h)
    model = keras.Model(inputs, layers.Dense(5, name="fc")(h))
    net = _import_like_keras(keras, model, tmp_path)
    names = [node.name for node in net]
    assert names == ["stem_conv", "bn", "relu", "c1", "inner_add", "gap", "fc"]
    assert sorted(net.nodes[4].inputs) == ["c1", "relu"]  # the block's input is the relu
    assert net.shapes["gap"] == (8,)


def test_squeeze_excitation_pool_and_reshape_are_one_pool(keras: Any, tmp_path: Path) -> None:
    """EfficientNet's SE: GlobalAveragePooling2D (to C), Reshape to 1×1×C, a 1×1 conv, a
    Multiply: one global_avgpool with keepdims, so the receptive field goes on."""
    layers = keras.layers
    x = keras.Input((12, 12, 6))
    h = layers.Conv2D(6, 3, padding="same", name="conv")(x)
    se = layers.GlobalAveragePooling2D(name="se_squeeze")(h)
    se = layers.Reshape((1, 1, 6), name="se_reshape")(se)
    se = layers.Conv2D(6, 1, activation="sigmoid", name="se_expand")(se)
    h = layers.Multiply(name="se_excite")([h, se])
    flat = layers.GlobalAveragePooling2D(name="gap")(h)  # read by the Reshape and the Dense:
    side = layers.Reshape((1, 1, 6), name="side")(flat)  # not merged
    model = keras.Model(x, [layers.Dense(2, name="fc")(flat), side])
    net = _import_like_keras(keras, model, tmp_path, allow_unsupported=True)
    kinds = {node.name: node.kind for node in net}
    assert kinds["se_reshape"] == "global_avgpool" and "se_squeeze" not in kinds
    assert kinds["side"] == "opaque" and kinds["gap"] == "global_avgpool"
    field = analyze(net).layer("se_excite").rf
    assert field is not None and field.whole_input and field.size == (14, 14)  # 12 + 3 − 1


def _config(layers: list[dict[str, Any]], name: str = "m") -> dict[str, Any]:
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}}


INPUT = {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 4], "name": "in"}}


def test_layer_scale_and_given_statistics(tmp_path: Path) -> None:
    """ConvNeXt's LayerScale (γ per channel: C params); a Normalization whose mean and
    variance the config gives holds no weights, one adapted to data 2C + 1."""
    scale = {"class_name": "LayerScale", "config": {"name": "ls", "init_values": 1e-6}}
    scale["config"]["projection_dim"] = 4
    given = {"class_name": "Normalization", "config": {"name": "norm", "mean": [1.0] * 4}}
    given["config"]["variance"] = [2.0] * 4
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_config([INPUT, given, scale])), encoding="utf-8")
    net = import_model(str(path), allow_unsupported=True).network
    assert [(node.kind, node.op.params([(8, 8, 4)])) for node in net] == [
        ("standardize", 0),
        ("layer_scale", 4),
    ]
    assert analyze(net).totals.buffers == 0
    adapted = {"class_name": "Normalization", "config": {"name": "norm", "mean": None}}
    path.write_text(json.dumps(_config([INPUT, adapted])), encoding="utf-8")
    totals = analyze(import_model(str(path)).network).totals
    assert (totals.params, totals.buffers) == (0, 9)
    wrong = {**scale, "config": {**scale["config"], "projection_dim": 3}}
    path.write_text(json.dumps(_config([INPUT, wrong])), encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 2 and "LayerScale" in result.stderr


def test_hostile_nesting_is_refused(tmp_path: Path) -> None:
    conv = {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3}}
    config = _config([INPUT, conv])
    for depth in range(MAX_NESTED_MODELS + 1):
        config = _config([INPUT, config], name=f"m{depth}")
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 2 and f"more than {MAX_NESTED_MODELS}" in result.stderr
    deep = tmp_path / "deep.json"
    deep.write_text('{"config": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    result = runner.invoke(app, ["import", str(deep)])
    assert result.exit_code == 2 and "nested too deeply" in result.stderr
    assert "Traceback" not in result.output


def test_ops_with_a_number_and_rescaling_are_scales(keras: Any, tmp_path: Path) -> None:
    """MobileNetV3's preprocessing and hard sigmoid: Rescaling with an offset, then Keras 3's
    op layers on a tensor and a number (`x + 3.0`, `* (1 / 6)`, `1.0 - x`, `x / 2`)."""
    layers = keras.layers
    x = keras.Input((8, 8, 3))
    y = layers.Conv2D(4, 3, name="conv")(layers.Rescaling(1 / 127.5, offset=-1.0, name="pre")(x))
    gate = layers.ReLU(6.0, name="relu6")(y + 3.0) * (1.0 / 6.0)
    model = keras.Model(x, layers.Multiply(name="gate")([y, (1.0 - gate) / 2.0]))
    net = _import_like_keras(keras, model, tmp_path)
    scales = [(n.op.factor, n.op.offset) for n in net if n.kind == "scale"]  # type: ignore[attr-defined]
    assert scales == [(1 / 127.5, -1.0), (1.0, 3.0), (1 / 6, 0.0), (-1.0, 1.0), (0.5, 0.0)]
    assert [n.kind for n in net][-1] == "multiply"


def test_an_opaque_shape_is_written_as_it_is(tmp_path: Path) -> None:
    """A cube [4, 4, 4] is not the per-axis 4, nor [2, 2, 8, 8] the symmetric [2, 8]."""
    for target in ([4, 4, 4], [2, 2, 4, 4]):
        given = {"batch_shape": [None, 8, 8, 1], "name": "in"}
        reshape = {"class_name": "Reshape", "config": {"name": "cube", "target_shape": target}}
        path = tmp_path / "m.json"
        path.write_text(json.dumps(_config([{**INPUT, "config": given}, reshape])), "utf-8")
        result = runner.invoke(app, ["import", str(path), "--allow-unsupported"])
        assert result.exit_code == 0, result.output
        assert f"output_shape: {target}" in result.stdout
        net = import_model(str(path), allow_unsupported=True).network
        assert net.shapes["cube"] == tuple(target)
