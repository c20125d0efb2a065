"""Property tests: random valid architectures (chains and DAGs of every layer kind) against
the NumPy reference, the spec → IR → spec round trip, and random invalid specs.

CI runs a few hundred examples of each; `pytest -m slow` runs thousands.
"""

from __future__ import annotations

import collections
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.reference import verify_network
from tests.strategies import architectures, dump, invalid_specs, ir_of, to_spec

QUICK = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(QUICK, max_examples=2000)
MAIN = settings(QUICK, max_examples=500)  # the point of it all, and cheap: ~15 ms an example
runner = CliRunner()


def analytic_agrees_with_numpy(spec: dict[str, Any]) -> None:
    """Every layer: shape pass = NumPy shape, params pass = allocated weights (and buffers),
    RF pass = measured field (where the analytic number means the same thing)."""
    net = cnncalc.load(dump(spec))
    result = verify_network(net, max_memory=256 << 20)
    assert result.ok, "\n".join(
        f"{f.layer}: {f.check}: analytic {f.analytic}, NumPy {f.reference}"
        for f in result.failures()
    )
    tally = collections.Counter(layer.rf.status for layer in result.layers)
    for status, count in tally.items():
        event(f"rf {status}", count)
    event("layers", len(net))


@MAIN
@given(architectures())
def test_analytic_passes_agree_with_numpy(spec: dict[str, Any]) -> None:
    analytic_agrees_with_numpy(spec)


@pytest.mark.slow
@SLOW
@given(architectures(max_steps=12))
def test_analytic_passes_agree_with_numpy_slow(spec: dict[str, Any]) -> None:
    analytic_agrees_with_numpy(spec)


def round_trip(spec: dict[str, Any]) -> None:
    """spec → YAML → IR → spec (every field written out) → YAML → the same IR."""
    net = cnncalc.load(dump(spec))
    again = cnncalc.load(dump(to_spec(net)))
    assert ir_of(again) == ir_of(net)


@QUICK
@given(architectures())
def test_spec_round_trips_through_yaml(spec: dict[str, Any]) -> None:
    round_trip(spec)


@pytest.mark.slow
@SLOW
@given(architectures(max_steps=12))
def test_spec_round_trips_through_yaml_slow(spec: dict[str, Any]) -> None:
    round_trip(spec)


def exits_2_cleanly(case: tuple[str, str]) -> None:
    text, word = case
    for command in ("verify", "summary"):
        result = runner.invoke(app, [command, "-"], input=text)
        assert result.exit_code == 2, (command, result.output)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "error:" in result.stderr
        assert word.lower() in result.stderr.lower(), result.stderr


@QUICK
@given(invalid_specs())
def test_invalid_specs_exit_2_without_traceback(case: tuple[str, str]) -> None:
    exits_2_cleanly(case)


@pytest.mark.slow
@SLOW
@given(invalid_specs())
def test_invalid_specs_exit_2_without_traceback_slow(case: tuple[str, str]) -> None:
    exits_2_cleanly(case)
