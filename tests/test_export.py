"""`cnncalc export --to pytorch|keras`: the generated source is ruff-clean, runs under the
framework, and the model it builds has cnncalc's parameters, buffers, output shape and MACs —
for the whole zoo (on small inputs) and for random specs from the property-test strategies.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import SpecError
from cnncalc.io import calls, frameworks, keras_code, pytorch_code
from cnncalc.zoo import zoo_names
from tests.strategies import architectures, dump

runner = CliRunner()
# what the generated code must pass: pyflakes, pycodestyle (but line length: layer names are
# long), import order, bugbear, pyupgrade, simplify and ruff's own rules
RUFF_RULES = ["--select", "E,F,W,I,B,UP,SIM,RUF", "--ignore", "E501"]
# LRN has no Keras layer; vgg* and alexnet_torchvision end in an adaptive pool that Keras can
# express only where the bins are equal (7×7 at 224×224: too slow for this file)
KERAS_REFUSED = ("alexnet", "alexnet_grouped", "googlenet_paper")
KERAS_NETS = [
    n
    for n in zoo_names()
    if n not in KERAS_REFUSED
    and not n.startswith("vgg")
    and n not in ("alexnet_torchvision", "convnext_tiny")
]


def small(name: str) -> cnncalc.Network:
    """A zoo net on a 64×64 input (128×128 where 64 is too small), to keep the tests fast."""
    net = cnncalc.load(name)
    if len(net.input_shape) != 3 or net.input_shape[0] <= 64:
        return net
    for side in (64, 128, 188):  # 188: the smallest input the paper's U-Net takes
        try:
            return cnncalc.load(name, input_shape=(side, side, net.input_shape[2]))
        except SpecError:
            continue
    return net


def ruff_check(path: Path) -> None:
    ruff = shutil.which("ruff") or pytest.skip("ruff is not installed")
    done = subprocess.run(
        [ruff, "check", "--isolated", *RUFF_RULES, str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_cnncalc_cli_loads_no_framework() -> None:
    code = (
        "import sys, cnncalc.cli; "
        "print(sorted(m for m in ('torch', 'keras', 'onnx', 'tensorflow', 'jax', "
        "'cnncalc.io.pytorch_code', 'cnncalc.io.keras_code') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_every_kind_has_a_bridge() -> None:
    """A new kind needs its entry in the table (or the exporter refuses it by name)."""
    from cnncalc.layers import KINDS

    assert set(KINDS) <= set(frameworks.BRIDGES)


def test_call_source_and_literals() -> None:
    call = calls.call("nn.Conv2d", 3, 64, (3, 5), padding=(1, 2), bias=False)
    assert call.source() == "nn.Conv2d(3, 64, (3, 5), padding=(1, 2), bias=False)"
    assert calls.literal(float("-inf")) == 'float("-inf")'
    assert calls.literal(("a",)) == '("a",)'
    assert calls.call("F.relu").source("x") == "F.relu(x)"


def test_attribute_paths() -> None:
    paths = pytorch_code.attribute_paths(
        ["conv1", "layer1.0.conv1", "forward", "keys.x", "a..b", "_private", "c", "c.d", "e.f", "e"]
    )
    assert paths["conv1"] == ("conv1",)
    assert paths["layer1.0.conv1"] == ("layer1", "0", "conv1")
    assert paths["forward"] == ("forward_",)  # nn.Module's own attribute
    assert paths["keys.x"] == ("keys_", "x")  # nn.ModuleDict's
    assert paths["a..b"] == ("a", "layer_", "b")
    assert paths["_private"] == ("m_private_",)
    assert paths["c.d"] == ("c_d",)  # `c` is a layer: never a container too
    assert paths["e"] == ("e_",)  # nor a container a layer
    assert len(set(paths.values())) == len(paths)


# --- PyTorch ---------------------------------------------------------------------------

torch_marks = pytest.mark.filterwarnings("ignore::UserWarning")


def run_pytorch(net: cnncalc.Network, tmp_path: Path, ruff: bool = True) -> None:
    """Export with --check, ruff it, run it as __main__ (it checks params, buffers and the
    output shape itself), then compare every layer's hook MACs and the state_dict keys."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.py"
    path.write_text(pytorch_code.write(net, check=True), encoding="utf-8")
    if ruff:
        ruff_check(path)
    namespace = runpy.run_path(str(path), run_name="__main__")  # SystemExit on a mismatch
    model = namespace["model"]
    report = cnncalc.analyze(net)
    assert namespace["found"]["params"] == report.totals.params
    paths = {".".join(p): name for name, p in pytorch_code.module_paths(net).items()}
    counted: dict[str, int] = {}

    def hook(module: Any, args: Any, out: Any, name: str) -> None:
        per = int(module.weight[0].numel())
        transposed = isinstance(module, torch.nn.modules.conv._ConvTransposeNd)
        elements = args[0] if transposed else out
        counted[name] = int(elements.numel()) // out.shape[0] * per

    for key, module in model.named_modules():
        if isinstance(module, torch.nn.modules.conv._ConvNd | torch.nn.Linear):
            module.register_forward_hook(lambda m, a, o, n=paths[key]: hook(m, a, o, n))
    xs = [
        torch.zeros(2, shape[-1], *shape[:-1]) if len(shape) > 1 else torch.zeros(2, *shape)
        for shape in net.inputs.values()
    ]
    with torch.no_grad():
        model(*xs)
    for row in report.layers:
        assert counted.get(row.node.name, 0) == row.multiplies.macs, row.node.name
    keys = {k.rsplit(".", 1)[0] for k in model.state_dict() if "num_batches" not in k}
    assert keys <= set(paths)


@torch_marks
@pytest.mark.parametrize("name", zoo_names())
def test_zoo_exports_to_pytorch(name: str, tmp_path: Path) -> None:
    run_pytorch(small(name), tmp_path)


def test_resnet18_state_dict_keys_are_torchvisions(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    del torch
    path = tmp_path / "r18.py"
    path.write_text(pytorch_code.write(small("resnet18")), encoding="utf-8")
    model = runpy.run_path(str(path))["Resnet18"]()
    keys = list(model.state_dict())
    assert keys[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"]
    assert "layer1.0.conv1.weight" in keys
    assert "layer2.0.downsample.0.weight" in keys
    assert "layer2.0.downsample.1.running_var" in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]


EXPORT_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@torch_marks
@EXPORT_SETTINGS
@given(architectures(torch_friendly=True))
def test_random_specs_export_to_pytorch(spec: dict[str, object]) -> None:
    pytest.importorskip("torch")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        run_pytorch(cnncalc.load(dump(spec)), Path(folder))


SPEC = """
name: odd names
input: [9, 9, 2]
layers:
  - conv: {name: forward, filters: 4, kernel: 3, padding: same, stride: 2}
  - conv: {name: items.a..b, filters: 4, kernel: [2, 3], padding: [0, 1, 1, 0], trainable: false}
  - maxpool: {name: pool, kernel: 2, stride: 1, padding: same}
  - conv_transpose: {name: up-1, filters: 3, kernel: 3, stride: 2, padding: [1, 0, 0, 1]}
  - relu: {name: r, functional: true}
  - maxpool: {name: fpool, kernel: 2, ceil_mode: true, functional: true}
  - conv: {name: side, from: r, filters: 3, kernel: 1}
  - global_avgpool: {name: gap, from: side}
  - multiply: {name: gate, from: [r, gap]}
  - flatten: {name: flat, from: fpool}
  - dense: {name: fc, units: 5}
  - dropout: {name: drop, rate: 0.3, functional: true}
  - adaptive_avgpool: {name: ada, from: r, output: [5, 4]}
  - avgpool: {name: apool, from: r, kernel: 3, padding: [1, 0, 1, 1], count_include_pad: true}
  - batchnorm: {name: bn, from: drop, trainable: false}
"""


@torch_marks
def test_awkward_spec_exports_to_pytorch(tmp_path: Path) -> None:
    """Reserved and non-identifier names, asymmetric and `same` padding, a crop, F.* layers,
    a broadcast multiply and a frozen layer."""
    net = cnncalc.load(SPEC)
    run_pytorch(net, tmp_path)
    source = pytorch_code.write(net)
    assert "F.relu(" in source and "F.max_pool2d(" in source
    assert "F.dropout(" in source and "training=self.training" in source
    assert 'value=float("-inf")' in source  # max pool pads with −∞
    assert "requires_grad_(False)" in source
    assert '# "forward" in the spec' in source


RANK_SPECS = {
    "1-D": """
input: [396, 2]
layers:
  - conv: {filters: 8, kernel: 7, stride: 2, padding: same}
  - batchnorm
  - maxpool: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}
  - conv_transpose: {filters: 4, kernel: 4, stride: 2, padding: same}
  - avgpool: {kernel: 2, padding: [1, 0]}
  - adaptive_maxpool: {output: 5}
  - global_avgpool: {from: conv_transpose1}
  - multiply: {from: [adaptive_maxpool1, global_avgpool1]}
  - global_maxpool: {keepdims: false}
  - scale: {factor: 0.5, offset: -1}
  - dense: {units: 3}
""",
    "3-D": """
input: [6, 20, 18, 3]
layers:
  - standardize: {adapted: true}
  - conv: {filters: 4, kernel: [3, 5, 5], stride: [1, 2, 2], padding: [1, 2, 1, 2, 0, 1]}
  - batchnorm
  - maxpool: {kernel: 2, padding: same}
  - conv_transpose: {filters: 4, kernel: 2, stride: [1, 2, 2], padding: [0, 1, 0]}
  - adaptive_avgpool: {output: [5, 4, 2]}
  - global_maxpool
  - flatten
  - dense: {units: 2}
""",
}


@torch_marks
@pytest.mark.parametrize("rank", RANK_SPECS)
def test_rank_1_and_3_export_to_pytorch(rank: str, tmp_path: Path) -> None:
    run_pytorch(cnncalc.load(RANK_SPECS[rank]), tmp_path)


# --- the command line ------------------------------------------------------------------


def test_cli_stdout_and_output_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "seed_32x32", "--to", "pytorch"])
    assert result.exit_code == 0, result.output
    assert "class Seed32x32(nn.Module):" in result.stdout
    assert "self.conv1 = nn.Conv2d(3, 20, 5, padding=2)" in result.stdout
    assert "conv1 = self.conv1(x)  # (N, 20, 32, 32)" in result.stdout
    out = tmp_path / "net.py"
    result = runner.invoke(app, ["export", "seed_32x32", "--to", "pytorch", "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == pytorch_code.write(
        cnncalc.load("seed_32x32"), command="cnncalc export seed_32x32 --to pytorch"
    )
    result = runner.invoke(app, ["export", "seed_32x32", "--to", "keras", "--check"])
    assert result.exit_code == 0 and "def build_model() -> keras.Model:" in result.stdout


def test_cli_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "seed_32x32", "--to", "onnx"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["export", "seed_32x32"])
    assert result.exit_code == 2  # --to is required
    bad = tmp_path / "missing" / "net.py"
    result = runner.invoke(app, ["export", "seed_32x32", "--to", "pytorch", "-o", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}: error: ")
    result = runner.invoke(app, ["export", "seed_32x32", "--to", "pytorch", "-o", "a\0b"])
    assert result.exit_code == 2 and "error:" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("name", KERAS_REFUSED)
def test_keras_refusals_name_the_layers(name: str) -> None:
    with pytest.raises(SpecError, match=r"layer norm1 \(lrn\) cannot be exported to Keras"):
        keras_code.write(cnncalc.load(name))


def test_keras_refuses_layer_scale_by_name() -> None:
    with pytest.raises(SpecError, match=r"\(layer_scale\) cannot be exported to Keras"):
        keras_code.write(cnncalc.load("convnext_tiny"))


def test_keras_refuses_what_it_cannot_express() -> None:
    """AlexNet's LRN has no Keras layer: exit 2 at the first such layer, naming the others."""
    result = runner.invoke(app, ["export", "alexnet", "--to", "keras"])
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert "alexnet.yaml:" in first and "layer norm1 (lrn)" in first and "norm2 (lrn)" in first
    assert "hint:" in result.stderr


def test_a_kind_without_an_entry_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(frameworks.BRIDGES, "lrn")
    for framework in ("pytorch", "keras"):
        result = runner.invoke(app, ["export", "alexnet", "--to", framework])
        assert result.exit_code == 2
        assert "layer norm1 (lrn)" in result.stderr and "no framework mapping" in result.stderr


# --- Keras -----------------------------------------------------------------------------


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name", KERAS_NETS)
def test_zoo_exports_to_keras(name: str, tmp_path: Path) -> None:
    """count_params() = cnncalc's params + buffers; trainable weights = trainable params."""
    _keras()
    net = small(name)
    path = tmp_path / "model.py"
    path.write_text(keras_code.write(net, check=True), encoding="utf-8")
    ruff_check(path)
    namespace = runpy.run_path(str(path), run_name="__main__")  # SystemExit on a mismatch
    totals = cnncalc.analyze(net).totals
    assert namespace["found"]["params"] == totals.params + totals.buffers


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_awkward_spec_exports_to_keras(tmp_path: Path) -> None:
    _keras()
    path = tmp_path / "model.py"
    path.write_text(keras_code.write(cnncalc.load(SPEC), check=True), encoding="utf-8")
    ruff_check(path)
    runpy.run_path(str(path), run_name="__main__")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("rank", RANK_SPECS)
def test_rank_1_and_3_export_to_keras(rank: str, tmp_path: Path) -> None:
    _keras()
    path = tmp_path / "model.py"
    path.write_text(keras_code.write(cnncalc.load(RANK_SPECS[rank]), check=True), "utf-8")
    ruff_check(path)
    runpy.run_path(str(path), run_name="__main__")  # SystemExit on a mismatch
