"""The measured field of one output unit: the NumPy reference's dependency box (what `verify`
measures), for `cnncalc rf --image --empirical`."""

from __future__ import annotations

from cnncalc.errors import SpecError
from cnncalc.graph import Network
from cnncalc.reference.receptive import initial_boxes, layer_boxes
from cnncalc.reference.workspace import box_bytes
from cnncalc.units import human_bytes

LIMIT = 2 << 30  # as verify's default --max-memory


def unit_box(
    net: Network, layer: str, unit: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """((first row, first column), (last row, last column)) of the input pixels unit (i, j)
    of `layer` depends on — one value per spatial axis, in any rank (padding is not a
    pixel); None when it depends on none."""
    needed = box_bytes(net)
    if needed > LIMIT:
        raise SpecError(
            f"measuring the field needs about {human_bytes(needed)}, over {human_bytes(LIMIT)}",
            None,
            "use a smaller --input, or leave out --empirical",
        )
    last_use: dict[str, int] = {}
    for index, node in enumerate(net):
        for name in node.inputs:
            last_use[name] = index
    live = initial_boxes(net)
    for index, node in enumerate(net):
        boxes = layer_boxes(node, [live[name] for name in node.inputs])
        if node.name == layer:
            if boxes is None:
                return None
            position = (0, *unit)
            cell = boxes[position]
            if not all(float(v) > float("-inf") for v in cell[:-1]):
                return None
            axes = range(len(unit))
            return tuple(int(-cell[2 * a]) for a in axes), tuple(int(cell[2 * a + 1]) for a in axes)
        live[node.name] = boxes
        for name in set(node.inputs):
            if last_use[name] == index:
                del live[name]
    raise KeyError(layer)
