"""`verify --max-memory` is a promise: what the forward and the receptive-field measurement
allocate (weights, activations, im2col blocks, padding, gelu's float64 temporaries, the box
maps, the larger inputs tried) stays under it. NumPy reports its arrays to tracemalloc, so
the tests measure the true peak and compare it with the limit."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.graph import Network
from cnncalc.reference import verify_network
from tests.strategies import architectures, dump

runner = CliRunner()

EVERY_KIND = """
input: [72, 72, 6]
layers:
  - conv: {name: c1, filters: 12, kernel: 5, stride: 2, padding: same, groups: 3}
  - batchnorm
  - lrn: {size: 3}
  - avgpool: {kernel: 3, stride: 2, ceil_mode: true, padding: 1}
  - relu: {name: r1}
  - conv: {name: c2, filters: 12, kernel: 3, padding: 2, dilation: 2}
  - gelu
  - gelu: {approximate: tanh}
  - elu
  - silu
  - hardswish
  - leaky_relu
  - prelu
  - sigmoid: {name: gate}
  - multiply: {name: m, from: [r1, gate, c2]}
  - conv_transpose: {name: up, filters: 6, kernel: 3, stride: 3}
  - maxpool: {name: down, kernel: 3, stride: 3}
  - concat: {name: cat, from: [m, down]}
  - add: {from: [cat, cat]}
  - adaptive_avgpool: {output: 5}
  - flatten
  - dense: {units: 10}
  - softmax
"""
ONE_CHANNEL = """
input: [600, 600, 1]
layers:
  - conv: {filters: 1, kernel: 3}
  - gelu
  - conv: {filters: 1, kernel: 3, stride: 2}
"""


@contextmanager
def traced() -> Iterator[list[int]]:
    """The peak bytes allocated inside the block (NumPy's arrays included)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def estimate(net: Network, batch: int = 1, rf: bool = True) -> int:
    return verify_network(net, batch=batch, max_memory=1 << 40, rf=rf).estimate_bytes


def peak_under(net: Network, limit: int, **options: Any) -> int:
    with traced() as peak:
        result = verify_network(net, max_memory=limit, **options)
    assert result.ok
    assert peak[0] <= limit, f"peak {peak[0]:,} B over --max-memory {limit:,} B"
    return peak[0]


@pytest.mark.parametrize(
    ("source", "shape", "batch"),
    [
        (EVERY_KIND, None, 1),  # every kind's temporaries
        (EVERY_KIND, None, 3),
        (ONE_CHANNEL, None, 1),  # the receptive field's maps outweigh the forward
        ("seed_32x32", None, 1),
        ("resnet18", (32, 32, 3), 2),  # the field measured on larger inputs too
        ("mobilenet_v2", (64, 64, 3), 1),
        ("m5", None, 2),  # 1-D: box maps of three values a unit, up to 16,192 samples
    ],
)
def test_the_peak_stays_under_a_limit_just_above_the_estimate(
    source: str, shape: tuple[int, ...] | None, batch: int
):
    net = cnncalc.load(source, shape)
    limit = estimate(net, batch) + 1
    peak_under(net, limit, batch=batch)


def test_a_generous_limit_bounds_the_larger_inputs_tried_for_the_field():
    net = cnncalc.load("resnet18", (32, 32, 3))
    limit = 96 << 20  # the field is measured on inputs up to what fits
    result = verify_network(net, max_memory=limit)
    assert len(result.rf_inputs) > 2
    peak_under(net, limit)


def test_without_rf_the_estimate_is_the_forward_alone():
    net = cnncalc.load(ONE_CHANNEL)
    assert estimate(net, rf=False) < estimate(net)  # box maps: 20 B a pixel, not 4
    peak_under(net, estimate(net, rf=False), rf=False)


def test_an_estimate_over_the_limit_is_refused_before_allocating():
    net = cnncalc.load(EVERY_KIND)
    need = estimate(net)
    with traced() as peak, pytest.raises(cnncalc.SpecError, match="--max-memory"):
        verify_network(net, max_memory=need - 1)
    assert peak[0] < need / 4


def test_the_cli_refuses_with_exit_2(tmp_path):  # type: ignore[no-untyped-def]
    spec = tmp_path / "net.yaml"
    spec.write_text(ONE_CHANNEL)
    result = runner.invoke(app, ["verify", str(spec), "--max-memory", "8MiB"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "--max-memory 8.00 MiB" in result.stderr
    assert "--no-rf" in result.stderr  # the field's maps are what does not fit


def test_the_cli_stays_under_its_limit(tmp_path):  # type: ignore[no-untyped-def]
    spec = tmp_path / "net.yaml"
    spec.write_text(EVERY_KIND)
    limit = estimate(cnncalc.load(EVERY_KIND)) + (1 << 20)  # room for rendering the table
    with traced() as peak:
        result = runner.invoke(app, ["verify", str(spec), "--max-memory", str(limit)])
    assert result.exit_code == 0, result.output
    assert peak[0] <= limit


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(architectures())
def test_random_networks_stay_under_their_estimate(spec: dict[str, Any]):
    net = cnncalc.load(dump(spec))
    peak_under(net, estimate(net))
