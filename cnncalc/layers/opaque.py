"""`opaque`: an operation cnncalc cannot express, carrying the numbers measured for it.

`cnncalc import --allow-unsupported` writes one for each op outside the spec vocabulary, so
the totals stay right and the gap shows in every table (kind `opaque`). Its receptive field
is unknown (what the op does to positions is not known), and `verify` cannot run it.

Its spec fields are named as the numbers they give: `output_shape`, `params`, `buffers` and
`macs`. Those are also the names of the rules every kind has (`Op.params(inputs)`, ...), so
the dataclass keeps them as `measured_*` and `fields()` and the constructor speak the spec's
names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import LayerError
from cnncalc.fields import NONNEG_INT, FieldType, describe, int_type
from cnncalc.layers.base import FieldInfo, Op, Shape, param, register

_DIMENSION = int_type(1)


def _shape(value: Any) -> Shape:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]  # a flat shape, written as its length
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise LayerError(
            f"expects [H, W, C], [L, C], [D, H, W, C] or [N], got {describe(value)}",
            "write the shape the operation produces, e.g. [7, 7, 512]",
        )
    return tuple(_DIMENSION.convert(v) for v in value)


SHAPE = FieldType(
    _shape,
    {
        "oneOf": [
            {"type": "integer", "minimum": 1},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": 4,
            },
        ]
    },
    "[H, W, C], [L, C], [D, H, W, C], [N] or N",
)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise LayerError(f"expects text, got {describe(value)}")
    return value


TEXT = FieldType(_text, {"type": "string"}, "text")


# the spec's name of each field, by the dataclass attribute that holds it
_SPEC_NAMES = {
    "measured_shape": "output_shape",
    "measured_params": "params",
    "measured_buffers": "buffers",
    "measured_macs": "macs",
    "source_op": "op",
}


@register
@dataclass(frozen=True, kw_only=True, init=False)
class Opaque(Op):
    kind = "opaque"
    doc = (
        "an operation cnncalc cannot express, with its measured output shape and counts "
        "(written by `cnncalc import --allow-unsupported`); receptive field unknown"
    )
    max_inputs = None

    measured_shape: Shape = param(
        SHAPE, "the output shape it produces: [H, W, C], [L, C], [D, H, W, C] or [N]"
    )
    measured_params: int = param(NONNEG_INT, "learnable parameters (PyTorch's numel)")
    measured_buffers: int = param(NONNEG_INT, "non-learnable saved state", default=0)
    measured_macs: int = param(NONNEG_INT, "weight multiply-accumulates", default=0)
    source_op: str = param(TEXT, "the source's name of the operation (an ONNX op type, ...)")

    def __init__(
        self, *, output_shape: Shape, params: int, op: str, buffers: int = 0, macs: int = 0
    ) -> None:
        for attribute, value in (
            (
                "measured_shape",
                _shape(output_shape if isinstance(output_shape, int) else list(output_shape)),
            ),
            ("measured_params", params),
            ("measured_buffers", buffers),
            ("measured_macs", macs),
            ("source_op", op),
        ):
            object.__setattr__(self, attribute, value)

    @classmethod
    def fields(cls) -> list[FieldInfo]:
        return [dataclasses.replace(f, name=_SPEC_NAMES[f.name]) for f in super().fields()]

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return self.measured_shape

    def params(self, inputs: Sequence[Shape]) -> int:
        return self.measured_params

    def buffers(self, inputs: Sequence[Shape]) -> int:
        return self.measured_buffers

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return self.measured_macs
