"""`flops --training`: forward + backward FLOPs, hand-computed and against torch's
FlopCounterMode (skipped without torch)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.design.training import TRAINING_RULES, training_flops
from cnncalc.layers.base import KINDS
from cnncalc.zoo import zoo_names

runner = CliRunner()

SEED = """
name: seed
input: [32, 32, 3]
layers:
  - conv: {{name: conv1, filters: 20, kernel: 5, padding: same, trainable: {frozen}}}
  - relu
  - maxpool: {{kernel: 2}}
  - conv: {{name: conv2, filters: 10, kernel: 3, padding: same, groups: {groups}}}
  - relu
  - maxpool: {{kernel: 2}}
  - flatten
  - dense: {{name: fc, units: 10}}
"""

# MACs: conv1 32·32·20·5·5·3 = 1,536,000; conv2 16·16·10·3·3·20 = 460,800; fc 640·10 = 6,400
FORWARD = 2 * (1_536_000 + 460_800 + 6_400)  # 4,006,400


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args))


def test_every_layer_kind_has_a_training_rule() -> None:
    assert sorted(KINDS) == sorted(TRAINING_RULES)


def test_resnet18_matches_flopcountermode_figure() -> None:
    totals = training_flops(cnncalc.load("resnet18")).totals
    # 3 × 2 × 1,814,073,344 MACs, less conv1's input gradient (the input has none)
    assert totals.forward == 3_628_146_688
    assert totals.total == 3 * 3_628_146_688 - 2 * 118_013_952 == 10_648_412_160


def test_everything_trainable_by_hand() -> None:
    t = training_flops(cnncalc.load(SEED.format(frozen="true", groups=1)))
    assert t.layers["conv1"].input_grad == 0  # the input needs no gradient
    assert t.layers["conv2"].input_grad == 2 * 460_800
    assert t.layers["relu1"].total == 0  # FlopCounterMode counts only weighted layers
    totals = t.totals
    assert (totals.forward, totals.input_grad, totals.weight_grad) == (
        FORWARD,
        2 * (460_800 + 6_400),
        FORWARD,
    )
    assert totals.total == 8_947_200


def test_frozen_first_layer_skips_its_weight_and_the_next_input_gradient() -> None:
    t = training_flops(cnncalc.load(SEED.format(frozen="false", groups=1)))
    assert t.layers["conv1"].weight_grad == 0
    assert t.layers["conv2"].input_grad == 0  # nothing before it trains
    assert t.layers["conv2"].weight_grad == 2 * 460_800
    assert t.layers["fc"].input_grad == 2 * 6_400
    assert t.totals.total == FORWARD + 12_800 + 921_600 + 12_800 == 4_953_600


def test_grouped_weight_gradient_counted_as_ungrouped() -> None:
    conv2 = training_flops(cnncalc.load(SEED.format(frozen="true", groups=2))).layers["conv2"]
    # 16·16·10·3·3·(20/2) = 230,400 MACs
    assert (conv2.forward, conv2.input_grad, conv2.weight_grad) == (460_800, 460_800, 921_600)


def test_json_totals_and_layers_gain_the_training_figures() -> None:
    result = cli("flops", SEED.format(frozen="false", groups=1), "--training", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["training_flops"] == 4_953_600
    assert data["totals"]["forward_flops"] == FORWARD
    assert data["totals"]["backward_flops"] == 4_953_600 - FORWARD
    assert data["totals"]["macs"] == 2_003_200  # the existing fields stay
    fc = next(row for row in data["layers"] if row["name"] == "fc")
    assert (fc["input_grad_flops"], fc["weight_grad_flops"]) == (12_800, 12_800)
    plain = json.loads(cli("flops", "resnet18", "-f", "json").stdout)
    assert "training_flops" not in plain["totals"]


def test_table_shows_the_totals() -> None:
    result = cli("flops", "resnet18", "--training", "-f", "csv")
    assert result.exit_code == 0, result.output
    total = result.stdout.strip().splitlines()[-1].split(",")
    assert total[0] == "Total" and total[-1] == "10648412160"


@pytest.mark.parametrize("option", ["--depth=1", "--layers=conv1"])
def test_training_refuses_folding_and_selections(option: str) -> None:
    result = cli("flops", "resnet18", "--training", option)
    assert result.exit_code == 2
    assert "--training" in result.stderr and "Traceback" not in result.output


def _flopcountermode_total(net: cnncalc.Network) -> int:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.reference.torch_model import build_torch_model

    model = build_torch_model(net)
    model.layers.to("meta")  # shapes only: FlopCounterMode counts without computing
    for node in net:
        module = model.layers[model.keys[node.name]] if node.name in model.keys else None
        if module is not None and not node.trainable:
            module.requires_grad_(False)
    xs = {
        name: torch.empty(1, shape[-1], *shape[:-1], device="meta")
        for name, shape in net.inputs.items()
    }
    counter = FlopCounterMode(display=False)
    with counter:
        outs = [y for y in model.forward(xs, keep=False, grad=True).values() if y.requires_grad]
        if outs:  # training backpropagates from every output
            sum(y.sum() for y in outs).backward()
    return int(counter.get_total_flops())


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_training_flops_equal_flopcountermode(name: str) -> None:
    net = cnncalc.load(name)
    assert training_flops(net).totals.total == _flopcountermode_total(net)


def test_frozen_layers_agree_with_flopcountermode() -> None:
    for frozen in ("true", "false"):
        for groups in (1, 2):
            net = cnncalc.load(SEED.format(frozen=frozen, groups=groups))
            assert training_flops(net).totals.total == _flopcountermode_total(net)


def test_an_opaque_layer_has_no_training_flops(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3}\n"
        "  - opaque: {output_shape: [6, 6, 4], params: 10, op: Foo}\n"
    )
    result = cli("flops", str(spec), "--training")
    assert result.exit_code == 2
    assert f"{spec}:4:5: error: layer opaque1: " in result.stderr


@pytest.mark.parametrize(
    "spec",
    [
        "input: [200, 2]\nlayers: [conv: {filters: 4, kernel: 5, stride: 2}, batchnorm, relu, "
        "conv_transpose: {filters: 3, kernel: 2, stride: 2}, global_avgpool, flatten, "
        "dense: {units: 3}]",
        "input: [4, 12, 10, 3]\nlayers: [conv: {filters: 4, kernel: [1, 3, 3], groups: 1}, "
        "maxpool: {kernel: 2}, conv: {filters: 4, kernel: 1, bias: false}, flatten, "
        "dense: {units: 2}]",
    ],
    ids=["1-D", "3-D"],
)
def test_rank_1_and_3_training_flops_equal_flopcountermode(spec: str) -> None:
    net = cnncalc.load(spec)
    assert training_flops(net).totals.total == _flopcountermode_total(net)
