"""The small integer computations an exporter leaves in a graph (`Shape → Gather → Div →
Mul → Slice` for `x.chunk(2, dim=1)`), evaluated so the ops they feed read them as
constants. Only what shape arithmetic uses; anything else stays unknown (None)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": lambda a, b: a // b if a.dtype.kind in "iu" and b.dtype.kind in "iu" else a / b,
}
_LIMIT = 4096  # values larger than this many elements are not shape arithmetic


def _axes(attrs: dict[str, Any], inputs: list[Any]) -> list[int] | None:
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(inputs) > 1 and inputs[1] is not None:
        return [int(a) for a in np.asarray(inputs[1]).flatten()]
    return None


def evaluate(op: str, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    """The value of one op on known inputs (NumPy arrays), or None."""
    if (
        not inputs
        or inputs[0] is None
        or any(np.asarray(i).size > _LIMIT for i in inputs if i is not None)
    ):
        return None
    first = np.asarray(inputs[0])
    try:
        if op in _BINARY and len(inputs) == 2 and inputs[1] is not None:
            return _BINARY[op](first, np.asarray(inputs[1]))
        if op == "Gather":
            return np.take(first, np.asarray(inputs[1]), axis=int(attrs.get("axis", 0)))
        if op == "Cast" or op == "Identity":
            return first
        if op == "Unsqueeze":
            axes = _axes(attrs, inputs)
            return None if axes is None else np.expand_dims(first, tuple(axes))
        if op == "Squeeze":
            axes = _axes(attrs, inputs)
            return np.squeeze(first, axis=None if axes is None else tuple(axes))
        if op == "Concat":
            parts = [np.atleast_1d(np.asarray(i)) for i in inputs if i is not None]
            return np.concatenate(parts, axis=int(attrs.get("axis", 0)))
    except (ValueError, IndexError, TypeError, ZeroDivisionError):
        return None
    return None
