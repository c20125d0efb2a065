"""Numbers that remember how they were computed, for `--explain`.

A `Q` is an `int` (so every rule and pass uses it as one) that also carries its derivation in
course notation: `Q(5)*Q(5)*Q(3)*Q(20) + Q(20)` is 1520 with text `5·5·3·20 + 20`. The layer
rules compute with Q, so the derivation printed is the computation that ran, not a copy.
"""

from __future__ import annotations

from typing import Any

_ATOM, _PRODUCT, _SUM = 3, 2, 1


class Q(int):
    text: str
    level: int  # precedence of the outermost operation, to place parentheses

    def __new__(cls, value: int, text: str | None = None, level: int = _ATOM) -> Q:
        obj = super().__new__(cls, value)
        obj.text = f"{int(value)}" if text is None else text
        obj.level = level
        return obj

    def _wrap(self, level: int) -> str:
        return f"({self.text})" if self.level < level else self.text

    def __add__(self, other: Any) -> Q:
        other = q(other)
        return Q(int(self) + int(other), f"{self.text} + {other.text}", _SUM)

    def __radd__(self, other: Any) -> Q:
        return q(other) + self

    def __sub__(self, other: Any) -> Q:
        other = q(other)
        return Q(int(self) - int(other), f"{self.text} − {other._wrap(_PRODUCT)}", _SUM)

    def __rsub__(self, other: Any) -> Q:
        return q(other) - self

    def __mul__(self, other: Any) -> Q:
        other = q(other)
        text = f"{self._wrap(_PRODUCT)}·{other._wrap(_PRODUCT)}"
        return Q(int(self) * int(other), text, _PRODUCT)

    def __rmul__(self, other: Any) -> Q:
        return q(other) * self

    def __repr__(self) -> str:
        return f"Q({int(self)}, {self.text!r})"

    __str__ = int.__repr__


def q(value: Any) -> Q:
    return value if isinstance(value, Q) else Q(int(value))


def floor_div(a: Any, b: Any) -> Q:
    a, b = q(a), q(b)
    return Q(int(a) // int(b), f"⌊{a._wrap(_PRODUCT)}/{b._wrap(_ATOM)}⌋")


def ceil_div(a: Any, b: Any) -> Q:
    a, b = q(a), q(b)
    return Q(-(-int(a) // int(b)), f"⌈{a._wrap(_PRODUCT)}/{b._wrap(_ATOM)}⌉")


def equation(label: str, value: Any) -> str:
    """`label = derivation = value`, or `label = value` when there is nothing to derive."""
    value = q(value)
    shown = f"{int(value):,}"
    if value.text.replace(",", "") == str(int(value)):
        return f"{label} = {shown}"
    return f"{label} = {value.text} = {shown}"
