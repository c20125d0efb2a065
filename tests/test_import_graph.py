"""`cnncalc import` of models with several inputs and outputs: torch modules through torch.fx
(`--input NAME=SHAPE` per forward argument; returned tuples, lists and dicts) and ONNX (every
graph input and output), Keras functional models (`input_layers` / `output_layers`); and the
segmentation models written from torchvision's source, whose import counts as the zoo's.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.io.importer import import_model, same_network
from cnncalc.report import analyze

runner = CliRunner()
torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional


class TwoInputs(nn.Module):
    """An RGB image and a depth map, fused, and a second head on the depth branch."""

    def __init__(self) -> None:
        super().__init__()
        self.rgb = nn.Conv2d(3, 4, 3, padding=1)
        self.depth = nn.Conv2d(1, 4, 3, padding=1)
        self.fuse = nn.Conv2d(8, 5, 1)
        self.probe = nn.Conv2d(4, 2, 1)

    def forward(self, image: Any, depth: Any) -> Any:
        d = self.depth(depth)
        return self.fuse(torch.cat([self.rgb(image), d], 1)), self.probe(d)


class TinySegmentation(nn.Module):
    """torchvision's _SimpleSegmentationModel with aux_loss, in small: a classifier on the
    last features and an aux classifier on earlier ones, each upsampled to the input size,
    returned as {"out": …, "aux": …}."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.body = nn.Sequential(nn.Conv2d(8, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.classifier = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.Conv2d(8, classes, 1))
        self.aux_classifier = nn.Conv2d(8, classes, 1)

    def forward(self, x: Any) -> Any:
        size = x.shape[-2:]
        early = self.stem(x)
        out = self.classifier(self.body(early))
        result = {"out": F.interpolate(out, size=size, mode="bilinear", align_corners=False)}
        aux = self.aux_classifier(early)
        result["aux"] = F.interpolate(aux, size=size, mode="bilinear", align_corners=False)
        return result


def _source(cls: type) -> str:
    return f"tests.test_import_graph:{cls.__name__}"


def _export(model: Any, shapes: dict[str, tuple[int, ...]], outputs: list[str], path: Path) -> None:
    pytest.importorskip("onnx")
    args = tuple(torch.zeros(1, s[-1], *s[:-1]) for s in shapes.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            args,
            str(path),
            dynamo=False,
            input_names=list(shapes),
            output_names=outputs,
            training=torch.onnx.TrainingMode.PRESERVE,
        )


def _params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


TWO = {"image": (8, 8, 3), "depth": (8, 8, 1)}


def test_two_inputs_via_fx_are_named_by_the_forward_arguments() -> None:
    shapes = ["--input", "image=8x8x3", "--input", "depth=8x8x1"]
    result = runner.invoke(app, ["import", "--from", "torch", _source(TwoInputs), *shapes])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    assert doc["inputs"] == {"image": [8, 8, 3], "depth": [8, 8, 1]} and "input" not in doc
    assert doc["outputs"] == ["fuse", "probe"]
    net = cnncalc.load(result.stdout)
    assert net.inputs == TWO
    assert {n.name: n.inputs for n in net}["depth_1"] == ("depth",)  # the module `depth`
    assert net.outputs == ("fuse", "probe")
    assert analyze(net).totals.params == _params(TwoInputs())
    assert net.shapes["fuse"] == (8, 8, 5) and net.shapes["probe"] == (8, 8, 2)


def test_two_inputs_via_onnx_equal_fx(tmp_path: Path) -> None:
    path = tmp_path / "two.onnx"
    _export(TwoInputs().eval(), TWO, ["fused", "probed"], path)
    onnx_net = import_model(str(path)).network
    fx_net = import_model(_source(TwoInputs), "torch", False, TWO).network
    assert onnx_net.inputs == fx_net.inputs == TWO
    assert onnx_net.outputs == ("fused", "probed")  # the graph's output names, where free
    assert [n.kind for n in onnx_net] == [n.kind for n in fx_net]
    assert [n.inputs for n in onnx_net][:2] == [("depth",), ("image",)]
    assert analyze(onnx_net).totals.params == analyze(fx_net).totals.params


def test_a_model_of_several_inputs_needs_each_named() -> None:
    base = ["import", "--from", "torch", _source(TwoInputs)]
    unnamed = runner.invoke(app, [*base, "--input", "8x8x3"])
    assert unnamed.exit_code == 2 and "--input image=" in unnamed.stderr
    unknown = runner.invoke(app, [*base, "--input", "rgb=8x8x3"])
    assert unknown.exit_code == 2 and "rgb" in unknown.stderr and "image, depth" in unknown.stderr


def test_named_input_for_a_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "two.onnx"
    _export(TwoInputs().eval(), TWO, ["a", "b"], path)
    result = runner.invoke(app, ["import", str(path), "--input", "image=8x8x3"])
    assert result.exit_code == 2 and "--input" in result.stderr


def test_segmentation_dict_outputs_via_fx_keep_their_keys() -> None:
    shape = (32, 32, 3)
    result = import_model(_source(TinySegmentation), "torch", False, shape)
    net = result.network
    assert net.outputs == ("out", "aux")
    assert net.shapes["out"] == (32, 32, 3) and net.shapes["aux"] == (32, 32, 3)
    assert {n.name: n.inputs for n in net}["aux"] == ("aux_classifier",)
    model = TinySegmentation()
    totals = analyze(net).totals
    buffers = sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    assert (totals.params, totals.buffers) == (_params(model), buffers)
    assert same_network(cnncalc.load(result.text), net)


def test_segmentation_via_onnx_maps_outputs_through_their_nodes(tmp_path: Path) -> None:
    path = tmp_path / "seg.onnx"
    _export(TinySegmentation().eval(), {"x": (32, 32, 3)}, ["out", "aux"], path)
    net = import_model(str(path)).network
    fx_net = import_model(_source(TinySegmentation), "torch", False, (32, 32, 3)).network
    assert net.input_names == ("input",)  # one input: unnamed, as before
    assert net.outputs == ("out", "aux")
    assert net.shapes["out"] == net.shapes["aux"] == (32, 32, 3)
    assert analyze(net).macs == analyze(fx_net).macs
    assert analyze(net).totals.params == analyze(fx_net).totals.params


def test_tuple_outputs_keep_their_order() -> None:
    net = import_model(_source(Detection), "torch", False, (16, 16, 3)).network
    assert net.outputs == ("boxes", "scores", "features")


class Detection(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Conv2d(3, 8, 3, padding=1)
        self.boxes = nn.Conv2d(8, 4, 1)
        self.scores = nn.Conv2d(8, 2, 1)

    def forward(self, x: Any) -> Any:
        f = self.features(x)
        return [self.boxes(f), (self.scores(f), f)]


def test_one_output_writes_no_outputs() -> None:
    text = import_model(_source(Detection), "torch", False, (16, 16, 3)).text
    assert "outputs:" in text  # several
    single = import_model("tests.test_import_resample:Shuffles", "torch", False, (8, 8, 3))
    assert "outputs:" not in single.text and "inputs:" not in single.text
    assert "input: [8, 8, 3]" in single.text


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_mobilenet_v3_large"])
def test_torchvision_segmentation_via_fx_counts_as_the_zoo(name: str) -> None:
    shape = (224, 224, 3)  # the zoo specs resize to a fixed 224×224
    net = import_model(f"tests.torchvision_segmentation:{name}", "torch", False, shape).network
    zoo = cnncalc.load(name, shape)
    ours, theirs = analyze(net), analyze(zoo)
    assert (ours.totals.params, ours.totals.buffers, ours.macs) == (
        theirs.totals.params,
        theirs.totals.buffers,
        theirs.macs,
    )
    assert net.shapes[net.output.name] == zoo.shapes[zoo.output.name] == (*shape[:2], 21)


# --- Keras -----------------------------------------------------------------------------------


def test_keras_several_inputs_and_outputs(tmp_path: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    layers = keras.layers
    a = keras.Input((8, 8, 3), name="image")
    b = keras.Input((8, 8, 1), name="depth")
    ca = layers.Conv2D(4, 3, padding="same", name="ca")(a)
    cb = layers.Conv2D(4, 3, padding="same", name="cb")(b)
    fused = layers.Concatenate(name="fuse")([ca, cb])
    up = layers.UpSampling2D(2, name="up")(fused)
    probe = layers.Conv2D(2, 1, name="probe")(cb)
    model = keras.Model([a, b], [up, probe])
    model.save(tmp_path / "m.keras")
    net = import_model(str(tmp_path / "m.keras")).network
    assert net.inputs == {"image": (8, 8, 3), "depth": (8, 8, 1)}
    assert net.outputs == ("up", "probe")
    assert [net.shapes[o] for o in net.outputs] == [tuple(o.shape[1:]) for o in model.outputs]
    assert analyze(net).totals.params == model.count_params()


class DeadBranch(nn.Module):
    """A forward argument it never reads and a module called for nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.head = nn.Conv2d(4, 2, 1)
        self.idle = nn.Conv2d(4, 2, 1)

    def forward(self, x: Any, mask: Any) -> Any:
        y = self.stem(x)
        self.idle(y)
        return self.head(y), y


def test_a_dead_branch_is_marked_unused_and_an_unread_input_dropped() -> None:
    shapes = {"x": (8, 8, 3), "mask": (8, 8, 1)}
    result = import_model(_source(DeadBranch), "torch", False, shapes)
    net = result.network
    assert net.inputs == {"x": (8, 8, 3)}
    assert net.outputs == ("head", "stem") and net.unused == ("idle",)
    assert "unused: true" in result.text
    assert analyze(net).totals.params == 16 + 10  # stem and head; idle is left out
    assert same_network(cnncalc.load(result.text), net)


def test_a_model_that_refuses_the_input_shape_is_an_error_without_a_traceback() -> None:
    pytest.importorskip("torch")
    result = runner.invoke(
        app,
        [
            "import",
            "--from",
            "torch",
            "torch.nn:AvgPool2d",
            "--arg",
            "kernel_size=7",
            "-i",
            "4x4x3",
        ],
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr  # fx's ShapeProp prints one before re-raising
    assert "error: cannot trace torch.nn:AvgPool2d" in result.stderr
    assert "--input" in result.stderr  # the hint: give the shapes it takes


class Constants(nn.Module):
    """MobileNetV3's hard sigmoid written out, and the other ops with a number."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: Any) -> Any:
        y = self.conv(x)
        return F.relu6(y + 3) * (1 / 6) - 0.5 + (1 - y) / 4


def test_ops_with_a_number_are_scales_and_compute_as_torch() -> None:
    from cnncalc.reference.forward import run_forward  # NumPy: imported where needed

    result = runner.invoke(app, ["import", "--from", "torch", _source(Constants), "-i", "6x6x3"])
    assert result.exit_code == 0, result.output
    net = cnncalc.load(result.stdout)
    fields = {n.name: (n.op.factor, n.op.offset) for n in net if n.kind == "scale"}  # type: ignore[attr-defined]
    assert fields == {
        "add": (1.0, 3.0),
        "mul": (1 / 6, 0.0),
        "sub": (1.0, -0.5),
        "sub_1": (-1.0, 1.0),
        "truediv": (0.25, 0.0),
    }
    ref = run_forward(net)
    model, weights = Constants().eval(), ref.weights["conv"].all()
    with torch.no_grad():
        model.conv.weight.copy_(torch.from_numpy(weights["weight"]).permute(3, 2, 0, 1))  # HWIO
        model.conv.bias.copy_(torch.from_numpy(weights["bias"]))
        expected = model(torch.from_numpy(ref.input).permute(0, 3, 1, 2))
    out = ref.outputs[net.output.name]
    assert out == pytest.approx(expected.permute(0, 2, 3, 1).numpy(), abs=1e-5)
