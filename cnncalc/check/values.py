"""Reading expected values: counts (`30M`, `25,557,032`), bytes (`2GiB`), shapes, fields."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.passes.memory import (
    MemoryTotals,
)
from cnncalc.passes.receptive_field import Num

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
GLOB_CHARS = "*?["
PATH_CHARS = "/\\.*?["  # a budget key holding one of these is a spec path or glob

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
# 12, 1_000, 1.5, .5, 4.2e9; one way to match each text, so a long digit run ending in a bad
# character fails in linear time (`(\d+)?\.?\d+` tried every split of the run: quadratic)
_NUMBER = r"(?P<number>(?:\d[\d_]*(?:\.\d[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)"
_COUNT_RE = re.compile(_NUMBER + r"\s*(?P<unit>[A-Za-z]*)")
_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+")  # 25,557,032 as the tables print it
MAX_BATCH = 10**9  # as `--batch`
MAX_DIGITS = 30  # 10^30 is past any network; bounds the work a hostile exponent can ask for


def suggest(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


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


def positive_int(value: Any) -> bool:
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
    if not all(positive_int(d) for d in dims):
        raise SpecError(
            f"`{key}` dimensions must be positive integers, got {describe(value)}", pos, hint
        )
    return tuple(dims)


def parse_rf(value: Any, key: str, pos: SourcePos) -> tuple[int, ...]:
    """A receptive-field size: `212` (every axis: kept as one value) or one value per
    spatial axis, `[h, w]` (`[l]`, `[d, h, w]`); matched to the layer's rank when checked."""
    if positive_int(value):
        return (value,)
    if isinstance(value, list) and 1 <= len(value) <= 3 and all(positive_int(v) for v in value):
        return tuple(value)
    raise SpecError(
        f"`{key}` must be a receptive-field size in pixels, got {describe(value)}",
        pos,
        "write one positive integer for every axis (e.g. 212) or one per axis: [height, width]",
    )


def as_written(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def json_value(value: Value) -> Any:
    if isinstance(value, tuple):
        return [int(v) if v.denominator == 1 else float(v) for v in value]
    return value
