"""`cnncalc check`: expectations in specs and budget files, many files, exit codes, the
GitHub and JSON formats, the pre-commit hook and the documented GitHub Actions workflow.

The expected numbers are worked out by hand in the comments of tests/data/check/*.yaml and
next to each case here; columns are 1-based.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cnncalc import SpecError
from cnncalc.check import (
    Expectations,
    budget_schema,
    check,
    evaluate,
    expand_targets,
    expect_schema,
    load_budget,
    parse_bytes,
    parse_count,
    parse_expectations,
)
from cnncalc.cli import app
from cnncalc.errors import SourcePos
from cnncalc.loader import load
from cnncalc.passes.memory import MemoryOptions
from cnncalc.report import analyze
from cnncalc.yamltree import parse_yaml
from tests.conftest import ARCHITECTURES, ROOT

DATA = Path(__file__).resolve().parent / "data" / "check"
PASSING = "tests/data/check/passing.yaml"
FAILING = "tests/data/check/failing.yaml"
PLAIN = "tests/data/check/no_expect.yaml"
runner = CliRunner()

# seed_32x32's layers (lines 1-10); `expect:` is line 11, its first entry line 12
SEED = """\
input: [32, 32, 3]
layers:
  - conv: {filters: 20, kernel: 5, padding: same}
  - relu
  - maxpool: {kernel: 2}
  - conv: {filters: 10, kernel: 3, padding: same}
  - relu
  - maxpool: {kernel: 2}
  - flatten
  - dense: {units: 10}
"""


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, so paths in outputs are the short relative ones."""
    monkeypatch.chdir(ROOT)
    return ROOT


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def seed_with(tmp_path: Path, expect: str, name: str = "net.yaml") -> Path:
    return write(tmp_path, name, SEED + "expect:\n" + expect)


# --- numbers --------------------------------------------------------------------------------

POS = SourcePos("x.yaml", 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (25_557_032, 25_557_032),
        ("25557032", 25_557_032),
        ("25_557_032", 25_557_032),
        ("25,557,032", 25_557_032),  # as the tables print it
        ("25.557032M", 25_557_032),  # exact: decimal arithmetic, no float rounding
        ("30M", 30_000_000),
        ("30 M", 30_000_000),
        ("1k", 1_000),
        ("1K", 1_000),
        ("0.5K", 500),
        ("4.1G", 4_100_000_000),
        ("2T", 2 * 10**12),
        ("4.2e9", 4_200_000_000),  # YAML reads this as text
        (4.2e9, 4_200_000_000),  # and `4.2e+9` as a float
        ("1e3", 1_000),
        ("0", 0),
        (10**20, 10**20),
    ],
)
def test_parse_count(value: object, expected: int):
    assert parse_count(value, "params", POS) == expected


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        ("9.5", "must be a whole number", "whole numbers"),
        (9.5, "must be a whole number", "whole numbers"),
        ("1.0000001M", "must be a whole number", "whole numbers"),
        (-1, "must not be negative", None),
        (True, "must be a number", "25_557_032"),
        (None, "must be a number", "25_557_032"),
        ([1], "must be a number", None),
        ("ten", "must be a number", None),
        ("30m", "unknown suffix 'm'", "write `30M`"),
        ("3B", "is a count, not a size in bytes", "max_memory"),
        ("30MB", "is a count, not a size in bytes", "max_memory"),
        ("2X", "unknown suffix 'X'", "K (or k) = 10^3"),
        ("1e999999999", "not a usable number", "30 digits"),
        ("9" * 40, "not a usable number", None),
    ],
)
def test_parse_count_errors(value: object, message: str, hint: str | None):
    with pytest.raises(SpecError) as info:
        parse_count(value, "params", POS)
    assert message in info.value.message
    assert info.value.pos == POS
    if hint is not None:
        assert info.value.hint is not None and hint in info.value.hint


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (209_715_200, 209_715_200),
        ("200MiB", 200 * 2**20),
        ("200 MiB", 200 * 2**20),
        ("200mib", 200 * 2**20),
        ("1.5KiB", 1_536),
        ("1KiB", 1_024),
        ("1GiB", 2**30),
        ("1TiB", 2**40),
        ("1kB", 1_000),
        ("1KB", 1_000),
        ("200MB", 200_000_000),
        ("2GB", 2_000_000_000),
        ("1TB", 10**12),
        ("512B", 512),
        ("512", 512),
        ("1,048,576", 1_048_576),
    ],
)
def test_parse_bytes(value: object, expected: int):
    assert parse_bytes(value, "bytes", POS) == expected


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        ("200M", "'200M' is ambiguous", "200MiB (200·2^20 bytes) or 200MB (200·10^6 bytes)"),
        ("4k", "'4k' is ambiguous", "4KiB (4·2^10 bytes) or 4KB (4·10^3 bytes)"),
        ("1.5B", "must be a whole number", None),
        ("2XB", "unknown unit 'XB'", "KiB"),
        ("lots", "must be a size in bytes", "200MiB"),
        (False, "must be a size in bytes", None),
    ],
)
def test_parse_bytes_errors(value: object, message: str, hint: str | None):
    with pytest.raises(SpecError) as info:
        parse_bytes(value, "bytes", POS)
    assert message in info.value.message
    if hint is not None:
        assert info.value.hint is not None and hint in info.value.hint


def test_huge_int_is_refused_before_any_conversion_to_text():
    with pytest.raises(SpecError) as info:
        parse_count(10**5000, "params", POS)  # str() of it would raise ValueError
    assert info.value.message == "`params` is not a usable number (16610 bits)"


def test_hostile_exponent_is_refused_quickly():
    start = time.process_time()
    with pytest.raises(SpecError):
        parse_count("9.9e99999999999", "params", POS)
    with pytest.raises(SpecError):
        parse_bytes("1e999999999GiB", "bytes", POS)
    assert time.process_time() - start < 0.5


# --- whole specs ----------------------------------------------------------------------------


def test_passing_spec_every_expectation_holds(in_root: Path):
    run_ = check([PASSING])
    (result,) = run_.files
    assert result.status == "passed"
    assert result.error is None
    assert len(result.checks) == 21
    assert all(c.passed for c in result.checks)
    assert run_.exit_code == 0
    # the hand-worked numbers in the spec are what the report says, each at its boundary
    report = analyze(load(PASSING))
    assert report.totals.params == 9_740
    assert report.macs == 2_003_200
    assert report.memory.inference_peak_bytes == 160 * 1024
    assert report.memory.training_bytes == 300_168
    assert report.layer("maxpool2").rf is not None
    assert report.layer("maxpool2").rf.size == (12, 12)  # type: ignore[union-attr]


def test_failing_spec_reports_each_failure_at_its_line(in_root: Path):
    (result,) = check([FAILING]).files
    assert result.status == "failed"
    assert [(c.expectation.pos.line, c.expectation.pos.col, c.passed) for c in result.checks] == [
        (14, 11, True),
        (15, 15, False),
        (16, 23, False),
        (18, 27, False),
        (19, 24, False),
    ]
    assert [c.message for c in result.failures] == [
        "params is 9,740, above max_params 9.7K (9,700) by 40",
        "inference peak memory (float32, batch 1) is 163,840 B (160.00 KiB), above max_memory "
        "150KiB (153,600 B) by 10,240 B (10.00 KiB)",
        "layer conv2: output_shape is 16×16×10, expected 16×16×16",
        "layer maxpool2: rf is 12, below min_rf 16×12",
    ]
    # nothing stops at the first failure: the passing one is still there
    assert result.checks[0].message == "params is 9,740 as expected"


def test_cli_failing_spec_lines_exit_1(in_root: Path):
    result = run("check", FAILING)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{FAILING}:15:15: error: params is 9,740, above max_params 9.7K (9,700) by 40",
        f"{FAILING}:16:23: error: inference peak memory (float32, batch 1) is 163,840 B "
        "(160.00 KiB), above max_memory 150KiB (153,600 B) by 10,240 B (10.00 KiB)",
        f"{FAILING}:18:27: error: layer conv2: output_shape is 16×16×10, expected 16×16×16",
        f"{FAILING}:19:24: error: layer maxpool2: rf is 12, below min_rf 16×12",
    ]
    assert "FAILED" in result.stdout


def test_spec_without_expectations_is_checked_for_validity(in_root: Path, tmp_path: Path):
    result = run("check", PLAIN)
    assert result.exit_code == 0, result.output
    assert "plain" in result.stdout and "ok" in result.stdout
    broken = write(tmp_path, "broken.yaml", "input: [4, 4, 3]\nlayers:\n  - conv: {filters: 8}\n")
    result = run("check", str(broken))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{broken}:3:5: error: layer conv1: conv needs `kernel`")


def test_empty_or_null_expect_is_no_expectations(tmp_path: Path):
    for text in ("{}\n", "\n"):
        spec = write(tmp_path, "net.yaml", SEED + "expect: " + text)
        (result,) = check([str(spec)]).files
        assert result.status == "passed" and result.checks == ()


def test_exit_2_wins_and_every_file_is_still_checked(in_root: Path, tmp_path: Path):
    invalid = write(tmp_path, "invalid.yaml", SEED + "expect:\n  max_parms: 1\n")
    result = run("check", PASSING, str(invalid), FAILING, "-f", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert result.stderr == ""  # json: everything is in the document
    assert data["exit_code"] == 2
    assert [f["status"] for f in data["files"]] == ["passed", "invalid", "failed"]
    assert data["summary"] == {
        "files": 3,
        "passed": 1,
        "failed": 1,
        "invalid": 1,
        "checks": 26,
        "checks_failed": 4,
    }
    error = data["files"][1]["error"]
    assert (error["file"], error["line"], error["col"]) == (str(invalid), 12, 3)
    assert error["hint"] == "did you mean `max_params`?"


def test_flops_under_a_convention(tmp_path: Path):
    # `flops` convention: conv 2·MACs + bias outputs, relu N, maxpool (k²−1)·N_out, dense
    # 2·MACs + units: 3,092,480 + 20,480 + 15,360 + 924,160 + 2,560 + 1,920 + 12,810
    spec = seed_with(
        tmp_path,
        "  convention: flops\n  flops: 4_069_770\n  layers:\n    conv1: {flops: 3_092_480}\n",
    )
    (result,) = check([str(spec)]).files
    assert [c.passed for c in result.checks] == [True, True]
    assert result.checks[0].message == "flops (flops) is 4,069,770 as expected"
    # fvcore counts only the weights' multiply-accumulates
    spec = seed_with(tmp_path, "  convention: fvcore\n  max_flops: 2_003_199\n")
    (result,) = check([str(spec)]).files
    assert result.checks[0].message == (
        "flops (fvcore) is 2,003,200, above max_flops 2,003,199 by 1"
    )


@pytest.mark.parametrize(
    "kind",
    [
        "inference_peak",
        "training",
        "param",
        "buffer",
        "input",
        "activation",
        "gradient",
        "optimizer",
    ],
)
def test_every_memory_kind_is_the_memory_pass_figure(tmp_path: Path, kind: str):
    options = MemoryOptions("bfloat16", 4, "momentum")
    report = analyze(load(str(ARCHITECTURES / "resnet18.yaml")), memory=options)
    actual = getattr(report.memory, f"{kind}_bytes")
    optimizer = ", optimizer: momentum" if kind in ("training", "optimizer") else ""
    budget = write(
        tmp_path,
        "budget.yaml",
        "max_memory:\n"
        f"  - {{bytes: {actual}, kind: {kind}, dtype: bfloat16, batch: 4{optimizer}}}\n"
        f"  - {{bytes: {max(actual - 1, 0)}, kind: {kind}, dtype: bfloat16, batch: 4"
        f"{optimizer}}}\n",
    )
    (result,) = check(["resnet18"], [str(budget)]).files
    expected_second = actual == 0  # 0 bytes is within a budget of 0
    assert [c.passed for c in result.checks] == [True, expected_second]
    assert [c.actual for c in result.checks] == [actual, actual]


def test_memory_figures_by_hand(tmp_path: Path):
    # seed_32x32, float32 batch 1: parameters 9,740·4 = 38,960 B; input 32·32·3·4 = 12,288 B
    spec = seed_with(
        tmp_path,
        "  max_memory:\n"
        "    - {bytes: 38960, kind: param}\n"
        "    - {bytes: 12KiB, kind: input}\n"
        "    - {bytes: 38959, kind: gradient}\n",
    )
    (result,) = check([str(spec)]).files
    assert [c.passed for c in result.checks] == [True, True, False]
    assert result.checks[2].message == (
        "gradient memory (float32, batch 1) is 38,960 B (38.05 KiB), above max_memory "
        "38,959 B (38.05 KiB) by 1 B"
    )


def test_receptive_field_with_fractional_size(tmp_path: Path):
    # a transposed conv halves the jump (1/2); a 2-tap conv after it spans 3 + 1·1/2 = 3.5
    spec = write(
        tmp_path,
        "up.yaml",
        "input: [8, 8, 1]\nlayers:\n"
        "  - conv: {filters: 2, kernel: 3}\n"
        "  - conv_transpose: {filters: 2, kernel: 2, stride: 2}\n"
        "  - conv: {filters: 2, kernel: 2}\n"
        "expect:\n  layers:\n    conv2: {min_rf: 3, max_rf: 3}\n",
    )
    (result,) = check([str(spec)]).files
    assert [c.passed for c in result.checks] == [True, False]
    assert result.checks[1].message == "layer conv2: rf is 3.5, above max_rf 3"
    assert result.to_dict()["checks"][1]["actual"] == [3.5, 3.5]


# --- invalid expectations: FILE:LINE:COL, message and hint -----------------------------------

# (expect text from line 12, line, col, message, hint or None)
# fmt: off
INVALID = [
    ("  max_param: 10K\n", 12, 3, "unknown expectation 'max_param' in `expect`",
     "did you mean `max_params`?"),
    ("  max_rf: 10\n", 12, 3, "unknown expectation 'max_rf'", "checked at a named layer"),
    ("  max_params: 10m\n", 12, 15, "`max_params`: unknown suffix 'm'", "write `10M`"),
    ("  max_params: 10MB\n", 12, 15, "is a count, not a size in bytes", "max_memory"),
    ("  params: 9.5\n", 12, 11, "`params` must be a whole number", None),
    ("  params: -1\n", 12, 11, "`params` must not be negative", None),
    ("  output_shape: [10, 1]\n", 12, 17, "`output_shape` must be a shape", "[H, W, C]"),
    ("  output_shape: [0]\n", 12, 17, "must be positive integers", None),
    ("  convention: gflops\n", 12, 15, "unknown convention 'gflops'", "did you mean `flops`?"),
    ("  max_memory: 200M\n", 12, 15, "'200M' is ambiguous", "200MiB"),
    ("  max_memory: []\n", 12, 15, "`max_memory` is an empty list", None),
    ("  max_memory: {bytes: 1MiB, dtype: float8}\n", 12, 36, "unknown dtype 'float8'",
     "did you mean"),
    ("  max_memory: {dtype: float16}\n", 12, 15, "`max_memory` needs `bytes:`", "bytes: 200MiB"),
    ("  max_memory: {bytes: 1MiB, optimizer: adam}\n", 12, 29,
     "`optimizer` does not change the inference_peak memory", "kind: training"),
    ("  max_memory: {bytes: 1MiB, kind: peak}\n", 12, 35, "unknown memory kind 'peak'",
     "inference_peak"),
    ("  max_memory: {bytes: 1MiB, batch: 0}\n", 12, 36,
     "`batch` must be an integer from 1 to 1,000,000,000", None),
    ("  max_memory: {bytes: 1MiB, optimizer: adamw, kind: training}\n", 12, 40,
     "unknown optimizer 'adamw'", "did you mean `adam`?"),
    ("  max_memory: {size: 1MiB}\n", 12, 16, "unknown expectation 'size' in `max_memory`",
     "bytes"),
    ("  layers: [conv1]\n", 12, 11, "maps layer names to expectations", "conv1: {output_shape"),
    ("  layers:\n    conv9: {params: 1}\n", 13, 5, "no layer named 'conv9' in net",
     "did you mean `conv2`?"),
    ("  layers:\n    conv1: {max_rff: 3}\n", 13, 13,
     "unknown expectation 'max_rff' in layer conv1", "did you mean `max_rf`?"),
    ("  layers:\n    conv1: {max_memory: 1MiB}\n", 13, 13, "unknown expectation 'max_memory'",
     "directly under `expect:`"),
    ("  layers:\n    conv1: 5\n", 13, 12, "the expectations of layer conv1 must be a mapping",
     None),
    ("  layers:\n    conv1: {rf: [1, 2, 3, 4]}\n", 13, 17, "`rf` must be a receptive-field size",
     "[height, width]"),
    ("  layers:\n    dense1: {max_rf: 3}\n", 13, 22,
     "layer dense1 has a flat output (10): it has no receptive field", "spatial"),
]
# fmt: on


@pytest.mark.parametrize(("expect", "line", "col", "message", "hint"), INVALID)
def test_invalid_expectations(
    tmp_path: Path, expect: str, line: int, col: int, message: str, hint: str | None
):
    spec = seed_with(tmp_path, expect)
    (result,) = check([str(spec)]).files
    assert result.status == "invalid"
    err = result.error
    assert err is not None and err.pos is not None
    assert message in err.message, str(err)
    assert (err.pos.file, err.pos.line, err.pos.col) == (str(spec), line, col), str(err)
    if hint is not None:
        assert err.hint is not None and hint in err.hint, str(err)


def test_invalid_expectation_on_the_command_line(tmp_path: Path):
    spec = seed_with(tmp_path, "  max_param: 10K\n")
    result = run("check", str(spec))
    assert result.exit_code == 2
    assert result.stderr == (
        f"{spec}:12:3: error: unknown expectation 'max_param' in `expect`\n"
        "  hint: did you mean `max_params`?\n"
    )
    assert "Traceback" not in result.output


def test_expect_must_be_a_mapping(tmp_path: Path):
    spec = write(tmp_path, "net.yaml", SEED + "expect: [params, 1]\n")
    (result,) = check([str(spec)]).files
    assert result.error is not None and result.error.pos is not None
    assert "`expect` must be a mapping of expectations" in result.error.message
    assert (result.error.pos.line, result.error.pos.col) == (11, 9)


def test_block_instance_name_gets_a_hint():
    raw = parse_yaml("layers:\n  layer1.0: {params: 1}\n", "b.yaml")
    expectations = parse_expectations(raw, SourcePos("b.yaml", 1, 1))
    report = analyze(load("resnet18"))
    with pytest.raises(SpecError) as info:
        evaluate(expectations, report)
    assert info.value.message == "no layer named 'layer1.0' in resnet18"
    assert info.value.hint == (
        "'layer1.0' is a block instance, not a layer: name one of its layers, "
        "e.g. `layer1.0.relu2` (its last)"
    )
    assert info.value.pos == SourcePos("b.yaml", 2, 3)


def test_expectations_api_in_written_order():
    raw = parse_yaml("max_macs: 2M\nlayers:\n  conv1: {rf: [5, 5]}\nparams: 9740\n", "inline.yaml")
    expectations = parse_expectations(raw, SourcePos("inline.yaml"))
    assert isinstance(expectations, Expectations)
    assert [(e.key, e.quantity, e.op, e.expected, e.layer) for e in expectations.items] == [
        ("max_macs", "macs", "<=", 2_000_000, None),
        ("rf", "rf", "==", (5, 5), "conv1"),
        ("params", "params", "==", 9_740, None),
    ]
    results = evaluate(expectations, analyze(load("seed_32x32")), "seed_32x32")
    assert [r.passed for r in results] == [False, True, True]
    assert results[0].actual == 2_003_200


# --- many files: folders, globs, stdin ------------------------------------------------------


def test_folders_recurse_sorted_skipping_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for name in ("d/b.yaml", "d/a.yml", "d/sub/c.yaml", "d/.hidden/x.yaml", "d/.dot.yaml"):
        write(tmp_path, name, SEED)
    write(tmp_path, "d/notes.txt", "not a spec")
    targets = expand_targets(["d"])
    assert [t.display for t in targets] == [
        os.path.join("d", "a.yml"),
        os.path.join("d", "b.yaml"),
        os.path.join("d", "sub", "c.yaml"),
    ]


def test_globs_are_expanded_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for name in ("nets/a.yaml", "nets/deep/b.yaml", "nets/c.yml", "nets/README.md"):
        write(tmp_path, name, SEED)
    assert [t.display for t in expand_targets(["nets/*.yaml"])] == ["nets/a.yaml"]
    assert [t.display for t in expand_targets(["nets/**/*.yaml"])] == [
        "nets/a.yaml",
        "nets/deep/b.yaml",
    ]
    # a glob matching only non-specs matches nothing; so does one matching no file
    for pattern in ("nets/*.md", "nope/*.yaml"):
        (target,) = expand_targets([pattern])
        assert target.error is not None
        assert target.error.message == "no spec file matches this pattern"
    # what the shell would pass when it does not expand: still works, exit 0
    result = run("check", "nets/**/*.y*ml")
    assert result.exit_code == 0, result.output
    assert "3 specs: 3 ok" in result.stdout


def test_each_spec_once_and_explicit_files_whatever_their_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "d/a.yaml", SEED)
    write(tmp_path, "net.txt", SEED)
    targets = expand_targets(["d", "d/a.yaml", "d/*.yaml", "./d/a.yaml", "net.txt"])
    assert [t.display for t in targets] == [os.path.join("d", "a.yaml"), "net.txt"]


def test_missing_file_is_invalid_and_the_rest_still_checked(in_root: Path):
    result = run("check", "resnet5O.yaml", PASSING, "seed_32x3")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "resnet5O.yaml: error: no such file, folder or bundled architecture",
        "  hint: did you mean `resnet50`?",
        "seed_32x3: error: no such file, folder or bundled architecture",
        "  hint: did you mean `seed_32x32`?",
    ]
    assert "3 specs: 1 ok, 0 failed, 2 invalid" in result.stdout


def test_no_arguments_is_a_usage_error():
    result = run("check")
    assert result.exit_code == 2
    assert "ARCH..." in result.output


def test_bundled_name_and_stdin(in_root: Path):
    assert run("check", "resnet50").exit_code == 0
    text = (ROOT / FAILING).read_text()
    result = run("check", "-", input=text)
    assert result.exit_code == 1
    assert result.stderr.startswith("<stdin>:15:15: error: params is 9,740, above max_params")


# --- budget files ---------------------------------------------------------------------------


def test_budget_one_mapping_applies_to_every_spec(in_root: Path, tmp_path: Path):
    budget = write(tmp_path, "budget.yaml", "max_params: 9.7K\nmax_macs: 2.1M\n")
    result = run("check", PASSING, PLAIN, "--budget", str(budget))
    assert result.exit_code == 1
    # the failure points at the budget's line and names the spec it was checked on
    assert result.stderr == (
        f"{budget}:1:13: error: {PASSING}: params is 9,740, above max_params 9.7K (9,700) by 40\n"
    )
    # own expectations (21) + the budget's 2 for each spec
    assert "2 specs: 1 ok, 1 failed, 0 invalid · 25 checks, 1 failed" in result.stdout


def test_budget_patterns_are_relative_to_the_budget_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write(tmp_path, "repo/nets/small.yaml", SEED)
    write(tmp_path, "repo/nets/deep/other.yaml", SEED)
    budget = write(
        tmp_path,
        "repo/budgets.yaml",
        "nets/*.yaml:\n"  # line 1
        "  max_params: 10K\n"
        "nets/small.yaml: {params: 9740, output_shape: [10]}\n"  # line 3
        "'nets/**/other.yaml':\n"  # line 4
        "  max_params: 9K\n",  # line 5
    )
    monkeypatch.chdir(tmp_path / "repo" / "nets")  # anywhere: patterns follow the budget file
    run_ = check(["."], [str(budget)])
    small, other = sorted(run_.files, key=lambda f: f.file)[::-1]
    assert small.file.endswith("small.yaml") and other.file.endswith("other.yaml")
    assert [(c.expectation.key, c.passed) for c in small.checks] == [
        ("max_params", True),
        ("params", True),
        ("output_shape", True),
    ]
    assert [(c.expectation.key, c.expectation.pos.line, c.passed) for c in other.checks] == [
        ("max_params", 5, False),
    ]
    assert run_.exit_code == 1


def test_budget_folder_names_are_literal(tmp_path: Path):
    # brackets in the budget's folder are not a character class; `./` and `..` are resolved
    write(tmp_path, "repo [v2]/nets/a.yaml", SEED)
    budget = write(tmp_path, "repo [v2]/budget.yaml", "./nets/../nets/*.yaml: {max_params: 9K}\n")
    (result,) = check([str(tmp_path / "repo [v2]" / "nets")], [str(budget)]).files
    assert [(c.expectation.key, c.passed) for c in result.checks] == [("max_params", False)]


def test_budget_pattern_that_matches_no_file_is_an_error(tmp_path: Path):
    write(tmp_path, "nets/a.yaml", SEED)
    budget = write(tmp_path, "budget.yaml", "nets/a.yaml: {params: 9740}\nnet/*.yaml: {}\n")
    result = run("check", str(tmp_path / "nets"), "--budget", str(budget))
    assert result.exit_code == 2
    assert result.stderr == (
        f"{budget}:2:1: error: budget pattern 'net/*.yaml' matches no file\n"
        f"  hint: patterns are relative to the budget file's folder ({tmp_path})\n"
    )


def test_budget_mixing_paths_and_expectations_is_an_error(tmp_path: Path):
    budget = write(tmp_path, "budget.yaml", "max_params: 1M\nnets/*.yaml: {}\n")
    with pytest.raises(SpecError) as info:
        load_budget(str(budget))
    assert info.value.pos == SourcePos(str(budget), 1, 1)
    assert "'max_params' is neither a spec path nor a glob" in info.value.message


@pytest.mark.parametrize(
    ("text", "message", "line", "col"),
    [
        ("", "a budget file is a mapping of expectations, got nothing (null)", 1, 1),
        ("[1, 2]\n", "a budget file is a mapping of expectations", 1, 1),
        ("max_parms: 1M\n", "unknown expectation 'max_parms' in the budget", 1, 1),
        ("a.yaml: 5\n", "the budget for 'a.yaml' must be a mapping of expectations", 1, 9),
    ],
)
def test_invalid_budget_files(tmp_path: Path, text: str, message: str, line: int, col: int):
    write(tmp_path, "a.yaml", SEED)
    budget = write(tmp_path, "budget.yaml", text)
    result = run("check", str(tmp_path / "a.yaml"), "--budget", str(budget))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{budget}:{line}:{col}: error: {message}"), result.stderr


def test_missing_budget_file(tmp_path: Path):
    result = run("check", "seed_32x32", "--budget", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'nope.yaml'}: error: no such file\n"


def test_budget_file_is_not_checked_as_a_spec_in_a_folder(tmp_path: Path):
    write(tmp_path, "a.yaml", SEED)
    budget = write(tmp_path, "budget.yaml", "a.yaml: {params: 9740}\n")
    run_ = check([str(tmp_path)], [str(budget)])
    assert [Path(f.file).name for f in run_.files] == ["a.yaml"]
    assert run_.exit_code == 0


def test_unknown_layer_in_a_budget_points_at_the_budget(tmp_path: Path):
    write(tmp_path, "a.yaml", SEED)
    budget = write(tmp_path, "budget.yaml", "layers:\n  conv_1: {params: 1520}\n")
    (result,) = check([str(tmp_path / "a.yaml")], [str(budget)]).files
    assert result.status == "invalid"
    assert str(result.error) == (
        f"{budget}:2:3: error: no layer named 'conv_1' in a\n  hint: did you mean `conv1`?"
    )


# --- output formats -------------------------------------------------------------------------


def test_golden_table(in_root: Path, golden):  # type: ignore[no-untyped-def]
    result = run("check", "tests/data/check")
    assert result.exit_code == 1
    golden("check_table.txt", result.stdout)


def test_golden_verbose(in_root: Path, golden):  # type: ignore[no-untyped-def]
    result = run("check", FAILING, "--verbose")
    golden("check_verbose.txt", result.stdout)


def test_golden_github(in_root: Path, golden):  # type: ignore[no-untyped-def]
    result = run("check", PASSING, FAILING, "nope.yaml", "--format", "github")
    assert result.exit_code == 2
    assert result.stderr == ""
    golden("check_github.txt", result.stdout)
    annotation = re.compile(r"^::error file=[^,:]+,(line=\d+,col=\d+,)?title=[^:]+::.+$")
    errors = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(errors) == 5
    assert all(annotation.match(line) for line in errors), errors


def test_golden_json(in_root: Path, golden):  # type: ignore[no-untyped-def]
    result = run("check", FAILING, "-f", "json")
    assert result.exit_code == 1
    golden("check_failing.json", result.stdout)


def test_github_annotation_escaping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "my,net.yaml", SEED + "expect:\n  max_macs: 2M\n")
    write(tmp_path, "bad.yaml", "input: [4, 4, 3]\nlayers:\n  - conv: {filters: 8, kernel: 5}\n")
    result = run("check", "my,net.yaml", str(tmp_path / "bad.yaml"), "-f", "github")
    lines = result.stdout.splitlines()
    # the path is relative to the workspace; `,` and `:` are escaped in properties
    assert lines[0] == (
        "::error file=my%2Cnet.yaml,line=12,col=13,title=cnncalc check%3A max_macs"
        "::macs is 2,003,200, above max_macs 2M (2,000,000) by 3,200"
    )
    # a multi-line message (the hint) is one annotation: %0A is GitHub's newline
    assert lines[1].startswith("::error file=bad.yaml,line=3,col=5,title=cnncalc%3A invalid spec::")
    assert "%0Ahint: " in lines[1]


# --- the pre-commit hook and the GitHub Actions workflow ------------------------------------


def _cnncalc(command: list[str]) -> list[str]:
    """A documented command line with `cnncalc` run by this interpreter."""
    assert command[0] == "cnncalc"
    return [sys.executable, "-m", "cnncalc", *command[1:]]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def _hook() -> dict[str, object]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    assert isinstance(hook, dict)
    return hook


def test_pre_commit_hook_definition():
    hook = _hook()
    assert hook["id"] == "cnncalc-check"
    assert hook["language"] == "python"  # pre-commit pip-installs this repository
    assert hook["types"] == ["yaml"]
    # `entry` runs the console script the package declares
    scripts = re.search(r"\[project\.scripts\]\n((?:.+\n)+)", (ROOT / "pyproject.toml").read_text())
    assert scripts is not None and 'cnncalc = "cnncalc.cli:main"' in scripts.group(1)


@pytest.mark.parametrize(
    ("files", "code"),
    [([PASSING], 0), ([FAILING], 1), ([PASSING, PLAIN], 0), ([PASSING, FAILING], 1)],
)
def test_pre_commit_hook_entry_runs(files: list[str], code: int):
    hook = _hook()
    entry = shlex.split(str(hook["entry"]))
    args = [str(a) for a in hook.get("args", [])]  # type: ignore[attr-defined]
    proc = _run([*_cnncalc(entry), *args, *files])  # pre-commit appends the file names
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    if code:
        assert f"{FAILING}:15:15: error: params is 9,740" in proc.stderr


def test_pre_commit_hook_entry_with_the_installed_script():
    script = Path(sys.executable).parent / "cnncalc"
    if not script.exists():
        pytest.skip("the cnncalc console script is not installed next to this interpreter")
    entry = shlex.split(str(_hook()["entry"]))
    assert entry[0] == "cnncalc"
    assert _run([str(script), *entry[1:], PASSING]).returncode == 0
    assert _run([str(script), *entry[1:], FAILING]).returncode == 1


def test_documented_pre_commit_config():
    config = yaml.safe_load((ROOT / "docs" / "pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    (hook,) = repo["hooks"]
    assert hook["id"] == _hook()["id"]
    pattern = re.compile(hook["files"])
    assert pattern.search("architectures/resnet50.yaml")
    assert pattern.search("architectures/sub/net.yml")
    assert not pattern.search(".github/workflows/ci.yml")
    assert not pattern.search("README.md")
    # what pre-commit runs for this repository's own architectures: entry + args + files
    files = sorted(
        p.relative_to(ROOT).as_posix()
        for p in ARCHITECTURES.rglob("*")
        if pattern.search(p.relative_to(ROOT).as_posix())
    )
    assert len(files) == len(list(ARCHITECTURES.glob("*.yaml")))
    entry = shlex.split(str(_hook()["entry"]))
    proc = _run([*_cnncalc(entry), *hook.get("args", []), *files])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _workflow_check_step() -> list[str]:
    workflow = yaml.safe_load((ROOT / "docs" / "github-workflow.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any("pip install" in r and "cnncalc" in r for r in runs)
    (command,) = [r for r in runs if r.startswith("cnncalc check")]
    args = shlex.split(command)
    assert args[args.index("--format") + 1] == "github"
    return args


def test_documented_github_workflow_runs():
    command = _workflow_check_step()
    proc = _run(_cnncalc(command))  # in this repository: the bundled architectures
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::error" not in proc.stdout
    assert f"{len(list(ARCHITECTURES.glob('*.yaml')))} specs:" in proc.stdout
    # with a failing spec too, the annotations point at its lines
    proc = _run([*_cnncalc(command), FAILING])
    assert proc.returncode == 1
    assert (
        f"::error file={FAILING},line=15,col=15,title=cnncalc check%3A max_params::"
        "params is 9,740, above max_params 9.7K (9,700) by 40"
    ) in proc.stdout.splitlines()


def _readme_block(first_line: str) -> str | None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```ya?ml\n(.*?)```", readme, flags=re.S):
        if block.splitlines()[0] == first_line:
            return str(block)
    return None


@pytest.mark.parametrize("name", ["github-workflow.yml", "pre-commit-config.yaml"])
def test_readme_shows_the_tested_files(name: str):
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    block = _readme_block(text.splitlines()[0])
    if block is None:
        pytest.skip(f"the README does not show docs/{name} yet")
    assert block == text, f"the README's copy of docs/{name} differs from the tested file"


# --- JSON Schema of `expect:` and budget files ----------------------------------------------

# invalid expectations whose fault is in their form: the schema rejects them too
STRUCTURAL = [
    case
    for case in INVALID
    if not any(
        word in case[3] for word in ("whole number", "negative", "no layer named", "flat output")
    )
    and "optimizer` does not change" not in case[3]
]


def _validator(schema: dict[str, object]):  # type: ignore[no-untyped-def]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _plain(value: object) -> object:
    """YMap/YList → dict/list, as a JSON-Schema validator reads YAML."""
    return json.loads(json.dumps(value))


def test_schema_accepts_what_the_parser_accepts():
    validator = _validator(expect_schema())
    for path in (ROOT / PASSING, ROOT / FAILING):
        raw = parse_yaml(path.read_text(), str(path))["expect"]
        parse_expectations(raw, SourcePos(str(path)))
        assert list(validator.iter_errors(_plain(raw))) == [], path
    for value in ("25,557,032", "25.557032M", "30 M", "0.5K", "4.2e9", 4.2e9, 10**20):
        assert validator.is_valid({"params": value, "max_macs": value}), value
    for value in ("200MiB", "200 MiB", "200mib", "1.5KiB", "1kB", "512B", "512", 1024):
        assert validator.is_valid({"max_memory": [value, {"bytes": value, "kind": "training"}]})


@pytest.mark.parametrize(("expect", "line", "col", "message", "hint"), STRUCTURAL)
def test_schema_rejects_what_the_parser_rejects(
    tmp_path: Path, expect: str, line: int, col: int, message: str, hint: str | None
):
    validator = _validator(expect_schema())
    raw = parse_yaml(SEED + "expect:\n" + expect, "net.yaml")["expect"]
    with pytest.raises(SpecError):
        parse_expectations(raw, SourcePos("net.yaml"))
    assert not validator.is_valid(_plain(raw)), expect


def test_budget_schema():
    validator = _validator(budget_schema())
    assert validator.is_valid({"max_params": "30M"})
    assert validator.is_valid({"nets/*.yaml": {"max_params": "30M"}, "a.yaml": {}})
    assert not validator.is_valid({})
    assert not validator.is_valid({"max_params": "30M", "nets/*.yaml": {}})  # mixed
    assert not validator.is_valid({"nets/*.yaml": {"max_param": 1}})
