"""The text of `cnncalc run`: output maps as matrices, and one cell's sum of products.

It formats the result of `cnncalc.reference.run`, never computes it (NumPy is not imported
here: the arrays arrive as nested lists of plain numbers).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from cnncalc.layers import fmt_shape

if TYPE_CHECKING:
    from cnncalc.reference.run import CellPool, CellSum, RunResult

MAX_SHOWN = 20_000  # values printed as matrices; --format json has them all
CROSS_CORRELATION = (
    "convolutions are cross-correlations, as PyTorch and TensorFlow compute them "
    "(the kernel is not flipped); float32"
)


def fmt_value(value: float | int | None) -> str:
    """An exact integer as an integer (`3`, never `3.0`), else six significant digits."""
    if value is None:
        return "nan"
    if value == float("inf"):
        return "∞"
    if value == float("-inf"):
        return "−∞"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def _matrix(rows: list[list[Any]], indent: str = "  ") -> list[str]:
    cells = [[fmt_value(v) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return [indent + "  ".join(c.rjust(width) for c in row) for row in cells]


def output_lines(result: RunResult) -> list[str]:
    """Every output channel as a matrix (`O[:, :, c] =`; a 1-D output's channel as one row,
    `O[:, c] =`; a 3-D output's as one matrix per frame, `O[d, :, :, c] =`), or a flat output
    as one row."""
    import numpy as np

    values = result.values()
    shape = result.output.shape
    lines = [f"{result.layer.name} ({result.layer.kind}) output, {fmt_shape(shape)}:"]
    if len(shape) == 1:
        return [*lines, "O =", *_matrix([values])]
    cells = np.empty(shape, dtype=object)
    cells[...] = values
    *spatial, channels = shape
    leading = spatial[:-2]
    shown = max(1, min(channels, MAX_SHOWN // max(math.prod(spatial), 1)))
    for c in range(shown):
        for frame in np.ndindex(*leading):
            axes = [*map(str, frame), *[":"] * min(len(spatial), 2), str(c)]
            one = channels == 1 and not leading
            lines.append("O =" if one else f"O[{', '.join(axes)}] =")
            where = (*frame, ..., c)
            matrix = cells[where]
            lines += _matrix(matrix.reshape(-1, matrix.shape[-1]).tolist())
    if shown < channels:
        lines.append(f"(channels {shown}–{channels - 1} not shown; --format json has them all)")
    return lines


def note_lines(result: RunResult) -> list[str]:
    """What was not given: random weights, zero biases, a random input."""
    notes = [f"note: {CROSS_CORRELATION}"]
    for name in result.random_weights:
        notes.append(
            f"note: {name}: seeded random weights (--seed {result.seed}); "
            f"give them with --weights {name}=FILE"
        )
    for name in result.zero_bias:
        notes.append(f"note: {name}: bias 0 (not given; --weights {name}.bias=FILE)")
    if result.random_input:
        notes.append(f"note: random input (--seed {result.seed}); give one with --x FILE")
    return notes


def _label(index: tuple[int, ...], single_channel: bool) -> str:
    shown = index[:-1] if single_channel else index
    return "O[" + ",".join(map(str, shown)) + "]"


def _factor(value: float) -> str:
    text = fmt_value(value)
    return f"({text})" if text.startswith(("-", "−")) else text


def cell_lines(cells: list[CellSum | CellPool], single_channel: bool) -> list[str]:
    """`O[0,1] = 0·0 + 0·0 + 1·1 + 0·1 = 1` per cell; pools as max(…) or (… + …)/n."""
    from cnncalc.reference.run import CellSum

    lines = []
    for cell in cells:
        label = _label(cell.index, single_channel)
        if isinstance(cell, CellSum):
            terms = [
                f"{_factor(x)}·{_factor(w)}" for x, w in zip(cell.inputs, cell.weights, strict=True)
            ]
            if cell.bias:  # a zero bias adds nothing to show
                terms.append(_factor(cell.bias))
            body = " + ".join(terms)
        elif cell.op == "max":
            body = "max(" + ", ".join(fmt_value(v) for v in cell.inputs) + ")"
        else:
            body = "(" + " + ".join(_factor(v) for v in cell.inputs) + f")/{cell.divisor}"
        lines.append(f"{label} = {body} = {fmt_value(cell.value)}")
    return lines


def run_text(result: RunResult, cells: list[CellSum | CellPool] | None = None) -> str:
    lines = output_lines(result)
    if cells:
        channels = result.output.shape[-1] if result.output.ndim > 1 else 0
        lines += ["", *cell_lines(cells, channels == 1)]
    return "\n".join([*lines, "", *note_lines(result)]) + "\n"
