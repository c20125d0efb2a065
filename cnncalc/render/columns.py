"""The machinery of per-layer tables: columns built whole (C loops over 100,000 rows), each
distinct value formatted once, and the table made of them. The views (`views`, `design`)
say which columns a command shows."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import repeat
from operator import attrgetter, eq, getitem
from typing import TypeVar

from cnncalc.layers import Shape, fmt_shape
from cnncalc.render.tabular import MISSING, Column, Tabular
from cnncalc.report import Report
from cnncalc.units import fmt_pair, num

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)
R = TypeVar("R")

# a long network repeats a few shapes and fields: each is formatted once
shape_text = lru_cache(maxsize=4096)(fmt_shape)
pair_text = lru_cache(maxsize=4096)(fmt_pair)
num_text = lru_cache(maxsize=4096)(num)


def names(report: Report) -> list[str]:
    if report.all_layers:
        return report.node_names
    return [row.name for row in report.layers]


def inputs_cells(report: Report) -> list[str]:
    """`from` shown only where the graph is not a plain chain (built in C: 100,000 rows)."""
    rows = report.layers
    if report.all_layers:
        inputs = list(map(attrgetter("node.inputs"), rows))
    else:
        inputs = [row.inputs for row in rows]
    previous = zip(["input", *names(report)[:-1]])  # 1-tuples: (the row before's name,)
    chain_like = map(eq, inputs, previous)
    return list(map(getitem, zip(map(", ".join, inputs), repeat("")), chain_like))


@lru_cache(maxsize=4096)  # a long network repeats a few counts
def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else MISSING


@lru_cache(maxsize=4096)
def shapes_text(shapes: tuple[Shape, ...]) -> str:
    return " + ".join(map(shape_text, shapes))


@dataclass(frozen=True)
class Col:
    """A column of a per-layer table: its header, every row's cell, and its total."""

    column: Column
    cells: list[str]
    total: str = ""


def each(report: Report, attribute: str, show: Callable[[H], str]) -> list[str]:
    """`show` of each row's `attribute` (a dotted path to a count or a shape, read in C),
    called once per distinct value: a long network repeats a few."""
    values = list(map(attrgetter(attribute), report.layers))
    made = {value: show(value) for value in set(values)}
    return list(map(made.__getitem__, values))


def table_of(title: str, report: Report, columns: list[Col]) -> Tabular:
    table = Tabular(f"{report.name} — {title}", [c.column for c in columns])
    rows = report.layers
    # column by column: C loops
    table.rows = list(map(list, zip(*(c.cells for c in columns), strict=True)))
    outputs = set(report.network.output_names)  # marked when the spec lists `outputs`
    if outputs and columns[0].column.name:
        for cells, row in zip(table.rows, rows, strict=True):
            if row.block is None and row.node.name in outputs:
                cells[0] += " (output)"
    table.totals = [c.total for c in columns]
    return table


def once(values: Sequence[T], show: Callable[[T], R]) -> list[R]:
    """`show(value)` for each value, called once per object: rows share them (a layer
    keeping its input's field, as an activation does; layers of one class, their window)."""
    return once_all(values, partial(_mapped, show))


def _mapped(show: Callable[[T], R], values: list[T]) -> list[R]:
    return list(map(show, values))


def once_all(values: Sequence[T], show_all: Callable[[list[T]], list[R]]) -> list[R]:
    """Each value's part of `show_all(the distinct objects)` (by id: `values` keeps every
    object alive); the rows themselves are walked in C."""
    ids = list(map(id, values))
    distinct = dict(zip(ids, values, strict=True))
    made = dict(zip(distinct, show_all(list(distinct.values())), strict=True))
    return list(map(made.__getitem__, ids))
