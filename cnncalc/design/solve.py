"""The inverse problem: which values of a spec's unknowns (`stride: ?`, `$(?)`) meet its
`expect:` targets.

Every combination of the unknowns' candidate values (a small, documented range per field) is
written into the spec's text, loaded and analyzed with the ordinary rules, and checked with
`cnncalc check`'s expectations; the ones that meet every target are ranked by a stated
preference. When none does, each target that no combination meets is named with the values
that came nearest.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnncalc.check.evaluate import CheckResult, evaluate
from cnncalc.check.expectations import Expectations, parse_expectations
from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.layers import fmt_shape
from cnncalc.report import Report, analyze
from cnncalc.spec import from_document
from cnncalc.yamlnodes import YMap
from cnncalc.yamltree import parse_yaml

_CHANNELS = tuple(
    str(n) for n in (1, 2, 4, 8, 10, 16, 32, 64, 100, 128, 256, 512, 1000, 1024, 2048)
)
# the search range of an unknown, by the field (or block argument) it stands for
CANDIDATES: dict[str, tuple[str, ...]] = {
    "kernel": tuple(str(k) for k in range(1, 12)),
    "stride": ("1", "2", "3", "4"),
    "padding": (*(str(p) for p in range(6)), "same"),
    "dilation": ("1", "2", "3"),
    "filters": _CHANNELS,
    "units": _CHANNELS,
    "width": _CHANNELS,
}
OTHER = tuple(str(n) for n in range(1, 9))  # any other name: 1 to 8
MAX_COMBINATIONS = 20_000
PREFERENCES = ("params", "macs", "memory")

# `key: ?` (a bare question mark as a value) or `key: $(?)`, possibly quoted
_UNKNOWN = re.compile(
    r"""([A-Za-z_]\w*)\s*:[ \t]*(["']?)(\?|\$\(\?\))\2(?=[ \t]*(?:[,}\]#\n]|$))"""
)


@dataclass(frozen=True)
class Unknown:
    name: str  # the field or block argument
    start: int  # the span of the marker (with its quotes) in the text
    end: int
    pos: SourcePos
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class Solution:
    values: tuple[str, ...]  # one per unknown
    report: Report

    @property
    def params(self) -> int:
        return self.report.totals.params

    @property
    def macs(self) -> int:
        return self.report.macs

    @property
    def memory(self) -> int:
        return self.report.memory.inference_peak_bytes

    def measure(self, quantity: str) -> int:
        return {"params": self.params, "macs": self.macs, "memory": self.memory}[quantity]


@dataclass(frozen=True)
class Miss:
    """A target no combination meets, and the values that came nearest."""

    result: CheckResult  # the nearest miss
    nearest: tuple[tuple[str, str], ...]  # (actual value, the unknowns' values)


@dataclass(frozen=True)
class SolveResult:
    text: str  # the spec as written, with its unknowns
    unknowns: tuple[Unknown, ...]
    solutions: tuple[Solution, ...]  # every combination meeting every target, best first
    tried: int
    invalid: int  # combinations that make no valid network
    misses: tuple[Miss, ...]  # when there is no solution: the unreachable targets
    prefer: str
    # when there is no solution but every target alone is reachable: the combinations that
    # fail fewest targets, with the failures' messages
    closest: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def solved_text(self, index: int = 0) -> str:
        """The spec with the unknowns of solution `index` written in."""
        return substitute(self.text, self.unknowns, self.solutions[index].values)

    def assignment(self, solution: Solution) -> str:
        """`stride 2, padding 3`."""
        return ", ".join(
            f"{u.name} {v}" for u, v in zip(self.unknowns, solution.values, strict=True)
        )

    def headline(self) -> str:
        """The best solution, `stride 2, padding 3 (or same)` when `same` padding in its place
        gives the same counts."""
        best = self.solutions[0]
        also_same = any(
            all(a == b or a == "same" for a, b in zip(other.values, best.values, strict=True))
            and (other.params, other.macs) == (best.params, best.macs)
            for other in self.solutions[1:]
        )
        return self.assignment(best) + (" (or same)" if also_same else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "best": self.headline() if self.solutions else None,
            "unknowns": [
                {
                    "name": u.name,
                    "line": u.pos.line,
                    "col": u.pos.col,
                    "candidates": list(u.candidates),
                }
                for u in self.unknowns
            ],
            "prefer": self.prefer,
            "tried": self.tried,
            "invalid": self.invalid,
            "solutions": [
                {
                    "values": dict(zip((u.name for u in self.unknowns), s.values, strict=True)),
                    "params": s.params,
                    "macs": s.macs,
                    "inference_peak_bytes": s.memory,
                    "output_shape": list(s.report.network.shapes[s.report.network.output.name]),
                }
                for s in self.solutions
            ],
            "unreachable": [
                {
                    "target": m.result.expectation.key,
                    "layer": m.result.expectation.layer,
                    "message": m.result.message,
                    "nearest": [{"value": v, "with": w} for v, w in m.nearest],
                }
                for m in self.misses
            ],
        }


def _position(text: str, file: str, index: int) -> SourcePos:
    line = text.count("\n", 0, index) + 1
    return SourcePos(file, line, index - (text.rfind("\n", 0, index) + 1) + 1)


def find_unknowns(text: str, file: str) -> tuple[Unknown, ...]:
    """The `?` and `$(?)` values of a spec, in text order (comments are not searched)."""
    unknowns = []
    offset = 0
    for line in text.splitlines(keepends=True):
        code = line.split("#", 1)[0] + ("\n" if line.endswith("\n") else "")
        for match in _UNKNOWN.finditer(code):
            name = match.group(1)
            start = offset + match.start(2)
            end = offset + match.end(2) + len(match.group(2)) + len(match.group(3))
            unknowns.append(
                Unknown(name, start, end, _position(text, file, start), CANDIDATES.get(name, OTHER))
            )
        offset += len(line)
    return tuple(unknowns)


def substitute(text: str, unknowns: Sequence[Unknown], values: Sequence[str]) -> str:
    pieces, last = [], 0
    for unknown, value in zip(unknowns, values, strict=True):
        pieces += [text[last : unknown.start], value]
        last = unknown.end
    return "".join(pieces) + text[last:]


def _load(text: str, file: str, stem: str) -> tuple[Report, Expectations]:
    doc = parse_yaml(text, file)
    net = from_document(doc, file, stem)
    assert isinstance(doc, YMap)
    return analyze(net), parse_expectations(doc.get("expect"), doc.pos_of("expect"))


def _distance(result: CheckResult) -> float:
    actual, expected = result.actual, result.expectation.expected
    if isinstance(actual, int) and isinstance(expected, int):
        return abs(actual - expected)
    if isinstance(actual, tuple) and isinstance(expected, tuple) and len(actual) == len(expected):
        return float(sum(abs(float(a) - float(e)) for a, e in zip(actual, expected, strict=True)))
    return float("inf")


def _preference(prefer: str, unknowns: Sequence[Unknown]) -> Any:
    """Fewest `prefer` (params, macs or memory), then fewest MACs, then each unknown's
    earliest candidate (smaller numbers; a number before `same`), in written order."""

    def key(solution: Solution) -> tuple[Any, ...]:
        order = tuple(u.candidates.index(v) for u, v in zip(unknowns, solution.values, strict=True))
        return (solution.measure(prefer), solution.macs, order)

    return key


def solve(
    text: str, file: str = "<text>", stem: str = "network", prefer: str = "params"
) -> SolveResult:
    """Every assignment of the spec's unknowns meeting its `expect:` targets, best first."""
    if prefer not in PREFERENCES:
        raise SpecError(
            f"unknown preference {prefer!r}", None, f"choose one of {', '.join(PREFERENCES)}"
        )
    unknowns = find_unknowns(text, file)
    if not unknowns:
        raise SpecError(
            "the spec has no unknowns",
            SourcePos(file, 1, 1),
            "mark what to solve for with `?` (`stride: ?`) or `$(?)` in block args",
        )
    combinations = 1
    for unknown in unknowns:
        combinations *= len(unknown.candidates)
    if combinations > MAX_COMBINATIONS:
        raise SpecError(
            f"{len(unknowns)} unknowns make {combinations:,} combinations, more than "
            f"{MAX_COMBINATIONS:,}",
            unknowns[0].pos,
            "give some of them a value",
        )
    solutions: list[Solution] = []
    partial: list[tuple[int, tuple[str, ...], tuple[str, ...]]] = []
    outcomes: dict[int, list[tuple[CheckResult, tuple[str, ...]]]] = {}
    invalid = 0
    first_error: CnncalcError | None = None
    has_targets = False
    for values in itertools.product(*(u.candidates for u in unknowns)):
        try:
            report, expectations = _load(substitute(text, unknowns, values), file, stem)
            results = evaluate(expectations, report, file)
        except CnncalcError as exc:
            invalid += 1
            first_error = first_error or exc
            continue
        if not expectations.items:
            raise SpecError(
                "the spec states no target",
                SourcePos(file, 1, 1),
                "add an `expect:` block, e.g. `expect: {output_shape: [28, 28, 64]}`",
            )
        has_targets = True
        for index, result in enumerate(results):
            outcomes.setdefault(index, []).append((result, values))
        failures = tuple(r.message for r in results if not r.passed)
        if failures:
            partial.append((len(failures), values, failures))
        else:
            solutions.append(Solution(values, report))
    if not has_targets and first_error is not None:
        raise SpecError(
            f"no combination of the unknowns makes a valid network; the first: {first_error}",
            unknowns[0].pos,
            "check the fields around the unknowns",
        )
    solutions.sort(key=_preference(prefer, unknowns))
    misses = [] if solutions else _misses(outcomes, unknowns)
    partial.sort(key=lambda p: p[0])
    closest = tuple(
        (", ".join(f"{u.name} {v}" for u, v in zip(unknowns, values, strict=True)), failures)
        for _, values, failures in partial[:3]
    )
    return SolveResult(
        text,
        unknowns,
        tuple(solutions),
        combinations,
        invalid,
        tuple(misses),
        prefer,
        () if solutions or misses else closest,
    )


def _misses(
    outcomes: dict[int, list[tuple[CheckResult, tuple[str, ...]]]], unknowns: Sequence[Unknown]
) -> list[Miss]:
    """The targets no combination meets on its own, each with its three nearest values."""
    misses = []
    for index in sorted(outcomes):
        results = outcomes[index]
        if any(result.passed for result, _ in results):
            continue
        ranked = sorted(results, key=lambda rv: _distance(rv[0]))
        nearest: list[tuple[str, str]] = []
        for result, values in ranked:
            shown = _show(result.actual)
            if shown not in (v for v, _ in nearest):
                nearest.append(
                    (
                        shown,
                        ", ".join(f"{u.name} {v}" for u, v in zip(unknowns, values, strict=True)),
                    )
                )
            if len(nearest) == 3:
                break
        misses.append(Miss(ranked[0][0], tuple(nearest)))
    return misses


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return fmt_shape(tuple(int(v) for v in value))
    return f"{value:,}"


LAYER_KINDS = ("conv", "conv_transpose", "maxpool", "avgpool")
LAYER_FILE = "<layer>"


def layer_spec(
    kind: str, size_in: tuple[int, int], size_out: tuple[int, int], fields: dict[str, str]
) -> str:
    """The one-layer spec of `cnncalc solve --in 224 --out 112 --kernel 7` (read as file
    LAYER_FILE): one channel in, one out, the given fields set and the others `?`."""
    if kind not in LAYER_KINDS:
        raise SpecError(
            f"--kind {kind} cannot be solved for", None, f"choose one of {', '.join(LAYER_KINDS)}"
        )
    written = [f"{name}: {value}" for name, value in fields.items()]
    if kind.startswith("conv"):
        written.insert(0, "filters: 1")
    return (
        "name: layer\n"
        f"input: [{size_in[0]}, {size_in[1]}, 1]\n"
        f"layers:\n  - {kind}: {{name: layer, {', '.join(written)}}}\n"
        f"expect: {{output_shape: [{size_out[0]}, {size_out[1]}, 1]}}\n"
    )
