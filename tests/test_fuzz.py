"""Fuzzing the command line in-process: mutated bundled specs, random text and bytes, random
YAML structures and random options. Every outcome is exit 0, 1 or 2, never a traceback, and
an exit 2 names where: `<stdin>[:LINE:COL]: error: ...` (or typer's usage error for options).

CI runs a few hundred examples per strategy (a few seconds in all); `pytest -m slow` runs
FUZZ_SLOW_EXAMPLES (default 10,000) in all and prints the count and time.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest
import typer.main
import typer.testing
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv
from cnncalc.layers import KINDS
from cnncalc.spec import COMMON_FIELDS, REPEAT_FIELDS, TOP_KEYS
from tests.conftest import ARCHITECTURES

runner = CliRunner()
ZOO = {p.stem: p.read_text(encoding="utf-8") for p in sorted(ARCHITECTURES.glob("*.yaml"))}
# the heaviest (vgg16's 138 M parameters are quick; resnet50's 174 layers are not) less often
SMALL = [name for name in ZOO if name not in ("resnet50", "googlenet", "mobilenet_v2")]

COMMANDS = [
    ["summary", "-f", "json"],
    ["summary", "--wide"],
    ["params"],
    ["params", "--explain"],
    ["flops", "-c", "ptflops"],
    ["rf", "--strict"],
    ["memory", "--batch", "3", "--optimizer", "adam"],
    ["summary", "-f", "csv"],
    ["params", "-f", "markdown"],
    ["flops", "-f", "latex"],
    ["graph", "-f", "dot"],
    ["graph"],
]
ERROR = re.compile(r"<stdin>(:\d+:\d+)?: error: \S")

counts = {"examples": 0, "exit 0": 0, "exit 1": 0, "exit 2": 0}


def invoke(args: list[str], data: str | bytes | None = None) -> None:
    """Run the CLI; the outcome must be a clean exit 0, 1 or 2."""
    result = runner.invoke(app, normalize_argv(args), input=data)
    counts["examples"] += 1
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code in (0, 1, 2), result.output
    counts[f"exit {result.exit_code}"] += 1
    assert "Traceback" not in result.output
    if result.exit_code == 2 and "-" in args:
        stderr = result.stderr
        # ours; or a usage error (a random option) in click's words, which are not ours to test
        assert ERROR.match(stderr) or stderr.strip(), "exit 2 without a message"
    if result.exit_code == 0 and "-q" not in args:
        assert result.stdout


def fuzz(strategy: st.SearchStrategy[Any], examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(strategy)
    def check(case: tuple[list[str], str | bytes | None]) -> None:
        invoke(*case)

    check()


# --- strategies -------------------------------------------------------------------------------

WORDS = [
    *KINDS,
    *TOP_KEYS,
    *COMMON_FIELDS,
    *REPEAT_FIELDS,
    "args",
    "output",
    "blocks",
    "b",
    "filters",
    "kernel",
    "stride",
    "padding",
    "units",
    "same",
    "valid",
    "true",
    "false",
    "null",
    "input",
    "$i",
    "$(i * 2)",
    "$(1/0)",
    "$x",
    "Conv3-4",
    "Pool2",
    "FC3",
]
NUMBERS = [
    "0",
    "-1",
    "1",
    "2",
    "3",
    "4",
    "5",
    "7",
    "16",
    "64",
    "2.5",
    "1e400",
    ".nan",
    str(10**12),
    str(2**63),
    str(10**30),
    "0x10",
    "1_000",
    "07",
    "1:30",
    "~",
    "[]",
    "{}",
    "''",
    "*a",
    "&a 1",
]
PUNCT = [*"[]{}:,-#&*!|>'\"%@`\t\r\n ", "\\", "\u00a0", "\ufeff", "\x00", "é", "×", "\u2028"]


@st.composite
def mutated_zoo(draw: st.DrawFn) -> tuple[list[str], str]:
    """A bundled spec with a few edits: cuts, insertions, swapped lines, replaced tokens."""
    text = ZOO[draw(st.sampled_from(SMALL if draw(st.integers(0, 4)) else list(ZOO)))]
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        op = draw(st.sampled_from([0, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6]))
        at = draw(st.integers(0, len(text)))
        if op == 0:  # cut
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == 1:  # punctuation
            text = (
                text[:at] + "".join(draw(st.lists(st.sampled_from(PUNCT), max_size=3))) + text[at:]
            )
        elif op == 2:  # a number becomes something else
            numbers = list(re.finditer(r"\b\d+\b", text))
            if numbers:
                m = draw(st.sampled_from(numbers))
                text = text[: m.start()] + draw(st.sampled_from(NUMBERS)) + text[m.end() :]
        elif op == 3:  # a word becomes another spec word
            words = list(re.finditer(r"[a-z_]+", text))
            if words:
                m = draw(st.sampled_from(words))
                text = text[: m.start()] + draw(st.sampled_from(WORDS)) + text[m.end() :]
        elif op == 4:  # lines swapped, duplicated or dropped
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            choice = draw(st.integers(0, 2))
            if choice == 0:
                lines[i], lines[j] = lines[j], lines[i]
            elif choice == 1:
                lines.insert(i, lines[j])
            else:
                del lines[i]
            text = "\n".join(lines)
        elif op == 5:  # re-indented line
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = " " * draw(st.integers(0, 8)) + lines[i].lstrip()
            text = "\n".join(lines)
        else:  # random text
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
    return [*draw(st.sampled_from(COMMANDS)), "-"], text


def random_text() -> st.SearchStrategy[tuple[list[str], str | bytes]]:
    data: st.SearchStrategy[str | bytes] = st.one_of(
        st.text(max_size=200),
        st.text(alphabet=st.sampled_from([c for c in PUNCT if len(c) == 1]), max_size=60),
        st.binary(max_size=200),
        st.lists(st.sampled_from([*PUNCT, *WORDS, *NUMBERS]), max_size=40).map(" ".join),
    )
    return st.tuples(st.sampled_from(COMMANDS).map(lambda c: [*c, "-"]), data)


_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10),
    st.sampled_from([10**12, 2**62, -(2**63), 0.5, 1e300, float("inf")]),
    st.sampled_from(WORDS),
    st.text(max_size=6),
    st.sampled_from([[], {}]),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(WORDS), st.text(max_size=4)), inner, min_size=1, max_size=4
        ),
    ),
    max_leaves=25,
)
_layer = st.one_of(
    st.sampled_from(WORDS),
    st.dictionaries(st.sampled_from([*KINDS, "repeat", "b"]), _value, min_size=1, max_size=1),
)


@st.composite
def structures(draw: st.DrawFn) -> tuple[list[str], str]:
    """Spec-shaped (or not) YAML: random values under the real keys."""
    spec: Any
    if draw(st.integers(0, 5)) == 0:
        spec = draw(_value)
    else:
        spec = {
            "input": draw(st.one_of(st.sampled_from([[8, 8, 3], [16], [3, 8, 8]]), _value)),
            "layers": draw(st.lists(_layer, max_size=6)),
        }
        if draw(st.booleans()):
            spec["blocks"] = {
                "b": {"args": draw(_value), "layers": draw(st.lists(_layer, max_size=3))}
            }
        for key in draw(st.lists(st.sampled_from(TOP_KEYS), max_size=2)):
            spec[key] = draw(_value)
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    return [*draw(st.sampled_from(COMMANDS)), "-"], text


OPTION_VALUES = [
    "",
    "0",
    "-1",
    "1",
    "7x7",
    "224x224x3",
    "8x8x0",
    "1x1x1",
    "10" * 30,
    "x",
    "*",
    "conv1",
    "dense1",
    "nope",
    "fvcore",
    "float16",
    "int4",
    "adam",
    "sgd",
    "\x00",
]


@st.composite
def options(draw: st.DrawFn) -> tuple[list[str], None]:
    """Random options (valid and not) on bundled specs and shorthand."""
    command = draw(
        st.sampled_from(["params", "flops", "rf", "memory", "summary", "graph", "zoo", "schema"])
    )
    arch = draw(st.sampled_from([*SMALL, "Conv3-4,Pool2,FC3", "nope", "Conv9-2", ""]))
    args = [command, arch]
    flags = [
        "--input",
        "--layer",
        "--explain",
        "--batch",
        "--dtype",
        "--convention",
        "-f",
        "--optimizer",
        "--svg",
        "--wide",
        "--strict",
        "-q",
        "--bogus",
    ]
    for flag in draw(st.lists(st.sampled_from(flags), max_size=3)):
        args.append(flag)
        if flag not in ("--wide", "--strict", "-q", "--bogus"):
            value = draw(st.sampled_from(OPTION_VALUES))
            args.append(os.devnull if flag == "--svg" and value else value)
    return args, None


STRATEGIES = {  # CI examples: 1,000 in all, a few seconds
    "mutated-zoo": (mutated_zoo(), 450),
    "random-text": (random_text(), 150),
    "structures": (structures(), 250),
    "options": (options(), 150),
}


@pytest.fixture(autouse=True)
def _command_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner rebuilds the click command from the typer app on every call (~10 ms, most of
    a small example's time); the fuzz runs reuse one."""
    command = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: command)


@pytest.mark.parametrize("name", STRATEGIES)
def test_fuzz(name: str):
    strategy, examples = STRATEGIES[name]
    fuzz(strategy, examples)


@pytest.mark.slow
def test_fuzz_slow(capsys: pytest.CaptureFixture[str]):
    total = int(os.environ.get("FUZZ_SLOW_EXAMPLES", "10000"))
    weights = {"mutated-zoo": 0.45, "random-text": 0.2, "structures": 0.25, "options": 0.1}
    counts.update(dict.fromkeys(counts, 0))
    start = time.perf_counter()
    for name, (strategy, _) in STRATEGIES.items():
        fuzz(strategy, round(total * weights[name]))
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nfuzz: {counts} in {elapsed:.1f} s")
    assert counts["examples"] >= total
