"""Parsing an `expect:` block or a budget entry into positioned `Expectation`s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.check.values import (
    COUNT_KEYS,
    LAYER_KEYS,
    MAX_BATCH,
    MEMORY_KEYS,
    MEMORY_KINDS,
    RF_KEYS,
    TOP_KEYS,
    Op,
    Value,
    as_written,
    json_value,
    parse_bytes,
    parse_count,
    parse_rf,
    parse_shape,
    positive_int,
    suggest,
)
from cnncalc.errors import SourcePos, SpecError
from cnncalc.fields import describe
from cnncalc.layers import fmt_shape
from cnncalc.passes.flops import CONVENTIONS
from cnncalc.passes.memory import (
    DTYPE_BYTES,
    OPTIMIZER_STATES,
    MemoryOptions,
)
from cnncalc.units import fmt_pair
from cnncalc.yamlnodes import YList, YMap


@dataclass(frozen=True)
class Expectation:
    """One stated fact about a network: `quantity op expected` (at `layer`, if one is named)."""

    key: str  # as written: `max_params`, `output_shape`, `min_rf`, `max_memory`
    quantity: str  # what is measured: `params`, `output_shape`, `rf`, `inference_peak_bytes`
    op: Op
    expected: Value
    written: str  # the value as the user wrote it (`30M`), for messages
    pos: SourcePos  # where the expected value is written
    layer: str | None = None
    memory: MemoryOptions | None = None  # for memory quantities
    convention: str = "macs"  # for `flops`

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "quantity": self.quantity,
            "op": self.op,
            "expected": json_value(self.expected),
            "written": self.written,
            "layer": self.layer,
            "file": self.pos.file,
            "line": self.pos.line,
            "col": self.pos.col,
            **(
                {"dtype": self.memory.dtype, "batch": self.memory.batch}
                if self.memory is not None
                else {}
            ),
            **(
                {"optimizer": self.memory.optimizer}
                if self.memory is not None and self.quantity in OPTIMIZER_QUANTITIES
                else {}
            ),
            **({"convention": self.convention} if self.quantity == "flops" else {}),
        }


OPTIMIZER_QUANTITIES = ("optimizer_bytes", "training_bytes")


@dataclass(frozen=True)
class Expectations:
    """A parsed `expect:` block (or one budget entry): its expectations in written order."""

    items: tuple[Expectation, ...] = ()
    layers: dict[str, SourcePos] = field(default_factory=dict)  # named layers: key positions
    pos: SourcePos | None = None


def _check_keys(raw: YMap, allowed: Sequence[str], where: str, extra_hint: str) -> None:
    for key in raw:
        if key not in allowed:
            hint = suggest(key, allowed)
            if key in RF_KEYS:
                hint = f"`{key}` is checked at a named layer: `layers: {{NAME: {{{key}: ...}}}}`"
            elif key == "max_memory":
                hint = "`max_memory` is for the whole network: put it directly under `expect:`"
            raise SpecError(
                f"unknown expectation {key!r} in {where}",
                raw.key_pos[key],
                hint or f"{extra_hint}: {', '.join(allowed)}",
            )


def _count_or_shape(raw: YMap, key: str, layer: str | None, convention: str) -> Expectation | None:
    pos = raw.pos_of(key)
    value = raw[key]
    if key in COUNT_KEYS:
        quantity, op = COUNT_KEYS[key]
        expected: Value = parse_count(value, key, pos)
        return Expectation(
            key, quantity, op, expected, as_written(value), pos, layer, convention=convention
        )
    if key == "output_shape":
        shape = parse_shape(value, key, pos)
        return Expectation(key, key, "==", shape, fmt_shape(shape), pos, layer)
    if key in RF_KEYS:
        size = parse_rf(value, key, pos)
        written = fmt_pair(size)
        return Expectation(key, "rf", RF_KEYS[key], size, written, pos, layer)
    return None


def _memory_expectations(raw: Any, pos: SourcePos) -> list[Expectation]:
    entries: list[tuple[Any, SourcePos]]
    if isinstance(raw, YList):
        if not raw:
            raise SpecError("`max_memory` is an empty list", pos, "give one budget or remove it")
        entries = list(zip(raw, raw.item_pos, strict=True))
    else:
        entries = [(raw, pos)]
    out = []
    for entry, entry_pos in entries:
        if not isinstance(entry, YMap):
            size = parse_bytes(entry, "max_memory", entry_pos)
            options = MemoryOptions()
            out.append(
                Expectation(
                    "max_memory",
                    "inference_peak_bytes",
                    "<=",
                    size,
                    as_written(entry),
                    entry_pos,
                    memory=options,
                )
            )
            continue
        _check_keys(entry, MEMORY_KEYS, "`max_memory`", "its keys")
        if "bytes" not in entry:
            raise SpecError(
                "`max_memory` needs `bytes:`",
                entry.pos,
                "e.g. `max_memory: {bytes: 200MiB, dtype: float16, batch: 8}`",
            )
        size = parse_bytes(entry["bytes"], "bytes", entry.pos_of("bytes"))
        dtype = entry.get("dtype", "float32")
        if dtype not in DTYPE_BYTES:
            raise SpecError(
                f"unknown dtype {describe(dtype)}",
                entry.pos_of("dtype"),
                suggest(str(dtype), list(DTYPE_BYTES)) or f"choose one of {', '.join(DTYPE_BYTES)}",
            )
        batch = entry.get("batch", 1)
        if not positive_int(batch) or batch > MAX_BATCH:
            raise SpecError(
                f"`batch` must be an integer from 1 to {MAX_BATCH:,}, got {describe(batch)}",
                entry.pos_of("batch"),
            )
        kind = entry.get("kind", "inference_peak")
        if kind not in MEMORY_KINDS:
            raise SpecError(
                f"unknown memory kind {describe(kind)}",
                entry.pos_of("kind"),
                suggest(str(kind), MEMORY_KINDS) or f"kinds: {', '.join(MEMORY_KINDS)}",
            )
        optimizer = entry.get("optimizer", "sgd")
        if optimizer not in OPTIMIZER_STATES:
            raise SpecError(
                f"unknown optimizer {describe(optimizer)}",
                entry.pos_of("optimizer"),
                suggest(str(optimizer), list(OPTIMIZER_STATES))
                or f"choose one of {', '.join(OPTIMIZER_STATES)}",
            )
        quantity = f"{kind}_bytes"
        if "optimizer" in entry and quantity not in OPTIMIZER_QUANTITIES:
            raise SpecError(
                f"`optimizer` does not change the {kind} memory",
                entry.key_pos["optimizer"],
                "it counts only with `kind: training` or `kind: optimizer`; remove it",
            )
        out.append(
            Expectation(
                "max_memory",
                quantity,
                "<=",
                size,
                as_written(entry["bytes"]),
                entry.pos_of("bytes"),
                memory=MemoryOptions(dtype, batch, optimizer),
            )
        )
    return out


def parse_expectations(raw: Any, pos: SourcePos, where: str = "`expect`") -> Expectations:
    """The expectations of an `expect:` mapping (or a budget entry); `None` means none.

    Checks every key and value; whether named layers exist is checked by `evaluate`.
    """
    if raw is None:
        return Expectations(pos=pos)
    if not isinstance(raw, YMap):
        raise SpecError(
            f"{where} must be a mapping of expectations, got {describe(raw)}",
            pos,
            "e.g. `expect: {params: 9740, max_macs: 2M, output_shape: [10]}`",
        )
    _check_keys(raw, TOP_KEYS, where, "expectations")
    convention = raw.get("convention", "macs")
    if convention not in CONVENTIONS:
        raise SpecError(
            f"unknown convention {describe(convention)}",
            raw.pos_of("convention"),
            suggest(str(convention), list(CONVENTIONS))
            or f"choose one of {', '.join(CONVENTIONS)}",
        )
    items: list[Expectation] = []
    layers: dict[str, SourcePos] = {}
    for key, value in raw.items():
        if key == "max_memory":
            items += _memory_expectations(value, raw.pos_of(key))
        elif key == "layers":
            if not isinstance(value, YMap):
                raise SpecError(
                    f"`layers` in {where} maps layer names to expectations, got {describe(value)}",
                    raw.pos_of(key),
                    "e.g. `layers: {conv1: {output_shape: [32, 32, 20], params: 1520}}`",
                )
            for name, per_layer in value.items():
                layers[name] = value.key_pos[name]
                if not isinstance(per_layer, YMap) or not per_layer:
                    raise SpecError(
                        f"the expectations of layer {name} must be a mapping, "
                        f"got {describe(per_layer)}",
                        value.pos_of(name),
                        f"e.g. `{name}: {{output_shape: [7, 7, 512], max_rf: 300}}`",
                    )
                _check_keys(per_layer, LAYER_KEYS, f"layer {name}", "layer expectations")
                for layer_key in per_layer:
                    made = _count_or_shape(per_layer, layer_key, name, convention)
                    assert made is not None
                    items.append(made)
        else:
            made = _count_or_shape(raw, key, None, convention)
            if made is not None:
                items.append(made)
    return Expectations(tuple(items), layers, raw.pos)
