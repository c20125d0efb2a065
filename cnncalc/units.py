"""How numbers read in messages and tables: counts, bytes, and (h, w) pairs.

Shared by the views and by the messages the API writes (check failures), so a number reads the
same everywhere.
"""

from __future__ import annotations

from fractions import Fraction


def num(value: int) -> str:
    """A count with thousands separators: 25,557,032."""
    return f"{value:,}"


def human_bytes(value: int) -> str:
    """A size in binary units: 512 B, 3.06 MiB."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def exact_bytes(value: int) -> str:
    """A size in bytes, exact first: 3,211,264 B (3.06 MiB)."""
    short = human_bytes(value)
    return f"{value:,} B" if short.endswith(" B") else f"{value:,} B ({short})"


def fmt_number(value: int | Fraction) -> str:
    """An int as is; a fraction (receptive fields after conv_transpose) as a short decimal."""
    if isinstance(value, int) or value.denominator == 1:
        return str(int(value))
    return f"{float(value):g}"


def fmt_pair(values: tuple[int | Fraction, ...]) -> str:
    """`7` when every axis agrees, `7×5` when they do not (one value per spatial axis)."""
    first = values[0]
    if type(first) is int and values.count(first) == len(values):  # the common case, quickly
        return str(first)
    shown = [fmt_number(v) for v in values]
    return shown[0] if len(set(shown)) == 1 else "×".join(shown)
