"""Nothing hangs or blows up: the passes cost O(1) in a layer's numbers, expressions and YAML
reading have bounded work and memory, and no regular expression backtracks on user text.

Time limits are hang guards, far above the measured cost (stated in each test), never
benchmarks: bench/large_specs.py measures.
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, normalize_argv
from cnncalc.expr import MAX_EXPRESSION, REFERENCE
from cnncalc.layers.pool import adaptive_bin, adaptive_bins_total
from cnncalc.passes.flops import count_flops
from cnncalc.passes.receptive_field import receptive_fields
from cnncalc.yamlrules import MAX_ITEMS
from cnncalc.yamltree import parse_yaml

runner = CliRunner()
T = 10**12


def cli(*args: str, seconds: float = 1.0):  # type: ignore[no-untyped-def]
    """Run the CLI in-process; assert no traceback and a finish within `seconds` of CPU time
    (a hang guard that the machine's other load does not trip)."""
    start = time.process_time()
    result = runner.invoke(app, normalize_argv(args))
    elapsed = time.process_time() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert elapsed < seconds, f"{args[:2]} took {elapsed:.2f} s"
    return result


def refused(spec: Path, where: str, message: str, *args: str, seconds: float = 1.0) -> None:
    result = cli(*(args or ("params",)), str(spec), seconds=seconds)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{spec}:{where}: error: "), result.stderr
    assert message in result.stderr, result.stderr


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- passes: closed forms, O(1) in a layer's numbers --------------------------------------


def _transposed_reference(k: int, s: int, d: int, p: int) -> tuple[int, Fraction | None]:
    """The definition, tap by tap: output o gathers input (o + p − m·d)/s for the taps m
    where that division is exact. (widest input span a unit mixes, mid of unit 0's taps)."""
    widest = 0
    for residue in range(s):
        taps = [m for m in range(k) if (residue + p - m * d) % s == 0]
        if taps:
            widest = max(widest, (max(taps) - min(taps)) * d // s)
    first = [(p - m * d) // s for m in range(k) if (p - m * d) % s == 0]
    return widest, (Fraction(min(first) + max(first), 2) if first else None)


def test_transposed_conv_rf_matches_the_tap_by_tap_definition():
    for k, s, d, p in itertools.product(range(1, 6), range(1, 6), range(1, 4), range(0, 5)):
        pad = min(p, (3 * s + d * (k - 1)) // 2)  # leaves a positive output of a 4×4 input
        spec = (
            f"input: [4, 4, 1]\nlayers:\n  - conv_transpose: "
            f"{{filters: 1, kernel: {k}, stride: {s}, dilation: {d}, padding: {pad}}}\n"
        )
        rf = receptive_fields(cnncalc.load(spec))["conv_transpose1"]
        assert rf is not None
        widest, mid = _transposed_reference(k, s, d, pad)
        assert rf.size[0] == 1 + widest, (k, s, d, pad)
        assert rf.stride[0] == Fraction(1, s)
        assert rf.center[0] == (mid if mid is not None else 0), (k, s, d, pad)


def test_transposed_conv_with_a_huge_stride_is_instant():
    # 1×1 input: output (1 − 1)·10^9 + 1 = 1; a 1-tap kernel spans nothing: size 1, jump 10^-9
    layer = f"conv_transpose: {{filters: 1, kernel: 1, stride: {10**9}}}"
    spec = f"input: [1, 1, 1]\nlayers:\n  - {layer}\n"
    start = time.process_time()
    rf = receptive_fields(cnncalc.load(spec))["conv_transpose1"]
    assert time.process_time() - start < 1  # took forever (a loop over the stride); now ~1 ms
    assert rf is not None
    assert (rf.size, rf.stride, rf.center) == ((1, 1), (Fraction(1, 10**9),) * 2, (0, 0))


def test_transposed_conv_rf_with_10_to_the_12_kernel_by_hand():
    # k = 10^12, s = 3, d = 1, p = 0: taps of one output step by 3, so a unit mixes inputs
    # ⌊(k − 1)/3⌋ = 333,333,333,333 apart; unit 0 has taps m = 0, 3, …, 999,999,999,999,
    # inputs 0 … −333,333,333,333: centre −166,666,666,666.5
    spec = (
        f"input: [2, 2, 1]\nlayers:\n  - conv_transpose: {{filters: 1, kernel: {T}, stride: 3}}\n"
    )
    rf = receptive_fields(cnncalc.load(spec))["conv_transpose1"]
    assert rf is not None
    assert rf.size[0] == 333_333_333_334
    assert rf.center[0] == Fraction(-333_333_333_333, 2)


def _bins(size: int, out: int) -> list[int]:
    """PyTorch's adaptive bins [⌊i·size/out⌋, ⌈(i+1)·size/out⌉), one by one."""
    return [-(-(i + 1) * size // out) - (i * size // out) for i in range(out)]


def test_adaptive_bins_closed_forms_match_the_bins():
    for size, out in itertools.product(range(1, 40), range(1, 40)):
        assert adaptive_bin(size, out) == max(_bins(size, out)), (size, out)
        assert adaptive_bins_total(size, out) == sum(_bins(size, out)), (size, out)


def test_adaptive_pool_flops_match_the_bin_by_bin_sum():
    # the flops convention: per output, bh·bw − 1 adds and 1 divide over its own bin
    net = cnncalc.load("input: [7, 5, 2]\nlayers:\n  - adaptive_avgpool: {output: [3, 4]}\n")
    expected = sum(bh * bw for bh in _bins(7, 3) for bw in _bins(5, 4)) * 2
    assert count_flops(net, "flops")["adaptive_avgpool1"].flops == expected


@pytest.mark.parametrize(
    "command",
    [
        ("params",),
        ("flops", "--convention", "fvcore"),
        ("flops", "--convention", "ptflops"),
        ("flops", "--convention", "torchinfo"),
        ("rf",),
        ("memory",),
        ("summary", "--format", "json"),
        ("graph",),
        ("rf", "--explain"),
        ("flops", "--explain"),
    ],
)
def test_every_command_is_o1_in_huge_layer_numbers(tmp_path: Path, command: tuple[str, ...]):
    spec = write(
        tmp_path,
        "input: [3, 3, 2]\nlayers:\n"
        f"  - conv_transpose: {{filters: {T}, kernel: {T}, stride: {T - 1}, dilation: 1000, "
        "padding: 7}\n"
        f"  - adaptive_avgpool: {{output: {T}}}\n"
        f"  - adaptive_maxpool: {{output: [{T}, 3]}}\n"
        "  - global_avgpool\n",
    )
    result = cli(command[0], str(spec), *command[1:])  # ~0.05 s
    assert result.exit_code == 0, result.output


# --- expressions: bounded work --------------------------------------------------------------


BLOCK = """input: [8, 8, 3]
blocks:
  b:
    args: {{w: 1}}
    layers:
      - conv: {{filters: "$({expression})", kernel: 1}}
layers:
  - repeat: {{block: b, times: {times}{args}}}
"""


def test_percent_formatting_of_text_is_refused(tmp_path: Path):
    spec = write(tmp_path, BLOCK.format(expression="'%0999999999d' % w", times=1, args=""))
    refused(spec, "6:25", "`%` formats text")


def test_remainder_of_numbers_still_works():
    net = cnncalc.load(BLOCK.format(expression="w % 7 + 10", times=2, args=", args: {w: 15}"))
    assert [n.op.filters for n in net.nodes] == [11, 11]  # type: ignore[attr-defined]


def test_a_long_expression_is_refused(tmp_path: Path):
    expression = "max(" + ",".join(["1"] * MAX_EXPRESSION) + ")"
    spec = write(tmp_path, BLOCK.format(expression=expression, times=1, args=""))
    refused(spec, "6:25", f"at most {MAX_EXPRESSION:,}")


def test_an_expression_repeated_with_the_same_arguments_is_evaluated_once(tmp_path: Path):
    # 300 names × 20,000 instances would be 6 million steps; evaluated once it is instant
    expression = "max(" + ",".join(["w"] * 300) + ")"
    net = cnncalc.load(BLOCK.format(expression=expression, times=20_000, args=""))
    assert len(net) == 20_000


def test_expression_work_over_a_spec_is_bounded(tmp_path: Path):
    # each instance has its own argument, so 300 names × 20,000 instances must be evaluated
    expression = "max(" + ",".join(["w"] * 300) + ") + 1"
    spec = write(
        tmp_path, BLOCK.format(expression=expression, times=20_000, args=", args: {w: $i}")
    )
    refused(spec, "6:25", "too much work", seconds=5)  # ~0.3 s; it took minutes at 10^5 names


# --- YAML: memory and count limits ----------------------------------------------------------


@pytest.mark.parametrize(("line", "where"), [("- {}\n", "3"), ("- []\n", "3")])
def test_yaml_list_of_more_than_max_items_is_refused(tmp_path: Path, line: str, where: str):
    # 4 MiB of these took 7-11 s and 600 MB; now refused at item 100,001 (~0.3 s)
    spec = write(tmp_path, line * (4 * 2**20 // len(line) - 1))
    refused(spec, f"{MAX_ITEMS + 1}:{where}", f"holds more than {MAX_ITEMS:,} items", seconds=5)


def test_yaml_mapping_of_more_than_max_items_is_refused(tmp_path: Path):
    spec = write(tmp_path, "".join(f"k{i}: 1\n" for i in range(MAX_ITEMS + 10)))
    refused(spec, f"{MAX_ITEMS + 1}:1", f"holds more than {MAX_ITEMS:,} items", seconds=5)


def test_yaml_memory_is_a_small_multiple_of_the_file():
    # 90,000 keys of `kN: 1`: ~230 bytes kept per 11-byte line (it was ~390)
    text = "".join(f"k{i}: 1\n" for i in range(90_000))
    tracemalloc.start()
    try:
        doc = parse_yaml(text, "big.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(doc) == 90_000
    assert peak < 30 * len(text), f"{peak / len(text):.0f}× the file"


def test_packed_positions_read_back_as_line_and_column():
    doc = parse_yaml("a: 1\nlist:\n  - x\n  -   {b: 2}\n", "f.yaml")
    assert (doc.key_pos["list"].line, doc.key_pos["list"].col) == (2, 1)
    assert [(p.line, p.col) for p in doc["list"].item_pos] == [(3, 5), (4, 7)]
    assert doc["list"][1].pos_of("b") == cnncalc.SourcePos("f.yaml", 4, 11)
    doc.value_pos["a"] = cnncalc.SourcePos("elsewhere", 9, 9)  # code may store a SourcePos
    assert doc.pos_of("a") == cnncalc.SourcePos("elsewhere", 9, 9)


# --- regular expressions: linear on hostile text --------------------------------------------


@pytest.mark.parametrize("key", ["max_params", "max_activation_bytes"])
def test_long_digit_run_in_an_expectation_is_refused_quickly(tmp_path: Path, key: str):
    # 12,000 digits then `!` took 4-7 s (every split of the digit run was tried); now ~5 ms
    spec = write(
        tmp_path,
        "input: [8, 8, 3]\nlayers: [relu]\nexpect:\n  " + key + ': "' + "1" * 12_000 + '!"\n',
    )
    result = cli("check", str(spec))
    assert result.exit_code == 2
    assert f"{spec}:4:" in result.stdout + result.stderr


def test_expression_reference_regex_is_linear():
    start = time.process_time()
    for text in ("$(" * 20_000, "$(a" + "(a" * 20_000, "$(a)" * 10_000 + "$(", "$" * 40_000):
        list(REFERENCE.finditer(text))
        REFERENCE.fullmatch(text)
    assert time.process_time() - start < 1  # ~10 ms in all
