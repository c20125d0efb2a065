"""`cnncalc import`: ONNX, torch.fx and Keras models → readable specs, and the `opaque` kind.

Block recovery and the spec writer are checked on the zoo without any framework: the zoo's
networks, taken apart into flat layers, must come back as blocks and repeats that load to
the very same network. The readers are checked against the frameworks themselves (skipped
cleanly when torch, onnx or keras is missing): params, buffers and output shapes equal
torch's, MACs equal a forward-hook count, Keras' count_params() equals params + buffers.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.graph import Network
from cnncalc.io.imported import Imported
from cnncalc.io.importer import build, import_model, same_network
from cnncalc.passes.params import count_params
from cnncalc.report import analyze
from cnncalc.zoo import zoo_names

runner = CliRunner()


def _flat(net: Network) -> Imported:
    """A network taken apart into the flat layers a reader would give."""
    imported = Imported(net.name, "<zoo>", net.input_shape)
    imported.name_inputs(list(net.inputs.items()))
    for node in net:
        fields = {f.name: getattr(node.op, f.name) for f in dataclasses.fields(node.op)}  # type: ignore[arg-type]
        imported.add(node.name, node.kind, fields, node.inputs, functional=node.functional)
    imported.set_outputs(list(net.output_names))
    return imported


# --- block recovery and the spec writer (no framework needed) --------------------------------


@pytest.mark.parametrize("name", sorted(zoo_names()))
def test_zoo_round_trips_through_the_writer_node_by_node(name: str) -> None:
    net = cnncalc.load(name)
    result = build(_flat(net))
    assert same_network(result.network, net)
    assert same_network(cnncalc.load(result.text), net)  # the text itself, reloaded


def test_resnet50_comes_back_as_one_block_repeated_per_stage() -> None:
    result = build(_flat(cnncalc.load("resnet50")))
    doc = yaml.safe_load(result.text)
    assert result.structured and len(doc["blocks"]) == 1
    repeats = [e["repeat"] for e in doc["layers"] if "repeat" in e]
    assert [(r["name"], r["times"]) for r in repeats] == [
        ("layer1", 3),
        ("layer2", 4),
        ("layer3", 6),
        ("layer4", 3),
    ]
    (block,) = doc["blocks"].values()
    convs = [e["conv"] for e in block["layers"] if "conv" in e]
    # the widths are one argument, the 4× expansion an expression of it, as a person writes
    assert [c["filters"] for c in convs] == [
        "$width",
        "$width",
        "$(width * 4)",
        "$(width * 4)",
    ] or [c["filters"] for c in convs] == [
        "$filters",
        "$filters",
        "$(filters * 4)",
        "$(filters * 4)",
    ]
    assert repeats[1]["args"]["stride"] == "$(2 if i == 0 else 1)"
    assert len(result.text.splitlines()) < 40  # against 176 layers flat


def test_alexnet_has_no_repetition_to_recover_and_stays_flat() -> None:
    result = build(_flat(cnncalc.load("alexnet")))
    assert not result.structured
    assert "blocks:" not in result.text
    assert len(yaml.safe_load(result.text)["layers"]) == len(cnncalc.load("alexnet"))


def test_the_writer_leaves_defaults_out_and_writes_pairs_as_a_person_does() -> None:
    net = cnncalc.load("Conv3-8-P1-S2,ReLU,Pool2,FC10", (32, 32, 3))
    text = build(_flat(net)).text
    assert "- conv: {name: conv1, filters: 8, kernel: 3, stride: 2, padding: 1}" in text
    assert "bias" not in text and "dilation" not in text and "from:" not in text


# --- the opaque kind ------------------------------------------------------------------------

OPAQUE = """\
name: with-opaque
input: [8, 8, 3]
layers:
  - conv: {name: c1, filters: 4, kernel: 3}
  - opaque: {name: roi, output_shape: [3, 3, 4], params: 12, buffers: 2, macs: 100, op: RoiAlign}
  - conv: {name: c2, filters: 2, kernel: 3}
  - flatten
  - dense: {units: 2}
"""


def test_opaque_counts_its_numbers_in_every_total_and_breaks_the_receptive_field() -> None:
    report = analyze(cnncalc.load(OPAQUE))
    rows = {r.name: r for r in report.layers}
    assert rows["roi"].output_shape == (3, 3, 4)
    assert (rows["roi"].counts.params, rows["roi"].counts.buffers) == (12, 2)
    assert rows["roi"].multiplies.macs == 100
    assert report.totals.params == 112 + 12 + (3 * 3 * 4 * 2 + 2) + (2 + 1) * 2 - 2 * 0
    assert rows["c1"].rf is not None
    assert rows["roi"].rf is None and rows["c2"].rf is None  # unknown from there on


def test_opaque_shows_in_tables_and_json_and_verify_cannot_run_it(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(OPAQUE, encoding="utf-8")
    table = runner.invoke(app, ["summary", str(spec)])
    assert table.exit_code == 0 and "opaque" in table.stdout
    rf = runner.invoke(app, ["rf", str(spec), "--format", "csv"])
    assert "unknown" in rf.stdout
    data = json.loads(runner.invoke(app, ["summary", str(spec), "-f", "json"]).stdout)
    roi = next(layer for layer in data["layers"] if layer["name"] == "roi")
    assert (roi["kind"], roi["params"], roi["buffers"], roi["rf"]) == ("opaque", 12, 2, None)
    verify = runner.invoke(app, ["verify", str(spec)])
    assert verify.exit_code == 1 and "roi" in verify.stderr


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ("output_shape: [3, 4, 4, 4, 4], params: 0, op: X", "output_shape"),
        ("output_shape: [], params: 0, op: X", "output_shape"),
        ("output_shape: [3, 3, 4], params: -1, op: X", "params"),
        ("output_shape: [3, 3, 4], params: 0", "op"),
        ("output_shape: [3, 3, 4], params: 0, op: 5", "op"),
    ],
)
def test_opaque_fields_are_checked(fields: str, where: str) -> None:
    text = f"input: [8, 8, 3]\nlayers:\n  - opaque: {{{fields}}}\n"
    result = runner.invoke(app, ["params", "-"], input=text)
    assert result.exit_code == 2
    assert where in result.stderr and "Traceback" not in result.stderr


# --- bad sources ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("model.onnx", b"\x00\x01not a protobuf\xff" * 10),
        ("model.json", b"{not json"),
        ("model.json", b'{"config": {"layers": [{"class_name": "Conv2D"}]}}'),
        ("model.keras", b"PK\x03\x04 broken zip"),
    ],
)
def test_a_broken_model_file_is_a_clear_error(tmp_path: Path, name: str, content: bytes) -> None:
    if name.endswith(".onnx"):
        pytest.importorskip("onnx")
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}: error: ") and "hint:" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["model.txt"],
        ["missing.onnx"],
        ["--from", "torch", "no_such_module_here:f"],
        ["--from", "torch", "os:getcwd"],
        ["--from", "torch", "nocolon"],
        ["--from", "keras", "x.json", "--arg", "a=1"],
    ],
)
def test_a_source_that_is_not_a_model_is_a_clear_error(args: list[str]) -> None:
    if "torch" in args:
        pytest.importorskip("torch")
    result = runner.invoke(app, ["import", *args])
    assert result.exit_code == 2, result.output
    assert "error:" in result.stderr and "Traceback" not in result.stderr


# --- PyTorch, through torch.fx and through ONNX ----------------------------------------------


def _torch_counts(model: Any, shape: tuple[int, int, int]) -> dict[str, Any]:
    """torch's own numbers: params, buffers (without num_batches_tracked), output shape and
    the MACs of conv and linear layers counted by forward hooks."""
    import torch

    macs = 0

    def hook(module: Any, args: Any, out: Any) -> None:
        nonlocal macs
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            macs += out.numel() * kh * kw * module.in_channels // module.groups
        elif isinstance(module, torch.nn.Linear):
            macs += out.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        out = model(torch.zeros(1, shape[2], shape[0], shape[1]))
    for h in handles:
        h.remove()
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n),
        "output": tuple(out.shape[1:]),
        "macs": macs,
    }


MODELS = {
    "resnet18": ({"num_classes": 10}, (64, 64, 3)),
    "mobilenet_v2": ({"num_classes": 10}, (64, 64, 3)),
}


@pytest.fixture(scope="module")
def tvlike() -> Any:
    pytest.importorskip("torch")
    from tests import torchvision_like

    return torchvision_like


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_import_gives_torchs_counts_and_module_names(tvlike: Any, name: str) -> None:
    kwargs, shape = MODELS[name]
    model = getattr(tvlike, name)(**kwargs).eval()
    expected = _torch_counts(model, shape)
    result = import_model(f"tests.torchvision_like:{name}", "torch", False, shape, True, kwargs)
    report = analyze(result.network)
    assert report.totals.params == expected["params"]
    assert report.totals.buffers == expected["buffers"]
    assert report.macs == expected["macs"]
    assert result.network.shapes[result.network.output.name] == (10,)
    assert result.structured
    module_names = {n for n, m in model.named_modules() if not list(m.children())}
    layer_names = {n.name for n in result.network}
    assert {
        n for n in module_names if "relu" not in n and "dropout" not in n.lower()
    } <= layer_names | {n for n in module_names if n.startswith("classifier.0")}
    assert same_network(cnncalc.load(result.text), result.network)
    flat = import_model(f"tests.torchvision_like:{name}", "torch", False, shape, False, kwargs)
    assert same_network(flat.network, result.network)


def test_resnet18_from_torch_reads_like_the_zoo(tvlike: Any) -> None:
    result = import_model("tests.torchvision_like:resnet18", "torch", False, (224, 224, 3))
    zoo = analyze(cnncalc.load("resnet18"))
    report = analyze(result.network)
    assert (report.totals.params, report.totals.buffers, report.macs) == (
        zoo.totals.params,
        zoo.totals.buffers,
        zoo.macs,
    )
    assert "layer3.1.conv1" in {n.name for n in result.network}
    doc = yaml.safe_load(result.text)
    assert [e["repeat"]["name"] for e in doc["layers"] if "repeat" in e] == [
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]
    assert list(doc["blocks"]) == ["basic_block"]  # named after the module's class


def test_resnet50_from_torch_comes_back_as_the_zoos_bottleneck_stages(tvlike: Any) -> None:
    result = import_model("tests.torchvision_like:resnet50", "torch", False, (64, 64, 3))
    zoo = analyze(cnncalc.load("resnet50", (64, 64, 3)))
    report = analyze(result.network)
    assert (report.totals.params, report.totals.buffers, report.macs) == (
        zoo.totals.params,
        zoo.totals.buffers,
        zoo.macs,
    )
    doc = yaml.safe_load(result.text)
    assert list(doc["blocks"]) == ["bottleneck"]
    repeats = [e["repeat"] for e in doc["layers"] if "repeat" in e]
    assert [(r["name"], r["times"]) for r in repeats] == [
        ("layer1", 3),
        ("layer2", 4),
        ("layer3", 6),
        ("layer4", 3),
    ]
    assert len(result.text.splitlines()) < 40


def _export_onnx(tvlike: Any, name: str, path: Path) -> dict[str, Any]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    kwargs, shape = MODELS.get(name, ({}, (32, 32, 3)))
    model = getattr(tvlike, name)(**kwargs).eval()
    torch.onnx.export(
        model,
        (torch.zeros(1, shape[2], shape[0], shape[1]),),
        str(path),
        dynamo=False,
        training=torch.onnx.TrainingMode.PRESERVE,  # keep BatchNorm (not folded into convs)
    )
    return _torch_counts(model, shape)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_import_gives_torchs_counts_and_the_same_spec_as_torch(
    tvlike: Any, name: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.onnx"
    expected = _export_onnx(tvlike, name, path)
    result = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "net.yaml")])
    assert result.exit_code == 0, result.output
    net = cnncalc.load(tmp_path / "net.yaml")
    report = analyze(net)
    assert (report.totals.params, report.totals.buffers, report.macs) == (
        expected["params"],
        expected["buffers"],
        expected["macs"],
    )
    assert net.shapes[net.output.name] == (10,)
    kwargs, shape = MODELS[name]
    via_torch = import_model(f"tests.torchvision_like:{name}", "torch", False, shape, True, kwargs)
    by_name = {n.name: n for n in via_torch.network}
    convs = [n for n in net if n.kind == "conv"]
    assert convs and all(by_name[n.name].op == n.op for n in convs)  # same names, same fields


def test_onnx_params_are_the_initializers_of_each_layer(tvlike: Any, tmp_path: Path) -> None:
    path = tmp_path / "r18.onnx"
    _export_onnx(tvlike, "resnet18", path)
    import onnx
    from onnx import numpy_helper

    total = sum(numpy_helper.to_array(i).size for i in onnx.load(str(path)).graph.initializer)
    net = import_model(str(path)).network
    counts = count_params(net)
    # the exporter shares equal initializers (fresh BatchNorms), so the file may hold fewer
    assert sum(c.params + c.buffers for c in counts.values()) >= total


def test_unsupported_ops_fail_listing_each_node_then_import_as_opaque(
    tvlike: Any, tmp_path: Path
) -> None:
    source = "tests.torchvision_like:Unexpressible"
    fx = runner.invoke(app, ["import", "--from", "torch", source, "--input", "8x8x3"])
    assert fx.exit_code == 2
    assert "LPPool2d ×1: up" in fx.stderr and "flip ×1: flip" in fx.stderr
    assert "--allow-unsupported" in fx.stderr
    ok = import_model("tests.torchvision_like:Unexpressible", "torch", True, (8, 8, 3))
    shapes = {n.name: ok.network.shapes[n.name] for n in ok.network}
    assert shapes == {
        "conv1": (8, 8, 8),
        "up": (4, 4, 8),
        "flip": (4, 4, 8),
        "conv2": (4, 4, 4),
    }
    assert {n.name for n in ok.network if n.kind == "opaque"} == {"up", "flip"}
    model = tvlike.Unexpressible()
    assert analyze(ok.network).totals.params == sum(p.numel() for p in model.parameters())

    path = tmp_path / "up.onnx"
    _export_onnx(tvlike, "Unexpressible", path)
    failed = runner.invoke(app, ["import", str(path)])
    assert failed.exit_code == 2 and "Pow ×2" in failed.stderr and "Slice ×1" in failed.stderr
    opaque = runner.invoke(app, ["import", str(path), "--allow-unsupported"])
    assert opaque.exit_code == 0, opaque.output
    net = cnncalc.load(opaque.stdout)
    kinds = [n.kind for n in net]  # LPPool2d exported as Pow, AveragePool, Sign, Abs …
    assert kinds[0] == "conv" and kinds[-2:] == ["opaque", "conv"] and kinds.count("opaque") == 5
    assert analyze(net).totals.params == sum(p.numel() for p in model.parameters())
    assert net.shapes[net.output.name] == (16, 16, 4)  # exported on 32×32: pooled 2×


# --- Keras, from the saved config ------------------------------------------------------------


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def test_keras_functional_model_counts_as_keras_does(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    x = keras.Input((32, 32, 3))
    a = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(x)
    b = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(a)
    b = layers.BatchNormalization(name="bn")(b)
    b = layers.ReLU(6.0, name="relu6")(b)
    b = layers.Conv2D(8, 1, name="project")(b)
    c = layers.Add(name="residual")([a, b])
    c = layers.MaxPooling2D(name="pool")(c)
    c = layers.GlobalAveragePooling2D(name="gap")(c)
    y = layers.Dense(5, activation="softmax", name="head")(c)
    model = keras.Model(x, y)
    path = tmp_path / "m.keras"
    model.save(path)
    for source in (path, tmp_path / "m.json"):
        if source.suffix == ".json":
            source.write_text(model.to_json(), encoding="utf-8")
        result = import_model(str(source))
        totals = analyze(result.network).totals
        assert totals.params + totals.buffers == model.count_params()
        assert [n.name for n in result.network][:3] == ["stem", "stem.act", "dw"]
        assert result.network.shapes["dw"] == (32, 32, 16)
        for layer in model.layers[1:]:  # every shape as Keras has it: the gap is flat
            assert result.network.shapes[layer.name] == tuple(layer.output.shape[1:])
        assert result.network.shapes["gap"] == (8,)


def test_keras_applications_import_with_weights_none(keras: Any, tmp_path: Path) -> None:
    model = keras.applications.VGG16(weights=None, input_shape=(32, 32, 3), classes=10)
    model.save(tmp_path / "vgg16.keras")
    net = import_model(str(tmp_path / "vgg16.keras")).network
    assert analyze(net).totals.params == model.count_params()
    # its two ZeroPadding2D layers are `pad` layers
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    (tmp_path / "r50.json").write_text(model.to_json(), encoding="utf-8")
    net = import_model(str(tmp_path / "r50.json")).network
    assert [n.kind for n in net].count("pad") == 2
    totals = analyze(net).totals
    assert totals.params + totals.buffers == model.count_params()


def test_keras_reshape_is_opaque_and_partial_batchnorm_a_kind(keras: Any, tmp_path: Path) -> None:
    layers = keras.layers
    x = keras.Input((8, 8, 4))
    y = layers.Normalization(mean=[1.0] * 4, variance=[4.0] * 4, name="norm")(x)
    y = layers.Conv2D(4, 3, padding="same", name="conv")(y)
    y = layers.BatchNormalization(scale=False, name="bn_center_only")(y)  # C params, 2C stats
    y = layers.ReLU(6.0, name="gate")(y + 3.0)  # hard-sigmoid-like: a scale with an offset
    y = layers.GlobalAveragePooling2D(keepdims=True, name="gap")(y)
    model = keras.Model(x, layers.Reshape((2, 2), name="rows")(y))
    path = tmp_path / "m.json"
    path.write_text(model.to_json(), encoding="utf-8")
    failed = runner.invoke(app, ["import", str(path)])
    assert failed.exit_code == 2
    assert "Reshape ×1" in failed.stderr and "BatchNormalization" not in failed.stderr
    net = import_model(str(path), allow_unsupported=True).network
    kinds = [n.kind for n in net]
    assert kinds[0] == "standardize" and kinds[-1] == "opaque"
    assert kinds[1:-1] == ["conv", "batchnorm", "scale", "relu6", "global_avgpool"]
    assert net.shapes["gap"] == (1, 1, 4) and net.shapes["rows"] == (2, 2)  # keepdims=True
    totals = analyze(net).totals
    assert totals.params + totals.buffers == model.count_params()
