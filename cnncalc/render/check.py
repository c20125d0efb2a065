"""Views for `check` (summary table, error lines, GitHub annotations, JSON) and `diff`.

They format results computed by `cnncalc.check` and `cnncalc.diff`; they never compute.
"""

from __future__ import annotations

import os

from cnncalc.check import CheckResult, CheckRun, FileResult
from cnncalc.diff import Delta, Diff, LayerDiff
from cnncalc.errors import SourcePos
from cnncalc.layers import Shape, fmt_shape
from cnncalc.render.safe import error_text, json_text, visible
from cnncalc.render.tabular import Column, Tabular
from cnncalc.render.views import rf_cell
from cnncalc.units import human_bytes, num

RESULT = {"passed": "ok", "failed": "FAILED", "invalid": "INVALID"}


# --- check ----------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def check_summary(run: CheckRun) -> str:
    """`3 specs: 1 ok, 1 failed, 1 invalid · 12 checks, 2 failed`."""
    checks = [c for f in run.files for c in f.checks]
    failed = sum(1 for c in checks if not c.passed)
    return (
        f"{_plural(len(run.files), 'spec')}: {run.count('passed')} ok, "
        f"{run.count('failed')} failed, {run.count('invalid')} invalid · "
        f"{_plural(len(checks), 'check')}, {failed} failed"
    )


def check_view(run: CheckRun) -> Tabular:
    table = Tabular(
        "cnncalc check",
        [
            Column("Spec", wrap=True),
            Column("Network", wrap=True),
            Column("Checks", numeric=True),
            Column("Failed", numeric=True),
            Column("Result"),
        ],
    )
    for f in run.files:
        table.rows.append(
            [f.file, f.name or "—", str(len(f.checks)), str(len(f.failures)), RESULT[f.status]]
        )
    table.totals = [
        "Total",
        "",
        str(sum(len(f.checks) for f in run.files)),
        str(sum(len(f.failures) for f in run.files)),
        RESULT["invalid" if run.exit_code == 2 else "failed" if run.exit_code else "passed"],
    ]
    table.notes.append(check_summary(run))
    return table


def _failure_text(result: CheckResult) -> str:
    """The message, naming the spec when the expectation is in another file (a budget)."""
    pos = result.expectation.pos
    return result.message if pos.file == result.spec else f"{result.spec}: {result.message}"


def diagnostics(run: CheckRun) -> list[str]:
    """`FILE:LINE:COL: error: MESSAGE` for every failed check and invalid spec, in file order
    (`visible`: a name cannot break a line)."""
    lines = []
    for f in run.files:
        if f.error is not None:
            err = f.error
            text = error_text(err)
            lines.append(text if err.pos else f"{visible(f.file)}: {text}")
        for result in f.failures:
            lines.append(visible(f"{result.expectation.pos}: error: {_failure_text(result)}"))
    return lines


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation_path(file: str) -> str:
    """The path GitHub resolves against the workspace: relative to the current folder."""
    if os.path.isabs(file):
        try:
            relative = os.path.relpath(file)
        except ValueError:  # another drive on Windows
            relative = file
        if not relative.startswith(".."):
            file = relative
    return file.replace("\\", "/")


def _annotation(pos: SourcePos | None, fallback: str, title: str, message: str) -> str:
    path = visible(_annotation_path(pos.file if pos else fallback))
    props = [f"file={_escape_property(path)}"]
    if pos is not None and pos.line > 0:
        props += [f"line={pos.line}", f"col={pos.col}"]
    props.append(f"title={_escape_property(visible(title))}")
    return f"::error {','.join(props)}::{_escape_data(message)}"


def github_annotations(run: CheckRun) -> list[str]:
    """GitHub Actions workflow commands, one `::error file=F,line=L,col=C,...::msg` each."""
    lines = []
    for f in run.files:
        if f.error is not None:
            err = f.error
            message = visible(err.message) + (f"\nhint: {visible(err.hint)}" if err.hint else "")
            lines.append(_annotation(err.pos, f.file, "cnncalc: invalid spec", message))
        for result in f.failures:
            e = result.expectation
            lines.append(
                _annotation(
                    e.pos, f.file, f"cnncalc check: {e.key}", visible(_failure_text(result))
                )
            )
    return lines


def check_json(run: CheckRun) -> str:
    return json_text(run.to_dict())


def file_lines(result: FileResult) -> list[str]:
    """Every check of one spec, passed or not (for `--verbose`)."""
    lines = []
    for check in result.checks:
        mark = "ok  " if check.passed else "FAIL"
        lines.append(visible(f"{mark} {check.expectation.pos}: {_failure_text(check)}"))
    return lines


# --- diff -----------------------------------------------------------------------------------


def human_count(value: int) -> str:
    """`+2.10 M`, `-512`: a signed count in K/M/G (decimal) for a reader in a hurry."""
    size = abs(value)
    sign = "+" if value >= 0 else "-"
    for unit, scale in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if size >= scale:
            return f"{sign}{size / scale:.2f} {unit}"
    return f"{sign}{size}"


def _delta_text(delta: Delta, human: bool = False, unit: str = "") -> str:
    """`+13,867,520 (+13.87 M, +118.6%)`, or `no change`."""
    d = delta.delta
    if d == 0:
        return "no change"
    extra = [human_count(d)] if human and abs(d) >= 1000 else []
    if delta.ratio is not None:
        extra.append(f"{100 * delta.ratio:+.1f}%")
    return f"{d:+,}{unit}" + (f" ({', '.join(extra)})" if extra else "")


def _change(delta: Delta, human: bool = False) -> str:
    """`11,689,512 → 25,557,032: +13,867,520 (+13.87 M, +118.6%)`."""
    return f"{num(delta.a or 0)} → {num(delta.b or 0)}: {_delta_text(delta, human)}"


def _shape_pair(a: Shape | None, b: Shape | None) -> str:
    if a is not None and b is not None and a != b:
        return f"{fmt_shape(a)} → {fmt_shape(b)}"
    shape = b if b is not None else a
    return fmt_shape(shape) if shape is not None else ""


def _rf_pair(layer: LayerDiff) -> str:
    a, b = layer.rfs
    before = rf_cell(a) if layer.a is not None else None
    after = rf_cell(b) if layer.b is not None else None
    if before is not None and after is not None and before != after:
        return f"{before} → {after}"
    return after if after is not None else rf_cell(a)


def _delta_cell(delta: Delta) -> str:
    return f"{delta.delta:+,}" if delta.delta else ""


def diff_view(diff: Diff, all_layers: bool = False) -> Tabular:
    table = Tabular(
        f"{diff.a.name} → {diff.b.name} — diff",
        [
            Column("Layer", name=True),
            Column("Change"),
            Column("Output shape"),
            Column("Δ Params", numeric=True),
            Column("Δ MACs", numeric=True),
            Column("RF"),
        ],
    )
    for layer in diff.layers if all_layers else diff.changed:
        table.rows.append(
            [
                layer.name,
                "" if layer.status == "same" else layer.status,
                _shape_pair(*layer.shapes),
                _delta_cell(layer.count("params")),
                _delta_cell(layer.count("macs")),
                _rf_pair(layer),
            ]
        )
    table.totals = [
        "Total",
        "",
        _shape_pair(diff.a.layers[-1].output_shape, diff.b.layers[-1].output_shape),
        f"{diff.total('params').delta:+,}",
        f"{diff.total('macs').delta:+,}",
        "",
    ]
    same = diff.count("same")
    counts = (
        f"layers {len(diff.a.layers)} → {len(diff.b.layers)}: {diff.count('added')} added, "
        f"{diff.count('removed')} removed, {diff.count('changed')} changed, {same} unchanged"
    )
    if same and not all_layers:
        counts += " (not listed; --all lists them)"
    table.notes.append(counts)
    table.notes.append("params " + _change(diff.total("params"), human=True))
    for quantity, label in (("trainable_params", "trainable"), ("buffers", "buffers")):
        delta = diff.total(quantity)
        shown = delta.a != diff.total("params").a or delta.b != diff.total("params").b
        if quantity == "buffers":
            shown = bool(delta.a or delta.b)
        if shown:
            table.notes.append(f"{label} " + _change(delta, human=True))
    table.notes.append("MACs " + _change(diff.total("macs"), human=True))
    if diff.a.convention != "macs":
        table.notes.append(f"FLOPs ({diff.a.convention}) " + _change(diff.total("flops"), True))
    options = diff.a.memory.options
    peak = diff.total("inference_peak_bytes")
    table.notes.append(
        f"inference peak ({options.dtype}, batch {options.batch}) "
        f"{human_bytes(peak.a or 0)} → {human_bytes(peak.b or 0)}: " + _delta_text(peak, unit=" B")
    )
    return table
