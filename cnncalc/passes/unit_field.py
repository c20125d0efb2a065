"""Where one output unit's receptive field lies on the input, from the RF pass's numbers.

Unit (i, j)'s field is centred at center + (i, j)·stride and is size wide, so it spans rows
center_y + i·stride_y ± (size_y − 1)/2 (and likewise columns); rows below 0 or past the image
are padding. At a merge (or after one, through layers that leave the field unchanged) each
input path has its own field, which is what "not aligned" is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.graph import Network
from cnncalc.passes.receptive_field import Num, ReceptiveField


@dataclass(frozen=True)
class UnitField:
    """Rows lo[0]..hi[0] and columns lo[1]..hi[1] of the input (both ends included); one
    value per spatial axis."""

    label: str  # the layer (or, for a path, the merge's input) whose field this is
    lo: tuple[Num, ...]
    hi: tuple[Num, ...]
    center: tuple[Num, ...]


def _exact(value: Fraction) -> Num:
    return int(value) if value.denominator == 1 else value


def unit_field(label: str, rf: ReceptiveField, unit: tuple[int, ...]) -> UnitField:
    """The input rows and columns unit (i, j) of a layer with field `rf` sees."""
    axes = range(len(rf.size))
    center = tuple(_exact(Fraction(rf.center[a]) + unit[a] * Fraction(rf.stride[a])) for a in axes)
    half = [Fraction(rf.size[a] - 1, 2) for a in axes]
    lo = tuple(_exact(center[a] - half[a]) for a in axes)
    hi = tuple(_exact(center[a] + half[a]) for a in axes)
    return UnitField(label, lo, hi, center)


def path_fields(
    net: Network,
    fields: Mapping[str, ReceptiveField | None],
    layer: str,
    unit: tuple[int, ...],
) -> list[UnitField]:
    """One field per input path of the merge that made `layer`'s field (walking back through
    single-input layers whose field is the same, so unit (i, j) is the same place); [] when
    no merge did. A 1×1 input (a squeeze-excitation gate, broadcast) is its unit (0, 0)."""
    nodes = {node.name: node for node in net}
    node = nodes[layer]
    while len(node.inputs) == 1 and node.inputs[0] in nodes:
        if fields.get(node.inputs[0]) != fields.get(node.name):
            return []
        node = nodes[node.inputs[0]]
    found = []
    for name in node.inputs if len(node.inputs) > 1 else ():
        rf = fields.get(name)
        if rf is not None:
            broadcast = set(net.shapes[name][:-1]) == {1}
            found.append(unit_field(name, rf, (0,) * len(unit) if broadcast else unit))
    return found
