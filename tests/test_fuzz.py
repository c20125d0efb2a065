"""Fuzzing the command line in-process: mutated bundled specs, random text and bytes, random
YAML structures and random options, and the hostile inputs of `tests/fuzz_inputs.py` (huge
numbers in every field, YAML tags, pathological expressions, names with terminal escapes,
filesystem oddities) through every command and format.

Every outcome is exit 0, 1 or 2, never a traceback; an exit 2 names where
(`<stdin>[:LINE:COL]: error: ...`, or typer's usage error for options); nothing on stdout or
stderr is a raw control character; each example takes under EXAMPLE_SECONDS of CPU time
(the garbage collector's aside) and raises the process's peak RSS by less than
MAX_RSS_GROWTH, and every SAMPLE-th example is traced: at most MAX_TRACED allocated at its
peak. `test_fuzz_processes.py` adds what cannot run in-process (a FIFO, a closed stdin).

CI runs 2,500 examples in all; `pytest -m slow` runs FUZZ_SLOW_EXAMPLES (default
10,000) split over the strategies and prints the counts, the slowest example and the
largest traced peak.
"""

from __future__ import annotations

import gc
import os
import re
import resource
import shutil
import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
from tests import fuzz_inputs
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
# never written raw: C0 but the renderers' newlines, DEL, C1, bidi controls, separators
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
EXAMPLE_SECONDS = 5.0  # of CPU time; generous: the examples take milliseconds
HANG_SECONDS = 60  # of wall time: an example still running then is stopped (a hang)
MAX_RSS_GROWTH = 256 << 20  # how far one example may raise the process's peak RSS, bytes
SAMPLE = 25  # every SAMPLE-th example runs under tracemalloc
MAX_TRACED = 256 << 20  # and may allocate at most this much at its peak

counts: dict[str, Any] = {"examples": 0, "exit 0": 0, "exit 1": 0, "exit 2": 0}
worst: dict[str, Any] = {"seconds": 0.0, "slowest": None, "traced": 0, "largest": None}


class _Collector:
    """CPU seconds spent in Python's cyclic garbage collector: it also walks the test's own
    heap (hypothesis's grows to hundreds of MB over a long run), which is no cost of cnncalc."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._clock)

    def _clock(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


collector = _Collector()


class Hang(BaseException):
    """An example ran past HANG_SECONDS (a BaseException: the CLI's handlers let it by)."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def stop(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_rss() -> int:
    """The process's peak resident memory in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _describe(args: list[str], data: str | bytes | None) -> str:
    return f"{args!r} stdin={data[:300]!r}" if data is not None else repr(args)


def invoke(args: list[str], data: str | bytes | None = None) -> None:
    """Run the CLI; the outcome must be a clean exit 0, 1 or 2, quick and small, and print
    no raw control character."""
    traced = counts["examples"] % SAMPLE == 0
    rss_before = peak_rss()
    if traced:
        tracemalloc.start()
    collector.seconds = 0.0
    start = time.process_time()  # CPU time: other jobs on the machine do not count
    try:
        with time_limit(HANG_SECONDS):
            result = runner.invoke(app, normalize_argv(args), input=data)
    finally:
        elapsed = time.process_time() - start - collector.seconds
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
    counts["examples"] += 1
    if elapsed > worst["seconds"]:
        worst.update(seconds=elapsed, slowest=_describe(args, data))
    if peak > worst["traced"]:
        worst.update(traced=peak, largest=_describe(args, data))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code in (0, 1, 2), result.output
    counts[f"exit {result.exit_code}"] += 1
    assert "Traceback" not in result.output
    for stream in (result.stdout, result.stderr):
        raw = RAW.search(stream)
        assert raw is None, f"raw {raw.group()!r} at {raw.start()}: {stream[:2000]!r}"
    assert elapsed < EXAMPLE_SECONDS, f"{elapsed:.1f} s of CPU time"
    assert peak < MAX_TRACED, f"{peak / 2**20:.0f} MiB traced"
    growth = peak_rss() - rss_before  # a high-water mark: what this example added to it
    assert growth < MAX_RSS_GROWTH, f"peak RSS grew by {growth / 2**20:.0f} MiB"
    if result.exit_code == 2:
        _says_what_went_wrong(args, result.stdout, result.stderr)
    if result.exit_code == 0 and "-q" not in args:
        assert result.stdout


def _says_what_went_wrong(args: list[str], stdout: str, stderr: str) -> None:
    """An exit 2 is explained: a usage error (`error:` and the command's usage), or
    `SOURCE[:LINE:COL]: error: ...` on stderr (`<stdin>` for a spec read from stdin by an
    analysis command; `verify`'s memory guard names no position); `check` in JSON or GitHub
    format says it on stdout."""
    if re.match(r"error: .*\n  hint: cnncalc .*--help`\n$", stderr):  # a usage error
        return
    if args[0] == "check" and {"json", "github"} & set(args):
        assert '"status": "invalid"' in stdout or "::error " in stdout or "error: " in stderr
    elif args[0] not in ("check", "diff", "verify") and "-" in args:
        assert ERROR.match(stderr), stderr
    else:
        assert "error: " in stderr, stderr


def fuzz(strategy: st.SearchStrategy[Any], examples: int) -> None:

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
        database=None,
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
    *fuzz_inputs.TABLE_FORMATS,
    "github",
    "dot",
    "nan",
    "1e400",
    "64MiB",
    "1KiB",
    "99999999999999999999999",
]


@st.composite
def options(draw: st.DrawFn) -> tuple[list[str], None]:
    """Random options (valid and not) on bundled specs and shorthand."""
    command = draw(
        st.sampled_from(
            ["params", "flops", "rf", "memory", "summary", "graph", "zoo", "schema", "verify"]
        )
    )
    archs = [*SMALL, "Conv3-4,Pool2,FC3", "nope", "Conv9-2", ""]
    if command == "verify":  # a real forward pass: small networks only
        archs = ["seed_21x21", "lenet5", "Conv3-4,Pool2,FC3", "nope", ""]
    args = [command, draw(st.sampled_from(archs))]
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
        "--seed",
        "--max-memory",
        "--no-rf",
    ]
    for flag in draw(st.lists(st.sampled_from(flags), max_size=3)):
        args.append(flag)
        if flag not in ("--wide", "--strict", "-q", "--bogus", "--no-rf"):
            value = draw(st.sampled_from(OPTION_VALUES))
            args.append(os.devnull if flag == "--svg" and value else value)
    return args, None


FOLDER = Path(os.environ.get("FUZZ_DIR", "/tmp")) / f"cnncalc-fuzz-{os.getpid()}"
STRATEGIES = {  # CI examples: 2,500 in all, ~15 s on a quiet 2-core machine
    "mutated-zoo": (mutated_zoo(), 500),
    "random-text": (random_text(), 200),
    "structures": (structures(), 300),
    "options": (options(), 200),
    "huge-numbers": (fuzz_inputs.huge_numbers(), 400),
    "tags": (fuzz_inputs.tagged(), 250),
    "expressions": (fuzz_inputs.expressions(), 250),
    "escape-names": (fuzz_inputs.escape_names(FOLDER / "names"), 300),
    "filesystem": (
        st.deferred(lambda: fuzz_inputs.filesystem(fuzz_inputs.filesystem_zoo(FOLDER / "fs"))),
        100,
    ),
}
SLOW_WEIGHTS = {  # of FUZZ_SLOW_EXAMPLES
    "mutated-zoo": 0.25,
    "random-text": 0.1,
    "structures": 0.15,
    "options": 0.05,
    "huge-numbers": 0.15,
    "tags": 0.07,
    "expressions": 0.08,
    "escape-names": 0.1,
    "filesystem": 0.05,
}


@pytest.fixture(autouse=True, scope="module")
def _fuzz_folder() -> Iterator[None]:
    """The files the strategies write (spec files with odd names, symlink loops), removed
    at the end."""
    yield
    shutil.rmtree(FOLDER, ignore_errors=True)


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
@pytest.mark.parametrize("name", STRATEGIES)
def test_fuzz_slow(name: str, capsys: pytest.CaptureFixture[str]):
    total = round(int(os.environ.get("FUZZ_SLOW_EXAMPLES", "10000")) * SLOW_WEIGHTS[name])
    counts.update(dict.fromkeys(counts, 0))
    worst.update(seconds=0.0, slowest=None, traced=0, largest=None)
    start = time.perf_counter()
    fuzz(STRATEGIES[name][0], total)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\nfuzz {name}: {counts} in {elapsed:.1f} s; slowest {worst['seconds']:.2f} s CPU: "
            f"{worst['slowest']}; largest traced peak {worst['traced'] / 2**20:.1f} MiB: "
            f"{worst['largest']}; peak RSS {peak_rss() / 2**20:.0f} MiB"
        )
    assert counts["examples"] >= total
