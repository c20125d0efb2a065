"""Views of the design tools' results (training FLOPs, solve, sweep): they format, never count."""

from __future__ import annotations

from cnncalc.design.solve import LAYER_FILE, SolveResult
from cnncalc.layers import fmt_shape
from cnncalc.render.tabular import Column, Tabular
from cnncalc.render.views import Col, _base_columns, _shape_column, _table
from cnncalc.report import Report
from cnncalc.units import human_bytes, num

TRAINING_NOTE = (
    "counted as torch.utils.flop_counter.FlopCounterMode counts them: 2 per weight MAC (conv, "
    "conv_transpose, dense), other layers 0; a grouped conv's weight gradient as if ungrouped; "
    "frozen layers skip the weight gradient, layers before the first trainable one the input "
    "gradient (the input has none); batch 1"
)


def training_view(report: Report) -> Tabular:
    """`flops --training`: forward, input-gradient and weight-gradient FLOPs per layer."""
    training = report.training
    assert training is not None
    totals = training.totals

    def column(header: str, part: str, drop: int = 0) -> Col:
        return Col(
            Column(header, True, drop=drop),
            lambda r, i: num(getattr(training.layers[r.node.name], part)),
            num(getattr(totals, part)),
        )

    columns = [
        *_base_columns(4),
        _shape_column(3),
        column("Forward", "forward"),
        column("Input grad", "input_grad", drop=2),
        column("Weight grad", "weight_grad", drop=2),
        column("Training", "total"),
    ]
    table = _table("training FLOPs", report, columns)
    table.notes += [
        f"training {num(totals.total)} FLOPs = forward {num(totals.forward)} + backward "
        f"{num(totals.backward)} (input gradients {num(totals.input_grad)}, weight gradients "
        f"{num(totals.weight_grad)})",
        TRAINING_NOTE,
    ]
    return table


def solve_view(result: SolveResult, top: int | None = None) -> Tabular:
    """`cnncalc solve`: one row per solution, best first, and what the search covered."""
    shown = result.solutions[:top] if top is not None else result.solutions
    table = Tabular(
        f"solve — {len(result.solutions):,} solution{'s' if len(result.solutions) != 1 else ''}",
        [
            Column("#", True),
            *(Column(u.name) for u in result.unknowns),
            Column("Output shape"),
            Column("Params", True),
            Column("MACs", True, drop=1),
            Column("Peak memory", True, drop=2),
        ],
    )
    for rank, solution in enumerate(shown, start=1):
        network = solution.report.network
        table.rows.append(
            [
                str(rank),
                *solution.values,
                fmt_shape(network.shapes[network.output.name]),
                num(solution.params),
                num(solution.macs),
                human_bytes(solution.memory),
            ]
        )
    if result.solutions:
        table.notes.append(f"best: {result.headline()}")
    if len(shown) < len(result.solutions):
        table.notes.append(f"the first {len(shown)} of {len(result.solutions):,} (--top)")
    ranges = " · ".join(f"{u.name} {_span(u.candidates)}" for u in result.unknowns)
    table.notes += [
        f"searched {result.tried:,} combinations ({ranges}); {result.invalid:,} made no valid "
        "network",
        f"ranked by fewest {result.prefer}, then fewest MACs, then smaller values (a number "
        "before `same`)",
    ]
    return table


def _span(candidates: tuple[str, ...]) -> str:
    numbers = [c for c in candidates if c.isdigit()]
    words = [c for c in candidates if not c.isdigit()]
    consecutive = [int(n) for n in numbers] == list(range(int(numbers[0]), int(numbers[-1]) + 1))
    text = f"{numbers[0]}–{numbers[-1]}" if consecutive and len(numbers) > 2 else ", ".join(numbers)
    return ", ".join([text, *words])


def miss_lines(result: SolveResult) -> list[str]:
    """Why there is no solution: each unreachable target and the nearest values."""
    if not result.misses:
        lines = ["error: no combination meets every target together (each is met by some)"]
        lines += [
            f"  nearest: {values}, where {'; '.join(failures)}"
            for values, failures in result.closest
        ]
        return [*lines, "  hint: relax a target, or fix fewer fields (more `?`)"]
    lines = []
    for miss in result.misses:
        e = miss.result.expectation
        where = f"layer {e.layer}: " if e.layer else ""
        nearest = "; ".join(f"{value} ({values})" for value, values in miss.nearest)
        target = f"{e.pos}: error: {where}{e.key} {e.written}"
        if e.pos.file == LAYER_FILE:  # the single-layer form: the target is --out
            target = f"error: --out {_show_value(e.expected)}"  # (H, W, 1)
        lines.append(f"{target} is unreachable; nearest: {nearest}")
    lines.append("  hint: change the target, or fix fewer fields (more `?`)")
    return lines


def _show_value(value: object) -> str:
    """An expected output size of the single-layer form, without its one channel."""
    return fmt_shape(tuple(int(v) for v in value)[:2]) if isinstance(value, tuple) else str(value)
