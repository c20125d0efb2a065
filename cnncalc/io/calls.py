"""What both frameworks' layer builders share: a constructor call as data (printed as
source or run against a live framework) and the window geometry both need."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cnncalc.graph import Node
from cnncalc.layers import Shape
from cnncalc.layers.base import Sizes, window_output


class Unsupported(Exception):
    """A layer the framework has no equivalent for (the message says why)."""


@dataclass(frozen=True)
class Raw:
    """Source text passed through as is (`self.training`, a Keras lambda)."""

    text: str


@dataclass(frozen=True)
class Call:
    """`func(*args, **kwargs)`: `nn.Conv2d`, `F.relu`, `layers.Conv2D` and its arguments."""

    func: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def source(self, *leading: str) -> str:
        """The call as Python source, with `leading` source arguments first (the input)."""
        parts = [*leading, *(literal(a) for a in self.args)]
        parts += [f"{key}={literal(value)}" for key, value in self.kwargs]
        return f"{self.func}({', '.join(parts)})"

    def build(self, namespace: Mapping[str, Any]) -> Any:
        """Run the call, with `nn`, `F`, ... looked up in `namespace`."""
        owner, _, attr = self.func.rpartition(".")
        func = getattr(namespace[owner], attr) if owner else namespace[attr]
        args = [_built(a, namespace) for a in self.args]
        return func(*args, **{key: _built(v, namespace) for key, v in self.kwargs})


def call(func: str, *args: Any, **kwargs: Any) -> Call:
    return Call(func, args, tuple(kwargs.items()))


def literal(value: Any) -> str:
    """`value` as Python source (strings double-quoted, as ruff format writes them)."""
    if isinstance(value, Call):
        return value.source()
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, tuple | list):
        inner = ", ".join(literal(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _built(value: Any, namespace: Mapping[str, Any]) -> Any:
    if isinstance(value, Call):
        return value.build(namespace)
    if isinstance(value, Raw):
        raise Unsupported(f"{value.text} runs only in generated code")
    return value


# --- geometry both frameworks need -------------------------------------------------------

Pads = Sizes  # (before, after) per spatial axis: (top, bottom, left, right) in 2-D


def window_pads(op: Any, shape: Shape) -> Pads:
    """The (before, after) padding per axis of a conv or pooling window on its input, `same`
    resolved."""
    kernel, stride, dilation = op.axes(len(shape) - 1)
    _, pads = window_output(shape[:-1], kernel, stride, dilation, op.padding)
    return pads


def square(sizes: Sizes) -> int | Sizes:
    """`3` for (3, 3): the frameworks take either, and the short one reads better."""
    return sizes[0] if len(set(sizes)) == 1 else sizes


def symmetric(pads: Pads) -> bool:
    return all(pads[a] == pads[a + 1] for a in range(0, len(pads), 2))


def nd(name: str, shape: Shape, suffix: str = "d") -> str:
    """`name` for the input's rank: nd("nn.Conv", (56, 56, 64)) is nn.Conv2d."""
    return f"{name}{max(len(shape) - 1, 1)}{suffix}"


def torch_pads(pads: Pads) -> Sizes:
    """(before, after) per axis as F.pad and ZeroPad2d take them: the last axis first."""
    return tuple(p for a in reversed(range(0, len(pads), 2)) for p in pads[a : a + 2])


def non_defaults(defaults: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """The keyword arguments that differ from the framework's defaults."""
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}


def slice_bounds(node: Node, shape: Shape) -> tuple[int, int]:
    op: Any = node.op
    stop = shape[-1] if op.stop is None else op.stop
    width = (stop - op.start) // op.parts
    first = op.start + op.part * width
    return first, first + width


def mean_dims(node: Node, shape: Shape, channels_first: bool) -> tuple[int, ...]:
    """The dims (sample axis 0) a mean's axes name, written for the channels-last shape."""
    rank = len(shape)
    last: list[int] = []
    for axis in node.op.axes:  # type: ignore[attr-defined]
        if axis == "spatial":
            last += range(rank - 1)
        else:
            last.append(rank - 1 if axis == "channels" else axis % rank)
    if not channels_first:
        return tuple(sorted({a + 1 for a in last}))
    return tuple(sorted({1 if a == rank - 1 else a + 2 for a in last}))


def refuse(reason: str) -> Callable[[Node, Shape], Any]:
    def refuse(node: Node, shape: Shape) -> Any:
        raise Unsupported(reason)

    return refuse
