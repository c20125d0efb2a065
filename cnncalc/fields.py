"""Value types of layer fields: one converter and one JSON Schema fragment each.

A layer kind declares its fields once (see `cnncalc.layers.base.param`); the parser, the JSON
Schema and the docs all read that declaration, so they cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cnncalc.errors import LayerError

MAX_SIZE = 2**63 - 1  # no dimension, kernel or count of a real network is larger
MAX_RANK = 3  # spatial axes: 1 (audio), 2 (images), 3 (video, volumes)
Axes = int | tuple[int, ...]  # as written: one int for every axis, or one value per axis
# an int, one per axis, one (before, after) pair per axis — (top, bottom, left, right) — or
# TensorFlow's "same"; resolved for the input's rank by `cnncalc.layers.base.resolve_padding`
Padding = int | tuple[int, ...] | Literal["same"]


def describe(value: Any) -> str:
    """How a YAML value reads in an error message: `'64' (text)`, `true`, `[1, 2]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    return repr(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class FieldType:
    """How to read one field from YAML, and what it looks like in JSON Schema."""

    convert: Callable[[Any], Any]
    schema: dict[str, Any]
    expects: str


def _int_conv(minimum: int, what: str) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if not _is_int(value):
            hint = None
            if isinstance(value, str):
                hint = "write the number without quotes"
            elif isinstance(value, float) and value.is_integer():
                hint = f"write {int(value)}, not {value} (in $(...), // divides to an integer)"
            elif isinstance(value, float):
                hint = (
                    "a whole number is needed; in $(...), `/` makes a fraction: "
                    "`//` divides rounding down, e.g. $(width // 3)"
                )
            raise LayerError(f"expects {what}, got {describe(value)}", hint)
        if value < minimum:
            raise LayerError(f"expects {what}, got {value}")
        if value > MAX_SIZE:
            raise LayerError(
                f"expects {what} of at most 2^63 − 1, got one of {value.bit_length()} bits"
            )
        return int(value)

    return convert


def int_type(minimum: int) -> FieldType:
    what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
    return FieldType(_int_conv(minimum, what), {"type": "integer", "minimum": minimum}, what)


def axes_type(minimum: int) -> FieldType:
    """An int (every spatial axis), or one value per axis ([k], [kh, kw], [kd, kh, kw]),
    each ≥ minimum. Read as an int or a tuple; checked against the input's rank at shape time
    (`cnncalc.layers.base.per_axis`), since a field does not know its input."""
    what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
    one = _int_conv(minimum, what)

    def convert(value: Any) -> Axes:
        if isinstance(value, list):
            if not 1 <= len(value) <= MAX_RANK:
                raise LayerError(
                    f"expects {what} or a list of one per spatial axis, got {describe(value)}"
                )
            return tuple(one(v) for v in value)
        return one(value)

    item = {"type": "integer", "minimum": minimum}
    schema = {
        "oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_RANK}]
    }
    return FieldType(convert, schema, f"{what} or [h, w] (one per spatial axis)")


def _padding(value: Any) -> Padding:
    if isinstance(value, str):
        word = value.lower()
        if word == "valid":
            return 0
        if word == "same":
            return "same"
        raise LayerError(f"expects valid, same, an integer or a list, got {describe(value)}")
    nonneg = _int_conv(0, "a non-negative integer")
    if isinstance(value, list):
        if not 1 <= len(value) <= 2 * MAX_RANK:
            raise LayerError(
                "expects one value per spatial axis ([h, w]) or two ([top, bottom, left, "
                f"right]), got {describe(value)}"
            )
        return tuple(nonneg(v) for v in value)
    return nonneg(value)


PADDING = FieldType(
    _padding,
    {
        "oneOf": [
            {"type": "string", "pattern": "^([vV][aA][lL][iI][dD]|[sS][aA][mM][eE])$"},
            {"type": "integer", "minimum": 0},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 1,
                "maxItems": 2 * MAX_RANK,
            },
        ]
    },
    "valid, same, an integer, [h, w] or [top, bottom, left, right] (per spatial axis)",
)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise LayerError(f"expects true or false, got {describe(value)}")
    return value


BOOL = FieldType(_bool, {"type": "boolean"}, "true or false")


def number_type(minimum: float | None = None, maximum: float | None = None) -> FieldType:
    if minimum is not None and maximum is not None:
        what = f"a number from {minimum:g} to {maximum:g}"
    elif minimum is not None:
        what = f"a number ≥ {minimum:g}"
    elif maximum is not None:
        what = f"a number ≤ {maximum:g}"
    else:
        what = "a number"

    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = "write the number without quotes" if isinstance(value, str) else None
            raise LayerError(f"expects {what}, got {describe(value)}", hint)
        if isinstance(value, float) and not math.isfinite(value):  # nan compares false
            raise LayerError(f"expects {what}, got {value}", "write a finite number")
        if isinstance(value, int) and abs(value) > MAX_SIZE:
            raise LayerError(f"expects {what}, got one of {value.bit_length()} bits")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise LayerError(f"expects {what}, got {value}")
        return float(value)

    schema: dict[str, Any] = {"type": "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return FieldType(convert, schema, what)


def choice_type(*choices: str) -> FieldType:
    def convert(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise LayerError(f"expects one of {', '.join(choices)}, got {describe(value)}")
        return str(value)

    return FieldType(convert, {"enum": list(choices)}, "one of " + ", ".join(choices))


POSITIVE_INT = int_type(1)
NONNEG_INT = int_type(0)
POSITIVE_AXES = axes_type(1)
NONNEG_AXES = axes_type(0)
