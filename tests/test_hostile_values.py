"""Hostile values, end to end through the command line: each is exit 2 with
`FILE:LINE:COL: error:` (or `error:` for a command-line value) and a hint, never a traceback.

The assertions are about cnncalc's contract — exit code, position, the meaning of our own
message — never the wording of PyYAML, libyaml, click or NumPy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc
from cnncalc import SpecError
from tests.test_hostile import rejected, run

SPEC = "input: [8, 8, 3]\nlayers:\n"


def write(tmp_path: Path, text: str | bytes, name: str = "net.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# --- nesting: ours, whichever layer (libyaml >= 0.2.6 refuses 1,000 levels) notices first -------


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


# --- tags ------------------------------------------------------------------------------------------


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
