"""Numbers that remember how they were computed, for `--explain`.

Layer rules build their numbers with `Q(...)`, `floor_div` and `ceil_div`. Normally these are
plain ints. Inside `with derivations():` they are `Derived` ints that also carry their
derivation in course notation: `Q(5)*Q(5)*Q(3)*Q(20) + Q(20)` is 1520 with text
`5·5·3·20 + 20`. So the derivation printed is the computation that ran, not a copy of it, and
the normal path pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_ATOM, _PRODUCT, _SUM = 3, 2, 1
_TRACING: ContextVar[bool] = ContextVar("cnncalc_derivations", default=False)


@contextmanager
def derivations() -> Iterator[None]:
    """Within this block, layer rules return `Derived` numbers that carry their text."""
    token = _TRACING.set(True)
    try:
        yield
    finally:
        _TRACING.reset(token)


class Derived(int):
    text: str
    level: int  # precedence of the outermost operation, to place parentheses

    def __new__(cls, value: int, text: str | None = None, level: int = _ATOM) -> Derived:
        obj = super().__new__(cls, value)
        obj.text = f"{int(value)}" if text is None else text
        obj.level = level
        return obj

    def _wrap(self, level: int) -> str:
        return f"({self.text})" if self.level < level else self.text

    def __add__(self, other: Any) -> Derived:
        other = _derived(other)
        return Derived(int(self) + int(other), f"{self.text} + {other.text}", _SUM)

    def __radd__(self, other: Any) -> Derived:
        return _derived(other) + self

    def __sub__(self, other: Any) -> Derived:
        other = _derived(other)
        return Derived(int(self) - int(other), f"{self.text} − {other._wrap(_PRODUCT)}", _SUM)

    def __rsub__(self, other: Any) -> Derived:
        return _derived(other) - self

    def __mul__(self, other: Any) -> Derived:
        other = _derived(other)
        text = f"{self._wrap(_PRODUCT)}·{other._wrap(_PRODUCT)}"
        return Derived(int(self) * int(other), text, _PRODUCT)

    def __rmul__(self, other: Any) -> Derived:
        return _derived(other) * self

    def __repr__(self) -> str:
        return f"Derived({int(self)}, {self.text!r})"

    __str__ = int.__repr__


def _derived(value: Any) -> Derived:
    return value if isinstance(value, Derived) else Derived(int(value))


def Q(value: int, text: str | None = None) -> int:
    """A quantity in a rule: a plain int, or (while explaining) one that keeps its text."""
    return Derived(value, text) if _TRACING.get() else value


def floor_div(a: int, b: int) -> int:
    if not _TRACING.get():
        return a // b
    x, y = _derived(a), _derived(b)
    return Derived(int(x) // int(y), f"⌊{x._wrap(_PRODUCT)}/{y._wrap(_ATOM)}⌋")


def ceil_div(a: int, b: int) -> int:
    if not _TRACING.get():
        return -(-a // b)
    x, y = _derived(a), _derived(b)
    return Derived(-(-int(x) // int(y)), f"⌈{x._wrap(_PRODUCT)}/{y._wrap(_ATOM)}⌉")
