"""The view of `cnncalc verify`: one row per layer, ✓/✗ per check (it formats, never counts).

Nothing here imports NumPy: the result is plain data (`cnncalc.reference.verify`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnncalc.layers import fmt_shape
from cnncalc.render.safe import visible
from cnncalc.render.tabular import Column, Tabular
from cnncalc.units import fmt_pair, human_bytes, num

if TYPE_CHECKING:
    from cnncalc.reference.verify_result import Check, FieldValue, VerifyResult

SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹"
MARK = {"ok": "✓", "fail": "✗"}


def _pair(values: tuple[Any, ...] | None) -> str:
    return "?" if values is None else fmt_pair(values)


def field_text(value: FieldValue | None) -> str:
    """`212/32 c 15.5`: size/stride and the center of unit 0, as far as compared."""
    if value is None:
        return "?"
    if value.whole_input:
        return "whole input"
    parts = []
    if value.size is not None or value.stride is not None:
        size = _pair(value.size) if value.size is not None else ""
        parts.append(f"{size}/{_pair(value.stride)}")
    if value.center is not None:
        parts.append(f"c {_pair(value.center)}")
    return " ".join(parts) or "?"


def _shape_text(value: Any) -> str:
    if isinstance(value, str):  # the NumPy forward's error
        return value
    return fmt_shape(value) if value is not None else "?"


def _params_text(value: Any) -> str:
    if value is None:
        return "?"
    params, buffers = value
    return f"{num(params)} + {num(buffers)} buf" if buffers else num(params)


FORMATS = {"shape": _shape_text, "params": _params_text, "rf": field_text}
TITLES = {"shape": "shape", "params": "params", "rf": "receptive field"}


def _cell(name: str, check: Check, notes: list[str]) -> str:
    """`✓ 56×56×64`, `✗ 56×56×64 ≠ 55×55×64` (analytic ≠ NumPy), `—`, or `skip¹`."""
    text = FORMATS[name]
    if check.status == "n/a":
        return "—"
    marker = ""
    if check.note:
        if check.note not in notes:
            notes.append(check.note)
        index = notes.index(check.note)
        marker = SUPERSCRIPTS[index] if index < len(SUPERSCRIPTS) else f"[{index + 1}]"
    if check.status == "skip":
        return f"skip{marker}"
    if check.status == "ok":
        return f"✓ {text(check.analytic)}{marker}"
    return f"✗ {text(check.analytic)} ≠ {text(check.reference)}{marker}"


def verify_view(result: VerifyResult) -> Tabular:
    table = Tabular(
        f"{result.name} — verified against a NumPy forward pass",
        [
            Column("Layer", name=True),
            Column("Kind"),
            Column("Shape"),
            Column("Params", numeric=True),
            Column("Receptive field", wrap=True),
        ],
    )
    notes: list[str] = []
    for layer in result.layers:
        table.rows.append(
            [
                layer.name,
                layer.kind,
                _cell("shape", layer.shape, notes),
                _cell("params", layer.params, notes),
                _cell("rf", layer.rf, notes),
            ]
        )
    counts = result.counts()
    summary = []
    for name, tally in counts.items():
        checked = tally["ok"] + tally["fail"]
        part = f"{TITLES[name]} {tally['ok']}/{checked}"
        extra = [f"{tally[s]} {s}" for s in ("skip", "n/a") if tally[s]]
        summary.append(part + (f" ({', '.join(extra)})" if extra else ""))
    failures = len(result.failures())
    verdict = "✓ all agree" if result.ok else f"✗ {failures} disagreement(s)"
    table.notes.append(f"{verdict}: " + " · ".join(summary))
    inputs = f"a random {fmt_shape(result.input_shape)} input"
    if len(result.inputs) > 1:
        inputs = "random inputs " + ", ".join(f"{n} {fmt_shape(s)}" for n, s in result.inputs)
    table.notes.append(
        f"NumPy forward on {inputs}, batch "
        f"{result.batch}, seed {result.seed}, float32 (estimated peak "
        f"{human_bytes(result.estimate_bytes)}); ✗ cells read analytic ≠ NumPy"
    )
    if result.rf_inputs:
        shapes = ", ".join(fmt_shape(s) for s in result.rf_inputs)
        table.notes.append(
            f"receptive field measured on {shapes}: c is the center of unit 0; inputs beyond "
            "the spec's are enlarged so interior units see no padding"
        )
    for index, note in enumerate(notes):
        marker = SUPERSCRIPTS[index] if index < len(SUPERSCRIPTS) else f"[{index + 1}]"
        table.notes.append(f"{marker} {note}")
    return table


def failure_lines(result: VerifyResult) -> list[str]:
    """One `error:` line per disagreement, naming the layer and both values (`visible`)."""
    lines = []
    for f in result.failures():
        text = FORMATS[f.check]
        lines.append(
            visible(
                f"error: layer {f.layer}: {TITLES[f.check]}: analytic {text(f.analytic)}, "
                f"NumPy {text(f.reference)}"
            )
        )
    return lines
