"""Hostile and awkward input, end to end through the command line: every case ends in under a
second with exit 2 and a `FILE[:LINE:COL]: error:` line (or, for huge but valid sizes, exact
numbers), never a traceback, and memory stays bounded.

Measured by hand with /tmp-style scripts for the release notes; here each case asserts its
own time (in-process, so without the ~0.2 s interpreter start) and one subprocess checks the
peak memory of the heaviest cases together.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc import SpecError
from cnncalc.cli import app, normalize_argv
from cnncalc.yamlrules import MAX_BYTES
from tests.test_errors import billion_laughs

runner = CliRunner()
T = 10**12

LIMIT = f"{MAX_BYTES // 2**20} MiB"  # as the error messages write it


def run(*args: str, input: str | bytes | None = None):  # type: ignore[no-untyped-def]
    """Invoke the CLI; assert it ended without a traceback in under a second of CPU time (a
    hang guard that the machine's other load does not trip)."""
    start = time.process_time()
    result = runner.invoke(app, normalize_argv(args), input=input)
    elapsed = time.process_time() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert elapsed < 1.0, f"{args[:2]} took {elapsed:.2f} s"
    return result


def rejected(where: str, message: str, *args: str, input: str | bytes | None = None) -> str:
    """Run; expect exit 2 with an error at `where` (FILE or FILE:LINE:COL) saying `message`."""
    result = run(*args, input=input)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"{where}: error: "), result.stderr
    assert message in result.stderr, result.stderr
    return str(result.stderr)


# --- resource exhaustion ------------------------------------------------------------------------


def test_alias_bomb(tmp_path: Path):
    spec = tmp_path / "bomb.yaml"
    spec.write_text(billion_laughs())
    rejected(f"{spec}:7:4", "expands to more than 2,000,000 values", "summary", str(spec))


def test_100_mb_file_is_refused_before_reading(tmp_path: Path):
    spec = tmp_path / "huge.yaml"
    with spec.open("wb") as f:
        f.truncate(100 * 2**20)  # sparse: no 100 MB written to disk
    rejected(
        str(spec),
        f"the spec is 100.0 MiB; cnncalc reads specs of at most {LIMIT}",
        "summary",
        str(spec),
    )


def test_text_just_over_the_limit(tmp_path: Path):
    spec = tmp_path / "big.yaml"
    spec.write_text("# " + "x" * MAX_BYTES + "\n")
    rejected(str(spec), f"cnncalc reads specs of at most {LIMIT}", "params", str(spec))
    with pytest.raises(SpecError, match=f"at most {LIMIT}"):
        cnncalc.load("input: [8, 8, 3]\nlayers: [relu]\n#" + "x" * MAX_BYTES)


def test_endless_stdin_is_read_only_up_to_the_limit():
    rejected(
        "<stdin>",
        f"the spec is more than {LIMIT}",
        "summary",
        "-",
        input=b"\0" * (MAX_BYTES + 2**20),
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_read_only_up_to_the_limit():
    rejected("/dev/zero", f"the spec is more than {LIMIT}", "params", "/dev/zero")


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_10000_deep_nesting(tmp_path: Path, opener: str):
    closer = "]" if opener == "[" else "}"
    spec = tmp_path / "deep.yaml"
    spec.write_text("input: [8, 8, 3]\nlayers: " + opener * 10_000 + "1" + closer * 10_000)
    col = 73 if opener == "[" else 265
    rejected(f"{spec}:2:{col}", "nested more than 64 levels deep", "summary", str(spec))


# --- huge numbers: exact where they are sizes, refused where they cannot be ---------------------

DIMS = f"""\
input: [{T}, {T}, 3]
layers:
  - conv: {{filters: 64, kernel: 3, stride: 2}}
  - batchnorm
  - relu
  - maxpool: {{kernel: 3, stride: 2, padding: 1}}
  - global_avgpool
  - dense: {{units: 1000}}
"""


def test_dimensions_of_10_to_the_12_are_exact_in_every_command():
    h = (T - 3) // 2 + 1  # conv: 499,999,999,999
    p = (h + 2 - 3) // 2 + 1  # maxpool
    data = json.loads(
        run(
            "summary", "-", "-f", "json", "--batch", "1000", "--optimizer", "adam", input=DIMS
        ).stdout
    )
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert layers["conv1"]["output_shape"] == [h, h, 64]
    assert layers["conv1"]["params"] == 3 * 3 * 3 * 64 + 64
    assert layers["conv1"]["macs"] == h * h * 64 * 3 * 3 * 3
    assert layers["maxpool1"]["output_shape"] == [p, p, 64]
    assert layers["dense1"]["params"] == 64 * 1000 + 1000
    assert layers["conv1"]["rf"] == {
        "size": [3, 3],
        "stride": [2, 2],
        "center": [1, 1],
        "whole_input": False,
    }
    memory = data["totals"]["memory"]
    assert memory["input_bytes"] == T * T * 3 * 4 * 1000
    assert layers["conv1"]["activation_bytes"] == h * h * 64 * 4 * 1000
    for args in (
        ["params"],
        ["flops", "-c", "ptflops", "-f", "csv"],  # tables this wide leave out the shapes
        ["rf", "--strict"],
        ["memory", "--dtype", "int8", "-f", "csv"],
        ["summary", "--wide", "-f", "csv"],
        ["summary", "-f", "latex"],
        ["params", "--explain"],
        ["graph", "-f", "dot"],
    ):
        result = run(args[0], "-", *args[1:], input=DIMS)
        assert result.exit_code == 0, result.output
        assert f"{h:,}" in result.stdout or str(h) in result.stdout


@pytest.mark.parametrize(
    ("literal", "col"), [("9223372036854775808", 20), ("1" + "0" * 5000, 20), ("0x" + "f" * 17, 20)]
)
def test_integers_beyond_64_bits_are_refused(tmp_path: Path, literal: str, col: int):
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: [8, 8, 3]\nlayers:\n  - dense: {{units: {literal}}}\n")
    rejected(f"{spec}:3:{col}", "is too large", "summary", str(spec))


def test_the_largest_64_bit_integer_is_read(tmp_path: Path):
    net = cnncalc.load(f"input: [{2**63 - 1}]\nlayers: [relu]\n")
    assert net.input_shape == (2**63 - 1,)


def test_huge_input_option_and_batch():
    rejected(
        "--input",
        "--input sizes are at most 2^63",
        "summary",
        "seed_21x21",
        "--input",
        "1" + "0" * 300 + "x4x3",
    )
    result = run("memory", "seed_21x21", "--batch", "10000000000")
    assert result.exit_code == 2
    assert "--batch" in result.output


def test_numbers_built_by_expressions_beyond_floats(tmp_path: Path):
    """`$(...)` may build integers of thousands of bits: refused where written, like literals."""
    power = " * ".join(["2**60"] * 67)
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: [8, 8, 3]\nlayers:\n  - conv: {{filters: '$({power})', kernel: 3}}\n")
    result = run("summary", str(spec))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"{spec}:3:21: error: layer conv1: `filters` expects a positive integer of at most 2^63"
    )


# --- text encodings and line endings ------------------------------------------------------------

SPEC = "input: [8, 8, 3]\nlayers:\n  - relu\n  - conv: {filters: 4, kernel: 9}\n"


@pytest.mark.parametrize(
    "data",
    [
        SPEC.encode(),
        b"\xef\xbb\xbf" + SPEC.encode(),  # a UTF-8 BOM
        SPEC.replace("\n", "\r\n").encode(),  # Windows line endings
        b"\xef\xbb\xbf" + SPEC.replace("\n", "\r\n").encode(),
    ],
    ids=["lf", "bom", "crlf", "bom-crlf"],
)
def test_bom_and_crlf_keep_positions(tmp_path: Path, data: bytes):
    spec = tmp_path / "net.yaml"
    spec.write_bytes(data)
    rejected(f"{spec}:4:5", "kernel 9 is larger than its 8×8 input", "params", str(spec))
    rejected("<stdin>:4:5", "kernel 9 is larger", "params", "-", input=data)


def test_crlf_spec_is_read(tmp_path: Path):
    spec = tmp_path / "net.yaml"
    spec.write_bytes(b"\xef\xbb\xbfinput: [8, 8, 3]\r\nlayers:\r\n  - relu\r\n")
    assert run("params", str(spec)).exit_code == 0


def test_non_utf8_and_utf16_on_stdin():
    rejected(
        "<stdin>:2:27",
        "byte 0xe9 is not valid UTF-8",
        "params",
        "-",
        input=b"input: [8, 8, 3]\nlayers: [{relu: {name: caf\xe9}}]\n",
    )
    rejected("<stdin>:1:1", "the file is UTF-16 text", "params", "-", input=SPEC.encode("utf-16"))


def test_undecodable_bytes_in_text_are_an_error():
    """Text read with errors="surrogateescape" (Python's stdin) holds the bad bytes as lone
    surrogates; they are reported where they are, not as a UnicodeEncodeError."""
    with pytest.raises(SpecError) as info:
        cnncalc.load("input: [8, 8, 3]\nlayers: [relu, 'x\udcff']\n")
    assert str(info.value).startswith("<text>:2:18: error: the text is not UTF-8: byte 0xff")


def test_empty_stdin():
    rejected("<stdin>:1:1", "the spec is empty", "summary", "-", input=b"")


def test_tabs_and_duplicate_keys_through_the_cli(tmp_path: Path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [8, 8, 3]\nlayers:\n\t- relu\n")
    rejected(f"{spec}:3:1", "a tab is used for indentation", "summary", str(spec))
    spec.write_text("input: [8, 8, 3]\nlayers:\n  - conv: {filters: 3, kernel: 1, filters: 4}\n")
    rejected(f"{spec}:3:35", "duplicate key 'filters' (first at line 3)", "summary", str(spec))


def test_paths_that_cannot_be_specs(tmp_path: Path):
    rejected(str(tmp_path), "is a directory, not a spec file", "summary", str(tmp_path))
    missing = tmp_path / "missing.yaml"
    rejected(str(missing), "no such file", "summary", str(missing))
    too_long = tmp_path / ("a" * 5000 + ".yaml")
    rejected(str(too_long), "cannot read: File name too long", "summary", str(too_long))
    name = "b" * 5000  # no suffix or slash: tried as a file, a zoo name, then shorthand
    result = run("summary", name)
    assert result.exit_code == 2
    with pytest.raises(SpecError, match="not a usable path"):
        cnncalc.load(Path("a\0b.yaml"))


def test_yaml_tags_are_not_constructed_from_stdin(tmp_path: Path):
    marker = tmp_path / "made"
    text = f"input: !!python/object/apply:builtins.open [{str(marker)!r}, 'w']\nlayers: [relu]\n"
    rejected("<stdin>:1:8", "is not allowed", "summary", "-", input=text)
    assert not marker.exists()


# --- bounded memory -----------------------------------------------------------------------------

_MEMORY_PROBE = """
import json, resource, sys
from typer.testing import CliRunner
from cnncalc.cli import app
cases = json.loads(sys.argv[1])
runner = CliRunner()
runner.invoke(app, ["summary", "seed_21x21"])  # warm up: imports and caches
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
codes = []
for args, stdin in cases:
    data = open(stdin, "rb").read() if stdin else None
    codes.append(runner.invoke(app, args, input=data).exit_code)
    del data
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"codes": codes, "grown_kib": after - before}))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="resource is POSIX")
def test_memory_stays_bounded(tmp_path: Path):
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    with (tmp_path / "huge.yaml").open("wb") as f:
        f.truncate(100 * 2**20)
    (tmp_path / "deep.yaml").write_text(
        "input: [8, 8, 3]\nlayers: " + "[" * 400_000 + "]" * 400_000
    )
    (tmp_path / "dims.yaml").write_text(DIMS)
    (tmp_path / "zeros").write_bytes(b"\0" * (MAX_BYTES + 2**20))
    cases = [
        (["summary", str(tmp_path / "bomb.yaml")], None),
        (["summary", str(tmp_path / "huge.yaml")], None),
        (["summary", str(tmp_path / "deep.yaml")], None),
        (["summary", "-"], str(tmp_path / "zeros")),
        (["memory", str(tmp_path / "dims.yaml"), "--batch", "1000000"], None),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["codes"] == [2, 2, 2, 2, 0]
    assert report["grown_kib"] < 32 * 1024, report  # the 5 MiB on stdin is held a few times


# --- expansion limits (need a limit in the spec expander; see the notes) --------------------------


def _within(seconds: float, text: str) -> SpecError | None:
    """Loading `text` ends within `seconds`: the SpecError that refused it, or None."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still expanding after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        cnncalc.analyze(cnncalc.load(text))
    except SpecError as exc:
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


BLOCK = "input: [8, 8, 3]\nblocks:\n  b:\n    layers: [{relu: {when: WHEN}}]\n"


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX timers")
def test_repeat_a_million_times():
    err = _within(
        1.5, BLOCK.replace("WHEN", "true") + "layers:\n  - repeat: {block: b, times: 1000000}\n"
    )
    assert err is not None and "expands to more than 100,000" in err.message


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX timers")
def test_nested_repeats_of_skipped_layers():
    err = _within(
        1.5,
        BLOCK.replace("WHEN", "false")
        + "  c:\n    layers:\n      - repeat: {block: b, times: 1000000}\n"
        + "layers:\n  - relu\n  - repeat: {block: c, times: 1000000}\n",
    )
    assert err is not None and "expands to more than 100,000" in err.message


def test_repeat_a_thousand_times_is_fine():
    text = BLOCK.replace("WHEN", "true") + "layers:\n  - repeat: {block: b, times: 1000}\n"
    result = run("params", "-", "-f", "json", input=text)
    assert len(json.loads(result.stdout)["layers"]) == 1000
