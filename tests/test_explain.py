"""--explain: every printed derivation evaluates to the number it claims."""

from __future__ import annotations

import math
import re

import pytest

import cnncalc
from cnncalc.passes.explain import TOPICS, explain_layer
from cnncalc.passes.memory import MemoryOptions
from tests.conftest import ARCHITECTURES

_EQUATION = re.compile(r"^(?P<label>[^=]+?) = (?P<expr>.+) = (?P<value>-?[\d,.]+)$")


def evaluate(expr: str) -> float:
    python = (
        expr.replace("⌊", "math.floor(")
        .replace("⌋", ")")
        .replace("⌈", "math.ceil(")
        .replace("⌉", ")")
        .replace("·", "*")
        .replace("−", "-")
        .replace(",", "")
    )
    assert re.fullmatch(r"[\d\s+\-*/().a-z]*", python), python
    return float(eval(python, {"math": math}))


def equations(line: str) -> list[tuple[str, str]]:
    """(expression, value) pairs in a line like `rf: size = 5 + (5 − 1)·1 = 9; stride = …`."""
    found = []
    for part in re.split(r"; |: ", line):
        part = re.sub(r" \([a-z:, ]+\)$", "", part.strip())  # a trailing remark
        match = _EQUATION.match(part)
        if match and not match["expr"].startswith("max("):
            found.append((match["expr"], match["value"]))
    return found


@pytest.mark.parametrize("arch", sorted(p.stem for p in ARCHITECTURES.glob("*.yaml")))
def test_every_derivation_evaluates_to_its_value(arch: str):
    net = cnncalc.load(arch)
    report = cnncalc.analyze(net)
    checked = 0
    for row in report.layers:
        for line in explain_layer(net, row.node, TOPICS, row.rf, MemoryOptions()):
            for expr, value in equations(line):
                assert evaluate(expr) == pytest.approx(float(value.replace(",", ""))), line
                checked += 1
    assert checked > len(report.layers)


def test_course_notation_for_the_seed():
    net = cnncalc.load("seed_32x32")
    report = cnncalc.analyze(net)
    row = report.layer("conv1")
    lines = explain_layer(net, row.node, TOPICS, row.rf, MemoryOptions())
    assert "H_out = ⌊(32 + 2 + 2 − 5)/1⌋ + 1 = 32" in lines
    assert "params = 5·5·3·20 + 20 = 1,520" in lines
    assert "MACs = 32·32·20·5·5·3 = 1,536,000" in lines
    row = report.layer("conv2")
    rf_lines = explain_layer(net, row.node, ("rf",), row.rf)
    assert any("size = 6 + (3 − 1)·2 = 10" in line for line in rf_lines)


def test_reported_numbers_match_their_derivations():
    net = cnncalc.load("alexnet_grouped")
    report = cnncalc.analyze(net)
    for row in report.layers:
        lines = explain_layer(net, row.node, ("params", "macs"))
        params_line = next(line for line in lines if line.startswith("params"))
        assert params_line.endswith(f"{row.counts.params:,}")
        macs_line = next(line for line in lines if line.startswith("MACs"))
        assert macs_line.endswith(f"{row.multiplies.macs:,}")


def test_a_pointwise_layer_passes_its_input_field_on():
    # relu1 keeps conv1's field (the same object): its derivation is conv1's, not relu1's
    net = cnncalc.load("resnet18")
    report = cnncalc.analyze(net)
    conv = explain_layer(net, report.layer("conv1").node, ("rf",), report.layer("conv1").rf)
    relu = explain_layer(net, report.layer("relu1").node, ("rf",), report.layer("relu1").rf)
    assert any("size = 1 + (7 − 1)·1 = 7" in line for line in conv)
    assert relu[1:] == ["rf: unchanged (pointwise)"]
