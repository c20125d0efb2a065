"""Hostile values, end to end through the command line: each is exit 2 with
`FILE:LINE:COL: error:` (or `error:` for a command-line value) and a hint, never a traceback.

The assertions are about cnncalc's contract — exit code, position, the meaning of our own
message — never the wording of PyYAML, libyaml, click or NumPy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc
from tests.test_hostile import rejected, run

SPEC = "input: [8, 8, 3]\nlayers:\n"


def write(tmp_path: Path, text: str | bytes, name: str = "net.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# --- nesting: ours, whichever layer (libyaml >= 0.2.6 refuses 1,000 levels) notices first ---------


@pytest.mark.parametrize("depth", [65, 999, 1_000, 1_001, 10_000])
def test_deep_flow_nesting_after_non_ascii_text(tmp_path: Path, depth: int):
    # "layers: " is 8 columns, "# ééé😀\n" a line before; bracket 65 is the first too deep
    spec = write(tmp_path, "# ééé😀\ninput: [8, 8, 3]\nlayers: " + "[" * depth + "]" * depth)
    rejected(f"{spec}:3:73", "nested more than 64 levels", "summary", spec)


def test_deep_nesting_with_quoted_brackets_before_it(tmp_path: Path):
    # brackets in quotes and comments open nothing: bracket k ≥ 2 is at column 15 + k
    line = "layers: ['[[[', " + "[" * 2_000 + "]" * 2_000 + "]  # [[[["
    spec = write(tmp_path, "input: [8, 8, 3]\n" + line)
    rejected(f"{spec}:2:{15 + 65}", "nested more than 64 levels", "summary", spec)


def test_deep_nesting_spaced_and_on_many_lines(tmp_path: Path):
    spec = write(tmp_path, "input: [8, 8, 3]\nlayers: [\n" + "[\n" * 2_000 + "]" * 2_001)
    # bracket 1 is on line 2, bracket k on line k + 1
    rejected(f"{spec}:66:1", "nested more than 64 levels", "summary", spec)


# --- tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "column"),
    [('!!bool "maybe"', 27), ('!!int ""', 27), ('!!float ""', 27), ("!!int -", 27)],
)
def test_a_tag_with_a_value_it_cannot_read(tmp_path: Path, value: str, column: int):
    spec = write(tmp_path, SPEC + f"  - conv: {{filters: 4, kernel: 3, bias: {value}}}\n")
    stderr = rejected(f"{spec}:3:{column + 14}", "not a valid", "summary", spec)
    assert "hint:" in stderr


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (SPEC + "  - conv: {!!str filters: 4, kernel: 3}\n", "3:12"),
        ("!custom input: [8, 8, 3]\nlayers: [relu]\n", "1:1"),
        ("input: [8, 8, 3]\n!!python/name:os.system layers: [relu]\n", "2:1"),
        ("input: [8, 8, 3]\nlayers: [relu]\nexpect: {!!int 1: 2}\n", "3:10"),
    ],
)
def test_a_tag_on_a_key_is_refused(tmp_path: Path, text: str, where: str):
    spec = write(tmp_path, text)
    stderr = rejected(f"{spec}:{where}", "tag", "summary", spec)
    assert "hint:" in stderr


def test_standard_tags_on_values_still_read():
    net = cnncalc.load(SPEC + '  - conv: {filters: !!int "4", kernel: 3, bias: !!bool "false"}\n')
    assert net.nodes[0].op.params(((8, 8, 3),)) == 3 * 3 * 3 * 4  # type: ignore[attr-defined]


# --- integers too large to be sizes (Python's int() and str() refuse more than 4,300 digits) ------

HUGE = "9" * 5_000


@pytest.mark.parametrize(
    "shorthand", [f"Conv{HUGE}-4,FC2", f"Conv3-{HUGE},FC2", f"Pool2-S{HUGE}", f"FC{HUGE}"]
)
def test_a_huge_number_in_command_line_shorthand(shorthand: str):
    stderr = rejected("<shorthand>:1:1", "too large", "params", shorthand, "--input", "8x8x3")
    assert "hint:" in stderr


def test_a_huge_number_in_shorthand_in_a_spec(tmp_path: Path):
    spec = write(tmp_path, SPEC + "  - relu\n  - Conv3-" + HUGE + "\n")
    rejected(f"{spec}:4:5", "too large", "summary", spec)


@pytest.mark.parametrize("command", ["params", "summary", "memory", "rf", "flops", "graph"])
def test_a_huge_input_option_in_every_command(command: str):
    stderr = run(command, "resnet18", "--input", f"{HUGE}x8x3").stderr
    assert stderr.startswith("--input: error: "), stderr


def test_a_huge_input_option_in_diff_and_verify():
    for args in (("diff", "resnet18", "resnet18"), ("verify", "seed_32x32")):
        result = run(*args, "--input", f"8x{HUGE}x3")
        assert result.exit_code == 2
        assert result.stderr.startswith("--input: error: "), result.stderr


def test_channels_doubled_by_thousands_of_concats(tmp_path: Path):
    # x_k has 2^k channels: x_63 is the first past 2^63 − 1 (line 3 + 63)
    layers = "".join(f"  - concat: {{name: x{k + 1}, from: [x{k}, x{k}]}}\n" for k in range(5_000))
    spec = write(tmp_path, "input: [1, 1, 1]\nlayers:\n  - relu: {name: x0}\n" + layers)
    for command in ("summary", "params --explain", "graph"):
        name, *options = command.split()
        stderr = rejected(f"{spec}:66:5", "x63", name, spec, *options)
        assert "hint:" in stderr


def test_a_receptive_field_past_64_bits_from_huge_strides(tmp_path: Path):
    # 1×1 maps: each stride of 2^62 multiplies the field's stride; conv2's is 2^124
    conv = "  - conv: {filters: 1, kernel: 1, stride: 4611686018427387904}\n"
    spec = write(tmp_path, "input: [1, 1, 1]\nlayers:\n" + conv * 300)
    for command in ("rf", "summary -f json", "params --explain conv299"):
        name, *options = command.split()
        rejected(f"{spec}:4:5", "conv2", name, spec, *options)


def test_a_huge_value_from_an_expression(tmp_path: Path):
    text = (
        "input: [8, 8, 3]\nblocks:\n  b:\n    args: {w: 1}\n    layers:\n"
        "      - conv: {filters: $w, kernel: 1}\nlayers:\n  - b: {w: '$(" + HUGE + ")'}\n"
    )
    spec = write(tmp_path, text)
    result = run("summary", spec)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{spec}:8:"), result.stderr


# --- floats: nan and infinities are out of every range --------------------------------------------


@pytest.mark.parametrize(
    ("layer", "column"),
    [
        ("dropout: {rate: .nan}", 21),
        ("batchnorm: {eps: !!float nan}", 22),
        ("batchnorm: {momentum: .inf}", 27),
        ("leaky_relu: {negative_slope: .nan}", 34),
        ("elu: {alpha: -.inf}", 18),
    ],
)
def test_nan_and_infinity_in_float_fields(tmp_path: Path, layer: str, column: int):
    spec = write(tmp_path, SPEC + f"  - {layer}\n")
    stderr = rejected(f"{spec}:3:{column}", "expects a number", "summary", spec)
    assert "hint:" in stderr


def test_finite_floats_still_read():
    text = SPEC + "  - leaky_relu: {negative_slope: -1.0e+300}\n  - dropout: {rate: 0}\n"
    net = cnncalc.load(text)
    assert len(net) == 2


# --- command-line values of verify ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--max-memory", "nan"),
        ("--max-memory", "inf"),
        ("--max-memory", "-1"),
        ("--max-memory", "1e400GiB"),
        ("--max-memory", HUGE),
        ("--seed", "-1"),
        ("--seed", str(2**64)),
    ],
)
def test_verify_option_values(args: tuple[str, str]):
    result = run("verify", "seed_32x32", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {args[0]} "), result.stderr
    assert "hint:" in result.stderr


# --- bytes that are not a spec's text -------------------------------------------------------------


def test_a_nul_byte_has_its_line_and_column(tmp_path: Path):
    spec = write(tmp_path, b"input: [8, 8, 3]\nlayers:\n  - re\0lu\n")
    rejected(f"{spec}:3:7", "U+0000", "summary", spec)


def test_a_control_character_after_non_ascii_text_on_stdin():
    rejected("<stdin>:2:9", "U+0001", "params", "-", input="# é😀\nlayers: \x01\n".encode())


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom(tmp_path: Path, encoding: str):
    spec = write(tmp_path, (SPEC + "  - relu\n").encode(encoding))
    rejected(f"{spec}:1:1", "UTF-16", "summary", spec)
    rejected("<stdin>:1:1", "UTF-16", "summary", "-", input=(SPEC + "  - relu\n").encode(encoding))


# --- absurd option values: errors, never tracebacks -----------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("memory", "resnet18", "--batch", HUGE),
        ("memory", "resnet18", "--batch", "-5"),
        ("memory", "resnet18", "--batch", "1e3"),
        ("memory", "resnet18", "--dtype", HUGE),
        ("memory", "resnet18", "--optimizer", ""),
        ("flops", "resnet18", "--convention", "\x01"),
        ("rf", "resnet18", "--layer", HUGE),
        ("params", "resnet18", "--explain", HUGE),
        ("summary", "resnet18", "--input", "x".join(["8"] * 10_000)),
        ("summary", "resnet18", "--format", HUGE),
        ("verify", "seed_32x32", "--seed", HUGE),
        ("verify", "seed_32x32", "--batch", "0"),
    ],
)
def test_absurd_option_values(args: tuple[str, ...]):
    assert run(*args).exit_code == 2
