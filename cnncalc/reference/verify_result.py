"""What `verify` finds, as plain data: per layer the shape, params and receptive-field checks,
and the notes that say what a receptive-field comparison means (`RF_NOTES`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from cnncalc.layers import Shape

Status = Literal["ok", "fail", "skip", "n/a"]
Num = int | Fraction

RF_NOTES = {
    "whole": "whole input: the analytic size is the unclipped extent; every unit must see all "
    "the input pixels the layer sees",
    "unaligned": "merged paths not aligned: the analytic size is the largest path's, the "
    "true field is their union",
    "broadcast": "a 1×1 input broadcast over H×W: the analytic size is the largest path's, "
    "the true field is their union",
    "uneven": "adaptive pooling with bins of unequal width, or an upsample by no integer "
    "factor, on the way: the analytic field is the widest bin's (the nearest integer "
    "factor's), the true one varies from unit to unit",
    "transposed": "center not compared: a strided conv_transpose's units repeat in a pattern "
    "(one period: stride units); size is the widest, stride the mean shift",
    "after_transposed": "only the stride compared after a strided conv_transpose: the analytic "
    "size adds (k′ − 1)·jump with a fractional jump, an estimate of the varying true extent",
    "too_small": "no run of units clear of padding on any input tried (up to {shape})",
    "fixed": "too few units clear of padding, and the layer's size does not grow with the "
    "input (after adaptive or global pooling)",
    "empty": "every unit's window falls in padding: the output depends on no input pixel",
}


@dataclass(frozen=True)
class Check:
    status: Status
    analytic: Any = None
    reference: Any = None
    note: str = ""


@dataclass(frozen=True)
class FieldValue:
    """A receptive field as compared: None where that part is not compared."""

    size: tuple[Num, ...] | None = None
    stride: tuple[Num, ...] | None = None
    center: tuple[Num, ...] | None = None
    whole_input: bool = False

    def to_dict(self) -> dict[str, Any]:
        def values(p: tuple[Num, ...] | None) -> list[int | float] | None:
            if p is None:
                return None
            return [int(v) if v == int(v) else float(v) for v in p]

        return {
            "size": values(self.size),
            "stride": values(self.stride),
            "center": values(self.center),
            "whole_input": self.whole_input,
        }


@dataclass(frozen=True)
class LayerCheck:
    name: str
    kind: str
    shape: Check
    params: Check
    rf: Check
    rf_input: Shape | None = None  # the input the RF was compared on

    @property
    def checks(self) -> dict[str, Check]:
        return {"shape": self.shape, "params": self.params, "rf": self.rf}

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks.values())


@dataclass(frozen=True)
class Failure:
    layer: str
    check: str
    analytic: Any
    reference: Any


@dataclass(frozen=True)
class VerifyResult:
    name: str
    input_shape: Shape
    batch: int
    seed: int
    estimate_bytes: int  # the forward's estimated peak, checked against max_memory
    layers: tuple[LayerCheck, ...]
    rf_inputs: tuple[Shape, ...] = field(default=())  # the inputs the RF was compared on
    # each input's name and shape (random values); () for a plain network (one `input`)
    inputs: tuple[tuple[str, Shape], ...] = ()

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    def failures(self) -> list[Failure]:
        return [
            Failure(layer.name, name, check.analytic, check.reference)
            for layer in self.layers
            for name, check in layer.checks.items()
            if check.status == "fail"
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per check, how many layers were ok, failed, skipped or n/a."""
        out: dict[str, dict[str, int]] = {}
        for layer in self.layers:
            for name, check in layer.checks.items():
                tally = out.setdefault(name, {"ok": 0, "fail": 0, "skip": 0, "n/a": 0})
                tally[check.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        def value(v: Any) -> Any:
            if isinstance(v, FieldValue):
                return v.to_dict()
            if isinstance(v, tuple):
                return list(v)
            return v

        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            **(
                {"inputs": [{"name": n, "input_shape": list(s)} for n, s in self.inputs]}
                if self.inputs
                else {}
            ),
            "batch": self.batch,
            "seed": self.seed,
            "ok": self.ok,
            "estimate_bytes": self.estimate_bytes,
            "rf_inputs": [list(s) for s in self.rf_inputs],
            "layers": [
                {
                    "name": layer.name,
                    "kind": layer.kind,
                    "rf_input": list(layer.rf_input) if layer.rf_input else None,
                    **{
                        name: {
                            "status": c.status,
                            "analytic": value(c.analytic),
                            "reference": value(c.reference),
                            "note": c.note,
                        }
                        for name, c in layer.checks.items()
                    },
                }
                for layer in self.layers
            ],
        }
