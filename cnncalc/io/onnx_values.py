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


def _slice(data: Any, inputs: list[Any]) -> Any:
    starts, ends = (np.asarray(i).flatten() for i in inputs[1:3])
    axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
    steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, np.asarray(axes).flatten(), steps, strict=True):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


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
        if op == "ConstantOfShape":
            fill: Any = attrs.get("value")
            if hasattr(fill, "dims"):  # a TensorProto
                from onnx import numpy_helper

                fill = numpy_helper.to_array(fill)
            value = np.asarray(fill).flatten()[0] if fill is not None else np.float32(0)
            return np.full([int(d) for d in first.flatten()], value)
        if op == "Reshape" and len(inputs) == 2 and inputs[1] is not None:
            target = [int(d) for d in np.asarray(inputs[1]).flatten()]
            return first.reshape([d if d else first.shape[i] for i, d in enumerate(target)])
        if op == "Transpose":
            perm = attrs.get("perm")
            return np.transpose(first, None if perm is None else [int(p) for p in perm])
        if op == "Slice" and len(inputs) >= 3 and None not in inputs[1:3]:
            return _slice(first, inputs)
        if op == "Concat":
            parts = [np.atleast_1d(np.asarray(i)) for i in inputs if i is not None]
            return np.concatenate(parts, axis=int(attrs.get("axis", 0)))
    except (ValueError, IndexError, TypeError, ZeroDivisionError):
        return None
    return None
