"""`cnncalc sweep`: every variant's row equals what `summary` says of that variant written
out by hand; the process pool and Dask give the same rows as a serial run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.design.sweep import parse_values

runner = CliRunner()

SPEC = """\
name: tiny
input: [32, 32, 3]
blocks:
  stage:
    args: {{width: {width}}}
    layers:
      - conv: {{name: conv, filters: $width, kernel: 3, padding: 1}}
      - relu
layers:
  - repeat: {{block: stage, times: {depth}, name: stage}}
  - maxpool: {{kernel: 2}}
  - flatten
  - dense: {{units: 10}}
"""


def cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, normalize_argv(args), input=input)


def test_set_values() -> None:
    assert parse_values("width=32,64,128") == ("width", (32, 64, 128))
    assert parse_values("depth=2..6") == ("depth", (2, 3, 4, 5, 6))
    assert parse_values("padding=same,1") == ("padding", ("same", 1))
    assert parse_values("flag=true") == ("flag", (True,))


def test_tiny_sweep_row_by_row_against_summary(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(width=8, depth=1))
    result = cli(
        "sweep",
        str(spec),
        "--set",
        "width=4,8",
        "--set",
        "times=1..2",
        "--input",
        "16x16x3,32x32x3",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    variants = json.loads(result.stdout)["variants"]
    assert len(variants) == 2 * 2 * 2
    expected_order = [(w, d, s) for w in (4, 8) for d in (1, 2) for s in (16, 32)]
    for row, (width, depth, size) in zip(variants, expected_order, strict=True):
        assert row["values"] == {"width": width, "times": depth}
        assert row["input_shape"] == [size, size, 3]
        text = SPEC.format(width=width, depth=depth)
        summary = json.loads(
            cli("summary", "-", "--input", f"{size}x{size}x3", "-f", "json", input=text).stdout
        )
        totals = summary["totals"]
        assert row["params"] == totals["params"]
        assert row["macs"] == totals["macs"]
        assert row["inference_peak_bytes"] == totals["memory"]["inference_peak_bytes"]
        assert row["training_bytes"] == totals["memory"]["training_bytes"]
        last_spatial = [layer["rf"] for layer in summary["layers"] if layer["rf"]][-1]
        assert row["rf"] == last_spatial["size"]
        assert row["output_shape"] == [10]
    # by hand, width 4, one stage, 16×16: conv 3·3·3·4 + 4 = 112, dense 8·8·4·10 + 10 = 2,570
    assert variants[0]["params"] == 112 + 2_570


def test_process_pool_and_serial_agree() -> None:
    text = SPEC.format(width=8, depth=1)
    sets = {"width": [4, 8, 16], "times": [1, 2, 3]}
    serial = cnncalc.sweep(text, sets)
    pooled = cnncalc.sweep(text, sets, workers=2)
    assert pooled.rows == serial.rows
    assert len(serial.rows) == 9


def test_dask_local_cluster_agrees() -> None:
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    text = SPEC.format(width=8, depth=1)
    sets = {"width": [4, 8], "times": [1, 2]}
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        rows = cnncalc.sweep(text, sets, scheduler=cluster.scheduler_address).rows
    assert rows == cnncalc.sweep(text, sets).rows


def test_an_invalid_variant_gets_its_error_and_the_others_their_rows() -> None:
    result = cli("sweep", "seed_32x32", "--set", "kernel=3,40", "-f", "json")
    assert result.exit_code == 0, result.output
    ok, bad = json.loads(result.stdout)["variants"]
    assert ok["error"] is None and ok["params"] == 3_280
    assert "kernel 40 is larger" in bad["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "nosuch=1,2"], "no key 'nosuch'"),
        (["--set", "width"], "NAME=VALUES"),
        (["--set", "width=5..2"], "empty"),
        (["--plot", "x.gif"], ".svg or .png"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    result = cli("sweep", "seed_32x32", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_svg_plot_has_a_point_per_valid_variant(tmp_path: Path) -> None:
    plot = tmp_path / "sweep.svg"
    result = cli("sweep", "seed_32x32", "--set", "filters=8,16,32", "--plot", str(plot), "-q")
    assert result.exit_code == 0, result.output
    root = ET.fromstring(plot.read_text())
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 3


def test_png_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plot = tmp_path / "sweep.png"
    result = cli("sweep", "seed_32x32", "--set", "filters=8,16", "--plot", str(plot), "-q")
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
