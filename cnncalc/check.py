"""`check`: expectations and budgets on architecture specs, evaluated against a `Report`.

Expectations are written in a spec's `expect:` block or in a budget file (`--budget FILE`);
both use the same mapping (see the README, "Expectations and budgets"). Parsing keeps the
position of every expected value, so a failed check points at the line that states it.

The functions here compute and return results; they never print or exit (the CLI and
`cnncalc.render.check` do). Invalid specs and invalid expectations raise or carry a
`SpecError`; a check that does not hold is a `CheckResult` with `passed=False`.
"""

from __future__ import annotations

import difflib
import glob
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.layers import fmt_shape
from cnncalc.loader import read_stdin
from cnncalc.passes.flops import CONVENTIONS, count_flops
from cnncalc.passes.memory import (
    DTYPE_BYTES,
    OPTIMIZER_STATES,
    MemoryOptions,
    MemoryTotals,
    activation_memory,
    memory_totals,
)
from cnncalc.passes.receptive_field import Num
from cnncalc.report import LayerReport, Report, analyze
from cnncalc.spec import from_yaml, read_text
from cnncalc.units import exact_bytes, fmt_pair
from cnncalc.yamltree import YList, YMap, parse_yaml
from cnncalc.zoo import zoo_names, zoo_path

Op = Literal["==", "<=", ">="]
Value = int | tuple[Num, ...]  # a count, a shape, or a receptive field (h, w)

COUNTS = ("params", "trainable_params", "buffers", "macs", "flops")
COUNT_KEYS: dict[str, tuple[str, Op]] = {
    **{q: (q, "==") for q in COUNTS},
    **{f"max_{q}": (q, "<=") for q in COUNTS},
    **{f"min_{q}": (q, ">=") for q in COUNTS},
}
RF_KEYS: dict[str, Op] = {"rf": "==", "min_rf": ">=", "max_rf": "<="}
TOP_KEYS = (*COUNT_KEYS, "output_shape", "max_memory", "convention", "layers")
LAYER_KEYS = (*COUNT_KEYS, "output_shape", *RF_KEYS)
# every `<kind>_bytes` figure of the memory report, the default (inference_peak) first
MEMORY_KINDS = tuple(
    sorted(
        (f.name.removesuffix("_bytes") for f in fields(MemoryTotals) if f.name.endswith("_bytes")),
        key=lambda kind: kind != "inference_peak",
    )
)
MEMORY_KEYS = ("bytes", "dtype", "batch", "optimizer", "kind")
SPEC_SUFFIXES = (".yaml", ".yml")
_GLOB_CHARS = "*?["
_PATH_CHARS = "/\\.*?["  # a budget key holding one of these is a spec path or glob

_COUNT_SUFFIX = {"K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_BYTE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_NUMBER = r"(?P<number>(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)"
_COUNT_RE = re.compile(_NUMBER + r"\s*(?P<unit>[A-Za-z]*)")
_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+")  # 25,557,032 as the tables print it
MAX_BATCH = 10**9  # as `--batch`
MAX_DIGITS = 30  # 10^30 is past any network; bounds the work a hostile exponent can ask for


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


# --- values ---------------------------------------------------------------------------------


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return None


def _whole(amount: Decimal, multiplier: int, key: str, value: Any, pos: SourcePos) -> int:
    """amount · multiplier, exactly, if it is a whole number of sane size."""
    if not amount.is_finite() or amount.adjusted() > MAX_DIGITS:
        raise SpecError(
            f"`{key}` is not a usable number: {describe(value)}",
            pos,
            f"numbers here have at most {MAX_DIGITS} digits",
        )
    exact = Fraction(amount) * multiplier
    if exact.denominator != 1:
        raise SpecError(
            f"`{key}` must be a whole number, got {describe(value)} (= {float(exact):,g})",
            pos,
            "counts and bytes are whole numbers: check the digits and the suffix",
        )
    if exact < 0:
        raise SpecError(f"`{key}` must not be negative, got {describe(value)}", pos)
    return int(exact)


def _number_and_unit(
    value: Any, key: str, pos: SourcePos, what: str, hint: str
) -> int | tuple[Decimal, str, str]:
    """Text as a grouped whole number (`25,557,032`: the int), or (amount, number, unit)."""
    if not isinstance(value, str):
        raise SpecError(f"`{key}` must be {what}, got {describe(value)}", pos, hint)
    text = value.strip()
    if _GROUPED_RE.fullmatch(text):
        return int(text.replace(",", ""))
    match = _COUNT_RE.fullmatch(text)
    amount = _decimal(match["number"]) if match else None
    if match is None or amount is None:
        raise SpecError(f"`{key}` must be {what}, got {describe(value)}", pos, hint)
    return amount, match["number"], match["unit"]


def parse_count(value: Any, key: str, pos: SourcePos) -> int:
    """A count: an int, `30_000_000`, `25,557,032`, `4.2e9`, or `25.5M` (K/k 10³, M 10⁶,
    G 10⁹, T 10¹²; decimal, exact). Raises a SpecError at `pos` for anything else."""
    hint = "write a whole number such as 25557032, 25_557_032, 25.6M or 4.1G (M = 10^6, G = 10^9)"
    if isinstance(value, bool) or value is None:
        raise SpecError(f"`{key}` must be a number, got {describe(value)}", pos, hint)
    if isinstance(value, int):
        if value.bit_length() > 4 * MAX_DIGITS:  # checked before any conversion to text
            raise SpecError(
                f"`{key}` is not a usable number ({value.bit_length()} bits)",
                pos,
                f"numbers here have at most {MAX_DIGITS} digits",
            )
        return _whole(Decimal(value), 1, key, value, pos)
    if isinstance(value, float):
        return _whole(Decimal(str(value)), 1, key, value, pos)
    parsed = _number_and_unit(value, key, pos, "a number", hint)
    if isinstance(parsed, int):
        return parsed
    amount, number, unit = parsed
    if unit.lower() in _BYTE_UNITS or unit.upper() == "B":
        raise SpecError(
            f"`{key}` is a count, not a size in bytes: {value!r}",
            pos,
            "bytes go in `max_memory`; for counts use K, M, G or T (10^3 … 10^12)",
        )
    if unit and unit not in _COUNT_SUFFIX:
        suggestion = f"`{number}{unit.upper()}`" if unit.upper() in _COUNT_SUFFIX else ""
        raise SpecError(
            f"`{key}`: unknown suffix {unit!r} in {value!r}",
            pos,
            (f"write {suggestion}; " if suggestion else "")
            + "count suffixes are K (or k) = 10^3, M = 10^6, G = 10^9, T = 10^12",
        )
    return _whole(amount, _COUNT_SUFFIX.get(unit, 1), key, value, pos)


def parse_bytes(value: Any, key: str, pos: SourcePos) -> int:
    """A size in bytes: an int, or a number with a unit: B, kB/KB/MB/GB/TB (10³ … 10¹²) or
    KiB/MiB/GiB/TiB (2¹⁰ … 2⁴⁰), case-insensitive. A bare K/M/G is ambiguous: an error."""
    hint = "write e.g. 200MiB (200·2^20 bytes), 200MB (200·10^6 bytes) or 209715200"
    if isinstance(value, bool) or value is None:
        raise SpecError(f"`{key}` must be a size in bytes, got {describe(value)}", pos, hint)
    if isinstance(value, int | float):
        return parse_count(value, key, pos)
    parsed = _number_and_unit(value, key, pos, "a size in bytes", hint)
    if isinstance(parsed, int):
        return parsed
    amount, number, unit = parsed
    if unit in _COUNT_SUFFIX or unit.upper() in _COUNT_SUFFIX:
        raise SpecError(
            f"`{key}`: {value!r} is ambiguous",
            pos,
            f"write {number}{unit.upper()}iB ({number}·2^"
            f"{10 * ('KMGT'.index(unit.upper()) + 1)} bytes) or {number}{unit.upper()}B "
            f"({number}·10^{3 * ('KMGT'.index(unit.upper()) + 1)} bytes)",
        )
    if unit and unit.lower() not in _BYTE_UNITS:
        raise SpecError(
            f"`{key}`: unknown unit {unit!r} in {value!r}",
            pos,
            "units: B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)",
        )
    return _whole(amount, _BYTE_UNITS[unit.lower() or "b"], key, value, pos)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_shape(value: Any, key: str, pos: SourcePos) -> tuple[int, ...]:
    """`[7, 7, 2048]`, `[1000]`, or the text `7x7x2048`."""
    hint = "write [H, W, C] such as [7, 7, 2048], or [N] such as [1000] for a flat output"
    dims: Any = value
    if isinstance(value, str):
        try:
            dims = [int(d) for d in value.lower().replace("×", "x").split("x")]
        except ValueError:
            dims = None
    if not isinstance(dims, list) or len(dims) not in (1, 3):
        raise SpecError(f"`{key}` must be a shape, got {describe(value)}", pos, hint)
    if not all(_positive_int(d) for d in dims):
        raise SpecError(
            f"`{key}` dimensions must be positive integers, got {describe(value)}", pos, hint
        )
    return tuple(dims)


def parse_rf(value: Any, key: str, pos: SourcePos) -> tuple[int, int]:
    """A receptive-field size: `212` (both axes) or `[h, w]`."""
    if _positive_int(value):
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(_positive_int(v) for v in value):
        return (value[0], value[1])
    raise SpecError(
        f"`{key}` must be a receptive-field size in pixels, got {describe(value)}",
        pos,
        "write one positive integer for both axes (e.g. 212) or [height, width]",
    )


def _written(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


# --- expectations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """One stated fact about a network: `quantity op expected` (at `layer`, if one is named)."""

    key: str  # as written: `max_params`, `output_shape`, `min_rf`, `max_memory`
    quantity: str  # what is measured: `params`, `output_shape`, `rf`, `inference_peak_bytes`
    op: Op
    expected: Value
    written: str  # the value as the user wrote it (`30M`), for messages
    pos: SourcePos  # where the expected value is written
    layer: str | None = None
    memory: MemoryOptions | None = None  # for memory quantities
    convention: str = "macs"  # for `flops`

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "quantity": self.quantity,
            "op": self.op,
            "expected": _json_value(self.expected),
            "written": self.written,
            "layer": self.layer,
            "file": self.pos.file,
            "line": self.pos.line,
            "col": self.pos.col,
            **(
                {"dtype": self.memory.dtype, "batch": self.memory.batch}
                if self.memory is not None
                else {}
            ),
            **(
                {"optimizer": self.memory.optimizer}
                if self.memory is not None and self.quantity in _OPTIMIZER_QUANTITIES
                else {}
            ),
            **({"convention": self.convention} if self.quantity == "flops" else {}),
        }


_OPTIMIZER_QUANTITIES = ("optimizer_bytes", "training_bytes")


@dataclass(frozen=True)
class Expectations:
    """A parsed `expect:` block (or one budget entry): its expectations in written order."""

    items: tuple[Expectation, ...] = ()
    layers: dict[str, SourcePos] = field(default_factory=dict)  # named layers: key positions
    pos: SourcePos | None = None


def _check_keys(raw: YMap, allowed: Sequence[str], where: str, extra_hint: str) -> None:
    for key in raw:
        if key not in allowed:
            hint = _suggest(key, allowed)
            if key in RF_KEYS:
                hint = f"`{key}` is checked at a named layer: `layers: {{NAME: {{{key}: ...}}}}`"
            elif key == "max_memory":
                hint = "`max_memory` is for the whole network: put it directly under `expect:`"
            raise SpecError(
                f"unknown expectation {key!r} in {where}",
                raw.key_pos[key],
                hint or f"{extra_hint}: {', '.join(allowed)}",
            )


def _count_or_shape(raw: YMap, key: str, layer: str | None, convention: str) -> Expectation | None:
    pos = raw.pos_of(key)
    value = raw[key]
    if key in COUNT_KEYS:
        quantity, op = COUNT_KEYS[key]
        expected: Value = parse_count(value, key, pos)
        return Expectation(
            key, quantity, op, expected, _written(value), pos, layer, convention=convention
        )
    if key == "output_shape":
        shape = parse_shape(value, key, pos)
        return Expectation(key, key, "==", shape, fmt_shape(shape), pos, layer)
    if key in RF_KEYS:
        size = parse_rf(value, key, pos)
        written = str(size[0]) if size[0] == size[1] else f"{size[0]}×{size[1]}"
        return Expectation(key, "rf", RF_KEYS[key], size, written, pos, layer)
    return None


def _memory_expectations(raw: Any, pos: SourcePos) -> list[Expectation]:
    entries: list[tuple[Any, SourcePos]]
    if isinstance(raw, YList):
        if not raw:
            raise SpecError("`max_memory` is an empty list", pos, "give one budget or remove it")
        entries = list(zip(raw, raw.item_pos, strict=True))
    else:
        entries = [(raw, pos)]
    out = []
    for entry, entry_pos in entries:
        if not isinstance(entry, YMap):
            size = parse_bytes(entry, "max_memory", entry_pos)
            options = MemoryOptions()
            out.append(
                Expectation(
                    "max_memory",
                    "inference_peak_bytes",
                    "<=",
                    size,
                    _written(entry),
                    entry_pos,
                    memory=options,
                )
            )
            continue
        _check_keys(entry, MEMORY_KEYS, "`max_memory`", "its keys")
        if "bytes" not in entry:
            raise SpecError(
                "`max_memory` needs `bytes:`",
                entry.pos,
                "e.g. `max_memory: {bytes: 200MiB, dtype: float16, batch: 8}`",
            )
        size = parse_bytes(entry["bytes"], "bytes", entry.pos_of("bytes"))
        dtype = entry.get("dtype", "float32")
        if dtype not in DTYPE_BYTES:
            raise SpecError(
                f"unknown dtype {describe(dtype)}",
                entry.pos_of("dtype"),
                _suggest(str(dtype), list(DTYPE_BYTES))
                or f"choose one of {', '.join(DTYPE_BYTES)}",
            )
        batch = entry.get("batch", 1)
        if not _positive_int(batch) or batch > MAX_BATCH:
            raise SpecError(
                f"`batch` must be an integer from 1 to {MAX_BATCH:,}, got {describe(batch)}",
                entry.pos_of("batch"),
            )
        kind = entry.get("kind", "inference_peak")
        if kind not in MEMORY_KINDS:
            raise SpecError(
                f"unknown memory kind {describe(kind)}",
                entry.pos_of("kind"),
                _suggest(str(kind), MEMORY_KINDS) or f"kinds: {', '.join(MEMORY_KINDS)}",
            )
        optimizer = entry.get("optimizer", "sgd")
        if optimizer not in OPTIMIZER_STATES:
            raise SpecError(
                f"unknown optimizer {describe(optimizer)}",
                entry.pos_of("optimizer"),
                _suggest(str(optimizer), list(OPTIMIZER_STATES))
                or f"choose one of {', '.join(OPTIMIZER_STATES)}",
            )
        quantity = f"{kind}_bytes"
        if "optimizer" in entry and quantity not in _OPTIMIZER_QUANTITIES:
            raise SpecError(
                f"`optimizer` does not change the {kind} memory",
                entry.key_pos["optimizer"],
                "it counts only with `kind: training` or `kind: optimizer`; remove it",
            )
        out.append(
            Expectation(
                "max_memory",
                quantity,
                "<=",
                size,
                _written(entry["bytes"]),
                entry.pos_of("bytes"),
                memory=MemoryOptions(dtype, batch, optimizer),
            )
        )
    return out


def parse_expectations(raw: Any, pos: SourcePos, where: str = "`expect`") -> Expectations:
    """The expectations of an `expect:` mapping (or a budget entry); `None` means none.

    Checks every key and value; whether named layers exist is checked by `evaluate`.
    """
    if raw is None:
        return Expectations(pos=pos)
    if not isinstance(raw, YMap):
        raise SpecError(
            f"{where} must be a mapping of expectations, got {describe(raw)}",
            pos,
            "e.g. `expect: {params: 9740, max_macs: 2M, output_shape: [10]}`",
        )
    _check_keys(raw, TOP_KEYS, where, "expectations")
    convention = raw.get("convention", "macs")
    if convention not in CONVENTIONS:
        raise SpecError(
            f"unknown convention {describe(convention)}",
            raw.pos_of("convention"),
            _suggest(str(convention), list(CONVENTIONS))
            or f"choose one of {', '.join(CONVENTIONS)}",
        )
    items: list[Expectation] = []
    layers: dict[str, SourcePos] = {}
    for key, value in raw.items():
        if key == "max_memory":
            items += _memory_expectations(value, raw.pos_of(key))
        elif key == "layers":
            if not isinstance(value, YMap):
                raise SpecError(
                    f"`layers` in {where} maps layer names to expectations, got {describe(value)}",
                    raw.pos_of(key),
                    "e.g. `layers: {conv1: {output_shape: [32, 32, 20], params: 1520}}`",
                )
            for name, per_layer in value.items():
                layers[name] = value.key_pos[name]
                if not isinstance(per_layer, YMap) or not per_layer:
                    raise SpecError(
                        f"the expectations of layer {name} must be a mapping, "
                        f"got {describe(per_layer)}",
                        value.pos_of(name),
                        f"e.g. `{name}: {{output_shape: [7, 7, 512], max_rf: 300}}`",
                    )
                _check_keys(per_layer, LAYER_KEYS, f"layer {name}", "layer expectations")
                for layer_key in per_layer:
                    made = _count_or_shape(per_layer, layer_key, name, convention)
                    assert made is not None
                    items.append(made)
        else:
            made = _count_or_shape(raw, key, None, convention)
            if made is not None:
                items.append(made)
    return Expectations(tuple(items), layers, raw.pos)


# --- evaluation -----------------------------------------------------------------------------


def _json_value(value: Value) -> Any:
    if isinstance(value, tuple):
        return [int(v) if v.denominator == 1 else float(v) for v in value]
    return value


_BEYOND = {"<=": "above", ">=": "below"}


@dataclass(frozen=True)
class CheckResult:
    """An expectation, what the network actually has, and whether it holds."""

    expectation: Expectation
    actual: Value
    passed: bool
    spec: str  # the spec file (the expectation may be in a budget file)

    @property
    def subject(self) -> str:
        """What was measured, as a message names it: `params`, `layer conv1: rf`."""
        e = self.expectation
        if e.memory is not None:
            what = e.quantity.removesuffix("_bytes").replace("_", " ") + " memory"
            options = f"{e.memory.dtype}, batch {e.memory.batch}"
            if e.quantity in _OPTIMIZER_QUANTITIES:
                options += f", {e.memory.optimizer}"
            what += f" ({options})"
        elif e.quantity == "flops" and e.convention != "macs":
            what = f"flops ({e.convention})"
        else:
            what = e.quantity
        return f"layer {e.layer}: {what}" if e.layer else what

    def _show(self, value: Value) -> str:
        e = self.expectation
        if e.quantity == "output_shape":
            assert isinstance(value, tuple)
            return fmt_shape(tuple(int(v) for v in value))
        if e.quantity == "rf":
            assert isinstance(value, tuple)
            return fmt_pair(value)
        assert isinstance(value, int)
        return exact_bytes(value) if e.memory is not None else f"{value:,}"

    def _expected_text(self) -> str:
        e = self.expectation
        shown = self._show(e.expected)
        if e.quantity in ("output_shape", "rf") or e.written == shown:
            return shown
        assert isinstance(e.expected, int)
        if e.memory is not None and e.written == f"{e.expected:,}":
            return shown
        if e.memory is not None:
            return f"{e.written} ({e.expected:,} B)"
        return f"{e.written} ({shown})"

    @property
    def message(self) -> str:
        """`params is 25,557,032, above max_params 25M (25,000,000) by 557,032`."""
        e = self.expectation
        actual = self._show(self.actual)
        if e.op == "==":
            if self.passed:
                return f"{self.subject} is {actual} as expected"
            text = f"{self.subject} is {actual}, expected {self._expected_text()}"
            if isinstance(self.actual, int) and isinstance(e.expected, int):
                text += f" ({self.actual - e.expected:+,})"
            return text
        over = _BEYOND[e.op]
        if self.passed:
            return f"{self.subject} is {actual}, within {e.key} {self._expected_text()}"
        text = f"{self.subject} is {actual}, {over} {e.key} {self._expected_text()}"
        if isinstance(self.actual, int) and isinstance(e.expected, int):
            by = abs(self.actual - e.expected)
            text += f" by {exact_bytes(by) if e.memory is not None else f'{by:,}'}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.expectation.to_dict(),
            "actual": _json_value(self.actual),
            "passed": self.passed,
            "message": self.message,
        }


def _holds(op: Op, actual: Value, expected: Value) -> bool:
    if isinstance(actual, tuple) and isinstance(expected, tuple):
        if op == "==":
            return actual == expected
        pairs = list(zip(actual, expected, strict=True))
        return all(a <= b for a, b in pairs) if op == "<=" else all(a >= b for a, b in pairs)
    assert isinstance(actual, int) and isinstance(expected, int)
    if op == "==":
        return actual == expected
    return actual <= expected if op == "<=" else actual >= expected


def _unknown_layer(name: str, pos: SourcePos, report: Report) -> SpecError:
    names = [row.node.name for row in report.layers]
    inside = [n for n in names if n.startswith(name + ".")]
    if inside:
        hint = (
            f"{name!r} is a block instance, not a layer: name one of its layers, "
            f"e.g. `{inside[-1]}` (its last)"
        )
    else:
        hint = _suggest(name, names) or (
            "the layers: " + ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        )
    return SpecError(f"no layer named {name!r} in {report.name}", pos, hint)


class _Measure:
    """The actual values of one report, with flops and memory computed on demand."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.rows = {row.node.name: row for row in report.layers}
        self._flops: dict[str, dict[str, int]] = {}
        self._memory: dict[MemoryOptions, MemoryTotals] = {}

    def flops(self, convention: str, layer: str | None) -> int:
        report = self.report
        if convention == report.convention:
            return report.flops if layer is None else self.rows[layer].multiplies.flops
        if convention not in self._flops:
            counts = count_flops(report.network, convention)
            per_layer = {name: count.flops for name, count in counts.items()}
            self._flops[convention] = per_layer
        per_layer = self._flops[convention]
        return sum(per_layer.values()) if layer is None else per_layer[layer]

    def memory(self, options: MemoryOptions) -> MemoryTotals:
        report = self.report
        if options == report.memory.options:
            return report.memory
        if options not in self._memory:
            net, totals = report.network, report.totals
            self._memory[options] = memory_totals(
                net,
                activation_memory(net, options),
                totals.params,
                totals.trainable_params,
                totals.buffers,
                options,
            )
        return self._memory[options]

    def value(self, e: Expectation) -> Value:
        report = self.report
        row: LayerReport | None = self.rows[e.layer] if e.layer is not None else None
        if e.memory is not None:
            return int(getattr(self.memory(e.memory), e.quantity))
        if e.quantity == "output_shape":
            return (row or report.layers[-1]).output_shape
        if e.quantity == "rf":
            assert row is not None
            if row.rf is None:
                raise SpecError(
                    f"layer {row.node.name} has a flat output "
                    f"({fmt_shape(row.output_shape)}): it has no receptive field",
                    e.pos,
                    "check the receptive field at a spatial (H×W×C) layer, "
                    "e.g. the last one before `flatten` or global pooling",
                )
            return row.rf.size
        if e.quantity == "flops":
            return self.flops(e.convention, e.layer)
        if row is None:
            totals = report.totals
            return {
                "params": totals.params,
                "trainable_params": totals.trainable_params,
                "buffers": totals.buffers,
                "macs": report.macs,
            }[e.quantity]
        return {
            "params": row.counts.params,
            "trainable_params": row.counts.trainable_params,
            "buffers": row.counts.buffers,
            "macs": row.multiplies.macs,
        }[e.quantity]


def evaluate(expectations: Expectations, report: Report, spec: str = "") -> list[CheckResult]:
    """Each expectation against `report`, in written order.

    Raises a SpecError at the expectation when it names a layer the network lacks, or asks
    for the receptive field of a flat layer.
    """
    measure = _Measure(report)
    for name, pos in expectations.layers.items():
        if name not in measure.rows:
            raise _unknown_layer(name, pos, report)
    results = []
    for e in expectations.items:
        actual = measure.value(e)
        results.append(CheckResult(e, actual, _holds(e.op, actual, e.expected), spec))
    return results


# --- budget files ---------------------------------------------------------------------------


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` any number of folders, `*` any text within a name, `?` one character, `[…]`."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path)).replace("\\", "/")


@dataclass(frozen=True)
class BudgetEntry:
    """Expectations from a budget file, for every spec (`pattern` None) or matching specs."""

    expectations: Expectations
    pattern: str | None = None
    regex: re.Pattern[str] | None = None

    def applies_to(self, spec: Path | None) -> bool:
        if self.regex is None:
            return True
        return spec is not None and self.regex.fullmatch(_norm(str(spec))) is not None


@dataclass(frozen=True)
class Budget:
    path: str
    entries: tuple[BudgetEntry, ...]

    def for_spec(self, spec: Path | None) -> list[Expectations]:
        return [e.expectations for e in self.entries if e.applies_to(spec)]


def _looks_like_path(key: str) -> bool:
    return any(c in key for c in _PATH_CHARS)


def load_budget(path: str) -> Budget:
    """A budget file: one expectations mapping for every spec checked, or a mapping of spec
    paths and globs (relative to the budget file's folder) to expectations.

    A pattern that matches no file on disk is an error (a typo would otherwise never check).
    """
    text = read_text(Path(path))
    doc = parse_yaml(text, path)
    top = SourcePos(path, 1, 1)
    if not isinstance(doc, YMap) or not doc:
        raise SpecError(
            f"a budget file is a mapping of expectations, got {describe(doc)}",
            top,
            "e.g. `max_params: 30M`, or per spec: `architectures/*.yaml: {max_params: 30M}`",
        )
    keys = list(doc)
    if not any(_looks_like_path(k) for k in keys):
        return Budget(path, (BudgetEntry(parse_expectations(doc, doc.pos, "the budget")),))
    base = os.path.dirname(os.path.abspath(path))
    entries = []
    for key in keys:
        if not _looks_like_path(key):
            raise SpecError(
                f"{key!r} is neither a spec path nor a glob, and this budget file maps "
                "spec paths to expectations",
                doc.key_pos[key],
                "a path holds `/` or `.` (write `./net` for a file named net); put "
                f"`{key}` under a path, e.g. `architectures/*.yaml: {{{key}: ...}}`",
            )
        pattern = os.path.normcase(os.path.normpath(key)).replace("\\", "/")
        if os.path.isabs(pattern):
            regex = _glob_regex(pattern)
        else:  # the folder is literal text, however many brackets its name holds
            regex = re.compile(re.escape(_norm(base) + "/") + _glob_regex(pattern).pattern)
        if not glob.glob(pattern, root_dir=base, recursive=True):
            raise SpecError(
                f"budget pattern {key!r} matches no file",
                doc.key_pos[key],
                f"patterns are relative to the budget file's folder ({base})",
            )
        where = f"the budget for {key!r}"
        entries.append(
            BudgetEntry(
                parse_expectations(doc[key], doc.pos_of(key), where),
                key,
                regex,
            )
        )
    return Budget(path, tuple(entries))


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A spec to check, as named on the command line (or found under a folder or glob)."""

    display: str
    path: Path | None  # None: stdin
    error: SpecError | None = None


def _walk(folder: Path) -> list[Path]:
    """*.yaml and *.yml files below `folder`, sorted; hidden files and folders skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            Path(root) / f
            for f in sorted(files)
            if f.endswith(SPEC_SUFFIXES) and not f.startswith(".")
        ]
    return found


def _missing(arg: str) -> SpecError:
    close = difflib.get_close_matches(arg, zoo_names(), n=1)
    return SpecError(
        "no such file, folder or bundled architecture",
        SourcePos(arg),
        f"did you mean `{close[0]}`?" if close else None,
    )


def expand_targets(args: Sequence[str], skip: Collection[str] = ()) -> list[Target]:
    """The specs that `args` name: files, folders (every *.yaml/*.yml below, hidden ones
    skipped), globs (expanded here, as Windows shells do not), bundled names and `-`.

    Each spec appears once. Files in `skip` (the budget files) are left out of folders and
    globs. An argument that names nothing becomes a Target carrying its error.
    """
    skipped = {_norm(s) for s in skip}
    seen: set[str] = set()
    targets: list[Target] = []

    def add(path: Path, display: str | None = None, found: bool = False) -> None:
        key = _norm(str(path))
        if key in seen or (found and key in skipped):
            return
        seen.add(key)
        targets.append(Target(display or str(path), path))

    for arg in args:
        path = Path(arg)
        if arg == "-":
            if "-" not in seen:
                seen.add("-")
                targets.append(Target("<stdin>", None))
        elif path.is_dir():
            for found in _walk(path):
                add(found, found=True)
        elif path.exists():
            add(path, arg)
        elif any(c in arg for c in _GLOB_CHARS):
            matches = sorted(glob.glob(arg, recursive=True))
            before = len(targets)
            for match in matches:
                matched = Path(match)
                if matched.is_dir():
                    for found in _walk(matched):
                        add(found, found=True)
                elif match.endswith(SPEC_SUFFIXES):
                    add(matched, found=True)
            if len(targets) == before and not any(_norm(m) in seen for m in matches):
                targets.append(
                    Target(
                        arg,
                        None,
                        SpecError(
                            "no spec file matches this pattern",
                            SourcePos(arg),
                            "a pattern matches *.yaml and *.yml files; `**` matches any folders",
                        ),
                    )
                )
        elif (zoo := zoo_path(arg)) is not None:
            add(zoo)
        else:
            targets.append(Target(arg, None, _missing(arg)))
    return targets


@dataclass(frozen=True)
class FileResult:
    """One spec: its checks, or the error that makes it invalid."""

    file: str
    name: str | None
    checks: tuple[CheckResult, ...] = ()
    error: SpecError | None = None

    @property
    def status(self) -> Literal["passed", "failed", "invalid"]:
        if self.error is not None:
            return "invalid"
        return "failed" if self.failures else "passed"

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        err = self.error
        return {
            "file": self.file,
            "name": self.name,
            "status": self.status,
            "checks": [c.to_dict() for c in self.checks],
            "error": None
            if err is None
            else {
                "message": err.message,
                "hint": err.hint,
                "file": err.pos.file if err.pos else self.file,
                "line": err.pos.line if err.pos else 0,
                "col": err.pos.col if err.pos else 0,
            },
        }


def check_target(target: Target, budgets: Sequence[Budget] = ()) -> FileResult:
    """Load, analyze and check one spec: its own `expect:` and every budget that applies."""
    if target.error is not None:
        return FileResult(target.display, None, error=target.error)
    name: str | None = None
    try:
        if target.path is None:
            text, stem = read_stdin(), "stdin"
        else:
            text, stem = read_text(target.path), target.path.stem
        net = from_yaml(text, target.display, stem)
        name = net.name
        doc = parse_yaml(text, target.display)
        assert isinstance(doc, YMap)  # from_yaml accepted it
        groups = [parse_expectations(doc.get("expect"), doc.pos_of("expect"))]
        for budget in budgets:
            groups += budget.for_spec(target.path)
        report = analyze(net)
        checks = [c for group in groups for c in evaluate(group, report, target.display)]
    except SpecError as err:
        return FileResult(target.display, name, error=err)
    except CnncalcError as err:
        return FileResult(target.display, name, error=SpecError(str(err)))
    return FileResult(target.display, name, tuple(checks))


@dataclass(frozen=True)
class CheckRun:
    """Every spec checked. Exit code: 2 if any spec is invalid, else 1 if any check failed."""

    files: tuple[FileResult, ...]

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def exit_code(self) -> int:
        if self.count("invalid"):
            return 2
        return 1 if self.count("failed") else 0

    def to_dict(self) -> dict[str, Any]:
        checks = [c for f in self.files for c in f.checks]
        return {
            "exit_code": self.exit_code,
            "summary": {
                "files": len(self.files),
                "passed": self.count("passed"),
                "failed": self.count("failed"),
                "invalid": self.count("invalid"),
                "checks": len(checks),
                "checks_failed": sum(1 for c in checks if not c.passed),
            },
            "files": [f.to_dict() for f in self.files],
        }


def check(args: Sequence[str], budget_files: Sequence[str] = ()) -> CheckRun:
    """Check every spec `args` name (files, folders, globs) against its expectations.

    A budget file that is itself invalid raises SpecError (nothing can be checked against it).
    """
    budgets = [load_budget(path) for path in budget_files]
    targets = expand_targets(args, skip=budget_files)
    return CheckRun(tuple(check_target(t, budgets) for t in targets))


# --- JSON Schema ----------------------------------------------------------------------------

_COUNT_PATTERN = (
    r"^\s*(?:\d{1,3}(?:,\d{3})+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?\s*[kKMGT]?)\s*$"
)
_BYTES_PATTERN = (
    r"^\s*(?:\d{1,3}(?:,\d{3})+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?"
    r"\s*(?:[bB]|[kKmMgGtT][iI]?[bB])?)\s*$"
)


def expect_schema() -> dict[str, Any]:
    """A JSON Schema (draft 7) of an `expect:` mapping, from the same key tables the parser
    reads. It checks keys and the form of values; whole-number results and layer names are
    checked by `cnncalc check` itself."""
    count = {
        "description": "a whole number: 25557032, 25_557_032, 25,557,032, 4.1e9 or 25.6M "
        "(K/k 10^3, M 10^6, G 10^9, T 10^12)",
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": _COUNT_PATTERN},
        ],
    }
    size = {
        "description": "bytes: 209715200, 200MiB (2^20), 200MB (10^6); B, kB, MB, GB, TB, "
        "KiB, MiB, GiB, TiB",
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": _BYTES_PATTERN},
        ],
    }
    shape = {
        "description": "[H, W, C] or [N], or the text HxWxC",
        "anyOf": [
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "anyOf": [{"minItems": 1, "maxItems": 1}, {"minItems": 3, "maxItems": 3}],
            },
            {"type": "string", "pattern": r"^\d+(?:[xX×]\d+){2}$|^\d+$"},
        ],
    }
    rf = {
        "description": "receptive-field size in input pixels: n (both axes) or [h, w]",
        "anyOf": [
            {"type": "integer", "minimum": 1},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 2,
                "maxItems": 2,
            },
        ],
    }
    memory_budget = {
        "type": "object",
        "required": ["bytes"],
        "additionalProperties": False,
        "properties": {
            "bytes": size,
            "dtype": {"enum": list(DTYPE_BYTES)},
            "batch": {"type": "integer", "minimum": 1},
            "kind": {"enum": list(MEMORY_KINDS)},
            "optimizer": {"enum": list(OPTIMIZER_STATES)},
        },
    }
    one_memory = {"anyOf": [size, memory_budget]}
    counts = {key: count for key in COUNT_KEYS}
    layer = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {**counts, "output_shape": shape, **{key: rf for key in RF_KEYS}},
    }
    return {
        "type": "object",
        "description": "what `cnncalc check` verifies: exact totals (params, macs, …), bounds "
        "(max_*, min_*), max_memory, output_shape, and per-layer expectations",
        "additionalProperties": False,
        "properties": {
            **counts,
            "output_shape": shape,
            "convention": {"enum": list(CONVENTIONS)},
            "max_memory": {
                "anyOf": [one_memory, {"type": "array", "minItems": 1, "items": one_memory}]
            },
            "layers": {
                "type": "object",
                "description": "layer name → its expectations",
                "additionalProperties": layer,
            },
        },
    }


def budget_schema() -> dict[str, Any]:
    """A JSON Schema (draft 7) of a `--budget` file: expectations for every spec, or spec
    paths and globs (holding `/`, `.` or a wildcard) mapped to expectations."""
    expect = expect_schema()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "cnncalc budget",
        "anyOf": [
            {**expect, "minProperties": 1},
            {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": r"[/\\.*?\[]"},
                "additionalProperties": expect,
            },
        ],
    }
