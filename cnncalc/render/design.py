"""Views of the design tools' results (training FLOPs, solve, sweep): they format, never count."""

from __future__ import annotations

from cnncalc.render.tabular import Column, Tabular
from cnncalc.render.views import Col, _base_columns, _shape_column, _table
from cnncalc.report import Report
from cnncalc.units import num

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
