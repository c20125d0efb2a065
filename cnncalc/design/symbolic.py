"""Closed forms: shapes, parameters, MACs and memory as formulas in the input's H and W.

Every size a layer computes is ⌊(in + a)/s⌋ (or ⌈…⌉, or affine for a transposed conv), so once
H runs through one residue class modulo P — the product of the strides on the way (times an
adaptive pooling's output size) — every size is affine in H, and every count a polynomial of
degree at most one per spatial axis a symbol stands for (H·W; S² for a square S×S input).
The polynomials are interpolated exactly (rational arithmetic) from the ordinary analysis at a
grid of sizes H0, H0 + P, … and checked at further sizes; a quantity that fails the check
(an inference peak that moves between layers) is reported as having no closed form. The
formulas hold for H and W multiples of P from H0 — the condition the report states.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cnncalc.design.symbols import SymbolicInput
from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.graph import Network
from cnncalc.report import Report

Monomial = tuple[int, ...]  # the power of each symbol
Polynomial = dict[Monomial, Fraction]


def _lcm(values: Sequence[int]) -> int:
    return math.lcm(*values) if values else 1


def periods(net: Network) -> tuple[int, int]:
    """A step of H (and W) after which every layer's size grows by a whole number: the
    product of strides on every path (and an adaptive pooling's output size)."""
    h_period: dict[str, int] = {"input": 1}
    w_period: dict[str, int] = {"input": 1}
    for node in net:
        inputs = net.input_shapes(node)
        ph = _lcm([h_period[i] for i in node.inputs])
        pw = _lcm([w_period[i] for i in node.inputs])
        window = node.op.window(inputs) if len(net.shapes[node.name]) == 3 else None
        if window is not None and not window.transposed and not window.whole_input:
            ph, pw = ph * window.stride[0], pw * window.stride[1]
        if node.kind.startswith("adaptive_"):
            out = net.shapes[node.name]
            ph, pw = ph * out[0], pw * out[1]
        h_period[node.name], w_period[node.name] = ph, pw
    return _lcm(list(h_period.values())), _lcm(list(w_period.values()))


def _quantities(report: Report) -> dict[str, int]:
    """Every number a closed form is sought for, by a stable key."""
    memory = report.memory
    out: dict[str, int] = {
        "params": report.totals.params,
        "trainable_params": report.totals.trainable_params,
        "macs": report.macs,
        "flops": report.flops,
        "activation_bytes": memory.activation_bytes,
        "inference_peak_bytes": memory.inference_peak_bytes,
        "training_bytes": memory.training_bytes,
    }
    for row in report.layers:
        name = row.node.name
        for axis, size in enumerate(row.output_shape):
            out[f"{name}\0shape{axis}"] = size
        out[f"{name}\0params"] = row.counts.params
        out[f"{name}\0macs"] = row.multiplies.macs
        out[f"{name}\0flops"] = row.multiplies.flops
        out[f"{name}\0activation_bytes"] = row.memory.activation_bytes
    return out


def _solve(matrix: list[list[Fraction]], vectors: list[list[Fraction]]) -> list[list[Fraction]]:
    """Gauss–Jordan on one (square, invertible) matrix for many right-hand sides."""
    n = len(matrix)
    rows = [matrix[i] + [v[i] for v in vectors] for i in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [x / lead for x in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [[rows[i][n + k] for i in range(n)] for k in range(len(vectors))]


def _evaluate(poly: Polynomial, point: Sequence[int]) -> Fraction:
    total = Fraction(0)
    for powers, coefficient in poly.items():
        term = coefficient
        for value, power in zip(point, powers, strict=True):
            term *= value**power
        total += term
    return total


@dataclass(frozen=True)
class ClosedForm:
    name: str
    symbols: tuple[str, ...]
    period: tuple[int, ...]  # per symbol
    start: tuple[int, ...]  # the smallest size fitted, per symbol
    checked: tuple[tuple[int, ...], ...]  # every size analyzed
    formulas: dict[str, Polynomial | None]  # None: no closed form (failed the check)
    layers: tuple[tuple[str, str, int], ...]  # name, kind, rank of the output

    def formula(self, key: str) -> str:
        poly = self.formulas.get(key)
        return "—" if poly is None else format_polynomial(poly, self.symbols)

    def layer(self, name: str, quantity: str) -> str:
        return self.formula(f"{name}\0{quantity}")

    def shape(self, name: str, rank: int) -> tuple[str, ...]:
        return tuple(self.layer(name, f"shape{axis}") for axis in range(rank))

    def condition(self) -> str:
        """`H, W multiples of 32, at least 32`."""
        parts = [
            f"{s} a multiple of {p} and at least {h0}" if p > 1 else f"{s} at least {h0}"
            for s, p, h0 in zip(self.symbols, self.period, self.start, strict=True)
        ]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        totals = (
            "params",
            "trainable_params",
            "macs",
            "flops",
            "activation_bytes",
            "inference_peak_bytes",
            "training_bytes",
        )
        return {
            "name": self.name,
            "symbols": list(self.symbols),
            "condition": {
                s: {"multiple_of": p, "at_least": h0}
                for s, p, h0 in zip(self.symbols, self.period, self.start, strict=True)
            },
            "checked_at": [list(point) for point in self.checked],
            "layers": [
                {
                    "name": name,
                    "kind": kind,
                    "output_shape": list(self.shape(name, rank)),
                    "params": self.layer(name, "params"),
                    "macs": self.layer(name, "macs"),
                    "flops": self.layer(name, "flops"),
                    "activation_bytes": self.layer(name, "activation_bytes"),
                }
                for name, kind, rank in self.layers
            ],
            "totals": {key: self.formula(key) for key in totals},
        }


def closed_form(
    written: SymbolicInput, analyze_at: Callable[[str], Report], tries: int = 64
) -> ClosedForm:
    """Fit every quantity of `analyze_at(--input text)` as a polynomial in the symbols."""
    symbols = written.symbols
    axes = [[i for i, p in enumerate(written.parts[:2]) if p == s] for s in symbols]
    degree = [len(a) for a in axes]  # H·W: 1 each; a square S×S: 2
    probe, error = None, None
    for size in (224, 64, 32, 512):
        try:
            probe = analyze_at(written.numeric([size] * len(symbols)))
            break
        except CnncalcError as exc:
            error = error or exc
    if probe is None:
        raise SpecError(
            f"the network is valid at none of 32, 64, 224, 512 for {', '.join(symbols)}: {error}",
            SourcePos("--input"),
        )
    ph, pw = periods(probe.network)
    period = tuple(_lcm([(ph, pw)[axis] for axis in a]) or 1 for a in axes)
    for m in range(1, tries + 1):
        start = tuple(p * m for p in period)
        grid = list(
            itertools.product(
                *[
                    [h0 + k * p for k in range(d + 2)]
                    for h0, p, d in zip(start, period, degree, strict=True)
                ]
            )
        )
        try:
            reports = {point: analyze_at(written.numeric(point)) for point in grid}
        except CnncalcError:
            continue
        break
    else:
        raise SpecError(
            f"no size from {period} to {tries}×{period} makes the network valid in every "
            f"sample for {', '.join(symbols)}",
            SourcePos("--input"),
        )
    values = {point: _quantities(report) for point, report in reports.items()}
    fit_points = [
        p for p in grid if all(p[i] < start[i] + (degree[i] + 1) * period[i] for i in range(len(p)))
    ]
    monomials = list(itertools.product(*[range(d + 1) for d in degree]))
    matrix = [
        [Fraction(math.prod(v**e for v, e in zip(point, mono, strict=True))) for mono in monomials]
        for point in fit_points
    ]
    keys = list(values[grid[0]])
    vectors = [[Fraction(values[p].get(k, 0)) for p in fit_points] for k in keys]
    solutions = _solve(matrix, vectors)
    formulas: dict[str, Polynomial | None] = {}
    for key, coefficients in zip(keys, solutions, strict=True):
        poly = {m: c for m, c in zip(monomials, coefficients, strict=True) if c != 0}
        exact = all(key in values[p] and _evaluate(poly, p) == values[p][key] for p in grid)
        formulas[key] = poly if exact else None
    rows = tuple((r.node.name, r.node.kind, len(r.output_shape)) for r in probe.layers)
    return ClosedForm(probe.name, symbols, period, start, tuple(grid), formulas, rows)


def _fmt_fraction(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return f"{value.numerator:,}/{value.denominator:,}"


def format_polynomial(poly: Polynomial, symbols: Sequence[str]) -> str:
    """`1,536·H·W + 3·H + 9,408`; `H/32`; `S²/4`."""
    if not poly:
        return "0"
    terms = []
    for powers in sorted(poly, key=lambda m: (-sum(m), [-e for e in m])):
        coefficient = poly[powers]
        factors = [
            s if e == 1 else f"{s}{'²³'[e - 2]}" for s, e in zip(symbols, powers, strict=True) if e
        ]
        magnitude = abs(coefficient)
        if not factors:
            body = _fmt_fraction(magnitude)
        elif magnitude.denominator == 1:
            head = "" if magnitude == 1 else f"{magnitude.numerator:,}·"
            body = head + "·".join(factors)
        else:
            head = "" if magnitude.numerator == 1 else f"{magnitude.numerator:,}·"
            body = f"{head}{'·'.join(factors)}/{magnitude.denominator:,}"
        terms.append(("−" if coefficient < 0 else "+", body))
    text = ("−" if terms[0][0] == "−" else "") + terms[0][1]
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text
